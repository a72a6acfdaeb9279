/* The network settings of a config applied to the TUN interface (MTU,
 * addresses, link up, routes), each change recorded in a journal file
 * right after the kernel accepted it, so that it can be undone exactly:
 * by `ringvpn down`, on a failure half-way through, or by the next `up`
 * after a crash (netconf_down on the journal left behind).
 *
 * What is recorded is only what we changed: an address or route the
 * kernel already had, an MTU already right and a link already up are not
 * ours and are left alone on the way down.
 *
 * The journal is a text file, one change a line, fields separated by one
 * space, every line ending in '\n':
 *
 *	ringvpn-journal 1
 *	mtu IFNAME IFINDEX OLD_MTU
 *	addr IFNAME IFINDEX inet|inet6 ADDRESS/PREFIXLEN
 *	up IFNAME IFINDEX
 *	route IFNAME IFINDEX inet|inet6 DESTINATION/PREFIXLEN TABLE
 *
 * "mtu" holds the MTU to restore and "up" means the link was down before;
 * both are undone too, since `up` may have attached to a persistent TUN
 * that outlives us (for our own TUN they cost a line each and are undone
 * a moment before the device goes). Numbers are decimal, addresses in
 * inet_ntop form, and a route's destination has no host bits. Empty lines
 * and lines starting with '#' are ignored.
 *
 * An entry is undone on the interface named IFNAME, and only when that
 * name still has index IFINDEX: a device that went away (a crashed run's
 * TUN) took our addresses and routes with it, and one created since under
 * the same name, with a new index, holds nothing of ours.
 *
 * A crash can at worst leave the last line torn (no '\n'): that line is
 * ignored, as is the one change made between the kernel's answer and the
 * journal write. */
#ifndef RINGVPN_SRC_NETCONF_H
#define RINGVPN_SRC_NETCONF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlink/rtnl.h"
#include "src/config.h"

/* When cfg->mtu is 0, as wg-quick without an endpoint route to measure. */
#define NETCONF_DEFAULT_MTU 1420
#define NETCONF_RUNDIR "/run/ringvpn"
#define NETCONF_RUNDIR_ENV "RINGVPN_RUNDIR"
/* Largest journal netconf_down reads: a config at CONFIG_MAX_FILE with
 * the shortest AllowedIPs lines gives well under this. */
#define NETCONF_JOURNAL_MAX (128u << 20)
/* Longest journal line, without its '\n'. */
#define NETCONF_LINE_MAX 128

struct netconf_options {
	bool nodad;	/* IPv6 addresses skip duplicate address detection */
};

/* Applies cfg to the interface ifname (index ifindex), in this order: the
 * MTU (cfg->mtu, or NETCONF_DEFAULT_MTU), every Address, link up, then a
 * route to the interface for every AllowedIPs prefix (masked) of every
 * peer: in the main table for Table = auto, in table_id for a number,
 * none for off. Everything is checked before anything changes: a /0
 * AllowedIPs with Table = auto is -EOPNOTSUPP (that needs wg-quick's
 * policy routing, which ringvpn does not do yet). The journal is created
 * at journal_path, which must not exist (-EEXIST: undo the previous run
 * with netconf_down first), and fsync'd after every change. opt may be
 * NULL. On failure everything done is undone in reverse order and the
 * journal removed (kept only when the undoing failed too, and the message
 * says so); returns -errno with a message like "cannot add address
 * 10.0.0.1/24 to wg0: File exists". */
int netconf_up(struct netlink *nl, const char *ifname, int ifindex,
	       const struct config *cfg, const char *journal_path,
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
 * when missing. -EINVAL for a name netconf_ifname_valid refuses,
 * -ENAMETOOLONG when out is too short, or mkdir's -errno. */
int netconf_journal_path(const char *ifname, char *out, size_t out_len);

/* Whether a name the kernel would accept and the journal can hold: 1 to
 * IFNAMSIZ - 1 printable characters, none of them ' ', '/' or ':', and
 * not "." or "..". */
bool netconf_ifname_valid(const char *ifname);

/* ---- The journal's parser, on its own for the fuzz target ------------- */

enum netconf_kind {
	NETCONF_MTU,
	NETCONF_ADDR,
	NETCONF_UP,
	NETCONF_ROUTE,
};

struct netconf_entry {
	enum netconf_kind kind;
	char ifname[IFNAMSIZ];
	int ifindex;		/* > 0 */
	int family;		/* addr, route: AF_INET or AF_INET6 */
	uint8_t addr[16];	/* addr, route; 4 or 16 bytes used */
	uint8_t prefixlen;	/* addr, route */
	uint32_t table;		/* route: 1 or more */
	uint32_t mtu;		/* mtu: the one to restore, 1 or more */
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
