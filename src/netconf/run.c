/* What every step of a netconf run shares: the message on failure, and
 * the record of a change made (in memory for the roll-back, and a line
 * in the journal); and the one writer of a journal's header and lines.
 * Below netconf.c and the files of each kind of change (dns.c, full.c,
 * ...), which all call it. */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* The lines of the n entries of v. */
static int write_entries(int fd, const struct netconf_entry *v, size_t n)
{
	char line[NETCONF_LINE_MAX + 2];
	int len, ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		len = netconf_entry_format(&v[i], line, sizeof(line));
		ret = len < 0 ? len : write_all(fd, line, (size_t)len);
	}
	return ret;
}

int netconf_journal_write(int fd, const struct netconf_entry *v, size_t n)
{
	static const char header[] = NETCONF_JOURNAL_HEADER "\n";
	int ret = write_all(fd, header, sizeof(header) - 1);

	return ret ? ret : write_entries(fd, v, n);
}

/* Written whole under a temporary name, then renamed over path, so that
 * a crash leaves either the old journal or the new one. */
static int journal_rewrite(const char *path, const struct netconf_entry *v,
			   size_t n, char *err, size_t err_len)
{
	char tmp[512];
	int fd, ret;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		return netconf_fail(err, err_len, -ENAMETOOLONG,
				    "journal path `%s' too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return netconf_fail(err, err_len, -errno, "cannot create "
				    "`%s': %s", tmp, strerror(errno));
	ret = netconf_journal_write(fd, v, n);
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return netconf_fail(err, err_len, ret, "cannot rewrite journal "
				    "`%s': %s", path, strerror(-ret));
	}
	return 0;
}

int netconf_journal_keep(const char *path, const struct netconf_entry *v,
			 size_t n, char *err, size_t err_len)
{
	if (n)
		return journal_rewrite(path, v, n, err, err_len);
	if (unlink(path) && errno != ENOENT)
		return netconf_fail(err, err_len, -errno, "cannot remove "
				    "journal `%s': %s", path, strerror(errno));
	return 0;
}

/* In memory first, so that even a failed write leaves e to be undone.
 * A line outlives a kill -9 once write() returns, and that is the only
 * crash the journal is for: it lives in /run, a tmpfs, and what it
 * records (routes, rules, a TUN device's addresses) does not survive a
 * reboot either. So no fsync per line: with a RINGVPN_RUNDIR on ext4 it
 * made 10000 routes take 2.8 s instead of 0.09 s. */
int netconf_record(struct netconf_run *r, const struct netconf_entry *e)
{
	int ret;

	r->done[r->n_done++] = *e;
	ret = write_entries(r->fd, e, 1);
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

