/* wg-quick's full tunnel: a /0 AllowedIPs with Table = auto cannot go
 * into the main table, where it would also catch the tunnel's own UDP
 * packets. Instead, per family:
 *
 *	not fwmark M lookup T			all but our own packets
 *	lookup main suppress_prefixlength 0	yet the main table's more
 *						specific routes still win
 *	default dev IFNAME table T
 *
 * with the daemon's sockets marking their packets M (= T), so that they
 * alone miss T and leave through the main table's default route. For
 * IPv4, replies to marked packets pass reverse-path filtering only with
 * net.ipv4.conf.all.src_valid_mark = 1.
 *
 * The rules go in before the route: until the route is there, T is empty
 * and the rules change nothing. Undone backwards, the route goes first.
 * With KillSwitch, T also gets an unreachable default route behind the
 * device's (kill_switch.c), and wg-quick's nft rules come last
 * (firewall.c). */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

int netconf_apply_route(struct netconf_run *r, const struct prefix *p,
			uint32_t table)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_ROUTE);
	struct prefix m = prefix_masked(p);
	char text[NETCONF_PREFIX_TEXT];
	bool existed = false;
	int ret;

	ret = netlink_route_add(r->nl, r->ifindex, m.family, m.addr, m.cidr,
				table, &existed);
	if (ret) {
		netconf_prefix_text(m.family, m.addr, m.cidr, text,
				    sizeof(text));
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot add route %s to %s in table %u: %s",
				    text, r->ifname, table, strerror(-ret));
	}
	if (existed)
		return 0;
	e.family = m.family;
	memcpy(e.addr, m.addr, sizeof(e.addr));
	e.prefixlen = m.cidr;
	e.table = table;
	return netconf_record(r, &e);
}

/* Adds rule, recorded unless it was there before (wg-quick's, or another
 * full tunnel's, is not ours to remove); *priority is where it is. */
static int apply_rule(struct netconf_run *r, const struct netlink_rule *rule,
		      uint32_t *priority)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_RULE);
	char text[96];
	bool existed = false;
	int ret = netlink_rule_add(r->nl, rule, &existed);

	if (ret) {
		netconf_rule_text(rule, text, sizeof(text));
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot add the IPv%c rule `%s': %s",
				    rule->family == AF_INET ? '4' : '6', text,
				    strerror(-ret));
	}
	/* Recorded at the priority the kernel chose, so that the undo
	 * removes this rule and not a twin added since at another one.
	 * Should the lookup fail, the one asked for (0: any) still
	 * matches it. */
	if (netlink_rule_priority(r->nl, rule, priority))
		*priority = rule->priority;
	if (existed)
		return 0;
	e.rule = *rule;
	e.rule.priority = *priority;
	return netconf_record(r, &e);
}

/* "lookup main suppress_prefixlength 0" must be looked at before "not
 * fwmark M lookup T" (at not_prio), or T would hide the main table's more
 * specific routes. One there already that comes first serves; otherwise
 * ours goes right before, where the kernel would put it as wg-quick adds
 * it. */
static int apply_main_first(struct netconf_run *r, int family,
			    uint32_t not_prio)
{
	struct netlink_rule rule = {
		.family = family, .table = RT_TABLE_MAIN,
		.suppress_prefixlen = 0,
	};
	uint32_t prio;

	if (!netlink_rule_priority(r->nl, &rule, &prio) && prio < not_prio)
		return 0;
	rule.priority = not_prio > 1 ? not_prio - 1 : 0;
	return apply_rule(r, &rule, &prio);
}

static int apply_src_valid_mark(struct netconf_run *r,
				const struct netconf_plan *p)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_SYSCTL);
	uint32_t old;
	int ret;

	/* Already warned about by the plan. */
	if (p->src_valid_mark_ro)
		return 0;
	ret = netconf_sysctl_read(NETCONF_SRC_VALID_MARK, &old);
	if (!ret && old == 1)
		return 0;
	if (!ret)
		ret = netconf_sysctl_write(NETCONF_SRC_VALID_MARK, 1);
	if (ret)
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot set %s to 1: %s",
				    netconf_sysctl_name(NETCONF_SRC_VALID_MARK),
				    strerror(-ret));
	e.sysctl = NETCONF_SRC_VALID_MARK;
	e.value = old;
	return netconf_record(r, &e);
}

static int apply_family(struct netconf_run *r, const struct netconf_plan *p,
			int family)
{
	const struct netlink_rule not_ours = {
		.family = family, .table = p->table, .fwmark = p->fwmark,
		.has_fwmark = true, .invert = true, .suppress_prefixlen = -1,
	};
	const struct prefix all = { .family = family, .cidr = 0 };
	uint32_t not_prio = 0;
	int ret = apply_rule(r, &not_ours, &not_prio);

	if (!ret)
		ret = apply_main_first(r, family, not_prio);
	if (!ret)
		ret = netconf_apply_route(r, &all, p->table);
	if (!ret && p->cfg->kill_switch)
		ret = netconf_apply_kill_switch(r, family, p->table);
	if (!ret && family == AF_INET)
		ret = apply_src_valid_mark(r, p);
	return ret;
}

int netconf_apply_full(struct netconf_run *r, const struct netconf_plan *p)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int ret = 0;

	for (size_t i = 0; !ret && i < 2; i++)
		if (p->full[i])
			ret = apply_family(r, p, families[i]);
	if (!ret)
		ret = netconf_apply_firewall(r, p);
	return ret;
}
