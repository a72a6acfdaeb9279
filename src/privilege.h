/* Least privilege: what the daemon keeps once its interface is up. */
#ifndef RINGVPN_SRC_PRIVILEGE_H
#define RINGVPN_SRC_PRIVILEGE_H

#include <linux/capability.h>
#include <stdint.h>

/* The capabilities a running tunnel still uses: CAP_NET_ADMIN (netlink
 * changes on the way down and on reload, sysctls, SO_MARK and the
 * socket-buffer overrides of a listen-port change) and
 * CAP_NET_BIND_SERVICE (a new listen port below 1024). */
#define PRIVILEGE_KEEP \
	((1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_BIND_SERVICE))

/* Drops every other capability from the effective, permitted and
 * inheritable sets, and from the bounding set when we may (CAP_SETPCAP),
 * so that neither the daemon nor a hook it runs can get them back. A
 * process that never had them (run as a user with ambient capabilities)
 * keeps what it has of the two. Returns 0 or -errno of capget/capset. */
int privilege_drop(void);

/* The effective set, as a bit mask (for logs and tests). */
int privilege_effective(uint64_t *mask);

#endif
