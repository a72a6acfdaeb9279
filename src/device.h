/* The protocol engine's device: our identity, the peers and the tables
 * that find them (by public key, by session index, by inner address). No
 * I/O happens here; the control thread and the workers drive it. */
#ifndef RINGVPN_SRC_DEVICE_H
#define RINGVPN_SRC_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/keys.h"
#include "src/allowedips.h"
#include "src/device_fleet.h"
#include "src/index_table.h"
#include "src/peer.h"
#include "src/peer_table.h"
#include "src/ratelimiter.h"

struct epoch;

/* What became of the handshake messages (types 1 and 2) the control thread
 * was given. Control thread only: read them there (the stats file). */
struct device_handshake_stats {
	uint64_t processed;    /* given to public-key work */
	uint64_t cookies_sent; /* under load without MAC2: a cookie reply */
	uint64_t ratelimited;  /* under load, MAC2 good, source over its rate:
				* dropped */
	uint64_t bad_mac;      /* MAC1 wrong: dropped without a word */
};

struct device {
	struct wg_identity identity;
	/* The responder's defences (control thread only): cookies, the
	 * per-source limiter under load, and when load was last seen. */
	struct cookie_checker cookie_checker;
	struct ratelimiter ratelimiter;
	uint64_t last_under_load; /* ns; 0 = never */
	struct device_handshake_stats hs_stats;
	struct peer_table peers;
	struct index_table indices;
	struct allowedips *allowedips;
	/* Frees what the workers may still hold (peers, keypairs, index
	 * entries, AllowedIPs nodes); NULL frees at once. */
	struct epoch *epoch;
	/* New sessions seal and open data with OpenSSL's AEAD (true after
	 * device_init; RINGVPN_DISABLE=evp_aead turns it off). */
	bool aead_evp;
	/* FleetRecovery's key, slots and counter; NULL when off. */
	struct device_fleet *fleet;
};

/* epoch may be NULL when nothing reads the device concurrently (tests). */
int device_init(struct device *dev, struct epoch *epoch);
/* Removes every peer and wipes all key material. */
void device_destroy(struct device *dev);
int device_set_private_key(struct device *dev, const uint8_t key[WG_KEY_LEN]);

/* psk may be NULL. Errors: -EEXIST (already a peer), -EINVAL (our own
 * key, or a key that gives a zero shared secret), -ENOMEM. */
int device_add_peer(struct device *dev, const uint8_t pub[WG_KEY_LEN],
		    const uint8_t *psk, struct peer **out);
void device_remove_peer(struct device *dev, struct peer *peer);
struct peer *device_find_peer(struct device *dev, const uint8_t pub[WG_KEY_LEN]);

/* Registers a fresh local index for the peer's handshake, dropping the one
 * it had; the index is written to *index. */
int device_new_handshake_index(struct device *dev, struct peer *peer,
			       uint32_t *index);
/* Installs a derived keypair: its index now names the keypair. */
void device_install_keypair(struct device *dev, struct peer *peer,
			    struct keypair *kp);
/* The first data under kp arrived: true when that promoted it from next
 * to current (the responder's handshake completed). */
bool device_confirm_keypair(struct device *dev, struct peer *peer,
			    struct keypair *kp);
/* Wipes the peer's sessions and handshake (zero_key_material). */
void device_zero_peer_keys(struct device *dev, struct peer *peer);

#endif
