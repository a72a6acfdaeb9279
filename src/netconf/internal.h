/* Shared by the netconf_*.c files only: the state of one netconf_up run,
 * recording a change, and the small helpers several of them use. */
#ifndef RINGVPN_SRC_NETCONF_INTERNAL_H
#define RINGVPN_SRC_NETCONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/io.h"
#include "src/netconf/netconf.h"

#define NETCONF_JOURNAL_HEADER "ringvpn-journal 1"
/* "fd00::1/64" with room to spare. */
#define NETCONF_PREFIX_TEXT 64

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
	/* The first n_kept of done: changes of an earlier run (a kill switch
	 * netconf_recover kept) that a roll-back leaves in place. */
	size_t n_kept;
	char *err;
	size_t err_len;
};

/* ---- run.c ----------------------------------------------------- */
/* Writes the message into err (when there is one) and returns ret. */
int netconf_fail(char *err, size_t err_len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The journal's header, then the lines of the n entries of v, to fd
 * (no fsync, see run.c). */
int netconf_journal_write(int fd, const struct netconf_entry *v, size_t n);
/* The journal at path holds the n entries of v from now on (replaced in
 * one rename), or is removed when n is 0. */
int netconf_journal_keep(const char *path, const struct netconf_entry *v,
			 size_t n, char *err, size_t err_len);
/* Called right after e was made: keeps it for the undo and writes its
 * journal line. */
int netconf_record(struct netconf_run *r, const struct netconf_entry *e);
/* An entry of kind for r's interface, everything else zero. */
struct netconf_entry netconf_entry_of(const struct netconf_run *r,
				      enum netconf_kind kind);

/* "10.0.0.1/24" */
void netconf_prefix_text(int family, const uint8_t *addr, uint8_t plen,
			 char *buf, size_t len);

/* ---- undo.c ---------------------------------------------------- */

/* Undoes all of v, last first, on past failures: the first is returned
 * with its message. */
int netconf_undo_all(struct netlink *nl, const struct netconf_entry *v,
		     size_t n, char *err, size_t err_len);

/* The journal at path, parsed: -ENOENT (no message) when there is
 * none, other failures with their message. */
int netconf_journal_load(const char *path, struct netconf_journal *j,
			 char *err, size_t err_len);

/* ---- program.c ------------------------------------------------- */

/* Whether posix_spawnp would find name on PATH. */
bool netconf_on_path(const char *name);
/* Runs argv[0] with len bytes of input on its stdin, and waits. -EIO
 * for an exit other than 0; any failure described in detail. */
int netconf_run_program(char *const argv[], const char *input, size_t len,
			char *detail, size_t detail_len);

/* ---- sysctl.c -------------------------------------------------- */

/* "net.ipv4.conf.all.src_valid_mark" */
const char *netconf_sysctl_name(enum netconf_sysctl s);
/* Whether s is one of enum netconf_sysctl. */
bool netconf_sysctl_known(unsigned int s);
int netconf_sysctl_read(enum netconf_sysctl s, uint32_t *value);
int netconf_sysctl_write(enum netconf_sysctl s, uint32_t value);
/* 0 when s can be written; -EROFS (or -EACCES) where /proc/sys is
 * mounted read-only, as in many containers. */
int netconf_sysctl_writable(enum netconf_sysctl s);
/* No /proc/sys/net/ipv6 (ipv6.disable=1), or its all.disable_ipv6 set. */
bool netconf_ipv6_disabled(void);

/* ---- plan.c ---------------------------------------------------- */

/* Whether p is a /0 that the full-tunnel scheme routes (Table = auto),
 * IPv6 included even when the plan skips it. */
bool netconf_is_full(const struct config *cfg, const struct prefix *p);
/* Whether some peer has such a /0 of family. */
bool netconf_has_full(const struct config *cfg, int family);
/* Adds a warning to the plan (dropped when there are too many). */
void netconf_plan_warn(struct netconf_plan *plan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- mtu.c ----------------------------------------------------- */

/* plan->mtu and mtu_why; after the full tunnel's fwmark is planned. */
void netconf_plan_mtu(struct netlink *nl, struct netconf_plan *plan);

/* ---- full.c ---------------------------------------------------- */

/* The rules, default routes and sysctl of the plan's full tunnel. */
int netconf_apply_full(struct netconf_run *r, const struct netconf_plan *p);
/* Most changes netconf_apply_full can make. */
#define NETCONF_FULL_CHANGES 10
/* Adds the route (masked) to r's interface in table; already there is
 * not ours and not recorded. Shared with the plain AllowedIPs routes. */
int netconf_apply_route(struct netconf_run *r, const struct prefix *p,
			uint32_t table);

/* ---- rule_text.c ----------------------------------------------- */

/* "not fwmark 51820 lookup 51820", "lookup main suppress_prefixlength 0" */
void netconf_rule_text(const struct netlink_rule *rule, char *buf,
		       size_t len);

/* ---- kill_switch.c -------------------------------------------- */

/* The unreachable default route of family behind the device's in table. */
int netconf_apply_kill_switch(struct netconf_run *r, int family,
			      uint32_t table);
/* Takes over the journal netconf_recover left (r->path), which must
 * exist: its entries become r's (n_kept), and r's changes go on after
 * them. */
int netconf_resume(struct netconf_run *r);

/* ---- firewall.c ------------------------------------------------ */

/* Whether nft is there for the full tunnel's table (plan.c decides). */
bool netconf_firewall_available(void);
/* The full tunnel's nft table, when plan->nft. */
int netconf_apply_firewall(struct netconf_run *r,
			   const struct netconf_plan *p);
/* Deletes the table; -ENOENT without nft, -EIO with the status in
 * detail when nft fails. */
int netconf_undo_firewall(const struct netconf_entry *e, char *detail,
			  size_t detail_len);

/* ---- resolved.c ------------------------------------------------ */

/* resolvectl on PATH and systemd-resolved running. */
bool netconf_resolved_usable(void);
int netconf_apply_resolved(struct netconf_run *r,
			   const struct netconf_plan *p);
/* `resolvectl revert IFNAME`: -ENOENT without resolvectl, -EIO for a
 * non-zero exit, with the status in detail. */
int netconf_undo_resolved(const struct netconf_entry *e, char *detail,
			  size_t detail_len);

/* ---- dns.c ----------------------------------------------------- */

/* The plan's DNS half: resolvconf on PATH and its record prefix, or
 * systemd-resolved. */
int netconf_plan_dns(struct netconf_plan *plan, char *err, size_t err_len);
int netconf_apply_dns(struct netconf_run *r, const struct netconf_plan *p);
/* `resolvconf -d RECORD -f`; -ENOENT without resolvconf, -EIO for a
 * non-zero exit, with the status in detail. */
int netconf_undo_dns(const struct netconf_entry *e, char *detail,
		     size_t detail_len);

#endif
