#include "crypto/kdf.h"

#include <assert.h>
#include <blake2.h>
#include <sodium.h>
#include <string.h>

void hash2(uint8_t out[BLAKE2S_HASH_LEN], const uint8_t *a, size_t a_len,
	   const uint8_t *b, size_t b_len)
{
	blake2s_state st;

	blake2s_init(&st, BLAKE2S_HASH_LEN);
	blake2s_update(&st, a, a_len);
	if (b_len)
		blake2s_update(&st, b, b_len);
	blake2s_final(&st, out, BLAKE2S_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

void keyed_hash(uint8_t *out, size_t out_len, const uint8_t *key,
		size_t key_len, const uint8_t *in, size_t in_len)
{
	/* libb2 argument order: out, in, key, outlen, inlen, keylen. It
	 * fails (writing nothing) only outside the ranges of kdf.h, which
	 * every caller here stays inside. */
	int ret = blake2s(out, in, key, out_len, in_len, key_len);

	assert(ret == 0);
	(void)ret;
}

/* RFC 2104 over BLAKE2s, block size 64. Keys longer than a block are
 * hashed first; WireGuard never uses them but the KATs may. */
void hmac_blake2s(uint8_t out[BLAKE2S_HASH_LEN], const uint8_t *key,
		  size_t key_len, const uint8_t *in, size_t in_len)
{
	uint8_t block[BLAKE2S_BLOCK_LEN] = { 0 };
	uint8_t inner[BLAKE2S_HASH_LEN];
	blake2s_state st;

	if (key_len > BLAKE2S_BLOCK_LEN)
		hash2(block, key, key_len, NULL, 0);
	else if (key_len)
		memcpy(block, key, key_len);

	for (size_t i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36;
	blake2s_init(&st, BLAKE2S_HASH_LEN);
	blake2s_update(&st, block, sizeof(block));
	blake2s_update(&st, in, in_len);
	blake2s_final(&st, inner, sizeof(inner));

	for (size_t i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&st, BLAKE2S_HASH_LEN);
	blake2s_update(&st, block, sizeof(block));
	blake2s_update(&st, inner, sizeof(inner));
	blake2s_final(&st, out, BLAKE2S_HASH_LEN);

	sodium_memzero(block, sizeof(block));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&st, sizeof(st));
}

void kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t *key,
	 size_t key_len, const uint8_t *in, size_t in_len)
{
	uint8_t prk[BLAKE2S_HASH_LEN];
	uint8_t t[BLAKE2S_HASH_LEN + 1];

	hmac_blake2s(prk, key, key_len, in, in_len);

	t[0] = 1;
	hmac_blake2s(t, prk, sizeof(prk), t, 1);
	memcpy(t1, t, BLAKE2S_HASH_LEN);
	if (t2) {
		t[BLAKE2S_HASH_LEN] = 2;
		hmac_blake2s(t, prk, sizeof(prk), t, sizeof(t));
		memcpy(t2, t, BLAKE2S_HASH_LEN);
	}
	if (t2 && t3) {
		t[BLAKE2S_HASH_LEN] = 3;
		hmac_blake2s(t, prk, sizeof(prk), t, sizeof(t));
		memcpy(t3, t, BLAKE2S_HASH_LEN);
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
}
