#include "src/device_fleet.h"

#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>

#include "src/device.h"
#include "src/epoch.h"
#include "src/fleet_recovery.h"

/* A slot's indexes have 8 random bits: with that many taken (a crowded
 * slot, or bad luck), the next ones are fully random, which only costs
 * their session the fleet's recovery. */
#define FLEET_PICK_TRIES 32

static struct fleet_key *writer_key(const struct device *dev)
{
	return atomic_load_explicit(&dev->fleet->key, memory_order_relaxed);
}

static void add_member(struct peer *peer, void *arg)
{
	struct device *dev = arg;
	struct fleet_key *k = writer_key(dev);

	if (k)
		fleet_slots_add(&dev->fleet->slots, &peer->fleet,
				fleet_slot(k, peer_public_key(peer)));
}

static void remove_member(struct peer *peer, void *arg)
{
	struct device *dev = arg;

	fleet_slots_remove(&dev->fleet->slots, &peer->fleet);
}

static void free_key(void *mem)
{
	fleet_key_clear(mem);
	free(mem);
}

/* The next key, or NULL (no private key, or no memory), for readers
 * from now on; the old one waits for them to pass (or, if even that
 * cannot be allocated, is kept for good: epoch_retire never frees what a
 * worker may be decoding with). */
static void publish_key(struct device *dev, struct fleet_key *k)
{
	struct fleet_key *old = writer_key(dev);

	atomic_store_explicit(&dev->fleet->key, k, memory_order_release);
	if (old)
		epoch_retire(dev->epoch, old, free_key);
}

int device_fleet_rekey(struct device *dev)
{
	struct fleet_key *k = NULL;
	int ret = 0;

	if (!dev->fleet)
		return 0;
	peer_table_each(&dev->peers, remove_member, dev);
	if (dev->identity.has_identity) {
		k = malloc(sizeof(*k));
		if (k)
			fleet_key_derive(k, dev->identity.private_key);
		else
			ret = -ENOMEM;
	}
	publish_key(dev, k);
	peer_table_each(&dev->peers, add_member, dev);
	return ret;
}

int device_fleet_enable(struct device *dev)
{
	int ret;

	if (dev->fleet)
		return 0;
	dev->fleet = calloc(1, sizeof(*dev->fleet));
	if (!dev->fleet)
		return -ENOMEM;
	atomic_init(&dev->fleet->key, NULL);
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
	struct fleet_key *k;

	if (!dev->fleet)
		return;
	peer_table_each(&dev->peers, remove_member, dev);
	k = writer_key(dev);
	if (k)
		free_key(k);
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
	const struct fleet_key *key;
	uint16_t slot;
};

/* A random index that is no fleet index: one that passed the check byte
 * (1 in 256) would pose as an index of another slot, whose peers another
 * gateway would then offer a handshake. */
static uint32_t random_non_fleet(const struct fleet_key *k)
{
	uint32_t index;
	uint16_t slot;

	do
		index = randombytes_random();
	while (fleet_index_decode(k, index, &slot));
	return index;
}

static uint32_t pick_fleet(void *arg, unsigned tries)
{
	const struct pick_ctx *ctx = arg;

	if (tries >= FLEET_PICK_TRIES)
		return random_non_fleet(ctx->key);
	return fleet_index_encode(ctx->key, ctx->slot,
				  (uint8_t)randombytes_uniform(256));
}

int device_fleet_add_index(struct device *dev, struct peer *peer,
			   uint32_t *index)
{
	struct pick_ctx ctx;

	if (!dev->fleet || !fleet_slots_has(&peer->fleet))
		return index_table_add(&dev->indices, INDEX_HANDSHAKE, peer,
				       NULL, index);
	ctx.key = writer_key(dev);
	ctx.slot = peer->fleet.slot;
	return index_table_add_picked(&dev->indices, INDEX_HANDSHAKE, peer,
				      NULL, pick_fleet, &ctx, index);
}

static bool reader_slot(const struct device *dev, uint32_t index,
			uint16_t *slot)
{
	const struct fleet_key *k;

	if (!dev->fleet)
		return false;
	k = atomic_load_explicit(&dev->fleet->key, memory_order_acquire);
	return k && fleet_index_decode(k, index, slot);
}

bool device_fleet_may_know(const struct device *dev, uint32_t index)
{
	uint16_t slot;

	return reader_slot(dev, index, &slot);
}

bool device_fleet_report(struct device *dev, uint32_t index, uint64_t now)
{
	uint16_t slot;

	return reader_slot(dev, index, &slot) &&
	       fleet_reports_claim(&dev->fleet->reports, slot, now);
}
