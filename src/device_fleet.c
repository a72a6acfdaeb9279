#include "src/device_fleet.h"

#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include "src/device.h"
#include "src/epoch.h"
#include "src/fleet_recovery.h"

/* A slot's indexes have 8 random bits: with that many taken (a crowded
 * slot, or bad luck), the next ones are fully random, which only costs
 * their session the fleet's recovery. */
#define FLEET_PICK_TRIES 32

static struct fleet_keys *writer_keys(const struct device *dev)
{
	return atomic_load_explicit(&dev->fleet->keys, memory_order_relaxed);
}

static void add_member(struct peer *peer, void *arg)
{
	struct device *dev = arg;
	struct fleet_keys *k = writer_keys(dev);

	if (k)
		fleet_slots_add(&dev->fleet->slots, &peer->fleet,
				fleet_slot(&k->cur, peer_public_key(peer)));
}

static void remove_member(struct peer *peer, void *arg)
{
	struct device *dev = arg;

	fleet_slots_remove(&dev->fleet->slots, &peer->fleet);
}

/* The next keys, or NULL (no private key, or no memory), for readers
 * from now on; the old ones wait for them to pass (or, if even that
 * cannot be allocated, are kept for good: epoch_retire never frees what
 * a worker may be decoding with). */
static void publish_keys(struct device *dev, struct fleet_keys *k)
{
	struct fleet_keys *old = writer_keys(dev);

	atomic_store_explicit(&dev->fleet->keys, k, memory_order_release);
	if (old)
		epoch_retire(dev->epoch, old, fleet_keys_free);
}

int device_fleet_rekey(struct device *dev)
{
	struct fleet_keys *k = NULL;
	int ret = 0;

	if (!dev->fleet)
		return 0;
	peer_table_each(&dev->peers, remove_member, dev);
	if (dev->identity.has_identity) {
		k = fleet_keys_new(dev->identity.private_key,
				   fleet_period((uint64_t)time(NULL)));
		if (!k)
			ret = -ENOMEM;
	}
	publish_keys(dev, k);
	peer_table_each(&dev->peers, add_member, dev);
	return ret;
}

int device_fleet_rotate(struct device *dev, uint64_t unix_seconds)
{
	struct fleet_keys *old, *k;
	uint64_t period = fleet_period(unix_seconds);

	if (!dev->fleet)
		return 0;
	old = writer_keys(dev);
	if (!old || old->period == period)
		return 0;
	k = fleet_keys_new(dev->identity.private_key, period);
	if (!k)
		return -ENOMEM;
	/* The slots' key is the same in every period: members stay. */
	publish_keys(dev, k);
	return 0;
}

int device_fleet_enable(struct device *dev)
{
	int ret;

	if (dev->fleet)
		return 0;
	dev->fleet = calloc(1, sizeof(*dev->fleet));
	if (!dev->fleet)
		return -ENOMEM;
	atomic_init(&dev->fleet->keys, NULL);
	token_bucket_init(&dev->fleet->budget, FLEET_RECOVERY_PER_SECOND,
			  FLEET_RECOVERY_BURST, 0);
	ret = fleet_slots_init(&dev->fleet->slots);
	if (!ret)
		ret = device_fleet_rekey(dev);
	if (ret)
		device_fleet_destroy(dev);
	return ret;
}

void device_fleet_destroy(struct device *dev)
{
	struct fleet_keys *k;

	if (!dev->fleet)
		return;
	peer_table_each(&dev->peers, remove_member, dev);
	k = writer_keys(dev);
	if (k)
		fleet_keys_free(k);
	fleet_slots_destroy(&dev->fleet->slots);
	free(dev->fleet);
	dev->fleet = NULL;
}

void device_fleet_add_peer(struct device *dev, struct peer *peer)
{
	if (dev->fleet)
		add_member(peer, dev);
}

void device_fleet_remove_peer(struct device *dev, struct peer *peer)
{
	if (dev->fleet)
		remove_member(peer, dev);
}

struct pick_ctx {
	const struct fleet_keys *keys;
	uint16_t slot;
};

/* A random index that is no fleet index: one that passed the check byte
 * (2 in 256) would pose as an index of a slot, whose peers another
 * gateway would then offer a handshake. */
static uint32_t random_non_fleet(const struct fleet_keys *k)
{
	uint32_t index;
	uint16_t slot;

	do
		index = randombytes_random();
	while (fleet_keys_decode(k, index, &slot));
	return index;
}

static uint32_t pick_fleet(void *arg, unsigned tries)
{
	const struct pick_ctx *ctx = arg;

	if (tries >= FLEET_PICK_TRIES)
		return random_non_fleet(ctx->keys);
	return fleet_index_encode(&ctx->keys->cur, ctx->slot,
				  (uint8_t)randombytes_uniform(256));
}

int device_fleet_add_index(struct device *dev, struct peer *peer,
			   uint32_t *index)
{
	struct pick_ctx ctx;

	if (!dev->fleet || !fleet_slots_has(&peer->fleet))
		return index_table_add(&dev->indices, INDEX_HANDSHAKE, peer,
				       NULL, index);
	ctx.keys = writer_keys(dev);
	ctx.slot = peer->fleet.slot;
	return index_table_add_picked(&dev->indices, INDEX_HANDSHAKE, peer,
				      NULL, pick_fleet, &ctx, index);
}

bool device_fleet_slot_of(const struct device *dev, uint32_t index,
			  uint16_t *slot)
{
	const struct fleet_keys *k;

	if (!dev->fleet)
		return false;
	k = atomic_load_explicit(&dev->fleet->keys, memory_order_acquire);
	return k && fleet_keys_decode(k, index, slot);
}

bool device_fleet_may_know(const struct device *dev, uint32_t index)
{
	uint16_t slot;

	return device_fleet_slot_of(dev, index, &slot);
}

bool device_fleet_report(struct device *dev, uint32_t index, uint64_t now)
{
	uint16_t slot;

	return device_fleet_slot_of(dev, index, &slot) &&
	       fleet_reports_claim(&dev->fleet->reports, slot, now);
}
