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

#include "src/clock.h"
#include "src/grow.h"
#include "src/log.h"
#include "src/netconf/netconf.h"
#include "src/session_route.h"
#include "crypto/keys.h"
#include "src/tunnel/session_entry.h"
#include "src/tunnel/state.h"

/* What the ops need, and what went wrong, for the one log line. */
struct route_ctx {
	struct tunnel *tn;
	struct prefix bad;
	bool bad_add;
};

static int route_change(struct route_ctx *c, const struct prefix *p,
			uint32_t metric, bool add)
{
	struct tunnel *tn = c->tn;
	const struct netlink_proto_route r = {
		.ifindex = tn->tun.ifindex, .family = p->family,
		.dst = p->addr, .prefixlen = p->cidr,
		.table = tn->sessions.table,
		.protocol = NETCONF_SESSION_PROTOCOL, .metric = metric,
	};
	int ret = add ? netlink_proto_route_add(&tn->nl, &r, NULL) :
			netlink_proto_route_del(&tn->nl, &r);

	/* A device that is gone took its routes with it. */
	if (!add && (ret == -ENODEV || ret == -ENOENT))
		return -ENOENT;
	if (ret) {
		c->bad = *p;
		c->bad_add = add;
	}
	return ret;
}

static int route_add(void *arg, const struct prefix *p, uint32_t metric)
{
	return route_change(arg, p, metric, true);
}

static int route_del(void *arg, const struct prefix *p, uint32_t metric)
{
	return route_change(arg, p, metric, false);
}

static const struct session_route_ops kernel_ops = { route_add, route_del };

/* Failures that no peer causes: every peer's routes meet them (no IPv6
 * on the host, the device down or gone), so they are said once for the
 * interface, not once per peer. */
static bool whole_table_error(int ret)
{
	return ret == -EACCES || ret == -EAFNOSUPPORT || ret == -ENETDOWN ||
	       ret == -ENODEV;
}

static void log_failure(struct tunnel *tn, struct session_entry *e,
			const struct route_ctx *c, int ret)
{
	char who[KEY_SHORT_LEN + 1], ip[INET6_ADDRSTRLEN] = "?";
	bool whole = whole_table_error(ret);

	if (whole ? tn->sessions.table_failed : e->logged)
		return;
	if (whole)
		tn->sessions.table_failed = true;
	else
		e->logged = true;
	key_to_short_base64(who, e->key);
	inet_ntop(c->bad.family, c->bad.addr, ip, sizeof(ip));
	log_error("%s: peer %s: cannot %s route %s/%u %s table %u: %s (tried "
		  "again every %u s%s)", tn->ifname, who,
		  c->bad_add ? "add" : "remove", ip, c->bad.cidr,
		  c->bad_add ? "to" : "from", tn->sessions.table,
		  strerror(-ret), SESSION_RETRY_S,
		  whole ? "; said once for every peer" : "");
}

static void log_recovery(struct tunnel *tn, struct session_entry *e)
{
	char who[KEY_SHORT_LEN + 1];

	if (tn->sessions.table_failed)
		log_info("%s: session routes in table %u work again",
			 tn->ifname, tn->sessions.table);
	tn->sessions.table_failed = false;
	if (!e->logged)
		return;
	key_to_short_base64(who, e->key);
	log_info("%s: peer %s: session routes in table %u are right again",
		 tn->ifname, who, tn->sessions.table);
	e->logged = false;
}

static void note_result(struct tunnel *tn, struct session_entry *e,
			const struct route_ctx *c, int ret, uint64_t now)
{
	e->failed = ret != 0;
	if (!ret) {
		log_recovery(tn, e);
		return;
	}
	e->retry_at = now + SESSION_RETRY_S * NS_PER_S * tn->dp.clock_scale;
	log_failure(tn, e, c, ret);
}

void session_entry_sync(struct tunnel *tn, struct session_entry *e,
			uint64_t now)
{
	struct route_ctx c = { .tn = tn };
	int ret = session_route_sync(&e->route, now, &kernel_ops, &c);

	note_result(tn, e, &c, ret, now);
}

static void prune_entry(struct tunnel *tn, struct session_entry *e,
			uint64_t now)
{
	struct route_ctx c = { .tn = tn };
	int ret = session_route_prune(&e->route, now, &kernel_ops, &c);

	note_result(tn, e, &c, ret, now);
}

/* A gone peer's entry whose routes are not gone yet, for a peer of that
 * key that is back. */
static struct session_entry *find_gone(struct tunnel *tn, const uint8_t *key)
{
	/* Without gone entries, setting up 10k peers walks nothing. */
	if (!tn->sessions.n_gone)
		return NULL;
	for (struct session_entry *e = tn->sessions.all; e; e = e->next)
		if (!e->peer && !memcmp(e->key, key, WG_KEY_LEN))
			return e;
	return NULL;
}

static struct session_entry *entry_new(struct tunnel *tn, struct peer *peer)
{
	struct session_entry *e = find_gone(tn, peer_public_key(peer));

	if (e) {
		tn->sessions.n_gone--;
	} else {
		if (!(e = calloc(1, sizeof(*e))))
			return NULL;
		memcpy(e->key, peer_public_key(peer), WG_KEY_LEN);
		e->next = tn->sessions.all;
		tn->sessions.all = e;
	}
	e->peer = peer;
	peer->session_routes = e;
	return e;
}

static void entry_free(struct session_entry *e)
{
	session_route_free(&e->route);
	free(e->scratch);
	free(e);
}

static void log_no_memory(struct tunnel *tn)
{
	log_error("%s: out of memory for the session routes: a peer's stay "
		  "as they were until the next change", tn->ifname);
}

/* refresh, step 1: every peer of the device has its entry, marked. */
static void mark_peer(struct peer *peer, void *arg)
{
	struct tunnel *tn = arg;
	struct session_entry *e = peer->session_routes;

	if (!e && !(e = entry_new(tn, peer))) {
		log_no_memory(tn);
		return;
	}
	e->seen = true;
	e->short_of_memory = false;
	e->n_scratch = 0;
}

/* refresh, step 2: each prefix to its owner's entry; none of IPv6 on a
 * host without it. */
static int collect_prefix(void *arg, int family, const uint8_t *addr,
			  uint8_t cidr, void *owner)
{
	struct tunnel *tn = arg;
	struct session_entry *e = ((struct peer *)owner)->session_routes;
	struct prefix p = { .family = family, .cidr = cidr };

	if (!e || e->short_of_memory || (family == AF_INET6 &&
					 !tn->sessions.ipv6))
		return 0;
	if (grow_array(&e->scratch, e->n_scratch, sizeof(*e->scratch),
		       false)) {
		e->short_of_memory = true;
		return 0;
	}
	memcpy(p.addr, addr, prefix_addr_len(family));
	e->scratch[e->n_scratch++] = p;
	return 0;
}

/* refresh, step 3: what each entry wants now. An entry not seen is of a
 * peer that is gone: nothing, at once. One short of memory keeps what
 * it wanted: a partial list would remove live routes. */
static void take_wants(struct tunnel *tn)
{
	for (struct session_entry *e = tn->sessions.all; e; e = e->next) {
		if (!e->seen && e->peer) {
			e->peer = NULL;
			e->route.live_until = 0;
			tn->sessions.n_gone++;
		}
		if (e->short_of_memory ||
		    session_route_want(&e->route, e->scratch,
				       e->seen ? e->n_scratch : 0))
			log_no_memory(tn);
		e->n_scratch = 0;
	}
}

void session_entries_free_done(struct tunnel *tn)
{
	struct session_entry **pp = &tn->sessions.all, *e;

	while ((e = *pp)) {
		if (e->peer || e->route.n_have) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		entry_free(e);
		tn->sessions.n_gone--;
	}
}

/* refresh, step 4: every removal before any addition, since a prefix
 * may have moved from one peer to another. */
static void apply_wants(struct tunnel *tn, uint64_t now)
{
	struct session_entry *e;

	for (e = tn->sessions.all; e; e = e->next)
		prune_entry(tn, e, now);
	for (e = tn->sessions.all; e; e = e->next) {
		if (e->seen)
			session_entry_sync(tn, e, now);
		e->seen = false;
	}
	session_entries_free_done(tn);
}

void session_table_init(struct tunnel *tn, uint32_t table, bool ipv6)
{
	struct session_table *st = &tn->sessions;

	st->table = table;
	st->ipv6 = ipv6;
	st->link_up = true; /* netconf_up has just set it up */
	session_table_refresh(tn);
}

void session_table_refresh(struct tunnel *tn)
{
	if (!tn->sessions.table)
		return;
	peer_table_each(&tn->dev.peers, mark_peer, tn);
	allowedips_walk(tn->dev.allowedips, collect_prefix, tn);
	take_wants(tn);
	apply_wants(tn, tunnel_now(tn));
}

void session_table_established(struct tunnel *tn, struct peer *peer,
			       uint64_t now, uint64_t wall_s)
{
	struct session_entry *e = peer->session_routes;

	if (!tn->sessions.table || !e)
		return;
	session_route_established(&e->route, now, wall_s);
	session_entry_sync(tn, e, now);
}

void session_table_ended(struct tunnel *tn, struct peer *peer,
			 uint64_t now)
{
	struct session_entry *e = peer->session_routes;

	if (!tn->sessions.table || !e)
		return;
	e->route.live_until = 0;
	session_entry_sync(tn, e, now);
}

/* Whether e has work at now: a failed change is tried again when its
 * time comes (not every round), routes of an ended session go. */
static bool entry_due(const struct session_entry *e, uint64_t now)
{
	return e->failed ? now >= e->retry_at :
			   !session_route_live(&e->route, now) &&
				   e->route.n_have;
}

uint64_t session_table_tick(struct tunnel *tn, struct peer *peer,
			    uint64_t now)
{
	struct session_entry *e = peer->session_routes;

	if (!tn->sessions.table || !e)
		return 0;
	if (entry_due(e, now))
		session_entry_sync(tn, e, now);
	if (e->failed)
		return e->retry_at;
	return e->route.n_have ? e->route.live_until : 0;
}

uint64_t session_table_tick_gone(struct tunnel *tn, uint64_t now)
{
	uint64_t next = 0;

	/* Not a walk of every peer's entry per round for nothing. */
	if (!tn->sessions.n_gone)
		return 0;
	for (struct session_entry *e = tn->sessions.all; e; e = e->next) {
		if (e->peer)
			continue;
		if (entry_due(e, now))
			session_entry_sync(tn, e, now);
		if (e->failed && (!next || e->retry_at < next))
			next = e->retry_at;
	}
	session_entries_free_done(tn);
	return next;
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
		session_entry_sync(tn, e, tunnel_now(tn));
		tn->sessions.all = e->next;
		/* Only a peer the device still has may be touched. */
		if (e->peer && device_find_peer(&tn->dev, e->key) == e->peer)
			e->peer->session_routes = NULL;
		entry_free(e);
	}
	netlink_close(&tn->sessions.links);
	tn->sessions.n_gone = 0;
	tn->sessions.table = 0;
}
