/* Undoing journal entries: on `down`, after a failed `up`, and for the
 * journal a crashed run left behind. Undoing goes strictly backwards
 * (routes before rules, rules before the DNS record, addresses before
 * the MTU is restored), and things already gone are fine: undoing twice
 * is undoing once. */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"
#include "src/secret_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The interface entries name, looked up once rather than per entry: a
 * journal of 10000 routes names one interface 10000 times. */
struct link_cache {
	bool valid;
	char ifname[IFNAMSIZ];
	int ifindex;
	int ret;
};

/* What undoing e does, for messages: "remove address 10.0.0.1/24 from
 * wg0". */
static void describe_undo(const struct netconf_entry *e, char *buf,
			  size_t len)
{
	char text[NETCONF_PREFIX_TEXT + 32];

	if (e->kind == NETCONF_ADDR || e->kind == NETCONF_ROUTE)
		netconf_prefix_text(e->family, e->addr, e->prefixlen, text,
				    sizeof(text));
	if (e->kind == NETCONF_RULE)
		netconf_rule_text(&e->rule, text, sizeof(text));
	switch (e->kind) {
	case NETCONF_MTU:
		snprintf(buf, len, "restore the MTU of %s to %u", e->ifname,
			 e->mtu);
		return;
	case NETCONF_UP:
		snprintf(buf, len, "bring %s down", e->ifname);
		return;
	case NETCONF_ADDR:
		snprintf(buf, len, "remove address %s from %s", text,
			 e->ifname);
		return;
	case NETCONF_ROUTE:
		snprintf(buf, len, "remove route %s to %s from table %u", text,
			 e->ifname, e->table);
		return;
	case NETCONF_RULE:
		snprintf(buf, len, "remove the IPv%c rule `%s' (priority %u)",
			 e->rule.family == AF_INET ? '4' : '6', text,
			 e->rule.priority);
		return;
	case NETCONF_SYSCTL:
		snprintf(buf, len, "restore %s to %u",
			 netconf_sysctl_name(e->sysctl), e->value);
		return;
	case NETCONF_UNREACHABLE:
		snprintf(buf, len, "remove the IPv%c kill switch (unreachable "
			 "default route, table %u, metric %u)",
			 e->family == AF_INET ? '4' : '6', e->table, e->metric);
		return;
	case NETCONF_NFT:
		snprintf(buf, len, "delete the nft table of %s", e->ifname);
		return;
	case NETCONF_RESOLVED:
		snprintf(buf, len, "revert the DNS of %s with `resolvectl "
			 "revert %s'", e->ifname, e->ifname);
		return;
	case NETCONF_DNS:
		snprintf(buf, len, "remove DNS record %s with `resolvconf -d "
			 "%s -f'", e->record, e->record);
		return;
	case NETCONF_SESSIONS:
		snprintf(buf, len, "remove the session routes to %s from "
			 "table %u", e->ifname, e->table);
		return;
	}
	snprintf(buf, len, "undo an unknown change");
}

static bool gone(int ret)
{
	return ret == -ENOENT || ret == -ENODEV || ret == -ESRCH;
}

/* The index ifname has now, or -ENODEV. */
static int link_index(struct netlink *nl, struct link_cache *c,
		      const char *ifname, int *ifindex)
{
	if (!c->valid || strcmp(c->ifname, ifname)) {
		snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
		c->ret = netlink_link_index(nl, ifname, &c->ifindex);
		c->valid = true;
	}
	*ifindex = c->ifindex;
	return c->ret;
}

/* The index of e's device while it is still the one e was made on. */
static int our_link(struct netlink *nl, struct link_cache *c,
		    const struct netconf_entry *e, int *ifindex)
{
	int ret = link_index(nl, c, e->ifname, ifindex);

	if (ret)
		return ret;
	/* Another device under the name: ours went, and took it all. */
	return *ifindex == e->ifindex ? 0 : -ENODEV;
}

/* Entries of the device itself, which went away with it. */
static int undo_on_link(struct netlink *nl, struct link_cache *c,
			const struct netconf_entry *e)
{
	int ifindex, ret = our_link(nl, c, e, &ifindex);

	if (ret)
		return ret;
	switch (e->kind) {
	case NETCONF_MTU:
		return netlink_link_set_mtu(nl, ifindex, e->mtu);
	case NETCONF_UP:
		return netlink_link_set_up(nl, ifindex, false);
	case NETCONF_ADDR:
		return netlink_addr_del(nl, ifindex, e->family, e->addr,
					e->prefixlen);
	case NETCONF_ROUTE:
		return netlink_route_del(nl, ifindex, e->family, e->addr,
					 e->prefixlen, e->table);
	case NETCONF_SESSIONS:
		/* Usually nothing is left: the daemon removes them on its
		 * way down, and after a crash they went with the device (a
		 * route through a device goes when it does), so that
		 * our_link above already said -ENODEV. */
		return netlink_route_flush(nl, ifindex, e->table,
					   NETCONF_SESSION_PROTOCOL);
	default:
		return -EINVAL;
	}
}

/* Rules, sysctls, DNS records, the kill switch and the nft table
 * outlive the device: undone whatever became of it; the rest only while
 * the device is ours. detail gets what strerror cannot say. */
static int undo_entry(struct netlink *nl, struct link_cache *c,
		      const struct netconf_entry *e, char *detail,
		      size_t detail_len)
{
	int ifindex, ret;

	switch (e->kind) {
	case NETCONF_RULE:
		ret = netlink_rule_del(nl, &e->rule);
		break;
	case NETCONF_SYSCTL:
		ret = netconf_sysctl_write(e->sysctl, e->value);
		break;
	case NETCONF_UNREACHABLE:
		ret = netlink_unreachable_del(nl, e->family, e->table,
					      e->metric);
		break;
	case NETCONF_DNS:
		return netconf_undo_dns(e, detail, detail_len);
	case NETCONF_NFT:
		return netconf_undo_firewall(e, detail, detail_len);
	case NETCONF_RESOLVED:
		/* resolved's settings for the device went with it. */
		ret = our_link(nl, c, e, &ifindex);
		if (!ret)
			return netconf_undo_resolved(e, detail, detail_len);
		break;
	default:
		ret = undo_on_link(nl, c, e);
		break;
	}
	snprintf(detail, detail_len, "%s", strerror(-ret));
	return ret;
}

int netconf_undo_all(struct netlink *nl, const struct netconf_entry *v,
		     size_t n, char *err, size_t err_len)
{
	struct link_cache cache = { .valid = false };
	char what[160], detail[64];
	int first = 0;

	while (n--) {
		int ret = undo_entry(nl, &cache, &v[n], detail,
				     sizeof(detail));

		if (!ret || gone(ret) || first)
			continue;
		describe_undo(&v[n], what, sizeof(what));
		first = netconf_fail(err, err_len, ret, "cannot %s: %s", what,
				     detail);
	}
	return first;
}

/* The whole file, at most NETCONF_JOURNAL_MAX bytes (-EFBIG). */
static int read_file(const char *path, struct secret_buf *b)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = secret_buf_read_fd(b, fd, NETCONF_JOURNAL_MAX);
	close(fd);
	return ret;
}

int netconf_journal_load(const char *journal_path, struct netconf_journal *j,
			 char *err, size_t err_len)
{
	struct secret_buf text = { 0 };
	int ret;

	memset(j, 0, sizeof(*j));
	ret = read_file(journal_path, &text);
	if (ret) {
		secret_buf_free(&text);
		if (ret == -ENOENT)
			return ret;
		return netconf_fail(err, err_len, ret,
				    "cannot read journal `%s': %s",
				    journal_path, strerror(-ret));
	}
	ret = netconf_journal_parse(j, text.data, text.len);
	secret_buf_free(&text);
	if (ret == -EBADMSG)
		return netconf_fail(err, err_len, ret,
				    "`%s' is not a ringvpn journal (no `%s' "
				    "line): nothing undone; check it and "
				    "remove it by hand", journal_path,
				    NETCONF_JOURNAL_HEADER);
	if (ret)
		return netconf_fail(err, err_len, ret,
				    "cannot read journal `%s': %s",
				    journal_path, strerror(-ret));
	return 0;
}

int netconf_down(struct netlink *nl, const char *journal_path, char *err,
		 size_t err_len)
{
	unsigned int bad, first_bad;
	struct netconf_journal j;
	int ret = netconf_journal_load(journal_path, &j, err, err_len);

	if (ret)
		return ret == -ENOENT ? 0 : ret;
	bad = j.bad_lines;
	first_bad = j.first_bad_line;
	ret = netconf_undo_all(nl, j.v, j.n, err, err_len);
	netconf_journal_free(&j);
	if (ret)
		return ret;
	if (unlink(journal_path) && errno != ENOENT)
		return netconf_fail(err, err_len, -errno,
				    "cannot remove journal `%s': %s",
				    journal_path, strerror(errno));
	if (bad)
		return netconf_fail(err, err_len, -EBADMSG,
				    "journal `%s': %u line(s) not understood "
				    "and skipped, the first at line %u; the "
				    "rest was undone",
				    journal_path, bad, first_bad);
	return 0;
}
