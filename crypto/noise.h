/* The Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake pattern on plain byte
 * buffers:
 *
 *   <- s
 *   ...
 *   -> e, es, s, ss
 *   <- e, ee, se, psk
 *
 * This layer knows nothing of WireGuard's framing, indices, MACs or peers;
 * crypto/handshake.c builds the WireGuard messages on top of it. Keeping it
 * pure lets the Cacophony test vectors drive it directly, with their own
 * prologue, fixed ephemeral keys and arbitrary payloads.
 *
 * Every function returns 0 or -errno; on failure the state is not usable
 * and the caller must wipe it (noise_state_wipe). */
#ifndef RINGVPN_CRYPTO_NOISE_H
#define RINGVPN_CRYPTO_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/messages.h"

#define NOISE_KEY_LEN 32

/* The part of the SymmetricState that survives between messages. */
struct noise_state {
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
};

/* Bytes the Noise layer writes for the first message: e, s, payload. */
#define NOISE_MSG1_LEN(payload) \
	(NOISE_PUBLIC_KEY_LEN + NOISE_ENCRYPTED_LEN(NOISE_PUBLIC_KEY_LEN) + \
	 NOISE_ENCRYPTED_LEN(payload))
/* ... and for the second: e, payload. */
#define NOISE_MSG2_LEN(payload) \
	(NOISE_PUBLIC_KEY_LEN + NOISE_ENCRYPTED_LEN(payload))

/* X25519 that refuses an all-zero result (a low-order peer point). */
int noise_dh(uint8_t out[NOISE_KEY_LEN], const uint8_t priv[NOISE_KEY_LEN],
	     const uint8_t pub[NOISE_KEY_LEN]);

/* Initialize for one handshake: protocol name, prologue, and the
 * responder's static key (the pre-message "<- s"). Both sides call it. */
void noise_state_init(struct noise_state *st, const uint8_t *prologue,
		      size_t prologue_len,
		      const uint8_t responder_static[NOISE_PUBLIC_KEY_LEN]);
void noise_state_wipe(struct noise_state *st);

/* Initiator, message 1. e_priv is a fresh ephemeral private key (a fixed one
 * in the test vectors); ss is the precomputed DH(s_priv, rs). Writes
 * NOISE_MSG1_LEN(payload_len) bytes to out. */
int noise_msg1_write(struct noise_state *st, uint8_t *out,
		     const uint8_t e_priv[NOISE_KEY_LEN],
		     const uint8_t s_pub[NOISE_PUBLIC_KEY_LEN],
		     const uint8_t rs[NOISE_PUBLIC_KEY_LEN],
		     const uint8_t ss[NOISE_KEY_LEN],
		     const uint8_t *payload, size_t payload_len);

/* Responder, message 1, first half: "e, es, s". Learns the initiator's
 * ephemeral and static keys, so the caller can look the peer up before the
 * second half. */
int noise_msg1_read_static(struct noise_state *st, const uint8_t *in,
			   const uint8_t s_priv[NOISE_KEY_LEN],
			   uint8_t re_out[NOISE_PUBLIC_KEY_LEN],
			   uint8_t rs_out[NOISE_PUBLIC_KEY_LEN]);

/* Responder, message 1, second half: "ss" and the payload. in is the whole
 * message 1; payload_len is the plaintext length the caller expects. */
int noise_msg1_read_payload(struct noise_state *st, const uint8_t *in,
			    const uint8_t ss[NOISE_KEY_LEN],
			    uint8_t *payload, size_t payload_len);

/* Responder, message 2: "e, ee, se, psk" and payload. */
int noise_msg2_write(struct noise_state *st, uint8_t *out,
		     const uint8_t e_priv[NOISE_KEY_LEN],
		     const uint8_t re[NOISE_PUBLIC_KEY_LEN],
		     const uint8_t rs[NOISE_PUBLIC_KEY_LEN],
		     const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN],
		     const uint8_t *payload, size_t payload_len);

/* Initiator, message 2. */
int noise_msg2_read(struct noise_state *st, const uint8_t *in,
		    const uint8_t e_priv[NOISE_KEY_LEN],
		    const uint8_t s_priv[NOISE_KEY_LEN],
		    const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN],
		    uint8_t *payload, size_t payload_len);

/* Split(): the initiator sends with first and receives with second. */
void noise_split(const struct noise_state *st,
		 uint8_t first[NOISE_SYMMETRIC_KEY_LEN],
		 uint8_t second[NOISE_SYMMETRIC_KEY_LEN]);

/* ChaCha20-Poly1305 with the 64-bit little-endian counter nonce of Noise and
 * WireGuard transport messages. out may equal in (in place). */
void noise_aead_encrypt(uint8_t *out, const uint8_t *in, size_t len,
			const uint8_t *ad, size_t ad_len, uint64_t nonce,
			const uint8_t key[NOISE_SYMMETRIC_KEY_LEN]);
int noise_aead_decrypt(uint8_t *out, const uint8_t *in, size_t len,
		       const uint8_t *ad, size_t ad_len, uint64_t nonce,
		       const uint8_t key[NOISE_SYMMETRIC_KEY_LEN]);

#endif
