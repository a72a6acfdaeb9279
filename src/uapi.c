#include "src/uapi.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "src/log.h"
#include "src/tunnel.h"
#include "src/uapi_parse.h"

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
static int apply_private_key(struct tunnel *tn, const uint8_t key[32])
{
	struct peer *self;
	int ret;

	if (all_zero(key, 32)) {
		wg_identity_clear(&tn->dev.identity);
		return 0;
	}
	if (tn->dev.identity.has_identity &&
	    !sodium_memcmp(key, tn->dev.identity.private_key, 32))
		return 0;
	ret = device_set_private_key(&tn->dev, key);
	if (ret && ret != -EINVAL)
		return ret;
	self = device_find_peer(&tn->dev, tn->dev.identity.public_key);
	if (self)
		device_remove_peer(&tn->dev, self);
	return 0;
}

static int apply_allowed_ips(struct tunnel *tn, struct peer *peer,
			     const struct uapi_peer_change *c)
{
	if (c->replace_allowed_ips)
		allowedips_remove_by_owner(tn->dev.allowedips, peer);
	for (size_t i = 0; i < c->n_allowed_ips; i++) {
		const struct uapi_allowed_ip *a = &c->allowed_ips[i];
		const struct config_prefix *p = &a->prefix;
		int ret;

		if (a->remove) {
			allowedips_remove(tn->dev.allowedips, p->family,
					  p->addr, p->cidr, peer);
			continue;
		}
		ret = allowedips_insert(tn->dev.allowedips, p->family, p->addr,
					p->cidr, peer);
		if (ret)
			return ret;
	}
	return 0;
}

/* The peer the change names: found, created, or NULL (update_only for an
 * unknown key, or removed). */
static int find_or_add(struct tunnel *tn, const struct uapi_peer_change *c,
		       struct peer **out)
{
	struct peer *peer = device_find_peer(&tn->dev, c->public_key);
	int ret;

	*out = NULL;
	if (c->remove) {
		if (peer)
			device_remove_peer(&tn->dev, peer);
		return 0;
	}
	if (peer || c->update_only) {
		*out = peer;
		return 0;
	}
	/* Our own key as a peer is ignored, as wireguard-go does. */
	if (tn->dev.identity.has_identity &&
	    !sodium_memcmp(c->public_key, tn->dev.identity.public_key, 32))
		return 0;
	ret = device_add_peer(&tn->dev, c->public_key, NULL, &peer);
	if (ret == -EINVAL) /* a key that gives no shared secret */
		return 0;
	*out = peer;
	return ret;
}

static int apply_peer(struct tunnel *tn, const struct uapi_peer_change *c)
{
	struct peer *peer;
	int ret = find_or_add(tn, c, &peer);

	if (ret || !peer)
		return ret;
	if (c->set_psk)
		memcpy(peer->handshake.preshared_key, c->psk, 32);
	if (c->set_endpoint)
		peer_set_endpoint(peer, (const struct sockaddr *)&c->endpoint,
				  c->endpoint_len);
	if (c->set_keepalive && c->keepalive != peer->persistent_keepalive) {
		peer->persistent_keepalive = c->keepalive;
		timers_set_persistent_keepalive(&peer->timers, c->keepalive,
						tunnel_now(tn));
	}
	return apply_allowed_ips(tn, peer, c);
}

static void remove_peer(struct peer *peer, void *arg)
{
	struct tunnel *tn = arg;

	device_remove_peer(&tn->dev, peer);
}

int uapi_apply(struct tunnel *tn, const struct uapi_set *s)
{
	int ret = 0;

	/* The one change that can fail for reasons outside the request
	 * goes first, so that its failure leaves everything as it was. */
	if (s->set_listen_port && (ret = tunnel_set_listen_port(tn,
							s->listen_port)))
		return ret;
	if (s->set_private_key &&
	    (ret = apply_private_key(tn, s->private_key)))
		return ret;
	if (s->set_fwmark && (ret = tunnel_set_fwmark(tn, s->fwmark)))
		return ret;
	if (s->replace_peers)
		peer_table_each(&tn->dev.peers, remove_peer, tn);
	for (size_t i = 0; i < s->n_peers && !ret; i++)
		ret = apply_peer(tn, &s->peers[i]);
	return ret;
}

/* One line per change a person made with wg set, wg syncconf, ... */
static void log_change(struct tunnel *tn, const struct uapi_set *s)
{
	size_t removed = 0;

	for (size_t i = 0; i < s->n_peers; i++)
		removed += s->peers[i].remove;
	log_info("%s: configuration changed through the UAPI: %s%s%s%s%zu "
		 "peer(s) set, %zu removed", tn->ifname,
		 s->set_private_key ? "private key, " : "",
		 s->set_listen_port ? "listen port, " : "",
		 s->set_fwmark ? "fwmark, " : "",
		 s->replace_peers ? "all peers replaced, " : "",
		 s->n_peers - removed, removed);
}

static void handle_set(struct tunnel *tn, const char *body, size_t len,
		       FILE *reply)
{
	struct uapi_set s;
	char err[256];
	int ret = uapi_parse_set(&s, body, len, err, sizeof(err));

	if (ret) {
		log_warn("%s: UAPI set refused: %s", tn->ifname, err);
	} else {
		ret = uapi_apply(tn, &s);
		if (ret)
			log_warn("%s: UAPI set failed: %s", tn->ifname,
				 strerror(-ret));
		else if (len)
			log_change(tn, &s);
		uapi_set_free(&s);
	}
	fprintf(reply, "errno=%d\n\n", ret);
}

void uapi_handle(void *arg, const char *req, size_t len, FILE *reply)
{
	struct tunnel *tn = arg;
	int ret;

	/* The request ends with its empty line; the parser sees the lines
	 * between the operation and that line. */
	if (len >= 7 && !memcmp(req, "get=1\n", 6) && req[6] == '\n') {
		ret = uapi_get(tn, reply);
		fprintf(reply, "errno=%d\n\n", ret);
		return;
	}
	if (len >= 7 && !memcmp(req, "set=1\n", 6)) {
		handle_set(tn, req + 6, len - 7, reply);
		return;
	}
	fprintf(reply, "errno=%d\n\n", -EINVAL);
}
