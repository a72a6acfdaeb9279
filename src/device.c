#include "src/device.h"
#include "src/epoch.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int device_init(struct device *dev, struct epoch *epoch)
{
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->epoch = epoch;
	dev->aead_evp = true;
	ret = peer_table_init(&dev->peers);
	if (ret)
		return ret;
	ret = index_table_init(&dev->indices, epoch);
	if (ret)
		goto err_peers;
	dev->allowedips = allowedips_new(epoch);
	if (!dev->allowedips) {
		ret = -ENOMEM;
		goto err_indices;
	}
	ret = ratelimiter_init(&dev->ratelimiter, RATELIMITER_DEFAULT_ENTRIES);
	if (ret)
		goto err_allowedips;
	return 0;
err_allowedips:
	allowedips_free(dev->allowedips);
err_indices:
	index_table_destroy(&dev->indices);
err_peers:
	peer_table_destroy(&dev->peers);
	return ret;
}

static void remove_each(struct peer *peer, void *arg)
{
	device_remove_peer(arg, peer);
}

void device_destroy(struct device *dev)
{
	peer_table_each(&dev->peers, remove_each, dev);
	device_fleet_destroy(dev);
	ratelimiter_destroy(&dev->ratelimiter);
	allowedips_free(dev->allowedips);
	index_table_destroy(&dev->indices);
	peer_table_destroy(&dev->peers);
	wg_identity_clear(&dev->identity);
	sodium_memzero(&dev->cookie_checker, sizeof(dev->cookie_checker));
}

struct rekey_ctx {
	struct device *dev;
	int ret;
};

static void rekey_peer(struct peer *peer, void *arg)
{
	struct rekey_ctx *ctx = arg;

	/* Sessions made with the old identity stay valid until they expire,
	 * as in WireGuard; only new handshakes use the new key. */
	if (handshake_rekey_identity(&peer->handshake, &ctx->dev->identity))
		ctx->ret = -EINVAL;
}

int device_set_private_key(struct device *dev, const uint8_t key[WG_KEY_LEN])
{
	struct rekey_ctx ctx = { dev, 0 };
	int ret = wg_identity_set(&dev->identity, key);

	if (ret)
		return ret;
	cookie_checker_init(&dev->cookie_checker, dev->identity.public_key);
	peer_table_each(&dev->peers, rekey_peer, &ctx);
	ret = device_fleet_rekey(dev);
	return ctx.ret ? ctx.ret : ret;
}

static void free_keypair(void *kp)
{
	keypair_free(kp);
}

/* The keypairs the slots let go: each one's index goes now, its memory
 * once no worker can hold it. */
static void retire_keypairs(struct device *dev,
			    const struct keypairs_dropped *d)
{
	for (unsigned i = 0; i < d->n; i++) {
		index_table_remove(&dev->indices, d->kp[i]->local_index);
		epoch_retire(dev->epoch, d->kp[i], free_keypair);
	}
}

int device_add_peer(struct device *dev, const uint8_t pub[WG_KEY_LEN],
		    const uint8_t *psk, struct peer **out)
{
	struct peer *peer;
	int ret;

	if (dev->identity.has_identity &&
	    !sodium_memcmp(pub, dev->identity.public_key, WG_KEY_LEN))
		return -EINVAL;
	if (peer_table_find(&dev->peers, pub))
		return -EEXIST;
	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return -ENOMEM;
	peer->dev = dev;
	atomic_flag_clear(&peer->endpoint_lock);
	ret = handshake_init(&peer->handshake, &dev->identity, pub, psk);
	if (ret)
		goto err;
	cookie_maker_init(&peer->cookie, pub);
	keypairs_init(&peer->keypairs);
	timers_init(&peer->timers, 0);
	ret = peer_table_add(&dev->peers, peer);
	if (ret)
		goto err;
	device_fleet_add_peer(dev, peer);
	*out = peer;
	return 0;
err:
	handshake_wipe(&peer->handshake);
	free(peer);
	return ret;
}

void device_zero_peer_keys(struct device *dev, struct peer *peer)
{
	struct keypairs_dropped dropped;

	keypairs_clear(&peer->keypairs, &dropped);
	retire_keypairs(dev, &dropped);
	if (peer->handshake.state != HANDSHAKE_ZEROED)
		index_table_remove(&dev->indices, peer->handshake.local_index);
	handshake_clear(&peer->handshake);
}

static void free_peer(void *mem)
{
	struct peer *peer = mem;

	sodium_memzero(peer, sizeof(*peer));
	free(peer);
}

void device_remove_peer(struct device *dev, struct peer *peer)
{
	device_zero_peer_keys(dev, peer);
	peer_drop_staged(peer);
	peer_set_endpoint_name(peer, NULL, NULL, 0); /* frees: cannot fail */
	allowedips_remove_by_owner(dev->allowedips, peer);
	peer_table_remove(&dev->peers, peer);
	device_fleet_remove_peer(dev, peer);
	timers_stop(&peer->timers);
	peer->removed = true;
	/* Workers may still hold the pointer (found through AllowedIPs or
	 * an index just before the removal). */
	epoch_retire(dev->epoch, peer, free_peer);
}

struct peer *device_find_peer(struct device *dev, const uint8_t pub[WG_KEY_LEN])
{
	return peer_table_find(&dev->peers, pub);
}

int device_new_handshake_index(struct device *dev, struct peer *peer,
			       uint32_t *index)
{
	struct handshake *hs = &peer->handshake;

	if (hs->state != HANDSHAKE_ZEROED)
		index_table_remove(&dev->indices, hs->local_index);
	return device_fleet_add_index(dev, peer, index);
}

void device_install_keypair(struct device *dev, struct peer *peer,
			    struct keypair *kp)
{
	struct keypairs_dropped dropped;

	kp->owner = peer;
	kp->use_evp = dev->aead_evp;
	/* The handshake's index carries over to the session it made; the
	 * setter publishes the keypair before the kind workers check. */
	index_table_set_keypair(&dev->indices, kp->local_index, kp);
	keypairs_install(&peer->keypairs, kp, &dropped);
	retire_keypairs(dev, &dropped);
}

bool device_confirm_keypair(struct device *dev, struct peer *peer,
			    struct keypair *kp)
{
	struct keypairs_dropped dropped;
	bool confirmed = keypairs_received_with(&peer->keypairs, kp, &dropped);

	retire_keypairs(dev, &dropped);
	return confirmed;
}
