/* FleetRecovery's keys in use at one time: those of the current period
 * and of the one before (crypto/fleet_index.h). Indexes are made with
 * cur and read with either, so that one handed out just before the
 * period changed is still read after: a session outlives its handshake
 * by REJECT_AFTER_TIME (3 min) at most, far less than a period, so no
 * index in use is older than the period before. Gateways whose clocks
 * differ by d cannot read each other's new indexes for d after each
 * change of period: they must be in step anyway (ringvpn(8)). */
#ifndef RINGVPN_SRC_FLEET_KEYS_H
#define RINGVPN_SRC_FLEET_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/fleet_index.h"
#include "crypto/keys.h"

/* Secret: free with fleet_keys_free, which wipes it. */
struct fleet_keys {
	uint64_t period; /* cur's */
	struct fleet_key cur;
	struct fleet_key prev;
};

/* The keys of period for private_key, or NULL without memory. */
struct fleet_keys *fleet_keys_new(const uint8_t private_key[WG_KEY_LEN],
				  uint64_t period);
/* Wipes and frees keys (a void pointer: epoch_retire's free function). */
void fleet_keys_free(void *keys);

/* Whether index passes the check byte under either key, and then its
 * slot in *slot. A random index does 2 times in 256. */
bool fleet_keys_decode(const struct fleet_keys *k, uint32_t index,
		       uint16_t *slot);

#endif
