/* BLAKE2s-based hashing of the WireGuard construction: HASH, MAC, HMAC and
 * the KDF1/2/3 chain (HKDF with HMAC-BLAKE2s). BLAKE2s comes from libb2;
 * only HMAC and HKDF are built here. */
#ifndef RINGVPN_CRYPTO_KDF_H
#define RINGVPN_CRYPTO_KDF_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_HASH_LEN 32
#define BLAKE2S_BLOCK_LEN 64

/* out = BLAKE2s-256(a || b); b may be NULL with b_len 0. */
void hash2(uint8_t out[BLAKE2S_HASH_LEN], const uint8_t *a, size_t a_len,
	   const uint8_t *b, size_t b_len);

/* out = keyed BLAKE2s with out_len bytes of output (MAC of the whitepaper).
 * 1 <= out_len <= 32 and key_len <= 32. */
void keyed_hash(uint8_t *out, size_t out_len, const uint8_t *key,
		size_t key_len, const uint8_t *in, size_t in_len);

/* out = HMAC-BLAKE2s(key, in). */
void hmac_blake2s(uint8_t out[BLAKE2S_HASH_LEN], const uint8_t *key,
		  size_t key_len, const uint8_t *in, size_t in_len);

/* KDFn(key, input): writes n = 1..3 outputs of 32 bytes; t3, or t2 and t3,
 * may be NULL when fewer are wanted. WireGuard's key is always a chaining
 * key, but any length works. Intermediate secrets are wiped. */
void kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t *key,
	 size_t key_len, const uint8_t *in, size_t in_len);

#endif
