#include "src/device_apply.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return !acc;
}

/* A new private key: new handshakes use it, and a peer that now has our
 * own public key goes, as in wireguard-go. Removing the key leaves the
 * device unable to handshake until one is set again. */
static int apply_private_key(struct device *dev, const uint8_t *key)
{
	struct peer *self;
	int ret;

	if (all_zero(key, WG_KEY_LEN)) {
		wg_identity_clear(&dev->identity);
		return device_fleet_rekey(dev); /* to none: wiped */
	}
	if (dev->identity.has_identity &&
	    !sodium_memcmp(key, dev->identity.private_key, WG_KEY_LEN))
		return 0;
	ret = device_set_private_key(dev, key);
	if (ret && ret != -EINVAL)
		return ret;
	self = device_find_peer(dev, dev->identity.public_key);
	if (self)
		device_remove_peer(dev, self);
	return 0;
}

static int apply_allowed_ips(struct device *dev, struct peer *peer,
			     const struct peer_change *c)
{
	if (c->replace_allowed_ips)
		allowedips_remove_by_owner(dev->allowedips, peer);
	for (size_t i = 0; i < c->n_allowed_ips; i++) {
		const struct prefix *p = &c->allowed_ips[i].prefix;
		int ret;

		if (c->allowed_ips[i].remove) {
			allowedips_remove(dev->allowedips, p->family, p->addr,
					  p->cidr, peer);
			continue;
		}
		ret = allowedips_insert(dev->allowedips, p->family, p->addr,
					p->cidr, peer);
		if (ret)
			return ret;
	}
	return 0;
}

/* The peer the change names: found, created, or NULL (update_only for an
 * unknown key, removed, or a key we do not take). */
static int find_or_add(struct device *dev, const struct peer_change *c,
		       struct peer **out)
{
	struct peer *peer = device_find_peer(dev, c->public_key);
	int ret;

	*out = NULL;
	if (c->remove) {
		if (peer)
			device_remove_peer(dev, peer);
		return 0;
	}
	if (peer || c->update_only) {
		*out = peer;
		return 0;
	}
	ret = device_add_peer(dev, c->public_key, NULL, &peer);
	if (ret == -EINVAL) /* our own key, or one with no shared secret */
		return 0;
	*out = peer;
	return ret;
}

/* Whether c gives the peer the address it has: `wg syncconf` sends every
 * peer's endpoint as an address, and one that did not move keeps the
 * name it came from (only a new address by hand ends the name). */
static bool same_endpoint(struct peer *peer, const struct peer_change *c)
{
	struct sockaddr_storage now;
	socklen_t len = peer_get_endpoint(peer, &now);

	return len && len == c->endpoint_len &&
	       !memcmp(&now, &c->endpoint, len);
}

static int apply_peer(struct device *dev, const struct peer_change *c,
		      uint64_t now)
{
	struct peer *peer;
	bool keep_name;
	int ret = find_or_add(dev, c, &peer);

	if (ret || !peer)
		return ret;
	if (c->set_psk)
		handshake_set_psk(&peer->handshake, c->psk);
	keep_name = c->set_endpoint && !c->endpoint_host &&
		    same_endpoint(peer, c);
	if (c->set_endpoint)
		peer_set_endpoint(peer, (const struct sockaddr *)&c->endpoint,
				  c->endpoint_len);
	if (c->set_endpoint_name && !keep_name &&
	    (ret = peer_set_endpoint_name(peer, c->endpoint_host,
					  c->endpoint_port, now)))
		return ret;
	if (c->set_keepalive && c->keepalive != peer->persistent_keepalive) {
		peer->persistent_keepalive = c->keepalive;
		timers_set_persistent_keepalive(&peer->timers, c->keepalive,
						now);
	}
	return apply_allowed_ips(dev, peer, c);
}

static void remove_peer(struct peer *peer, void *dev)
{
	device_remove_peer(dev, peer);
}

int device_apply(struct device *dev, const struct change *c, uint64_t now)
{
	int ret = 0;

	if (c->set_private_key &&
	    (ret = apply_private_key(dev, c->private_key)))
		return ret;
	if (c->replace_peers)
		peer_table_each(&dev->peers, remove_peer, dev);
	for (size_t i = 0; i < c->n_peers && !ret; i++)
		ret = apply_peer(dev, &c->peers[i], now);
	return ret;
}
