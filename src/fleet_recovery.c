#include "src/fleet_recovery.h"

#include <stdbool.h>
#include <stddef.h>

#include "src/container_of.h"
#include "src/device.h"

/* A session of ours that carried something lately, or a response of
 * ours still waiting for the peer's first packet. */
static bool busy_with_us(struct peer *peer, uint64_t now)
{
	struct keypair *next = atomic_load_explicit(&peer->keypairs.next,
						    memory_order_relaxed);
	uint64_t heard = atomic_load_explicit(&peer->fact[FACT_AUTH_RECEIVED],
					      memory_order_relaxed);

	if (next && timers_within_rekey_timeout(next->birth, now))
		return true;
	return keypairs_current(&peer->keypairs) &&
	       timers_within_rekey_timeout(heard, now);
}

static bool may_initiate(struct peer *peer, uint64_t now)
{
	return timers_may_send_fleet_initiation(&peer->timers, now) &&
	       !busy_with_us(peer, now);
}

size_t fleet_recovery_pick(struct device *dev, uint32_t index, uint64_t now,
			   struct peer **out, size_t max)
{
	struct fleet_member *m;
	uint16_t slot;
	size_t n = 0;

	if (!device_fleet_slot_of(dev, index, &slot))
		return 0;
	for (m = fleet_slots_first(&dev->fleet->slots, slot); m && n < max;
	     m = fleet_slots_next(m)) {
		struct peer *peer = container_of(m, struct peer, fleet);

		if (may_initiate(peer, now))
			out[n++] = peer;
	}
	return n;
}

bool fleet_recovery_may_send(struct device *dev, const struct sockaddr *to,
			     uint64_t now)
{
	struct token_bucket *all = &dev->fleet->budget;

	/* The budget is asked first and taken from last: a source over its
	 * own rate costs the others nothing, and only sources that get an
	 * initiation enter the ratelimiter's table (no more new ones a
	 * second than the budget allows), so forged ones cannot fill it. */
	return token_bucket_ready(all, now) &&
	       ratelimiter_allow(&dev->ratelimiter, to, now) &&
	       token_bucket_take(all, now);
}
