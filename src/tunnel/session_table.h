/* SessionTable (ringvpn.conf(5)): the routes of the peers whose sessions
 * this daemon holds, kept in a routing table of their own for a routing
 * daemon to announce, so that a fleet of gateways behind one address
 * gets each client's return traffic where its session is.
 *
 * Control thread only, driven by events: a completed handshake adds the
 * peer's AllowedIPs (or moves them to a newer metric: the newest session
 * of a client wins, src/session_route.h), the tick removes them
 * SESSION_ROUTE_LIFETIME after the last one, a change of peers or
 * AllowedIPs (syncconf, wg set, SIGHUP) brings the table in step, a link
 * that comes up again gets them back (the kernel deletes the routes
 * through a device that goes down), and the way down empties it. The
 * data path never sees any of it. A handshake costs the peer's own
 * routes, never a pass over all peers. The routes go through the TUN
 * device with rtm_protocol NETCONF_SESSION_PROTOCOL.
 *
 * The kernel's refusals are logged once per peer until it complies, or
 * once for the interface when they are the whole table's (no IPv6, the
 * device down or gone), and tried again at the peer's next event or
 * SESSION_RETRY_S later. */
#ifndef RINGVPN_SRC_TUNNEL_SESSION_TABLE_H
#define RINGVPN_SRC_TUNNEL_SESSION_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlink/rtnl.h"

struct peer;
struct session_entry;
struct tunnel;

/* How long after a failed route change it is tried again: real seconds
 * (the test clock's faster engine time is scaled to match). */
#define SESSION_RETRY_S 5
/* How often the table is compared with the kernel's (real seconds): a
 * dump of the table alone (strict checking), cheap at this rate. */
#define SESSION_RECONCILE_S 60

struct session_table {
	uint32_t table;			/* 0: no SessionTable */
	bool ipv6;			/* off: the host has IPv6 disabled */
	struct netlink links;		/* link events (monitor) */
	bool link_up;			/* as its events said last */
	bool link_lost;			/* it went down: routes lost */
	uint64_t reconcile_at;		/* monotonic ns */
	bool table_failed;		/* a whole-table failure was logged */
	struct session_entry *all;	/* one per peer of the device, and
					 * one per gone peer whose routes
					 * are not gone yet */
	size_t n_gone;			/* those of gone peers */
};

/* Starts with table (0: off) and the device's peers as they are; IPv6
 * prefixes are left out unless ipv6. Out of memory, a peer's routes
 * wait for the next refresh (logged). */
void session_table_init(struct tunnel *tn, uint32_t table, bool ipv6);
/* After a change of the device's peers or AllowedIPs: the table again
 * holds exactly the AllowedIPs of the peers with a live session. */
void session_table_refresh(struct tunnel *tn);
/* A handshake with peer completed at now (engine ns), at wall_s by the
 * wall clock. */
void session_table_established(struct tunnel *tn, struct peer *peer,
			       uint64_t now, uint64_t wall_s);
/* The peer's session ended before its time (let go, control.c): its
 * routes go now. */
void session_table_ended(struct tunnel *tn, struct peer *peer,
			 uint64_t now);
/* The peer's turn in the control tick: its routes go when its session
 * ended; a failed change is tried again. Returns the engine time of the
 * peer's next such event, 0 for none. */
uint64_t session_table_tick(struct tunnel *tn, struct peer *peer,
			    uint64_t now);
/* The tick's turn for the routes of peers that are gone but whose
 * removal failed: tried again. Returns the next engine time, 0: none. */
uint64_t session_table_tick_gone(struct tunnel *tn, uint64_t now);
/* Once a second: the kernel's losses made good. A link that went down
 * (its link events say so, however short) lost every route through it,
 * and the table is compared with the kernel's when it is up again, and
 * every SESSION_RECONCILE_S for a flush behind our back; the lost
 * routes are added again. */
void session_table_watch(struct tunnel *tn);
/* After session_table_init with a table: opens the link events for
 * session_table_watch (session_watch.c; a failure is logged, and the
 * periodic comparison still runs). */
void session_watch_start(struct tunnel *tn);
/* Whether the peer's routes are in the table (for show). */
bool session_table_routed(const struct peer *peer);
/* Removes every route it added and frees: the way down. */
void session_table_clear(struct tunnel *tn);

#endif
