/* Applying a config's network settings, and the journal that undoes them.
 *
 * Ordering is the whole point here: the journal line for a change is
 * written and fsync'd after the kernel accepted the change and before
 * the next one is tried, and undoing goes strictly backwards (routes
 * before the link goes down, addresses before the MTU is restored), so
 * that at every moment the file describes exactly what is ours. */
#include "src/netconf.h"
#include "src/rundir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#define JOURNAL_HEADER "ringvpn-journal 1"

static const char *const kind_names[] = {
	[NETCONF_MTU] = "mtu",
	[NETCONF_ADDR] = "addr",
	[NETCONF_UP] = "up",
	[NETCONF_ROUTE] = "route",
};

#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

static int fail(char *err, size_t err_len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

bool netconf_ifname_valid(const char *ifname)
{
	size_t len = strnlen(ifname, IFNAMSIZ);

	if (!len || len >= IFNAMSIZ || !strcmp(ifname, ".") ||
	    !strcmp(ifname, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)ifname[i];

		if (c <= ' ' || c > '~' || c == '/' || c == ':')
			return false;
	}
	return true;
}

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static bool host_bits_clear(const uint8_t *addr, size_t len, uint8_t plen)
{
	for (size_t i = 0; i < len; i++) {
		unsigned int keep = plen > i * 8 ? plen - i * 8 : 0;

		if (keep < 8 && (addr[i] & (0xffu >> keep)))
			return false;
	}
	return true;
}

/* What both the parser and the formatter insist on, so that every line
 * written parses back to the same entry. */
static bool entry_valid(const struct netconf_entry *e)
{
	size_t len;

	if (!netconf_ifname_valid(e->ifname) || e->ifindex <= 0)
		return false;
	switch (e->kind) {
	case NETCONF_MTU:
		return e->mtu > 0;
	case NETCONF_UP:
		return true;
	case NETCONF_ADDR:
	case NETCONF_ROUTE:
		len = family_len(e->family);
		if (!len || e->prefixlen > len * 8)
			return false;
		if (e->kind == NETCONF_ADDR)
			return true;
		return e->table && host_bits_clear(e->addr, len, e->prefixlen);
	}
	return false;
}

/* "10.0.0.1/24" */
static void prefix_text(int family, const uint8_t *addr, uint8_t plen,
			char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s/%u", ip, plen);
}

int netconf_entry_format(const struct netconf_entry *e, char *buf,
			 size_t len)
{
	const char *fam = e->family == AF_INET ? "inet" : "inet6";
	char prefix[INET6_ADDRSTRLEN + 8];
	int n = -1;

	if (!entry_valid(e))
		return -EINVAL;
	if (e->kind == NETCONF_ADDR || e->kind == NETCONF_ROUTE)
		prefix_text(e->family, e->addr, e->prefixlen, prefix,
			    sizeof(prefix));
	switch (e->kind) {
	case NETCONF_MTU:
		n = snprintf(buf, len, "mtu %s %d %u\n", e->ifname,
			     e->ifindex, e->mtu);
		break;
	case NETCONF_UP:
		n = snprintf(buf, len, "up %s %d\n", e->ifname, e->ifindex);
		break;
	case NETCONF_ADDR:
		n = snprintf(buf, len, "addr %s %d %s %s\n", e->ifname,
			     e->ifindex, fam, prefix);
		break;
	case NETCONF_ROUTE:
		n = snprintf(buf, len, "route %s %d %s %s %u\n", e->ifname,
			     e->ifindex, fam, prefix, e->table);
		break;
	}
	if (n < 0)
		return -EINVAL;
	return (size_t)n < len ? n : -ENOSPC;
}

/* ---- Parsing --------------------------------------------------------- */

/* Decimal digits only (no sign, no blanks), at most max. */
static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

static bool parse_family(const char *s, int *family)
{
	if (!strcmp(s, "inet"))
		*family = AF_INET;
	else if (!strcmp(s, "inet6"))
		*family = AF_INET6;
	else
		return false;
	return true;
}

/* "ADDRESS/PREFIXLEN" of the given family; s is modified. */
static bool parse_prefix(char *s, int family, uint8_t *addr, uint8_t *plen)
{
	char *slash = strchr(s, '/');
	uint32_t v;

	if (!slash)
		return false;
	*slash = '\0';
	if (inet_pton(family, s, addr) != 1 ||
	    !parse_u32(slash + 1, (uint32_t)family_len(family) * 8, &v))
		return false;
	*plen = (uint8_t)v;
	return true;
}

static bool parse_kind(const char *s, enum netconf_kind *kind)
{
	for (size_t i = 0; i < N_KINDS; i++) {
		if (!strcmp(s, kind_names[i])) {
			*kind = (enum netconf_kind)i;
			return true;
		}
	}
	return false;
}

#define MAX_FIELDS 6

/* Splits line in place at single spaces; an empty field (two spaces, or
 * one at either end) or too many fields is a bad line. */
static int split_fields(char *line, char *f[MAX_FIELDS])
{
	int n = 0;

	for (char *p = line;; p++) {
		char *sp = strchr(p, ' ');

		if (n == MAX_FIELDS || sp == p || !*p)
			return -1;
		f[n++] = p;
		if (!sp)
			return n;
		*sp = '\0';
		p = sp;
	}
}

/* The fields after kind, ifname and ifindex. */
static bool parse_rest(struct netconf_entry *e, char **f, int n)
{
	static const int want[] = {
		[NETCONF_MTU] = 1, [NETCONF_ADDR] = 2,
		[NETCONF_UP] = 0, [NETCONF_ROUTE] = 3,
	};

	if (n != want[e->kind])
		return false;
	switch (e->kind) {
	case NETCONF_MTU:
		return parse_u32(f[0], UINT32_MAX, &e->mtu);
	case NETCONF_UP:
		return true;
	case NETCONF_ADDR:
	case NETCONF_ROUTE:
		if (!parse_family(f[0], &e->family) ||
		    !parse_prefix(f[1], e->family, e->addr, &e->prefixlen))
			return false;
		return e->kind == NETCONF_ADDR ||
		       parse_u32(f[2], UINT32_MAX, &e->table);
	}
	return false;
}

/* One entry line, without its '\n'. */
static bool parse_line(const char *text, size_t len, struct netconf_entry *e)
{
	char line[NETCONF_LINE_MAX + 1], *f[MAX_FIELDS];
	uint32_t ifindex;
	int n;

	/* A NUL inside would make the fields shorter than the line. */
	if (len > NETCONF_LINE_MAX || memchr(text, '\0', len))
		return false;
	memcpy(line, text, len);
	line[len] = '\0';
	memset(e, 0, sizeof(*e));
	n = split_fields(line, f);
	if (n < 3 || !parse_kind(f[0], &e->kind) ||
	    strlen(f[1]) >= IFNAMSIZ ||
	    !parse_u32(f[2], INT32_MAX, &ifindex))
		return false;
	strcpy(e->ifname, f[1]);
	e->ifindex = (int)ifindex;
	return parse_rest(e, f + 3, n - 3) && entry_valid(e);
}

static int journal_push(struct netconf_journal *j, size_t *cap,
			const struct netconf_entry *e)
{
	if (j->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct netconf_entry *v;

		if (ncap > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		v = realloc(j->v, ncap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		j->v = v;
		*cap = ncap;
	}
	j->v[j->n++] = *e;
	return 0;
}

/* The first line, complete or torn: 1 good, 0 torn (an empty journal),
 * -1 not a journal. *pos moves past it. */
static int parse_header(const char *buf, size_t len, size_t *pos)
{
	static const char header[] = JOURNAL_HEADER "\n";
	const char *nl = memchr(buf, '\n', len);
	size_t hlen = sizeof(header) - 1;

	if (!nl)
		return len < hlen && !memcmp(buf, header, len) ? 0 : -1;
	if ((size_t)(nl - buf) + 1 != hlen || memcmp(buf, header, hlen))
		return -1;
	*pos = hlen;
	return 1;
}

int netconf_journal_parse(struct netconf_journal *j, const char *buf,
			  size_t len)
{
	size_t pos = 0, cap = 0;
	unsigned int lineno = 1;
	int ret;

	memset(j, 0, sizeof(*j));
	ret = parse_header(buf, len, &pos);
	if (ret <= 0)
		return ret < 0 ? -EBADMSG : 0;
	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = (size_t)(nl - line);
		struct netconf_entry e;

		/* A last line without '\n' was torn by a crash mid-write. */
		if (!nl)
			break;
		pos += llen + 1;
		lineno++;
		if (!llen || line[0] == '#')
			continue;
		if (!parse_line(line, llen, &e)) {
			if (!j->bad_lines++)
				j->first_bad_line = lineno;
			continue;
		}
		if (journal_push(j, &cap, &e)) {
			netconf_journal_free(j);
			return -ENOMEM;
		}
	}
	return 0;
}

void netconf_journal_free(struct netconf_journal *j)
{
	free(j->v);
	memset(j, 0, sizeof(*j));
}

/* ---- Undoing --------------------------------------------------------- */

/* What undoing e does, for messages: "remove address 10.0.0.1/24 from
 * wg0". */
static void describe_undo(const struct netconf_entry *e, char *buf,
			  size_t len)
{
	char prefix[INET6_ADDRSTRLEN + 8];

	if (e->kind == NETCONF_ADDR || e->kind == NETCONF_ROUTE)
		prefix_text(e->family, e->addr, e->prefixlen, prefix,
			    sizeof(prefix));
	switch (e->kind) {
	case NETCONF_MTU:
		snprintf(buf, len, "restore the MTU of %s to %u", e->ifname,
			 e->mtu);
		return;
	case NETCONF_UP:
		snprintf(buf, len, "bring %s down", e->ifname);
		return;
	case NETCONF_ADDR:
		snprintf(buf, len, "remove address %s from %s", prefix,
			 e->ifname);
		return;
	case NETCONF_ROUTE:
		snprintf(buf, len, "remove route %s to %s from table %u",
			 prefix, e->ifname, e->table);
		return;
	}
	snprintf(buf, len, "undo an unknown change");
}

static bool gone(int ret)
{
	return ret == -ENOENT || ret == -ENODEV || ret == -ESRCH;
}

static int undo_entry(struct netlink *nl, const struct netconf_entry *e)
{
	int ifindex, ret;

	ret = netlink_link_index(nl, e->ifname, &ifindex);
	if (ret)
		return ret;
	/* Another device under the name: ours went, and took it all. */
	if (ifindex != e->ifindex)
		return -ENODEV;
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
	}
	return -EINVAL;
}

/* All of v, last first, on past failures: the first one is returned with
 * its message. */
static int undo_all(struct netlink *nl, const struct netconf_entry *v,
		    size_t n, char *err, size_t err_len)
{
	char what[128];
	int first = 0;

	while (n--) {
		int ret = undo_entry(nl, &v[n]);

		if (!ret || gone(ret) || first)
			continue;
		describe_undo(&v[n], what, sizeof(what));
		first = fail(err, err_len, ret, "cannot %s: %s", what,
			     strerror(-ret));
	}
	return first;
}

/* The whole file, at most NETCONF_JOURNAL_MAX bytes (-EFBIG). */
static int read_file(const char *path, char **buf, size_t *len)
{
	size_t cap = 0, n = 0;
	char *b = NULL;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			/* One byte past the limit tells "too big". */
			size_t ncap = cap ? cap * 2 : 4096;
			char *nb;

			if (n > NETCONF_JOURNAL_MAX) {
				ret = -EFBIG;
				break;
			}
			if (ncap > NETCONF_JOURNAL_MAX + 1)
				ncap = NETCONF_JOURNAL_MAX + 1;
			nb = realloc(b, ncap);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			b = nb;
			cap = ncap;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = r < 0 ? -errno : 0;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	if (ret) {
		free(b);
		return ret;
	}
	*buf = b;
	*len = n;
	return 0;
}

int netconf_down(struct netlink *nl, const char *journal_path, char *err,
		 size_t err_len)
{
	unsigned int bad, first_bad;
	struct netconf_journal j;
	size_t len = 0;
	char *buf = NULL;
	int ret;

	ret = read_file(journal_path, &buf, &len);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return fail(err, err_len, ret, "cannot read journal `%s': %s",
			    journal_path, strerror(-ret));
	ret = netconf_journal_parse(&j, buf, len);
	free(buf);
	if (ret == -EBADMSG)
		return fail(err, err_len, ret,
			    "`%s' is not a ringvpn journal (no `%s' line): "
			    "nothing undone; check it and remove it by hand",
			    journal_path, JOURNAL_HEADER);
	if (ret)
		return fail(err, err_len, ret, "cannot read journal `%s': %s",
			    journal_path, strerror(-ret));
	bad = j.bad_lines;
	first_bad = j.first_bad_line;
	ret = undo_all(nl, j.v, j.n, err, err_len);
	netconf_journal_free(&j);
	if (ret)
		return ret;
	if (unlink(journal_path) && errno != ENOENT)
		return fail(err, err_len, -errno,
			    "cannot remove journal `%s': %s", journal_path,
			    strerror(errno));
	if (bad)
		return fail(err, err_len, -EBADMSG,
			    "journal `%s': %u line(s) not understood and "
			    "skipped, the first at line %u; the rest was "
			    "undone",
			    journal_path, bad, first_bad);
	return 0;
}

/* ---- Applying -------------------------------------------------------- */

/* One netconf_up call: the changes made so far, in memory for the undo on
 * failure and in the journal for the undo after a crash. */
struct netconf_run {
	struct netlink *nl;
	const char *ifname;
	int ifindex;
	const char *path;
	int fd;
	/* Sized before the first change, so recording never allocates. */
	struct netconf_entry *done;
	size_t n_done, cap;
	char *err;
	size_t err_len;
};

/* A line outlives a kill -9 once write() returns; fsync is for a
 * RINGVPN_RUNDIR on a disk, so that the lines reach it in order. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= (size_t)w;
	}
	return fsync(fd) ? -errno : 0;
}

/* Called right after the kernel accepted e: in memory first, so that even
 * a failed write leaves e to be undone. */
static int record(struct netconf_run *r, const struct netconf_entry *e)
{
	char line[NETCONF_LINE_MAX + 2];
	int n, ret;

	r->done[r->n_done++] = *e;
	n = netconf_entry_format(e, line, sizeof(line));
	ret = n < 0 ? n : write_all(r->fd, line, (size_t)n);
	if (ret)
		return fail(r->err, r->err_len, ret,
			    "cannot write journal `%s': %s", r->path,
			    strerror(-ret));
	return 0;
}

static struct netconf_entry entry_of(const struct netconf_run *r,
				     enum netconf_kind kind)
{
	struct netconf_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	snprintf(e.ifname, sizeof(e.ifname), "%s", r->ifname);
	e.ifindex = r->ifindex;
	return e;
}

/* The link's MTU and flags, before we touch them. */
static int link_state(const char *ifname, unsigned int *mtu, bool *up)
{
	struct ifreq ifr;
	int fd, ret = 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		ret = -errno;
	*mtu = (unsigned int)ifr.ifr_mtu;
	if (!ret && ioctl(fd, SIOCGIFFLAGS, &ifr))
		ret = -errno;
	*up = ifr.ifr_flags & IFF_UP;
	close(fd);
	return ret;
}

static int apply_mtu(struct netconf_run *r, unsigned int old, unsigned int mtu)
{
	struct netconf_entry e = entry_of(r, NETCONF_MTU);
	int ret;

	if (old == mtu)
		return 0;
	ret = netlink_link_set_mtu(r->nl, r->ifindex, mtu);
	if (ret)
		return fail(r->err, r->err_len, ret,
			    "cannot set the MTU of %s to %u: %s", r->ifname,
			    mtu, strerror(-ret));
	e.mtu = old;
	return record(r, &e);
}

static int apply_addr(struct netconf_run *r, const struct config_prefix *p,
		      bool nodad)
{
	struct netconf_entry e = entry_of(r, NETCONF_ADDR);
	char text[INET6_ADDRSTRLEN + 8];
	bool existed = false;
	int ret;

	ret = netlink_addr_add(r->nl, r->ifindex, p->family, p->addr, p->cidr,
			       nodad, &existed);
	if (ret) {
		prefix_text(p->family, p->addr, p->cidr, text, sizeof(text));
		return fail(r->err, r->err_len, ret,
			    "cannot add address %s to %s: %s", text, r->ifname,
			    strerror(-ret));
	}
	if (existed)
		return 0;
	e.family = p->family;
	memcpy(e.addr, p->addr, sizeof(e.addr));
	e.prefixlen = p->cidr;
	return record(r, &e);
}

static int apply_up(struct netconf_run *r, bool was_up)
{
	struct netconf_entry e = entry_of(r, NETCONF_UP);
	int ret;

	if (was_up)
		return 0;
	ret = netlink_link_set_up(r->nl, r->ifindex, true);
	if (ret)
		return fail(r->err, r->err_len, ret, "cannot bring %s up: %s",
			    r->ifname, strerror(-ret));
	return record(r, &e);
}

static int apply_route(struct netconf_run *r, const struct config_prefix *p,
		       uint32_t table)
{
	struct netconf_entry e = entry_of(r, NETCONF_ROUTE);
	struct config_prefix m = config_prefix_masked(p);
	char text[INET6_ADDRSTRLEN + 8];
	bool existed = false;
	int ret;

	ret = netlink_route_add(r->nl, r->ifindex, m.family, m.addr, m.cidr,
				table, &existed);
	if (ret) {
		prefix_text(m.family, m.addr, m.cidr, text, sizeof(text));
		return fail(r->err, r->err_len, ret,
			    "cannot add route %s to %s in table %u: %s", text,
			    r->ifname, table, strerror(-ret));
	}
	if (existed)
		return 0;
	e.family = m.family;
	memcpy(e.addr, m.addr, sizeof(e.addr));
	e.prefixlen = m.cidr;
	e.table = table;
	return record(r, &e);
}

static int apply_routes(struct netconf_run *r, const struct config *cfg)
{
	uint32_t table = cfg->table == CONFIG_TABLE_ID ? cfg->table_id
						       : RT_TABLE_MAIN;
	int ret;

	if (cfg->table == CONFIG_TABLE_OFF)
		return 0;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct config_peer *p = &cfg->peers[i];

		for (size_t k = 0; k < p->n_allowed_ips; k++) {
			ret = apply_route(r, &p->allowed_ips[k], table);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int apply(struct netconf_run *r, const struct config *cfg,
		 const struct netconf_options *opt)
{
	unsigned int mtu = cfg->mtu ? cfg->mtu : NETCONF_DEFAULT_MTU;
	unsigned int old_mtu = 0;
	bool was_up = false;
	int ret;

	ret = link_state(r->ifname, &old_mtu, &was_up);
	if (ret)
		return fail(r->err, r->err_len, ret,
			    "cannot read the state of %s: %s", r->ifname,
			    strerror(-ret));
	ret = apply_mtu(r, old_mtu, mtu);
	for (size_t i = 0; !ret && i < cfg->n_addresses; i++)
		ret = apply_addr(r, &cfg->addresses[i], opt && opt->nodad);
	if (!ret)
		ret = apply_up(r, was_up);
	if (!ret)
		ret = apply_routes(r, cfg);
	return ret;
}

/* Everything that can be refused without touching the system. */
static int check(const char *ifname, int ifindex, const struct config *cfg,
		 size_t *n_changes, char *err, size_t err_len)
{
	/* Sized for the worst case: mtu, up, every address and route. */
	size_t n = 2 + cfg->n_addresses;

	if (!netconf_ifname_valid(ifname) || ifindex <= 0)
		return fail(err, err_len, -EINVAL,
			    "invalid interface `%s' (index %d)", ifname,
			    ifindex);
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct config_peer *p = &cfg->peers[i];

		for (size_t k = 0; k < p->n_allowed_ips; k++) {
			const struct config_prefix *a = &p->allowed_ips[k];

			if (a->cidr || cfg->table != CONFIG_TABLE_AUTO)
				continue;
			return fail(err, err_len, -EOPNOTSUPP,
				    "AllowedIPs `%s' with Table = auto needs "
				    "full-tunnel policy routing, which is not "
				    "supported yet; use Table = off or a table "
				    "number", a->family == AF_INET ?
				    "0.0.0.0/0" : "::/0");
		}
		if (cfg->table == CONFIG_TABLE_OFF)
			continue;
		if (p->n_allowed_ips > SIZE_MAX / 2 - n)
			return fail(err, err_len, -ENOMEM, "too many routes");
		n += p->n_allowed_ips;
	}
	*n_changes = n;
	return 0;
}

/* O_EXCL: a journal already there records another run's changes, which
 * must be undone (netconf_down) before they can be forgotten. */
static int journal_create(struct netconf_run *r)
{
	static const char header[] = JOURNAL_HEADER "\n";
	int ret;

	r->fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
			      O_CLOEXEC, 0644);
	if (r->fd < 0 && errno == EEXIST)
		return fail(r->err, r->err_len, -EEXIST,
			    "journal `%s' exists: the changes of an earlier "
			    "run on %s must be undone first", r->path,
			    r->ifname);
	if (r->fd < 0)
		return fail(r->err, r->err_len, -errno,
			    "cannot create journal `%s': %s", r->path,
			    strerror(errno));
	ret = write_all(r->fd, header, sizeof(header) - 1);
	if (ret) {
		close(r->fd);
		unlink(r->path);
		return fail(r->err, r->err_len, ret,
			    "cannot write journal `%s': %s", r->path,
			    strerror(-ret));
	}
	return 0;
}

/* After a failure: back to where we started. err holds the failure; a
 * failure to undo is added to it. */
static void roll_back(struct netconf_run *r)
{
	size_t len = r->err ? strnlen(r->err, r->err_len) : 0;
	char undo_err[256];

	close(r->fd);
	if (!undo_all(r->nl, r->done, r->n_done, undo_err,
		      sizeof(undo_err))) {
		unlink(r->path);
		return;
	}
	/* The journal still says what is left: netconf_down can finish. */
	if (r->err && len < r->err_len)
		snprintf(r->err + len, r->err_len - len,
			 "; undoing failed too: %s (journal `%s' kept)",
			 undo_err, r->path);
}

int netconf_up(struct netlink *nl, const char *ifname, int ifindex,
	       const struct config *cfg, const char *journal_path,
	       const struct netconf_options *opt, char *err, size_t err_len)
{
	struct netconf_run r = {
		.nl = nl, .ifname = ifname, .ifindex = ifindex,
		.path = journal_path, .fd = -1,
		.err = err_len ? err : NULL, .err_len = err_len,
	};
	int found = 0, ret;

	ret = check(ifname, ifindex, cfg, &r.cap, err, err_len);
	if (ret)
		return ret;
	ret = netlink_link_index(nl, ifname, &found);
	if (!ret && found != ifindex)
		ret = -ENODEV;
	if (ret)
		return fail(err, err_len, ret, "no interface %s with index %d: "
			    "%s", ifname, ifindex, strerror(-ret));
	r.done = calloc(r.cap, sizeof(*r.done));
	if (!r.done)
		return fail(err, err_len, -ENOMEM, "out of memory");
	ret = journal_create(&r);
	if (ret) {
		free(r.done);
		return ret;
	}
	ret = apply(&r, cfg, opt);
	if (ret)
		roll_back(&r);
	else
		close(r.fd);
	free(r.done);
	return ret;
}

/* ---- The journal's place --------------------------------------------- */

int netconf_journal_path(const char *ifname, char *out, size_t out_len)
{
	if (!netconf_ifname_valid(ifname))
		return -EINVAL;
	return rundir_path(ifname, "journal", out, out_len);
}
