/* SessionTable's routes: one entry per peer, holding its AllowedIPs
 * (copied, so that a handshake needs no walk of the whole AllowedIPs
 * trie) and what the kernel has of them; src/session_route.h decides.
 *
 * A crash leaves nothing: every route goes through the TUN device,
 * which the kernel deletes with the daemon, and its routes with it; the
 * journal's "sessions" entry covers a device that outlived us. */
#include "src/tunnel/session_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/grow.h"
#include "src/log.h"
#include "src/netconf/netconf.h"
#include "src/session_route.h"
#include "src/tunnel/control.h"
#include "src/tunnel/state.h"

#define NS_PER_S 1000000000ULL

struct session_entry {
	struct session_route route;
	/* Compared with what the device finds under key, never followed
	 * once the peer may be gone (refresh): a removed peer waits for
	 * the workers' epoch, so it is valid until the next tick. */
	struct peer *peer;
	uint8_t key[WG_KEY_LEN];
	/* refresh: the peer is still the device's; its AllowedIPs so far. */
	bool seen;
	struct prefix *scratch;
	size_t n_scratch;
	/* The last change failed and was logged: no more lines until one
	 * works; it is tried again at retry_at (engine ns). */
	bool failed;
	uint64_t retry_at;
	struct session_entry *next;
};

/* What the ops need, and what went wrong, for the one log line. */
struct route_ctx {
	struct tunnel *tn;
	struct prefix bad;
	bool bad_add;
};

static int route_add(void *arg, const struct prefix *p)
{
	struct route_ctx *c = arg;
	struct tunnel *tn = c->tn;
	int ret = netlink_proto_route_add(&tn->nl, tn->tun.ifindex,
					  p->family, p->addr, p->cidr,
					  tn->sessions.table,
					  NETCONF_SESSION_PROTOCOL, NULL);

	if (ret) {
		c->bad = *p;
		c->bad_add = true;
	}
	return ret;
}

static int route_del(void *arg, const struct prefix *p)
{
	struct route_ctx *c = arg;
	struct tunnel *tn = c->tn;
	int ret = netlink_proto_route_del(&tn->nl, tn->tun.ifindex,
					  p->family, p->addr, p->cidr,
					  tn->sessions.table,
					  NETCONF_SESSION_PROTOCOL);

	/* A device that is gone took its routes with it. */
	if (ret == -ENODEV)
		ret = -ENOENT;
	if (ret && ret != -ENOENT) {
		c->bad = *p;
		c->bad_add = false;
	}
	return ret;
}

static const struct session_route_ops kernel_ops = { route_add, route_del };

/* Once per failing episode; the next success says it is over. */
static void note_result(struct tunnel *tn, struct session_entry *e,
			const struct route_ctx *c, int ret, uint64_t now)
{
	char who[SHORT_KEY_LEN + 1], ip[INET6_ADDRSTRLEN] = "?";

	control_short_key(who, e->key);
	if (!ret) {
		if (e->failed)
			log_info("%s: peer %s: session routes in table %u "
				 "are right again", tn->ifname, who,
				 tn->sessions.table);
		e->failed = false;
		return;
	}
	e->retry_at = now + SESSION_RETRY_S * NS_PER_S * tn->dp.clock_scale;
	if (e->failed)
		return;
	e->failed = true;
	inet_ntop(c->bad.family, c->bad.addr, ip, sizeof(ip));
	log_error("%s: peer %s: cannot %s route %s/%u %s table %u: %s (tried "
		  "again at its next event)", tn->ifname, who,
		  c->bad_add ? "add" : "remove", ip, c->bad.cidr,
		  c->bad_add ? "to" : "from", tn->sessions.table,
		  strerror(-ret));
}

static void sync_entry(struct tunnel *tn, struct session_entry *e,
		       uint64_t now)
{
	struct route_ctx c = { .tn = tn };
	int ret = session_route_sync(&e->route, now, &kernel_ops, &c);

	note_result(tn, e, &c, ret, now);
}

static struct session_entry *entry_new(struct tunnel *tn, struct peer *peer)
{
	struct session_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->peer = peer;
	memcpy(e->key, peer_public_key(peer), WG_KEY_LEN);
	e->next = tn->sessions.all;
	tn->sessions.all = e;
	peer->session_routes = e;
	return e;
}

static void entry_free(struct session_entry *e)
{
	session_route_free(&e->route);
	free(e->scratch);
	free(e);
}

/* refresh, step 1: every peer of the device has its entry, marked. */
static void mark_peer(struct peer *peer, void *arg)
{
	struct tunnel *tn = arg;
	struct session_entry *e = peer->session_routes;

	if (!e && !(e = entry_new(tn, peer))) {
		log_error("%s: out of memory for the session routes",
			  tn->ifname);
		return;
	}
	e->seen = true;
	e->n_scratch = 0;
}

/* refresh, step 2: each prefix to its owner's entry. */
static int collect_prefix(void *arg, int family, const uint8_t *addr,
			  uint8_t cidr, void *owner)
{
	struct session_entry *e = ((struct peer *)owner)->session_routes;
	struct prefix p = { .family = family, .cidr = cidr };

	if (!e || grow_array(&e->scratch, e->n_scratch, sizeof(*e->scratch),
			     false))
		return 0; /* logged by mark_peer, or kept as it was */
	memcpy(p.addr, addr, prefix_addr_len(family));
	e->scratch[e->n_scratch++] = p;
	return 0;
}

/* refresh, step 3: what each entry wants now. An entry not seen is of a
 * peer that is gone: nothing. */
static void take_wants(struct tunnel *tn)
{
	for (struct session_entry *e = tn->sessions.all; e; e = e->next) {
		if (!e->seen)
			e->route.live_until = 0;
		if (session_route_want(&e->route, e->scratch,
				       e->seen ? e->n_scratch : 0))
			log_error("%s: out of memory for the session routes",
				  tn->ifname);
		e->n_scratch = 0;
	}
}

/* refresh, step 4: every removal before any addition, since a prefix
 * may have moved from one peer to another. Then the entries of peers
 * that are gone, whose routes are gone now, go too. */
static void apply_wants(struct tunnel *tn, uint64_t now)
{
	struct session_entry **pp = &tn->sessions.all, *e;

	for (e = tn->sessions.all; e; e = e->next) {
		struct route_ctx c = { .tn = tn };

		note_result(tn, e, &c, session_route_prune(&e->route, now,
							   &kernel_ops, &c),
			    now);
	}
	for (e = tn->sessions.all; e; e = e->next)
		if (e->seen)
			sync_entry(tn, e, now);
	while ((e = *pp)) {
		if (e->seen || e->route.n_have) {
			e->seen = false;
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		entry_free(e);
	}
}

int session_table_init(struct tunnel *tn, uint32_t table)
{
	tn->sessions.table = table;
	session_table_refresh(tn);
	return 0;
}

void session_table_refresh(struct tunnel *tn)
{
	if (!tn->sessions.table)
		return;
	peer_table_each(&tn->dev.peers, mark_peer, tn);
	allowedips_walk(tn->dev.allowedips, collect_prefix, NULL);
	take_wants(tn);
	apply_wants(tn, tunnel_now(tn));
}

void session_table_established(struct tunnel *tn, struct peer *peer,
			       uint64_t now)
{
	struct session_entry *e = peer->session_routes;

	if (!tn->sessions.table || !e)
		return;
	session_route_established(&e->route, now);
	sync_entry(tn, e, now);
}

uint64_t session_table_tick(struct tunnel *tn, struct peer *peer,
			    uint64_t now)
{
	struct session_entry *e = peer->session_routes;
	bool live;

	if (!tn->sessions.table || !e)
		return 0;
	live = session_route_live(&e->route, now);
	if ((!live && e->route.n_have) || (e->failed && now >= e->retry_at))
		sync_entry(tn, e, now);
	if (e->failed)
		return e->retry_at;
	return live && e->route.n_have ? e->route.live_until : 0;
}

bool session_table_routed(const struct peer *peer)
{
	return peer->session_routes && peer->session_routes->route.n_have;
}

void session_table_clear(struct tunnel *tn)
{
	struct session_entry *e;

	while ((e = tn->sessions.all)) {
		e->route.live_until = 0;
		sync_entry(tn, e, tunnel_now(tn));
		tn->sessions.all = e->next;
		/* Only a peer the device still has may be touched. */
		if (device_find_peer(&tn->dev, e->key) == e->peer)
			e->peer->session_routes = NULL;
		entry_free(e);
	}
	tn->sessions.table = 0;
}
