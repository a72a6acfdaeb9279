/* KillSwitch: a full tunnel that fails closed. The policy rules send
 * everything but the daemon's own (marked) packets to table T; when the
 * daemon dies and its interface goes, the default route through it goes
 * too, and an empty T would let the lookup fall through to the main
 * table: traffic would leave unencrypted. So T also holds
 *
 *	unreachable default metric NETCONF_KILL_SWITCH_METRIC
 *
 * behind the device's route, which is refused traffic when alone. Like
 * the rules, it belongs to the host and stays after a crash.
 *
 * The next `up` must not lift it while it rebuilds: netconf_recover
 * undoes the rest of the crashed run's journal but keeps the kill switch
 * (the unreachable routes and the rules that lead to them) in the
 * journal, the plan takes its table again, and netconf_up continues that
 * journal (netconf_resume), so that `down` still removes it all. Should
 * that up fail, its roll-back leaves the kept entries (netconf_run's
 * n_kept) in place: failing closed until `down`. */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

int netconf_apply_kill_switch(struct netconf_run *r, int family,
			      uint32_t table)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_UNREACHABLE);
	bool existed = false;
	int ret = netlink_unreachable_add(r->nl, family, table,
					  NETCONF_KILL_SWITCH_METRIC,
					  &existed);

	if (ret)
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot add the IPv%c kill switch "
				    "(unreachable default route) to table "
				    "%u: %s", family == AF_INET ? '4' : '6',
				    table, strerror(-ret));
	if (existed)
		return 0;
	e.family = family;
	e.table = table;
	e.metric = NETCONF_KILL_SWITCH_METRIC;
	return netconf_record(r, &e);
}

/* Whether e is part of a kill switch that netconf_recover keeps for cfg
 * in table: its unreachable route, or a full-tunnel rule, of a family
 * cfg tunnels in full. */
static bool kill_switch_keeps(const struct config *cfg, uint32_t table,
			      const struct netconf_entry *e)
{
	if (e->kind == NETCONF_UNREACHABLE)
		return e->table == table && netconf_has_full(cfg, e->family);
	/* Every rule a journal holds is a full tunnel's: "not fwmark M
	 * lookup T" or "lookup main suppress_prefixlength 0". */
	if (e->kind == NETCONF_RULE)
		return (e->rule.table == table ||
			e->rule.table == RT_TABLE_MAIN) &&
		       netconf_has_full(cfg, e->rule.family);
	return false;
}

/* The table of the journal's kill switch, 0 without one. */
static uint32_t kill_switch_table(const struct netconf_journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].kind == NETCONF_UNREACHABLE)
			return j->v[i].table;
	return 0;
}

/* Splits j into what cfg keeps (kept, in place at the front, in order)
 * and the rest (into rest, in order). Returns the number kept. */
static size_t split_kept(const struct config *cfg, uint32_t table,
			 struct netconf_journal *j, struct netconf_entry *rest,
			 size_t *n_rest)
{
	size_t n_kept = 0;

	*n_rest = 0;
	for (size_t i = 0; i < j->n; i++) {
		if (kill_switch_keeps(cfg, table, &j->v[i]))
			j->v[n_kept++] = j->v[i];
		else
			rest[(*n_rest)++] = j->v[i];
	}
	return n_kept;
}

/* The rest undone, then the journal holds the kept entries only. */
static int keep_only(struct netlink *nl, const char *path,
		     const struct config *cfg, uint32_t table,
		     struct netconf_journal *j, size_t *n_kept, char *err,
		     size_t err_len)
{
	struct netconf_entry *rest = calloc(j->n, sizeof(*rest));
	size_t n_rest;
	int ret;

	if (!rest)
		return netconf_fail(err, err_len, -ENOMEM, "out of memory");
	*n_kept = split_kept(cfg, table, j, rest, &n_rest);
	ret = netconf_undo_all(nl, rest, n_rest, err, err_len);
	free(rest);
	if (ret)
		return ret;
	return netconf_journal_keep(path, j->v, *n_kept, err, err_len);
}

int netconf_recover(struct netlink *nl, const char *journal_path,
		    const struct config *cfg, uint32_t *kept_table,
		    char *err, size_t err_len)
{
	struct netconf_journal j;
	size_t n_kept = 0;
	uint32_t table;
	int ret;

	*kept_table = 0;
	ret = netconf_journal_load(journal_path, &j, err, err_len);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	table = kill_switch_table(&j);
	/* A damaged journal, or a kill switch the new run does not keep
	 * (the table is the fwmark: another one could not take it over):
	 * all undone, as by `down`. */
	if (!table || j.bad_lines || !cfg->kill_switch ||
	    (cfg->fwmark && cfg->fwmark != table)) {
		netconf_journal_free(&j);
		return netconf_down(nl, journal_path, err, err_len);
	}
	ret = keep_only(nl, journal_path, cfg, table, &j, &n_kept, err,
			err_len);
	netconf_journal_free(&j);
	if (!ret && n_kept)
		*kept_table = table;
	return ret;
}

int netconf_resume(struct netconf_run *r)
{
	struct netconf_journal j;
	struct netconf_entry *done;
	int ret = netconf_journal_load(r->path, &j, r->err, r->err_len);

	if (ret == -ENOENT)
		return netconf_fail(r->err, r->err_len, ret, "journal `%s' "
				    "with the kept kill switch is gone",
				    r->path);
	if (ret)
		return ret;
	done = realloc(r->done, (r->cap + j.n) * sizeof(*done));
	if (!done) {
		netconf_journal_free(&j);
		return netconf_fail(r->err, r->err_len, -ENOMEM,
				    "out of memory");
	}
	r->done = done;
	r->cap += j.n;
	memcpy(r->done, j.v, j.n * sizeof(*j.v));
	r->n_done = r->n_kept = j.n;
	netconf_journal_free(&j);
	r->fd = open(r->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (r->fd < 0)
		return netconf_fail(r->err, r->err_len, -errno, "cannot open "
				    "journal `%s': %s", r->path,
				    strerror(errno));
	return 0;
}
