/* Fleet indexes: session indexes that any gateway of a fleet can read.
 *
 * Gateways that share one private key (ringvpn(8), MANY GATEWAYS) derive
 * the same fleet key from it. With it, an index is
 *
 *	index = P(slot16 || check8 || rand8)
 *
 * where P is a keyed permutation of 32-bit numbers (an 8-round Feistel
 * network on 16-bit halves, SipHash-2-4 as its round function), slot16 a
 * keyed hash of the peer's public key, check8 a constant and rand8
 * random. P's key changes every FLEET_PERIOD_S of Unix time, so that
 * indexes of one slot in one period tell nothing of those in another;
 * the slot's key does not (peers keep their slot). A gateway that gets data under an index it never handed out
 * can still tell which peers it may belong to (those of its slot), while
 * to anyone without the key indexes look random. The check byte lets
 * through 1 in 256 indexes that were never made this way.
 *
 * Pure functions over plain bytes: no I/O, no peer table. */
#ifndef RINGVPN_CRYPTO_FLEET_INDEX_H
#define RINGVPN_CRYPTO_FLEET_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/keys.h"

#define FLEET_HASH_KEY_LEN 16 /* crypto_shorthash_KEYBYTES */
#define FLEET_SLOTS 65536u
#define FLEET_CHECK 0u

/* Secret: wipe with fleet_key_clear. */
struct fleet_key {
	uint8_t round[FLEET_HASH_KEY_LEN]; /* the permutation's */
	uint8_t slot[FLEET_HASH_KEY_LEN];  /* the public keys' slots */
};

/* An hour: long next to a session (REJECT_AFTER_TIME, 3 min), so an
 * index is read with its own period's key or the one before, and short
 * enough that a slot's indexes do not follow a client for long. */
#define FLEET_PERIOD_S 3600u

/* The period of a Unix time in seconds. */
static inline uint64_t fleet_period(uint64_t unix_seconds)
{
	return unix_seconds / FLEET_PERIOD_S;
}

/* The key of period every holder of private_key derives alike. */
void fleet_key_derive(struct fleet_key *k,
		      const uint8_t private_key[WG_KEY_LEN], uint64_t period);
void fleet_key_clear(struct fleet_key *k);

/* P and its inverse. */
uint32_t fleet_permute(const struct fleet_key *k, uint32_t x);
uint32_t fleet_unpermute(const struct fleet_key *k, uint32_t y);

/* The slot of a peer's public key: the same on every gateway. */
uint16_t fleet_slot(const struct fleet_key *k,
		    const uint8_t public_key[WG_KEY_LEN]);

/* An index for slot with the random byte rnd. */
uint32_t fleet_index_encode(const struct fleet_key *k, uint16_t slot,
			    uint8_t rnd);
/* Whether index passes the check byte, and then its slot in *slot. */
bool fleet_index_decode(const struct fleet_key *k, uint32_t index,
			uint16_t *slot);

#endif
