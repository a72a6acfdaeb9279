/* SessionTable's routes of one peer (ringvpn.conf(5)): the peer's
 * AllowedIPs belong in the session table exactly while it has a live
 * session, that is from a completed handshake until SESSION_ROUTE_LIFETIME
 * without another one. This decides what to add and remove and keeps
 * what the kernel holds; it does no I/O itself: the kernel is reached
 * through struct session_route_ops, so the decisions are tested without
 * one. Control thread only (src/tunnel/session_table.h drives it).
 *
 * A route the kernel refused stays wanted and a route it would not
 * remove stays held: the next sync tries again. */
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

struct session_route_ops {
	/* Adds or removes one route (p has no host bits): 0 or -errno; for
	 * del, -ENOENT means it was gone already, which is success. */
	int (*add)(void *ctx, const struct prefix *p);
	int (*del)(void *ctx, const struct prefix *p);
};

struct session_route {
	/* The peer's AllowedIPs, masked and sorted (session_route_want). */
	struct prefix *want;
	size_t n_want;
	/* What the kernel holds for the peer, sorted. */
	struct prefix *have;
	size_t n_have;
	/* Engine ns until which the session counts as live; 0: none. */
	uint64_t live_until;
};

/* A handshake completed at now: live for SESSION_ROUTE_LIFETIME. */
void session_route_established(struct session_route *r, uint64_t now);
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
/* Adds the wanted routes not held yet, when the session is live at now.
 * Returns 0, -ENOMEM, or the first failure; the others are added. */
int session_route_grow(struct session_route *r, uint64_t now,
		       const struct session_route_ops *ops, void *ctx);
/* prune, then grow: the first failure of either. */
int session_route_sync(struct session_route *r, uint64_t now,
		       const struct session_route_ops *ops, void *ctx);

/* Frees the lists; the kernel's routes are the caller's business. */
void session_route_free(struct session_route *r);

#endif
