/* The interface's MTU when the config sets none, as wg-quick's
 * set_mtu_up decides it: the largest MTU of the paths to the peers'
 * endpoints; without one, that of the main table's default route; else
 * NETCONF_FALLBACK_PATH_MTU (1500). Minus NETCONF_MTU_OVERHEAD, so that
 * a full-size packet still fits once wrapped for the worst family. The
 * paths are asked with the plan's fwmark, as the tunnel's own packets
 * will go (a kill switch kept from a crashed run already sends unmarked
 * ones nowhere). */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The path MTU to one peer's endpoint, 0 when it cannot be had (no
 * Endpoint, a name that does not resolve now, no route). text gets the
 * address. */
static unsigned int endpoint_mtu(struct netlink *nl,
				 const struct config_peer *peer,
				 uint32_t mark, char *text, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	const void *addr;
	unsigned int mtu = 0;
	char err[128];
	int family;

	if (!peer->endpoint_host ||
	    config_resolve_endpoint(peer, &ss, &sslen, err, sizeof(err)))
		return 0;
	family = ss.ss_family;
	if (family == AF_INET)
		addr = &((struct sockaddr_in *)&ss)->sin_addr;
	else
		addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (netlink_path_mtu(nl, family, addr, mark, &mtu))
		return 0;
	if (!inet_ntop(family, addr, text, (socklen_t)len))
		snprintf(text, len, "?");
	return mtu;
}

/* The largest endpoint path MTU, with a note on where it comes from. */
static unsigned int endpoints_mtu(struct netlink *nl,
				  const struct netconf_plan *plan, char *why,
				  size_t len)
{
	const struct config *cfg = plan->cfg;
	char text[INET6_ADDRSTRLEN];
	unsigned int best = 0;

	for (size_t i = 0; i < cfg->n_peers; i++) {
		unsigned int m = endpoint_mtu(nl, &cfg->peers[i],
					      plan->fwmark, text,
					      sizeof(text));

		if (m > best) {
			best = m;
			snprintf(why, len, "from the path to %s", text);
		}
	}
	return best;
}

static unsigned int default_route_mtu(struct netlink *nl, char *why,
				      size_t len)
{
	static const int families[] = { AF_INET, AF_INET6 };
	unsigned int mtu;

	for (size_t i = 0; i < 2; i++) {
		if (netlink_default_mtu(nl, families[i], &mtu) == 0) {
			snprintf(why, len, "from the IPv%c default route",
				 families[i] == AF_INET ? '4' : '6');
			return mtu;
		}
	}
	return 0;
}

void netconf_plan_mtu(struct netlink *nl, struct netconf_plan *plan)
{
	char why[64] = "with no route to measure";
	unsigned int path;

	if (plan->cfg->mtu) {
		plan->mtu = plan->cfg->mtu;
		snprintf(plan->mtu_why, sizeof(plan->mtu_why), "set by MTU =");
		return;
	}
	path = endpoints_mtu(nl, plan, why, sizeof(why));
	if (!path)
		path = default_route_mtu(nl, why, sizeof(why));
	if (!path)
		path = NETCONF_FALLBACK_PATH_MTU;
	/* Too small to carry anything wrapped (the kernel's IPv4 minimum
	 * of 68): not a path we believe. */
	if (path < NETCONF_MTU_OVERHEAD + 68) {
		path = NETCONF_FALLBACK_PATH_MTU;
		snprintf(why, sizeof(why), "as the path MTU was unusable");
	}
	plan->mtu = path - NETCONF_MTU_OVERHEAD;
	snprintf(plan->mtu_why, sizeof(plan->mtu_why), "%u %s, minus %u",
		 path, why, NETCONF_MTU_OVERHEAD);
}
