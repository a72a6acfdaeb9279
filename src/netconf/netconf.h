/* The network settings of a config applied to the TUN interface (MTU,
 * addresses, link up, DNS, routes, and wg-quick's full-tunnel policy
 * routing), each change recorded in a journal file right after it was
 * made, so that it can be undone exactly: by `ringvpn down`, on a failure
 * half-way through, or by the next `up` after a crash (netconf_down on
 * the journal left behind).
 *
 * What is recorded is only what we changed: an address, route or rule
 * the kernel already had, an MTU already right, a link already up and a
 * sysctl already set are not ours and are left alone on the way down.
 *
 * The journal is a text file, one change a line, fields separated by one
 * space, every line ending in '\n':
 *
 *	ringvpn-journal 1
 *	mtu IFNAME IFINDEX OLD_MTU
 *	addr IFNAME IFINDEX FAMILY ADDRESS/PREFIXLEN
 *	up IFNAME IFINDEX
 *	route IFNAME IFINDEX FAMILY DESTINATION/PREFIXLEN TABLE
 *	rule IFNAME IFINDEX FAMILY PRIORITY TABLE FWMARK|- not|- SUPPRESS|-
 *	sysctl IFNAME IFINDEX NAME OLD_VALUE
 *	dns IFNAME IFINDEX RECORD
 *	unreachable IFNAME IFINDEX FAMILY TABLE METRIC
 *	nft IFNAME IFINDEX
 *	resolved IFNAME IFINDEX
 *	sessions IFNAME IFINDEX TABLE
 *
 * FAMILY is inet or inet6. "mtu" holds the MTU to restore and "up" means
 * the link was down before; both are undone too, since `up` may have
 * attached to a persistent TUN that outlives us. A "rule" is the policy
 * rule "[not] [fwmark FWMARK] lookup TABLE [suppress_prefixlength N]" at
 * the priority the kernel gave it ("-" for no fwmark, no "not", no
 * suppress_prefixlength; priority 0 matches any). A "sysctl" names one
 * of the few sysctls netconf sets (net.ipv4.conf.all.src_valid_mark) and
 * the value to write back. "dns" is the resolvconf record (IFNAME, or
 * PREFIX.IFNAME) to delete with `resolvconf -d RECORD -f`. "sessions"
 * says that the daemon keeps the routes of live sessions in TABLE
 * (SessionTable), through the device with protocol
 * NETCONF_SESSION_PROTOCOL: its undo removes every such route that is
 * left. An
 * "unreachable" is the kill switch's default route of the family in
 * TABLE, at METRIC, behind the one through the device. Numbers are
 * decimal, addresses in inet_ntop form, and a route's destination has no
 * host bits. Empty lines and lines starting with '#' are ignored.
 *
 * mtu, addr, up, route, sessions and resolved entries are undone on the interface named
 * IFNAME, and only when that name still has index IFINDEX: a device that
 * went away (a crashed run's TUN) took our addresses and routes with it,
 * and one created since under the same name, with a new index, holds
 * nothing of ours. rule, sysctl, dns, unreachable and nft entries belong
 * to the host, not the device, and are undone whatever became of it.
 *
 * A crash can at worst leave the last line torn (no '\n'): that line is
 * ignored, as is the one change made between its success and the
 * journal write. */
#ifndef RINGVPN_SRC_NETCONF_H
#define RINGVPN_SRC_NETCONF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlink/rtnl.h"
#include "src/config.h"

/* The path MTU wg-quick assumes when there is no route to measure: with
 * no MTU =, the interface then gets this minus NETCONF_MTU_OVERHEAD. */
#define NETCONF_FALLBACK_PATH_MTU 1500u
/* What wg-quick takes off a path's MTU: the IPv6 header (40), UDP (8)
 * and WireGuard's data header and tag (32). */
#define NETCONF_MTU_OVERHEAD 80u
#define NETCONF_RUNDIR "/run/ringvpn"
#define NETCONF_RUNDIR_ENV "RINGVPN_RUNDIR"
/* Largest journal netconf_down reads: a config at CONFIG_MAX_FILE with
 * the shortest AllowedIPs lines gives well under this. */
#define NETCONF_JOURNAL_MAX (128u << 20)
/* Longest journal line, without its '\n'. */
#define NETCONF_LINE_MAX 128
/* The first table a full tunnel may take, as wg-quick. */
#define NETCONF_FULL_TABLE_FIRST 51820u
/* Where resolvconf(8) says which records go first; see
 * netconf_resolvconf_prefix. */
#define NETCONF_RESOLVCONF_ORDER "/etc/resolvconf/interface-order"
/* A resolvconf record prefix ("tun."), with its NUL. */
#define NETCONF_DNS_PREFIX_MAX 32
/* systemd-resolved's socket: there while it runs. */
#define NETCONF_RESOLVED_SOCKET "/run/systemd/resolve/io.systemd.Resolve"
#define NETCONF_DNS_RECORD_MAX (NETCONF_DNS_PREFIX_MAX + IFNAMSIZ)
/* The kill switch's unreachable default routes: the worst metric there
 * is, so that the device's default route (0 for IPv4, 1024 for IPv6)
 * always comes first while it exists. */
#define NETCONF_KILL_SWITCH_METRIC UINT32_MAX
/* The rtm_protocol of SessionTable's routes, which the daemon adds and
 * removes as sessions come and go: a number of ringvpn's own (iproute2's
 * rt_protos names none 82), for a routing daemon to filter on. */
#define NETCONF_SESSION_PROTOCOL 82
#define NETCONF_MAX_WARNINGS 3
#define NETCONF_WARNING_MAX 256

/* How DNS = ... is applied: resolvconf when installed, else a running
 * systemd-resolved. */
enum netconf_dns_via {
	NETCONF_DNS_NONE,
	NETCONF_DNS_RESOLVCONF,
	NETCONF_DNS_RESOLVED,
};

struct netconf_options {
	bool nodad;	/* IPv6 addresses skip duplicate address detection */
};

/* What netconf_up will do, decided before anything changes (and before
 * the daemon's UDP sockets are opened, since they carry fwmark). */
struct netconf_plan {
	const struct config *cfg;
	/* A /0 AllowedIPs of the family with Table = auto: wg-quick's
	 * full-tunnel scheme (index 0 IPv4, 1 IPv6). */
	bool full[2];
	uint32_t table;		/* of the full tunnel; 0 without one */
	/* The table of the kill switch that netconf_recover kept in the
	 * journal for netconf_up to take over; 0 for none. */
	uint32_t kept_table;
	uint32_t fwmark;	/* the UDP sockets': cfg->fwmark or table */
	bool ipv6_off;		/* IPv6 disabled on the host: skip it */
	bool src_valid_mark_ro;	/* to be set, but /proc/sys is ro */
	bool nft;		/* a full tunnel, and nft to add its rules */
	enum netconf_dns_via dns_via;
	char dns_prefix[NETCONF_DNS_PREFIX_MAX];	/* "" or "tun." */
	/* The interface's MTU, and for the log where it comes from ("1400
	 * from the path to 192.0.2.1, minus 80", "set by MTU ="). */
	unsigned int mtu;
	char mtu_why[96];
	/* For the caller to log, each once: IPv6 things skipped, a sysctl
	 * that could not be set. */
	unsigned int n_warnings;
	char warnings[NETCONF_MAX_WARNINGS][NETCONF_WARNING_MAX];
};

/* The programs a config needs on this system (with DNS servers:
 * resolvconf, or else resolvectl and a running systemd-resolved):
 * checked by `up` before it runs PreUp or changes anything. Returns 0
 * or -ENOENT with a message saying what to install. */
int netconf_check_tools(const struct config *cfg, char *err, size_t err_len);

/* Plans cfg, which must outlive the plan, as wg-quick(8) would apply it:
 * full[] when a peer's AllowedIPs has a /0 and cfg->table is
 * CONFIG_TABLE_AUTO; then table = cfg->fwmark when set, else the first
 * table from NETCONF_FULL_TABLE_FIRST up that no route or rule uses, and
 * fwmark = table. Without a full tunnel fwmark is cfg->fwmark. Reads
 * whether IPv6 is disabled on the host (warning when cfg has IPv6
 * addresses, routes or a ::/0), whether net.ipv4.conf.all.src_valid_mark
 * can be set where it has to be (warning when /proc/sys is read-only),
 * and the resolvconf prefix. The MTU is cfg->mtu, or as wg-quick the
 * largest MTU of the routes to the peers' endpoints (resolved now,
 * asked with the plan's fwmark), else that of the main table's IPv4 (then
 * IPv6) default route, else NETCONF_FALLBACK_PATH_MTU, minus
 * NETCONF_MTU_OVERHEAD. With DNS servers in cfg and neither resolvconf
 * on PATH nor a running systemd-resolved, -ENOENT (as
 * netconf_check_tools). Changes nothing. */
int netconf_plan(struct netlink *nl, const struct config *cfg,
		 struct netconf_plan *plan, char *err, size_t err_len);
/* netconf_plan after netconf_recover kept a kill switch in table
 * kept_table (0: none): the full tunnel takes that table again, and
 * netconf_up continues the journal that holds it instead of creating
 * one. */
int netconf_plan_after(struct netlink *nl, const struct config *cfg,
		       uint32_t kept_table, struct netconf_plan *plan,
		       char *err, size_t err_len);

/* Undoes what a crashed run's journal records before cfg is brought up,
 * as netconf_down, but for a kill switch that cfg keeps (KillSwitch on,
 * a full tunnel of the family, and a FwMark that is unset or its
 * table): its unreachable routes and policy rules stay, the journal is
 * rewritten to hold only them, and *kept_table says their table, for
 * netconf_plan_after. So traffic stays refused, not leaked, until the
 * new tunnel is there. *kept_table is 0 when nothing was kept. */
int netconf_recover(struct netlink *nl, const char *journal_path,
		    const struct config *cfg, uint32_t *kept_table,
		    char *err, size_t err_len);

/* Applies plan->cfg to the interface ifname (index ifindex), in
 * wg-quick's order: every Address, the MTU (plan->mtu, which
 * netconf_plan always sets), link up, DNS (plan->dns_via: resolvconf or
 * systemd-resolved), then a route to the interface for every AllowedIPs
 * prefix (masked) of every peer: in the main table for Table = auto, in
 * table_id for a number, none for off. A /0 with Table = auto goes instead into plan->table, after the
 * rules "not fwmark M lookup T" and "lookup main suppress_prefixlength
 * 0" of its family; for IPv4, net.ipv4.conf.all.src_valid_mark is then
 * set to 1 unless it is already. IPv6 is skipped when plan->ipv6_off.
 * With cfg->kill_switch, each full family's table also gets an
 * unreachable default route behind the device's. With a SessionTable,
 * last, a "sessions" entry, before the daemon adds any route there.
 * Everything is checked
 * before anything changes. The journal is created at journal_path, which
 * must not exist (-EEXIST: undo the previous run with netconf_down or
 * netconf_recover first), unless plan->kept_table says that
 * netconf_recover left it holding a kill switch: then it is continued,
 * and a failure undoes this call's changes but keeps the kill switch
 * and the journal that holds it (the message says so), for `down`.
 * opt may be NULL. On failure everything done
 * is undone in reverse order and the journal removed (kept only when the
 * undoing failed too, and the message says so); returns -errno with a
 * message like "cannot add address 10.0.0.1/24 to wg0: File exists". */
int netconf_up(struct netlink *nl, const char *ifname, int ifindex,
	       const struct netconf_plan *plan, const char *journal_path,
	       const struct netconf_options *opt, char *err, size_t err_len);

/* Undoes the journal's entries in reverse order and removes it. Things
 * already gone (-ENOENT, -ENODEV, -ESRCH) are fine. A missing journal is
 * nothing to do (0). Other errors do not stop the undoing: the first is
 * returned and the journal kept, so that a later call can finish (what is
 * already undone is then already gone). A journal without its first line
 * is -EBADMSG, nothing undone, and kept for a human to look at; lines not
 * understood after it are skipped, everything else is undone, the journal
 * is removed and -EBADMSG says which line was skipped. */
int netconf_down(struct netlink *nl, const char *journal_path, char *err,
		 size_t err_len);

/* Writes $RINGVPN_RUNDIR/IFNAME.journal (or NETCONF_RUNDIR's when the
 * variable is unset or empty) into out, creating the directory (0755)
 * when missing. -EINVAL for a name ifname_valid refuses,
 * -ENAMETOOLONG when out is too short, or mkdir's -errno. */
int netconf_journal_path(const char *ifname, char *out, size_t out_len);

/* The prefix of resolvconf records as wg-quick's resolvconf_iface_prefix:
 * "NAME." for the first line of the file at path that is NAME* (NAME of
 * letters, digits and '-'; blanks around the line ignored), "" when there
 * is none or no file. -errno when the file cannot be read. */
int netconf_resolvconf_prefix(const char *path, char *out, size_t out_len);

/* The nft table of interface ifname: "ringvpn-IFNAME", with the '+'
 * and '=' that nft does not take in a name as '_'. */
void netconf_nft_table(const char *ifname, char *out, size_t len);
/* The nft script (for `nft -f -`) that replaces the table of ifname
 * with the full tunnel's rules of the plan: *out is malloc'ed, *len
 * its length. 0 or -ENOMEM. */
int netconf_nft_script(const char *ifname, const struct netconf_plan *p,
		       char **out, size_t *len);

enum netconf_resolvectl_cmd {
	NETCONF_RESOLVECTL_DNS,		/* resolvectl dns IFNAME SERVER... */
	NETCONF_RESOLVECTL_DOMAIN,	/* resolvectl domain IFNAME D... [~.] */
};

/* The argv (NULL-terminated, malloc'ed; its strings are ifname's and
 * cfg's, which must outlive it) of one resolvectl command for cfg's DNS
 * on ifname. The domain command ends in "~." when full (a full tunnel:
 * every name goes to the tunnel's servers). *out is NULL when there is
 * nothing to say (no search domain and not full). 0 or -ENOMEM. The
 * undo, `resolvectl revert IFNAME`, is a fixed command line. */
int netconf_resolvectl_argv(enum netconf_resolvectl_cmd cmd,
			    const char *ifname, const struct config *cfg,
			    bool full, char ***out);

/* ---- The journal's parser, on its own for the fuzz target ------------- */

enum netconf_kind {
	NETCONF_MTU,
	NETCONF_ADDR,
	NETCONF_UP,
	NETCONF_ROUTE,
	NETCONF_RULE,
	NETCONF_SYSCTL,
	NETCONF_DNS,
	NETCONF_UNREACHABLE,
	NETCONF_NFT,
	NETCONF_RESOLVED,
	NETCONF_SESSIONS,
};

/* The sysctls a "sysctl" entry may name: nothing else is ever written. */
enum netconf_sysctl {
	NETCONF_SRC_VALID_MARK,	/* net.ipv4.conf.all.src_valid_mark */
};

struct netconf_entry {
	enum netconf_kind kind;
	char ifname[IFNAMSIZ];
	int ifindex;		/* > 0 */
	int family;		/* addr, route, unreachable: AF_INET(6) */
	uint8_t addr[16];	/* addr, route; 4 or 16 bytes used */
	uint8_t prefixlen;	/* addr, route */
	uint32_t table;		/* route, unreachable, sessions: 1 or more */
	uint32_t metric;	/* unreachable */
	uint32_t mtu;		/* mtu: the one to restore, 1 or more */
	/* rule: as netlink_rule_del takes it (has_fwmark iff fwmark) */
	struct netlink_rule rule;
	enum netconf_sysctl sysctl;	/* sysctl */
	uint32_t value;			/* sysctl: the one to restore */
	char record[NETCONF_DNS_RECORD_MAX];	/* dns: IFNAME, P.IFNAME */
};

struct netconf_journal {
	struct netconf_entry *v;
	size_t n;
	unsigned int bad_lines;		/* skipped as not understood */
	unsigned int first_bad_line;	/* 1-based; 0 when none */
};

/* Parses len bytes (any bytes; no NUL needed) into *j, which is
 * overwritten. Returns 0; -EBADMSG when the first line is not the
 * journal's header (*j then empty); or -ENOMEM. Entry lines that do not
 * parse are counted in bad_lines and skipped. Empty input, or a header
 * torn before its '\n', is an empty journal. */
int netconf_journal_parse(struct netconf_journal *j, const char *buf,
			  size_t len);
void netconf_journal_free(struct netconf_journal *j);

/* One entry as its journal line, '\n' included, NUL-terminated. Returns
 * the length, or -EINVAL for an entry that the parser would refuse, or
 * -ENOSPC when len is too short (NETCONF_LINE_MAX + 2 is enough). */
int netconf_entry_format(const struct netconf_entry *e, char *buf,
			 size_t len);

#endif
