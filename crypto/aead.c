/* ChaCha20-Poly1305 (RFC 8439, section 2.8) built from OpenSSL's ChaCha20
 * and Poly1305, not from its combined EVP_chacha20_poly1305.
 *
 * Why not the combined cipher: per message it makes two extra calls to
 * the ChaCha20 assembly, one 64-byte block for the Poly1305 key and one
 * for the last partial block, and a call under 512 bytes takes a
 * latency-bound path about as slow as 16 blocks of the bulk one. On a
 * 1420-byte message that was a quarter of the AEAD's time (perf of the
 * data path). Here one call makes the key block and the keystream of
 * the message together, in a scratch block on the stack with the message
 * copied in after 64 zero bytes and rounded up to whole blocks; a longer
 * message continues the stream in place (contrib/bench/aead_speed has
 * both ways). Poly1305 is keyed per message, as the construction needs.
 *
 * Opening checks the tag over the ciphertext before any plaintext is
 * written back, as libsodium does. The scratch block is wiped with
 * libsodium's wipe, a vector memset here; OPENSSL_cleanse's byte loop
 * cost a twentieth of the AEAD. */
#include "crypto/aead.h"

#include <errno.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#define BLOCK 64 /* ChaCha20's */
#define POLY_KEY_LEN 32
/* The scratch block: the key block and up to SCRATCH - BLOCK bytes of
 * message, which covers a 1420-byte MTU; longer messages go on in place. */
#define SCRATCH 2048

static size_t round_up_block(size_t n)
{
	return (n + BLOCK - 1) / BLOCK * BLOCK;
}

/* Zero bytes that pad n bytes to Poly1305's 16-byte blocks. */
static size_t pad16(size_t n)
{
	return (16 - n % 16) % 16;
}

int aead_init(struct aead *a, const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	EVP_MAC *poly = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_POLY1305, NULL);

	a->stream = EVP_CIPHER_CTX_new();
	a->mac = poly ? EVP_MAC_CTX_new(poly) : NULL;
	EVP_MAC_free(poly); /* the context holds its own reference */
	if (!a->stream || !a->mac ||
	    EVP_EncryptInit_ex(a->stream, EVP_chacha20(), NULL, key, NULL) !=
		    1) {
		aead_free(a);
		return -ENOMEM;
	}
	return 0;
}

void aead_free(struct aead *a)
{
	/* Both free functions cleanse the key material first. */
	EVP_CIPHER_CTX_free(a->stream);
	EVP_MAC_CTX_free(a->mac);
	a->stream = NULL;
	a->mac = NULL;
}

/* XORs len bytes at in into out with the keystream from where the stream
 * is (len a whole number of blocks, or the message's last bytes; at most
 * INT_MAX, which the callers checked). */
static bool stream_xor(struct aead *a, uint8_t *out, const uint8_t *in,
		       size_t len)
{
	int done;

	return !len ||
	       EVP_EncryptUpdate(a->stream, out, &done, in, (int)len) == 1;
}

/* Starts the stream at block 0 of nonce and runs its first call over the
 * scratch block: 64 zero bytes (the Poly1305 key's block) and the first
 * *head bytes of msg, then zeros to a whole block. Returns false if
 * OpenSSL refuses. The rest of msg, if any, starts on a block. */
static bool stream_start(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN],
			 const uint8_t *msg, size_t len,
			 uint8_t scratch[SCRATCH], size_t *head)
{
	uint8_t iv[16] = { 0 }; /* the 32-bit block counter, then nonce */
	size_t used;

	*head = len < SCRATCH - BLOCK ? len : SCRATCH - BLOCK;
	used = round_up_block(BLOCK + *head);
	memcpy(iv + 4, nonce, AEAD_NONCE_LEN);
	memset(scratch, 0, BLOCK);
	memcpy(scratch + BLOCK, msg, *head);
	memset(scratch + BLOCK + *head, 0, used - BLOCK - *head);
	return EVP_EncryptInit_ex(a->stream, NULL, NULL, NULL, iv) == 1 &&
	       stream_xor(a, scratch, scratch, used);
}

/* The tag of ad and the ciphertext ct under poly_key (RFC 8439, 2.8). */
static bool mac(struct aead *a, const uint8_t poly_key[POLY_KEY_LEN],
		const uint8_t *ad, size_t ad_len, const uint8_t *ct,
		size_t ct_len, uint8_t tag[NOISE_AUTHTAG_LEN])
{
	static const uint8_t zeros[16];
	/* The ciphertext's zero padding and both lengths, little-endian, in
	 * one update. */
	uint8_t tail[15 + 16] = { 0 };
	uint64_t lengths[2] = { htole64(ad_len), htole64(ct_len) };
	size_t pad = pad16(ct_len), out;

	memcpy(tail + pad, lengths, sizeof(lengths));
	return EVP_MAC_init(a->mac, poly_key, POLY_KEY_LEN, NULL) == 1 &&
	       (!ad_len || (EVP_MAC_update(a->mac, ad, ad_len) == 1 &&
			    EVP_MAC_update(a->mac, zeros, pad16(ad_len)) ==
				    1)) &&
	       EVP_MAC_update(a->mac, ct, ct_len) == 1 &&
	       EVP_MAC_update(a->mac, tail, pad + 16) == 1 &&
	       EVP_MAC_final(a->mac, tag, &out, NOISE_AUTHTAG_LEN) == 1 &&
	       out == NOISE_AUTHTAG_LEN;
}

int aead_seal_nonce(struct aead *a, uint8_t *buf, size_t len,
		    const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *ad,
		    size_t ad_len)
{
	uint8_t scratch[SCRATCH];
	size_t head = 0;
	bool ok;

	if (len > INT_MAX)
		return -EIO;
	ok = stream_start(a, nonce, buf, len, scratch, &head);
	if (ok) {
		memcpy(buf, scratch + BLOCK, head);
		ok = stream_xor(a, buf + head, buf + head, len - head) &&
		     mac(a, scratch, ad, ad_len, buf, len, buf + len);
	}
	sodium_memzero(scratch, round_up_block(BLOCK + head));
	return ok ? 0 : -EIO;
}

int aead_open_nonce(struct aead *a, uint8_t *buf, size_t len,
		    const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *ad,
		    size_t ad_len)
{
	uint8_t scratch[SCRATCH], tag[NOISE_AUTHTAG_LEN];
	size_t plain, head = 0;
	bool ok;

	if (len < NOISE_AUTHTAG_LEN || len - NOISE_AUTHTAG_LEN > INT_MAX)
		return -EBADMSG;
	plain = len - NOISE_AUTHTAG_LEN;
	ok = stream_start(a, nonce, buf, plain, scratch, &head) &&
	     mac(a, scratch, ad, ad_len, buf, plain, tag) &&
	     CRYPTO_memcmp(tag, buf + plain, sizeof(tag)) == 0;
	if (ok) {
		memcpy(buf, scratch + BLOCK, head);
		ok = stream_xor(a, buf + head, buf + head, plain - head);
	}
	/* The tag of a forged message would be a valid one for it. */
	sodium_memzero(tag, sizeof(tag));
	sodium_memzero(scratch, round_up_block(BLOCK + head));
	return ok ? 0 : -EBADMSG;
}

int aead_seal(struct aead *a, uint8_t *buf, size_t len, uint64_t counter)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	aead_counter_nonce(nonce, counter);
	return aead_seal_nonce(a, buf, len, nonce, NULL, 0);
}

int aead_open(struct aead *a, uint8_t *buf, size_t len, uint64_t counter)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	aead_counter_nonce(nonce, counter);
	return aead_open_nonce(a, buf, len, nonce, NULL, 0);
}
