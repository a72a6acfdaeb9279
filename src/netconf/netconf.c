/* Applying a config's network settings, each change journaled.
 *
 * Ordering is the whole point here: the journal line for a change is
 * written after the change was made and before the next one is tried,
 * and undoing goes strictly backwards (undo.c), so that at every
 * moment the file describes exactly what is ours. */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"
#include "src/ifname.h"
#include "src/rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

static int apply_mtu(struct netconf_run *r, unsigned int old, unsigned int mtu)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_MTU);
	int ret;

	if (old == mtu)
		return 0;
	ret = netlink_link_set_mtu(r->nl, r->ifindex, mtu);
	if (ret)
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot set the MTU of %s to %u: %s",
				    r->ifname, mtu, strerror(-ret));
	e.mtu = old;
	return netconf_record(r, &e);
}

/* An Address, or with service a ServiceAddress: the host address alone,
 * with no prefix route, which on the TUN lives exactly as long as the
 * daemon that holds the device. */
static int apply_addr(struct netconf_run *r, const struct prefix *p,
		      bool nodad, bool service)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_ADDR);
	char text[NETCONF_PREFIX_TEXT];
	bool existed = false;
	int ret;

	if (service)
		ret = netlink_host_addr_add(r->nl, r->ifindex, p->family,
					    p->addr, &existed);
	else
		ret = netlink_addr_add(r->nl, r->ifindex, p->family, p->addr,
				       p->cidr, nodad, &existed);
	if (ret) {
		netconf_prefix_text(p->family, p->addr, p->cidr, text,
				    sizeof(text));
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot add %saddress %s to %s: %s",
				    service ? "service " : "", text,
				    r->ifname, strerror(-ret));
	}
	if (existed)
		return 0;
	e.family = p->family;
	memcpy(e.addr, p->addr, sizeof(e.addr));
	e.prefixlen = p->cidr;
	return netconf_record(r, &e);
}

static int apply_up(struct netconf_run *r, bool was_up)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_UP);
	int ret;

	if (was_up)
		return 0;
	ret = netlink_link_set_up(r->nl, r->ifindex, true);
	if (ret)
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot bring %s up: %s", r->ifname,
				    strerror(-ret));
	return netconf_record(r, &e);
}

/* Whether p is applied at all: IPv6 is skipped on a host without it
 * (the plan warned). */
static bool family_on(const struct netconf_plan *plan,
		      const struct prefix *p)
{
	return p->family != AF_INET6 || !plan->ipv6_off;
}

static int apply_addrs(struct netconf_run *r, const struct netconf_plan *p,
		       bool nodad)
{
	const struct config *cfg = p->cfg;
	int ret = 0;

	for (size_t i = 0; !ret && i < cfg->n_addresses; i++)
		if (family_on(p, &cfg->addresses[i]))
			ret = apply_addr(r, &cfg->addresses[i], nodad,
					 false);
	for (size_t i = 0; !ret && i < cfg->n_service_addresses; i++)
		if (family_on(p, &cfg->service_addresses[i]))
			ret = apply_addr(r, &cfg->service_addresses[i],
					 true, true);
	return ret;
}

/* The daemon adds the session routes later, one by one as sessions
 * come: the journal says once where they go, so that whatever is left
 * of them is removed with the rest. */
static int note_session_table(struct netconf_run *r,
			      const struct netconf_plan *p)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_SESSIONS);

	if (!p->cfg->session_table)
		return 0;
	e.table = p->cfg->session_table;
	return netconf_record(r, &e);
}

/* Every AllowedIPs prefix but the full tunnel's /0s. */
static int apply_routes(struct netconf_run *r, const struct netconf_plan *p)
{
	const struct config *cfg = p->cfg;
	uint32_t table = cfg->table == CONFIG_TABLE_ID ? cfg->table_id
						       : RT_TABLE_MAIN;
	int ret;

	if (cfg->table == CONFIG_TABLE_OFF)
		return 0;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct config_peer *peer = &cfg->peers[i];

		for (size_t k = 0; k < peer->n_allowed_ips; k++) {
			const struct prefix *a = &peer->allowed_ips[k];

			if (!family_on(p, a) || netconf_is_full(cfg, a))
				continue;
			ret = netconf_apply_route(r, a, table);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* wg-quick's order: addresses, MTU and link up, DNS, then routes (the
 * full tunnel's /0 last, as wg-quick adds prefixes longest first). */
static int apply(struct netconf_run *r, const struct netconf_plan *p,
		 const struct netconf_options *opt)
{
	unsigned int old_mtu = 0;
	bool was_up = false;
	int ret;

	/* The link's MTU and state, before we touch them. */
	ret = netlink_link_state(r->nl, r->ifindex, &old_mtu, &was_up);
	if (ret)
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot read the state of %s: %s",
				    r->ifname, strerror(-ret));
	ret = apply_addrs(r, p, opt && opt->nodad);
	if (!ret)
		ret = apply_mtu(r, old_mtu, p->mtu);
	if (!ret)
		ret = apply_up(r, was_up);
	if (!ret)
		ret = netconf_apply_dns(r, p);
	if (!ret)
		ret = apply_routes(r, p);
	if (!ret)
		ret = netconf_apply_full(r, p);
	if (!ret)
		ret = note_session_table(r, p);
	return ret;
}

/* Everything that can be refused without touching the system; the
 * worst-case number of changes into n_changes. */
static int check(const char *ifname, int ifindex,
		 const struct netconf_plan *plan, size_t *n_changes,
		 char *err, size_t err_len)
{
	const struct config *cfg = plan->cfg;
	/* mtu, up, dns, sessions, every address and route, the full
	 * tunnel's */
	size_t n = 4 + NETCONF_FULL_CHANGES + cfg->n_addresses +
		   cfg->n_service_addresses;

	if (!ifname_valid(ifname) || ifindex <= 0)
		return netconf_fail(err, err_len, -EINVAL,
				    "invalid interface `%s' (index %d)", ifname,
				    ifindex);
	if ((plan->full[0] || plan->full[1]) &&
	    (!plan->table || !plan->fwmark))
		return netconf_fail(err, err_len, -EINVAL,
				    "a full tunnel needs a table and a fwmark");
	for (size_t i = 0; i < cfg->n_peers; i++) {
		if (cfg->peers[i].n_allowed_ips > SIZE_MAX / 2 - n)
			return netconf_fail(err, err_len, -ENOMEM,
					    "too many routes");
		n += cfg->peers[i].n_allowed_ips;
	}
	*n_changes = n;
	return 0;
}

/* O_EXCL: a journal already there records another run's changes, which
 * must be undone (netconf_down) before they can be forgotten. */
static int journal_create(struct netconf_run *r)
{
	int ret;

	r->fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
			      O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->fd < 0 && errno == EEXIST)
		return netconf_fail(r->err, r->err_len, -EEXIST,
				    "journal `%s' exists: the changes of an "
				    "earlier run on %s must be undone first",
				    r->path, r->ifname);
	if (r->fd < 0)
		return netconf_fail(r->err, r->err_len, -errno,
				    "cannot create journal `%s': %s", r->path,
				    strerror(errno));
	ret = netconf_journal_write(r->fd, NULL, 0);
	if (ret) {
		close(r->fd);
		unlink(r->path);
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot write journal `%s': %s", r->path,
				    strerror(-ret));
	}
	return 0;
}

/* After a failure: back to where we started. The kept prefix of done
 * (a kill switch kept from a crashed run) stays, and the journal then
 * holds it alone; without one the journal goes. err holds the failure;
 * what became of the undo is added to it. */
static void roll_back(struct netconf_run *r)
{
	size_t len = r->err ? strnlen(r->err, r->err_len) : 0;
	char undo_err[256];
	int ret;

	close(r->fd);
	ret = netconf_undo_all(r->nl, r->done + r->n_kept,
			       r->n_done - r->n_kept, undo_err,
			       sizeof(undo_err));
	if (!ret)
		ret = netconf_journal_keep(r->path, r->done, r->n_kept,
					   undo_err, sizeof(undo_err));
	if (!r->err || len >= r->err_len)
		return;
	/* The journal still says what is left: netconf_down can finish. */
	if (ret)
		snprintf(r->err + len, r->err_len - len,
			 "; undoing failed too: %s (journal `%s' kept)",
			 undo_err, r->path);
	else if (r->n_kept)
		snprintf(r->err + len, r->err_len - len, "; the kill switch "
			 "stays until `ringvpn down %s'", r->ifname);
}

int netconf_up(struct netlink *nl, const char *ifname, int ifindex,
	       const struct netconf_plan *plan, const char *journal_path,
	       const struct netconf_options *opt, char *err, size_t err_len)
{
	struct netconf_run r = {
		.nl = nl, .ifname = ifname, .ifindex = ifindex,
		.path = journal_path, .fd = -1,
		.err = err_len ? err : NULL, .err_len = err_len,
	};
	int found = 0, ret;

	ret = check(ifname, ifindex, plan, &r.cap, err, err_len);
	if (ret)
		return ret;
	ret = netlink_link_index(nl, ifname, &found);
	if (!ret && found != ifindex)
		ret = -ENODEV;
	if (ret)
		return netconf_fail(err, err_len, ret, "no interface %s with "
				    "index %d: %s", ifname, ifindex,
				    strerror(-ret));
	r.done = calloc(r.cap, sizeof(*r.done));
	if (!r.done)
		return netconf_fail(err, err_len, -ENOMEM, "out of memory");
	/* A kill switch kept from a crashed run is already ours. */
	ret = plan->kept_table ? netconf_resume(&r) : journal_create(&r);
	if (ret) {
		free(r.done);
		return ret;
	}
	ret = apply(&r, plan, opt);
	if (ret)
		roll_back(&r);
	else
		close(r.fd);
	free(r.done);
	return ret;
}

int netconf_journal_path(const char *ifname, char *out, size_t out_len)
{
	if (!ifname_valid(ifname))
		return -EINVAL;
	return rundir_path(ifname, "journal", out, out_len);
}
