/* Deciding, before anything changes, what netconf_up will do: whether a
 * full tunnel is needed and with which table and fwmark (the daemon's
 * sockets must carry that mark before the first packet leaves), what a
 * host without IPv6 makes us skip, and what resolvconf needs. */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* wg-quick searches without a bound; a host with this many tables in
 * use from 51820 on has something wrong with it. */
#define FREE_TABLE_TRIES 4096u
/* IPv6 addresses the warning names one by one. */
#define WARN_ADDRS 3

void netconf_plan_warn(struct netconf_plan *plan, const char *fmt, ...)
{
	va_list ap;

	if (plan->n_warnings == NETCONF_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(plan->warnings[plan->n_warnings++], NETCONF_WARNING_MAX, fmt,
		  ap);
	va_end(ap);
}

bool netconf_is_full(const struct config *cfg, const struct prefix *p)
{
	return !p->cidr && cfg->table == CONFIG_TABLE_AUTO;
}

bool netconf_has_full(const struct config *cfg, int family)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct config_peer *p = &cfg->peers[i];

		for (size_t k = 0; k < p->n_allowed_ips; k++)
			if (p->allowed_ips[k].family == family &&
			    netconf_is_full(cfg, &p->allowed_ips[k]))
				return true;
	}
	return false;
}

/* As wg-quick, the first table from 51820 up that nothing uses. */
static int free_table(struct netlink *nl, uint32_t *table)
{
	for (uint32_t t = NETCONF_FULL_TABLE_FIRST;
	     t < NETCONF_FULL_TABLE_FIRST + FREE_TABLE_TRIES; t++) {
		bool in_use;
		int ret = netlink_table_in_use(nl, t, &in_use);

		if (ret)
			return ret;
		if (!in_use) {
			*table = t;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Marked packets coming back must pass reverse-path filtering, which
 * looks at the mark only with src_valid_mark. A container's read-only
 * /proc/sys cannot have it set: say so and go on, as the tunnel works
 * where rp_filter is off. */
static void plan_src_valid_mark(struct netconf_plan *plan)
{
	uint32_t v = 0;
	int ret = netconf_sysctl_read(NETCONF_SRC_VALID_MARK, &v);

	if (!ret && v == 1)
		return;
	if (!ret)
		ret = netconf_sysctl_writable(NETCONF_SRC_VALID_MARK);
	if (!ret)
		return;
	plan->src_valid_mark_ro = true;
	netconf_plan_warn(plan, "cannot set %s to 1 (%s): left at %u, so "
			  "replies to the tunnel's own packets may fail "
			  "reverse-path filtering",
			  netconf_sysctl_name(NETCONF_SRC_VALID_MARK),
			  strerror(-ret), v);
}

static int plan_full(struct netlink *nl, struct netconf_plan *plan,
		     char *err, size_t err_len)
{
	const struct config *cfg = plan->cfg;
	int ret;

	plan->fwmark = cfg->fwmark;
	plan->full[0] = netconf_has_full(cfg, AF_INET);
	plan->full[1] = netconf_has_full(cfg, AF_INET6) && !plan->ipv6_off;
	if (!plan->full[0] && !plan->full[1]) {
		if (cfg->kill_switch)
			netconf_plan_warn(plan, "KillSwitch is on but there is "
					  "no full tunnel (AllowedIPs "
					  "0.0.0.0/0 or ::/0 with Table = "
					  "auto): it does nothing");
		return 0;
	}
	/* netconf_recover kept it only for a FwMark unset or equal. */
	if (plan->kept_table) {
		plan->table = plan->kept_table;
		plan->fwmark = plan->table;
	} else if (cfg->fwmark) {
		plan->table = cfg->fwmark;
	} else {
		ret = free_table(nl, &plan->table);
		if (ret)
			return netconf_fail(err, err_len, ret,
					    "cannot find a free routing table "
					    "for the full tunnel from %u on: "
					    "%s", NETCONF_FULL_TABLE_FIRST,
					    strerror(-ret));
		plan->fwmark = plan->table;
	}
	if (plan->full[0])
		plan_src_valid_mark(plan);
	return 0;
}

/* The IPv6 routes netconf_up would add, the full tunnel's aside. */
static size_t ipv6_routes(const struct config *cfg)
{
	size_t n = 0;

	if (cfg->table == CONFIG_TABLE_OFF)
		return 0;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct config_peer *p = &cfg->peers[i];

		for (size_t k = 0; k < p->n_allowed_ips; k++)
			n += p->allowed_ips[k].family == AF_INET6 &&
			     !netconf_is_full(cfg, &p->allowed_ips[k]);
	}
	return n;
}

/* "fd00::1/64, fd00::2/64" or "4 addresses" into parts. */
static void ipv6_addrs(const struct config *cfg, char *buf, size_t len)
{
	char text[NETCONF_PREFIX_TEXT];
	size_t n = 0, used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cfg->n_addresses; i++)
		n += cfg->addresses[i].family == AF_INET6;
	if (n > WARN_ADDRS) {
		snprintf(buf, len, "%zu addresses", n);
		return;
	}
	for (size_t i = 0; i < cfg->n_addresses && used < len; i++) {
		const struct prefix *a = &cfg->addresses[i];

		if (a->family != AF_INET6)
			continue;
		netconf_prefix_text(a->family, a->addr, a->cidr, text,
				    sizeof(text));
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? ", " : "", text);
	}
}

/* One warning naming everything IPv6 that is skipped, or none. */
static void warn_ipv6_off(struct netconf_plan *plan)
{
	const struct config *cfg = plan->cfg;
	char addrs[160], routes[32] = "", *parts[3];
	size_t n_routes = ipv6_routes(cfg);
	int n = 0;

	ipv6_addrs(cfg, addrs, sizeof(addrs));
	if (addrs[0])
		parts[n++] = addrs;
	if (n_routes) {
		snprintf(routes, sizeof(routes), "%zu route%s", n_routes,
			 n_routes == 1 ? "" : "s");
		parts[n++] = routes;
	}
	if (netconf_has_full(cfg, AF_INET6))
		parts[n++] = "the IPv6 full-tunnel rules";
	if (!n)
		return;
	netconf_plan_warn(plan, "IPv6 is disabled on this host: skipping "
			  "%s%s%s%s%s", parts[0], n == 3 ? ", " :
			  n == 2 ? " and " : "", n > 1 ? parts[1] : "",
			  n == 3 ? " and " : "", n == 3 ? parts[2] : "");
}

/* A full tunnel gets wg-quick's firewall rules when nft is there. */
static void plan_firewall(struct netconf_plan *plan)
{
	if (!plan->full[0] && !plan->full[1])
		return;
	plan->nft = netconf_firewall_available();
	if (!plan->nft)
		netconf_plan_warn(plan, "nft is not installed: the full "
				  "tunnel goes without its firewall rules "
				  "(the drop of spoofed packets to the "
				  "tunnel's addresses, and the connmark "
				  "that lets replies pass strict rp_filter)");
}

int netconf_plan(struct netlink *nl, const struct config *cfg,
		 struct netconf_plan *plan, char *err, size_t err_len)
{
	return netconf_plan_after(nl, cfg, 0, plan, err, err_len);
}

int netconf_plan_after(struct netlink *nl, const struct config *cfg,
		       uint32_t kept_table, struct netconf_plan *plan,
		       char *err, size_t err_len)
{
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->cfg = cfg;
	plan->kept_table = kept_table;
	plan->ipv6_off = netconf_ipv6_disabled();
	if (plan->ipv6_off)
		warn_ipv6_off(plan);
	ret = plan_full(nl, plan, err, err_len);
	if (ret)
		return ret;
	plan_firewall(plan);
	netconf_plan_mtu(nl, plan);
	return netconf_plan_dns(plan, err, err_len);
}
