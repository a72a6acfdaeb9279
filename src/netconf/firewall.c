/* wg-quick's firewall rules for a full tunnel, through nft(8): one table
 * per interface, "inet ringvpn-IFNAME", with, for each full family,
 *
 *  - at raw priority (prerouting -300), a drop of packets addressed to
 *    the tunnel's own addresses that arrive on another interface from a
 *    non-local source: without it, anyone on the underlay's link could
 *    reach services bound to the tunnel address;
 *  - the connmark pair: the daemon's marked UDP packets save their mark
 *    in the connection (postrouting -150), and UDP replies get it back
 *    (prerouting -150) before the reverse-path check, which with
 *    src_valid_mark then looks them up as marked, in the main table:
 *    so strict rp_filter does not drop the tunnel's own replies.
 *
 * The script first adds and deletes the table, so that it replaces a
 * table a crash left (one nft transaction: all or nothing); the undo is
 * the same add-and-delete, fine when the table is already gone. Without
 * nft the plan warns and the policy rules go on alone. */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NFT "nft"
/* Makes sure table exists, then deletes it: no error either way. */
#define DROP_TABLE "add table inet %s\ndelete table inet %s\n"

void netconf_nft_table(const char *ifname, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "ringvpn-%s", ifname);

	/* '+' and '=' may be in an interface name, not in nft's. */
	for (size_t i = 0; i < n && i < len; i++)
		if (out[i] == '+' || out[i] == '=')
			out[i] = '_';
}

/* The anti-spoofing drops of one family, one per tunnel address. */
static void raw_rules(FILE *f, const char *ifname, const struct config *cfg,
		      int family)
{
	const char *pf = family == AF_INET ? "ip" : "ip6";
	char ip[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < cfg->n_addresses; i++) {
		const struct prefix *a = &cfg->addresses[i];

		if (a->family != family ||
		    !inet_ntop(family, a->addr, ip, sizeof(ip)))
			continue;
		fprintf(f, "\t\tiifname != \"%s\" %s daddr %s fib saddr type "
			"!= local drop\n", ifname, pf, ip);
	}
}

static const char *nfproto(int family)
{
	return family == AF_INET ? "ipv4" : "ipv6";
}

int netconf_nft_script(const char *ifname, const struct netconf_plan *p,
		       char **out, size_t *len)
{
	static const int families[] = { AF_INET, AF_INET6 };
	char table[IFNAMSIZ + 16];
	FILE *f = open_memstream(out, len);

	if (!f)
		return -ENOMEM;
	netconf_nft_table(ifname, table, sizeof(table));
	fprintf(f, DROP_TABLE, table, table);
	fprintf(f, "table inet %s {\n\tchain preraw {\n\t\ttype filter hook "
		"prerouting priority -300;\n", table);
	for (size_t i = 0; i < 2; i++)
		if (p->full[i])
			raw_rules(f, ifname, p->cfg, families[i]);
	fprintf(f, "\t}\n\tchain premangle {\n\t\ttype filter hook "
		"prerouting priority -150;\n");
	for (size_t i = 0; i < 2; i++)
		if (p->full[i])
			fprintf(f, "\t\tmeta nfproto %s meta l4proto udp "
				"meta mark set ct mark\n", nfproto(families[i]));
	fprintf(f, "\t}\n\tchain postmangle {\n\t\ttype filter hook "
		"postrouting priority -150;\n");
	for (size_t i = 0; i < 2; i++)
		if (p->full[i])
			fprintf(f, "\t\tmeta nfproto %s meta l4proto udp "
				"mark %u ct mark set mark\n",
				nfproto(families[i]), p->fwmark);
	fprintf(f, "\t}\n}\n");
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

bool netconf_firewall_available(void)
{
	return netconf_on_path(NFT);
}

static int run_nft(const char *script, size_t len, char *detail,
		   size_t detail_len)
{
	char *argv[] = { NFT, "-f", "-", NULL };

	return netconf_run_program(argv, script, len, detail, detail_len);
}

int netconf_apply_firewall(struct netconf_run *r,
			   const struct netconf_plan *p)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_NFT);
	char *script = NULL, detail[64];
	size_t len = 0;
	int ret;

	if (!p->nft)
		return 0;
	ret = netconf_nft_script(r->ifname, p, &script, &len);
	if (ret)
		return netconf_fail(r->err, r->err_len, ret, "out of memory");
	ret = run_nft(script, len, detail, sizeof(detail));
	free(script);
	if (ret)
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot add the firewall rules of %s: "
				    "`nft -f -' failed: %s", r->ifname, detail);
	return netconf_record(r, &e);
}

int netconf_undo_firewall(const struct netconf_entry *e, char *detail,
			  size_t detail_len)
{
	char table[IFNAMSIZ + 16], script[128];
	int len;

	netconf_nft_table(e->ifname, table, sizeof(table));
	len = snprintf(script, sizeof(script), DROP_TABLE, table, table);
	return run_nft(script, (size_t)len, detail, detail_len);
}
