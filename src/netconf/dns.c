/* DNS = ... as wg-quick applies it: the name servers and search domains
 * piped to `resolvconf -a [PREFIX.]IFNAME -m 0 -x`, removed with
 * `resolvconf -d [PREFIX.]IFNAME -f`. resolvconf (Debian's, or
 * openresolv) owns /etc/resolv.conf; we only ever hand it our record.
 * It runs through netconf_run_program (program.c): no shell. */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESOLVCONF "resolvconf"

/* NAME of a line "NAME*", NAME of letters, digits and '-'. */
static bool order_line_prefix(const char *s, size_t len)
{
	if (len < 2 || s[len - 1] != '*')
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	/* resolvconf would read "-x.wg0" as an option: never such a name. */
	return s[0] != '-';
}

static char *trim(char *s)
{
	size_t len = strlen(s);

	while (len && strchr(" \t\r\n", s[len - 1]))
		s[--len] = '\0';
	return s + strspn(s, " \t");
}

int netconf_resolvconf_prefix(const char *path, char *out, size_t out_len)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *s;
	size_t cap = 0, len;
	int ret = 0;

	if (out_len)
		out[0] = '\0';
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) > 0) {
		s = trim(line);
		len = strlen(s);
		if (!order_line_prefix(s, len))
			continue;
		if (len + 1 > out_len || len + 1 > NETCONF_DNS_PREFIX_MAX) {
			ret = -ENAMETOOLONG;
			break;
		}
		/* "tun*" gives "tun." */
		memcpy(out, s, len - 1);
		out[len - 1] = '.';
		out[len] = '\0';
		break;
	}
	if (ferror(f) && !ret)
		ret = -EIO;
	free(line);
	fclose(f);
	return ret;
}

/* resolvconf first, as wg-quick; systemd-resolved without it. */
static enum netconf_dns_via dns_via(const struct config *cfg)
{
	/* As wg-quick: search domains alone are not applied. */
	if (!cfg->dns.n)
		return NETCONF_DNS_NONE;
	if (netconf_on_path(RESOLVCONF))
		return NETCONF_DNS_RESOLVCONF;
	if (netconf_resolved_usable())
		return NETCONF_DNS_RESOLVED;
	return NETCONF_DNS_NONE;
}

/* The way DNS goes, into *via; a refusal when it is set and has none. */
static int dns_tool(const struct config *cfg, enum netconf_dns_via *via,
		    char *err, size_t err_len)
{
	*via = dns_via(cfg);
	if (*via != NETCONF_DNS_NONE || !cfg->dns.n)
		return 0;
	return netconf_fail(err, err_len, -ENOENT,
			    "DNS is set but there is no resolvconf (no `%s' "
			    "on PATH) and no running systemd-resolved "
			    "(resolvectl and %s): install resolvconf or "
			    "openresolv, start systemd-resolved, or remove "
			    "DNS from the config", RESOLVCONF,
			    NETCONF_RESOLVED_SOCKET);
}

int netconf_check_tools(const struct config *cfg, char *err, size_t err_len)
{
	enum netconf_dns_via via;

	return dns_tool(cfg, &via, err, err_len);
}

int netconf_plan_dns(struct netconf_plan *plan, char *err, size_t err_len)
{
	int ret = dns_tool(plan->cfg, &plan->dns_via, err, err_len);

	if (ret || plan->dns_via != NETCONF_DNS_RESOLVCONF)
		return ret;
	ret = netconf_resolvconf_prefix(NETCONF_RESOLVCONF_ORDER,
					plan->dns_prefix,
					sizeof(plan->dns_prefix));
	if (ret)
		return netconf_fail(err, err_len, ret, "cannot read `%s': %s",
				    NETCONF_RESOLVCONF_ORDER, strerror(-ret));
	return 0;
}

/* "nameserver A\n..." then "search D1 D2\n", as wg-quick prints them. */
static char *dns_input(const struct config *cfg, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < cfg->dns.n; i++)
		fprintf(f, "nameserver %s\n", cfg->dns.v[i]);
	for (size_t i = 0; i < cfg->dns_search.n; i++)
		fprintf(f, "%s%s", i ? " " : "search ", cfg->dns_search.v[i]);
	if (cfg->dns_search.n)
		fputc('\n', f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

int netconf_apply_dns(struct netconf_run *r, const struct netconf_plan *p)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_DNS);
	char *argv[] = { RESOLVCONF, "-a", e.record, "-m", "0", "-x", NULL };
	char detail[64], *input;
	size_t len = 0;
	int ret;

	if (p->dns_via == NETCONF_DNS_RESOLVED)
		return netconf_apply_resolved(r, p);
	if (p->dns_via != NETCONF_DNS_RESOLVCONF)
		return 0;
	snprintf(e.record, sizeof(e.record), "%s%s", p->dns_prefix,
		 r->ifname);
	input = dns_input(p->cfg, &len);
	if (!input)
		return netconf_fail(r->err, r->err_len, -ENOMEM,
				    "out of memory");
	ret = netconf_run_program(argv, input, len, detail, sizeof(detail));
	free(input);
	if (ret)
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot set DNS: `resolvconf -a %s -m 0 "
				    "-x' failed: %s", e.record, detail);
	return netconf_record(r, &e);
}

int netconf_undo_dns(const struct netconf_entry *e, char *detail,
		     size_t detail_len)
{
	char record[NETCONF_DNS_RECORD_MAX];
	char *argv[] = { RESOLVCONF, "-d", record, "-f", NULL };

	snprintf(record, sizeof(record), "%s", e->record);
	return netconf_run_program(argv, "", 0, detail, detail_len);
}
