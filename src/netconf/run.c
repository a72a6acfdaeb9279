/* What every step of a netconf run shares: the message on failure, and
 * the record of a change made (in memory for the roll-back, and a line
 * in the journal). Below netconf.c and the files of each kind of change
 * (dns.c, full.c, ...), which all call it. */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int netconf_fail(char *err, size_t err_len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* In memory first, so that even a failed write leaves e to be undone.
 * A line outlives a kill -9 once write() returns, and that is the only
 * crash the journal is for: it lives in /run, a tmpfs, and what it
 * records (routes, rules, a TUN device's addresses) does not survive a
 * reboot either. So no fsync per line: with a RINGVPN_RUNDIR on ext4 it
 * made 10000 routes take 2.8 s instead of 0.09 s. */
int netconf_record(struct netconf_run *r, const struct netconf_entry *e)
{
	char line[NETCONF_LINE_MAX + 2];
	int n, ret;

	r->done[r->n_done++] = *e;
	n = netconf_entry_format(e, line, sizeof(line));
	ret = n < 0 ? n : netconf_write_all(r->fd, line, (size_t)n);
	if (ret)
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot write journal `%s': %s", r->path,
				    strerror(-ret));
	return 0;
}

struct netconf_entry netconf_entry_of(const struct netconf_run *r,
				      enum netconf_kind kind)
{
	struct netconf_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	snprintf(e.ifname, sizeof(e.ifname), "%s", r->ifname);
	e.ifindex = r->ifindex;
	return e;
}

