/* SessionTable's routes of one peer (ringvpn.conf(5)): the peer's
 * AllowedIPs belong in the session table exactly while it has a live
 * session, that is from a completed handshake until SESSION_ROUTE_LIFETIME
 * without another one. This decides what to add and remove and keeps
 * what the kernel holds; it does no I/O itself: the kernel is reached
 * through struct session_route_ops, so the decisions are tested without
 * one. Control thread only (src/tunnel/session_table.h drives it).
 *
 * A route the kernel refused stays wanted and a route it would not
 * remove stays held: the next sync tries again.
 *
 * The routes carry a metric that is lower the newer the peer's latest
 * handshake (session_route_metric): where a client's sessions on two
 * gateways overlap (ECMP moved it; the old session lives on until
 * SESSION_ROUTE_LIFETIME), a router that compares the metrics (BGP
 * MED) sends its traffic to the newest one. */
#ifndef RINGVPN_SRC_SESSION_ROUTE_H
#define RINGVPN_SRC_SESSION_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/messages.h"
#include "src/prefix.h"

/* WireGuard zeroes a peer's keys REJECT_AFTER_TIME * 3 after its last
 * handshake: no session can be alive after that. */
#define SESSION_ROUTE_LIFETIME_S (REJECT_AFTER_TIME * 3)
#define SESSION_ROUTE_LIFETIME_NS \
	((uint64_t)SESSION_ROUTE_LIFETIME_S * 1000000000ULL)

/* metric = SESSION_METRIC_BASE - the handshake's wall-clock seconds:
 * newer is lower, as BGP prefers a lower MED, and it compares across
 * gateways whose clocks agree (NTP). It stays above 0 until 2096. */
#define SESSION_METRIC_BASE 4000000000U
/* A newer handshake moves the metric when it is at least this much
 * newer than the one the routes carry: every rekey (REKEY_AFTER_TIME
 * apart) does, a burst of handshakes (retries, a client restarting)
 * costs the router one update, not one each. */
#define SESSION_METRIC_STEP_S 10

struct session_route_ops {
	/* Adds or removes one route (p has no host bits) at metric: 0 or
	 * -errno; for del, -ENOENT means it was gone already, which is
	 * success. */
	int (*add)(void *ctx, const struct prefix *p, uint32_t metric);
	int (*del)(void *ctx, const struct prefix *p, uint32_t metric);
};

/* A route the kernel holds. */
struct session_held {
	struct prefix p;
	uint32_t metric;
};

struct session_route {
	/* The peer's AllowedIPs, masked and sorted (session_route_want). */
	struct prefix *want;
	size_t n_want;
	/* What the kernel holds for the peer, sorted by prefix. */
	struct session_held *have;
	size_t n_have;
	/* Engine ns until which the session counts as live; 0: none. */
	uint64_t live_until;
	/* The metric the routes should carry (session_route_metric). */
	uint32_t metric;
};

/* The metric of routes whose latest handshake was at wall_s (seconds
 * since the epoch). */
uint32_t session_route_metric(uint64_t wall_s);
/* A handshake completed at now (engine ns), wall_s by the wall clock:
 * live for SESSION_ROUTE_LIFETIME, and the metric follows (see
 * SESSION_METRIC_STEP_S). The next grow moves the routes to it. */
void session_route_established(struct session_route *r, uint64_t now,
			       uint64_t wall_s);

/* Whether the session is live at now. */
bool session_route_live(const struct session_route *r, uint64_t now);
/* Takes the peer's AllowedIPs (copied, masked, sorted; duplicates
 * kept once). 0 or -ENOMEM (r unchanged). */
int session_route_want(struct session_route *r, const struct prefix *v,
		       size_t n);

/* Removes the held routes that are no longer wanted at now (all of them
 * when the session is not live). Returns 0 or the first failure; the
 * routes that failed stay held. */
int session_route_prune(struct session_route *r, uint64_t now,
			const struct session_route_ops *ops, void *ctx);
/* Adds the wanted routes not held yet, and moves those held at another
 * metric to r->metric (the new route first, then the old one goes: the
 * prefix is never without a route), when the session is live at now.
 * Returns 0, -ENOMEM, or the first failure; the others are done. */
int session_route_grow(struct session_route *r, uint64_t now,
		       const struct session_route_ops *ops, void *ctx);
/* prune, then grow: the first failure of either. */
int session_route_sync(struct session_route *r, uint64_t now,
		       const struct session_route_ops *ops, void *ctx);

/* Sorts routes the kernel holds for session_route_lost. */
void session_held_sort(struct session_held *v, size_t n);
/* Of the held routes, drops those the kernel lost (not in kernel, which
 * is sorted): a route flushed behind our back, or through a link that
 * went down. The next grow adds them again. Returns how many. */
size_t session_route_lost(struct session_route *r,
			  const struct session_held *kernel, size_t n);

/* Frees the lists; the kernel's routes are the caller's business. */
void session_route_free(struct session_route *r);

#endif
