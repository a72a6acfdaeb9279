/* The transport-data AEAD: ChaCha20-Poly1305 (RFC 8439) from OpenSSL's
 * ChaCha20 and Poly1305, ~1.9x libsodium on 1420-byte messages here
 * (crypto/aead.c says how; contrib/bench/aead_speed measures). The handshake's AEADs stay in libsodium (crypto/noise.c);
 * both are checked against RFC 8439.
 *
 * A context is keyed once; each message then sets only its nonce: 32
 * zero bits and the 64-bit counter, little-endian, as WireGuard builds
 * it. Setting the key per message costs a fifth of the speed, which is
 * why a context is kept per key. A context is not thread-safe: one per
 * thread per key (crypto/data.c keeps them). */
#ifndef RINGVPN_CRYPTO_AEAD_H
#define RINGVPN_CRYPTO_AEAD_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/messages.h"

/* RFC 8439's nonce; WireGuard's is 32 zero bits, then the counter. */
#define AEAD_NONCE_LEN 12

/* WireGuard's nonce of counter, for this AEAD and libsodium's alike. */
static inline void aead_counter_nonce(uint8_t nonce[AEAD_NONCE_LEN],
				      uint64_t counter)
{
	uint64_t le = htole64(counter);

	memset(nonce, 0, 4);
	memcpy(nonce + 4, &le, sizeof(le));
}

struct aead {
	void *stream; /* EVP_CIPHER_CTX: ChaCha20, keyed */
	void *mac;    /* EVP_MAC_CTX: Poly1305, keyed per message */
};

/* Keys a new context, which seals and opens alike: 0 or -ENOMEM. */
int aead_init(struct aead *a, const uint8_t key[NOISE_SYMMETRIC_KEY_LEN]);
/* Wipes the key schedule and frees; safe on a context never made. */
void aead_free(struct aead *a);

/* Encrypts len bytes at buf in place and writes the 16-byte tag after
 * them: 0, or -EIO if OpenSSL refuses (it does not, short of a bug). */
int aead_seal(struct aead *a, uint8_t *buf, size_t len, uint64_t counter);
/* Checks the tag in the last 16 of len bytes and decrypts the rest in
 * place: 0, or -EBADMSG (forged, corrupt, or len below 16). */
int aead_open(struct aead *a, uint8_t *buf, size_t len, uint64_t counter);

/* The same with any 12-byte nonce and associated data (RFC 8439's own
 * test vectors have both). */
int aead_seal_nonce(struct aead *a, uint8_t *buf, size_t len,
		    const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *ad,
		    size_t ad_len);
int aead_open_nonce(struct aead *a, uint8_t *buf, size_t len,
		    const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *ad,
		    size_t ad_len);

#endif
