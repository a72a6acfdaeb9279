#include "src/fleet_recovery.h"

#include <stdbool.h>
#include <stddef.h>

#include "src/device.h"

#define REKEY_TIMEOUT_NS ((uint64_t)REKEY_TIMEOUT * 1000000000ULL)

static bool within_rekey_timeout(uint64_t then, uint64_t now)
{
	return then && now - then < REKEY_TIMEOUT_NS;
}

/* A session of ours that carried something lately, or a response of
 * ours still waiting for the peer's first packet. */
static bool busy_with_us(struct peer *peer, uint64_t now)
{
	struct keypair *next = atomic_load_explicit(&peer->keypairs.next,
						    memory_order_relaxed);
	uint64_t heard = atomic_load_explicit(&peer->fact[FACT_AUTH_RECEIVED],
					      memory_order_relaxed);

	if (next && within_rekey_timeout(next->birth, now))
		return true;
	return keypairs_current(&peer->keypairs) &&
	       within_rekey_timeout(heard, now);
}

static bool may_initiate(struct peer *peer, uint64_t now)
{
	return timers_may_send_initiation(&peer->timers, now) &&
	       !busy_with_us(peer, now);
}

static struct peer *member_peer(struct fleet_member *m)
{
	return (struct peer *)((char *)m - offsetof(struct peer, fleet));
}

size_t fleet_recovery_pick(struct device *dev, uint32_t index, uint64_t now,
			   struct peer **out, size_t max)
{
	const struct fleet_key *k;
	struct fleet_member *m;
	uint16_t slot;
	size_t n = 0;

	if (!dev->fleet)
		return 0;
	k = atomic_load_explicit(&dev->fleet->key, memory_order_relaxed);
	if (!k || !fleet_index_decode(k, index, &slot))
		return 0;
	for (m = fleet_slots_first(&dev->fleet->slots, slot); m && n < max;
	     m = fleet_slots_next(m)) {
		struct peer *peer = member_peer(m);

		if (may_initiate(peer, now))
			out[n++] = peer;
	}
	return n;
}
