/* Endpoint names resolved again, as wireguard-tools' reresolve-dns.sh
 * does from a timer: a peer whose Endpoint is a host name (not an
 * address) in the config file keeps that name, and when no handshake
 * with it has completed for RERESOLVE_AFTER seconds (nor since `up`, nor
 * since the name was last resolved), the name is resolved again on the
 * resolver thread (src/resolver.h) and the endpoint switched if the
 * answer differs. A server that moved to a new address is so found
 * again within RERESOLVE_AFTER + RERESOLVE_CHECK seconds of the last
 * handshake, plus one handshake. Control thread only; engine time, so
 * a test clock speeds it up as it does the protocol's timers.
 *
 * The names are the peers' own (struct peer's endpoint_host): the file
 * at `up` or at the last reload gave them, and an endpoint set through
 * the UAPI ends them; the time of a peer's last lookup is the peer's
 * too. A failed lookup keeps the endpoint and is logged; the next try
 * is RERESOLVE_AFTER later. */
#ifndef RINGVPN_SRC_TUNNEL_RERESOLVE_H
#define RINGVPN_SRC_TUNNEL_RERESOLVE_H

#include <stdbool.h>
#include <stdint.h>

#include "src/resolver.h"

#define RERESOLVE_AFTER 135 /* s, as reresolve-dns.sh */
#define RERESOLVE_CHECK 5   /* s between looks at the peers */

struct tunnel;

struct reresolve {
	struct resolver *resolver; /* started for the first name asked */
	bool started;              /* since and next_check are set */
	uint64_t since;            /* engine ns of the first tick */
	uint64_t next_check;       /* engine ns */
};

/* Whether an Endpoint host is a name, not an address: only names can
 * move. (An IPv6 literal may carry a %scope that inet_pton refuses;
 * names have no ':'.) */
bool reresolve_is_name(const char *host);
/* Every round of the control loop: applies the answers, and every
 * RERESOLVE_CHECK seconds asks again for the names that are due. */
void reresolve_tick(struct tunnel *tn, uint64_t now);
/* Lets the resolver go and frees; rr is empty again. tunnel_down calls
 * it before the peers go; a zeroed rr (a failed `up`) is fine. */
void reresolve_stop(struct reresolve *rr);

#endif
