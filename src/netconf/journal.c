/* The journal's lines: what makes an entry valid, formatting one, and
 * parsing a whole journal. Pure functions of their input: the fuzz
 * target runs them on any bytes, and netconf_down trusts what they
 * accept, so parser and formatter share one validity check and every
 * line written parses back to the same entry. */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"
#include "src/decimal.h"
#include "src/ifname.h"
#include "src/prefix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const kind_names[] = {
	[NETCONF_MTU] = "mtu",
	[NETCONF_ADDR] = "addr",
	[NETCONF_UP] = "up",
	[NETCONF_ROUTE] = "route",
	[NETCONF_RULE] = "rule",
	[NETCONF_SYSCTL] = "sysctl",
	[NETCONF_DNS] = "dns",
	[NETCONF_UNREACHABLE] = "unreachable",
	[NETCONF_NFT] = "nft",
	[NETCONF_RESOLVED] = "resolved",
	[NETCONF_SESSIONS] = "sessions",
};

#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

void netconf_prefix_text(int family, const uint8_t *addr, uint8_t plen,
			 char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s/%u", ip, plen);
}

static bool prefix_valid(const struct netconf_entry *e)
{
	size_t len = prefix_addr_len(e->family);

	if (!len || e->prefixlen > len * 8)
		return false;
	if (e->kind == NETCONF_ADDR)
		return true;
	return e->table && prefix_host_bits_clear(e->addr, len, e->prefixlen);
}

/* As netlink_rule_add takes it: a mark only with has_fwmark. */
static bool rule_valid(const struct netlink_rule *r)
{
	size_t len = prefix_addr_len(r->family);

	return len && r->table && r->has_fwmark == !!r->fwmark &&
	       r->suppress_prefixlen >= -1 &&
	       r->suppress_prefixlen <= (int)len * 8;
}

/* A resolvconf prefix: letters, digits and '-', not first (resolvconf
 * would take the record for an option), then '.'. */
static bool dns_prefix_valid(const char *p, size_t len)
{
	if (len < 2 || len >= NETCONF_DNS_PREFIX_MAX || p[0] == '-' ||
	    p[len - 1] != '.')
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if (!(p[i] >= 'a' && p[i] <= 'z') &&
		    !(p[i] >= 'A' && p[i] <= 'Z') &&
		    !(p[i] >= '0' && p[i] <= '9') && p[i] != '-')
			return false;
	return true;
}

/* IFNAME or PREFIX.IFNAME: the record can only ever be this interface's
 * own, whatever a damaged journal says. */
static bool dns_record_valid(const char *record, const char *ifname)
{
	size_t len = strnlen(record, NETCONF_DNS_RECORD_MAX);
	size_t ilen = strlen(ifname);

	if (len >= NETCONF_DNS_RECORD_MAX || len < ilen ||
	    strcmp(record + len - ilen, ifname) || record[0] == '-')
		return false;
	return len == ilen || dns_prefix_valid(record, len - ilen);
}

/* What both the parser and the formatter insist on, so that every line
 * written parses back to the same entry. */
static bool entry_valid(const struct netconf_entry *e)
{
	if (!ifname_valid(e->ifname) || e->ifindex <= 0)
		return false;
	switch (e->kind) {
	case NETCONF_MTU:
		return e->mtu > 0;
	case NETCONF_UP:
	case NETCONF_NFT:
	case NETCONF_RESOLVED:
		return true;
	case NETCONF_ADDR:
	case NETCONF_ROUTE:
		return prefix_valid(e);
	case NETCONF_RULE:
		return rule_valid(&e->rule);
	case NETCONF_SYSCTL:
		return netconf_sysctl_known(e->sysctl);
	case NETCONF_DNS:
		return dns_record_valid(e->record, e->ifname);
	case NETCONF_UNREACHABLE:
		return prefix_addr_len(e->family) && e->table;
	case NETCONF_SESSIONS:
		return e->table > 0;
	}
	return false;
}

static const char *family_name(int family)
{
	return family == AF_INET ? "inet" : "inet6";
}

/* "- 32" for "no fwmark, suppress_prefixlength 32": the rule's fields
 * after TABLE. */
static void rule_tail(const struct netlink_rule *r, char *buf, size_t len)
{
	char mark[16] = "-", sup[16] = "-";

	if (r->has_fwmark)
		snprintf(mark, sizeof(mark), "%u", r->fwmark);
	if (r->suppress_prefixlen >= 0)
		snprintf(sup, sizeof(sup), "%d", r->suppress_prefixlen);
	snprintf(buf, len, "%s %s %s", mark, r->invert ? "not" : "-", sup);
}

/* The fields after kind, ifname and ifindex. */
static int format_rest(const struct netconf_entry *e, char *buf, size_t len)
{
	char text[NETCONF_PREFIX_TEXT];

	switch (e->kind) {
	case NETCONF_MTU:
		return snprintf(buf, len, " %u", e->mtu);
	case NETCONF_UP:
	case NETCONF_NFT:
	case NETCONF_RESOLVED:
		return snprintf(buf, len, "%s", "");
	case NETCONF_ADDR:
	case NETCONF_ROUTE:
		netconf_prefix_text(e->family, e->addr, e->prefixlen, text,
				    sizeof(text));
		if (e->kind == NETCONF_ADDR)
			return snprintf(buf, len, " %s %s",
					family_name(e->family), text);
		return snprintf(buf, len, " %s %s %u", family_name(e->family),
				text, e->table);
	case NETCONF_RULE:
		rule_tail(&e->rule, text, sizeof(text));
		return snprintf(buf, len, " %s %u %u %s",
				family_name(e->rule.family), e->rule.priority,
				e->rule.table, text);
	case NETCONF_SYSCTL:
		return snprintf(buf, len, " %s %u",
				netconf_sysctl_name(e->sysctl), e->value);
	case NETCONF_DNS:
		return snprintf(buf, len, " %s", e->record);
	case NETCONF_UNREACHABLE:
		return snprintf(buf, len, " %s %u %u", family_name(e->family),
				e->table, e->metric);
	case NETCONF_SESSIONS:
		return snprintf(buf, len, " %u", e->table);
	}
	return -1;
}

int netconf_entry_format(const struct netconf_entry *e, char *buf,
			 size_t len)
{
	char rest[NETCONF_LINE_MAX + 2];
	int n;

	if (!entry_valid(e))
		return -EINVAL;
	n = format_rest(e, rest, sizeof(rest));
	if (n < 0 || (size_t)n >= sizeof(rest))
		return -EINVAL;
	n = snprintf(buf, len, "%s %s %d%s\n", kind_names[e->kind], e->ifname,
		     e->ifindex, rest);
	if (n < 0)
		return -EINVAL;
	return (size_t)n < len ? n : -ENOSPC;
}

/* ---- Parsing --------------------------------------------------------- */

/* Decimal digits only (no sign, no blanks), at most max. */
static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (!decimal_parse(s, max, &v))
		return false;
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

/* "ADDRESS/PREFIXLEN" of the given family. */
static bool parse_prefix(const char *s, int family, uint8_t *addr,
			 uint8_t *plen)
{
	struct prefix p;

	if (!prefix_parse(&p, s, family, 0))
		return false;
	memcpy(addr, p.addr, sizeof(p.addr));
	*plen = p.cidr;
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

/* FWMARK|- not|- SUPPRESS|- */
static bool parse_rule_tail(char **f, struct netlink_rule *r)
{
	uint32_t v;

	r->has_fwmark = strcmp(f[0], "-");
	if (r->has_fwmark && !parse_u32(f[0], UINT32_MAX, &r->fwmark))
		return false;
	r->invert = !strcmp(f[1], "not");
	if (!r->invert && strcmp(f[1], "-"))
		return false;
	r->suppress_prefixlen = -1;
	if (!strcmp(f[2], "-"))
		return true;
	if (!parse_u32(f[2], 128, &v))
		return false;
	r->suppress_prefixlen = (int)v;
	return true;
}

/* FAMILY PRIORITY TABLE FWMARK|- not|- SUPPRESS|- */
static bool parse_rule(char **f, struct netlink_rule *r)
{
	return parse_family(f[0], &r->family) &&
	       parse_u32(f[1], UINT32_MAX, &r->priority) &&
	       parse_u32(f[2], UINT32_MAX, &r->table) &&
	       parse_rule_tail(f + 3, r);
}

static bool parse_sysctl(char **f, struct netconf_entry *e)
{
	for (unsigned int s = 0; netconf_sysctl_known(s); s++) {
		if (!strcmp(f[0], netconf_sysctl_name(s))) {
			e->sysctl = (enum netconf_sysctl)s;
			return parse_u32(f[1], UINT32_MAX, &e->value);
		}
	}
	return false;
}

/* The fields after kind, ifname and ifindex. */
static bool parse_rest(struct netconf_entry *e, char **f, int n)
{
	static const int want[] = {
		[NETCONF_MTU] = 1, [NETCONF_ADDR] = 2, [NETCONF_UP] = 0,
		[NETCONF_ROUTE] = 3, [NETCONF_RULE] = 6, [NETCONF_SYSCTL] = 2,
		[NETCONF_DNS] = 1, [NETCONF_UNREACHABLE] = 3, [NETCONF_NFT] = 0,
		[NETCONF_RESOLVED] = 0, [NETCONF_SESSIONS] = 1,
	};

	if (n != want[e->kind])
		return false;
	switch (e->kind) {
	case NETCONF_MTU:
		return parse_u32(f[0], UINT32_MAX, &e->mtu);
	case NETCONF_UP:
	case NETCONF_NFT:
	case NETCONF_RESOLVED:
		return true;
	case NETCONF_ADDR:
	case NETCONF_ROUTE:
		if (!parse_family(f[0], &e->family) ||
		    !parse_prefix(f[1], e->family, e->addr, &e->prefixlen))
			return false;
		return e->kind == NETCONF_ADDR ||
		       parse_u32(f[2], UINT32_MAX, &e->table);
	case NETCONF_RULE:
		return parse_rule(f, &e->rule);
	case NETCONF_SYSCTL:
		return parse_sysctl(f, e);
	case NETCONF_DNS:
		if (strlen(f[0]) >= sizeof(e->record))
			return false;
		strcpy(e->record, f[0]);
		return true;
	case NETCONF_UNREACHABLE:
		return parse_family(f[0], &e->family) &&
		       parse_u32(f[1], UINT32_MAX, &e->table) &&
		       parse_u32(f[2], UINT32_MAX, &e->metric);
	case NETCONF_SESSIONS:
		return parse_u32(f[0], UINT32_MAX, &e->table);
	}
	return false;
}

#define MAX_FIELDS 9

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
	static const char header[] = NETCONF_JOURNAL_HEADER "\n";
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
