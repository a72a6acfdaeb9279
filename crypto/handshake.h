/* WireGuard handshake messages (types 1 and 2) built on the Noise core:
 * framing, indices, TAI64N timestamps, replay and flood checks, and the
 * derivation of transport keypairs. MACs are added and checked by
 * crypto/cookie.c; this file never sees them.
 *
 * One struct handshake lives in each peer and is touched only by the control
 * thread, so it needs no lock. */
#ifndef RINGVPN_CRYPTO_HANDSHAKE_H
#define RINGVPN_CRYPTO_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/messages.h"
#include "crypto/noise.h"

struct keypair;

struct wg_identity {
	uint8_t private_key[NOISE_PUBLIC_KEY_LEN];
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
	bool has_identity;
};

enum handshake_state {
	HANDSHAKE_ZEROED,
	HANDSHAKE_CREATED_INITIATION,
	HANDSHAKE_CONSUMED_INITIATION,
	HANDSHAKE_CREATED_RESPONSE,
	HANDSHAKE_CONSUMED_RESPONSE,
};

struct handshake {
	enum handshake_state state;
	struct noise_state noise;
	uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];
	/* DH(our static, their static): fixed per peer, so computed once. */
	uint8_t static_static[NOISE_PUBLIC_KEY_LEN];
	bool static_static_ok;
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN];
	uint64_t last_initiation_consumption; /* ns, monotonic; 0 = never */
	uint32_t local_index;
	uint32_t remote_index;
};

int wg_identity_set(struct wg_identity *id, const uint8_t private_key[32]);
void wg_identity_clear(struct wg_identity *id);

/* Sets the peer's keys; psk may be NULL (all zero, as in WireGuard).
 * Returns -EINVAL when the pair gives a zero static-static DH, in which
 * case no handshake with this peer can succeed. */
int handshake_init(struct handshake *hs, const struct wg_identity *id,
		   const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN],
		   const uint8_t *psk);
/* A new preshared key (NULL: none, all zero) for handshakes from now on. */
void handshake_set_psk(struct handshake *hs, const uint8_t *psk);
/* Recomputes the static-static DH after our private key changed. */
int handshake_rekey_identity(struct handshake *hs, const struct wg_identity *id);
/* Forgets the in-flight handshake; keeps keys and the last timestamp. */
void handshake_clear(struct handshake *hs);
/* Wipes everything, including the peer's keys. */
void handshake_wipe(struct handshake *hs);

/* Fills everything but the MACs. local_index must be unique on the device. */
int handshake_create_initiation(struct handshake *hs,
				const struct wg_identity *id,
				uint32_t local_index,
				struct message_handshake_initiation *msg);

typedef struct handshake *(*handshake_lookup_fn)(void *arg,
		const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN]);

/* Consumes an initiation whose MAC1 was already checked. On success *out is
 * the peer's handshake, now in HANDSHAKE_CONSUMED_INITIATION. Errors:
 * -EBADMSG (does not decrypt), -ENOKEY (unknown peer), -EALREADY (timestamp
 * not newer: a replay), -EBUSY (initiations from this peer too frequent).
 * The peer's state changes only on success. */
int handshake_consume_initiation(const struct wg_identity *id,
				 const struct message_handshake_initiation *msg,
				 handshake_lookup_fn lookup, void *arg,
				 uint64_t now, struct handshake **out);

int handshake_create_response(struct handshake *hs, uint32_t local_index,
			      struct message_handshake_response *msg);

/* The caller found hs by msg->receiver_index. -EINVAL when hs has no
 * initiation in flight, -EBADMSG when the response does not decrypt. */
int handshake_consume_response(struct handshake *hs,
			       const struct wg_identity *id,
			       const struct message_handshake_response *msg);

/* After HANDSHAKE_CREATED_RESPONSE (responder) or
 * HANDSHAKE_CONSUMED_RESPONSE (initiator): fill kp with the transport keys
 * and indices, then clear the handshake. */
int handshake_derive_keypair(struct handshake *hs, struct keypair *kp,
			     uint64_t now);

#endif
