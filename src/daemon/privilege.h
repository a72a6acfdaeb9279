/* Least privilege: what each thread of a daemon keeps once it runs.
 *
 * Capabilities, securebits and no_new_privs belong to a thread, not to
 * the process, so every thread drops its own: the control thread once
 * the interface is up (PRIVILEGE_KEEP), each worker as its first step
 * (nothing: the threads that parse every unauthenticated datagram and
 * every TUN packet need no capability at all).
 *
 * What this does not do: a daemon started as root stays uid 0, and uid 0
 * may write any file that root owns (the owner's permission bits, no
 * capability needed), and so may a PreDown/PostDown hook it runs. The
 * hardened mode is the daemon as an unprivileged user with the two
 * capabilities as ambient ones (systemd's User= and AmbientCapabilities=;
 * ringvpn(8)). */
#ifndef RINGVPN_SRC_PRIVILEGE_H
#define RINGVPN_SRC_PRIVILEGE_H

#include <linux/capability.h>
#include <stdint.h>

/* The capabilities a running tunnel's control thread still uses:
 * CAP_NET_ADMIN (netlink changes on the way down and on reload, sysctls,
 * SO_MARK and the socket-buffer overrides of a listen-port change) and
 * CAP_NET_BIND_SERVICE (a new listen port below 1024). */
#define PRIVILEGE_KEEP \
	((1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_BIND_SERVICE))

/* What SaveConfig (src/daemon/save_config.h) adds when the file asks
 * for it at `up`: reading and replacing a config file that is not
 * root's (CAP_DAC_OVERRIDE) and giving the new file its owner back
 * (CAP_CHOWN), as wg-quick, which runs with every capability, can. */
#define PRIVILEGE_SAVE ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE))

/* For the calling thread: keeps only keep (a mask of CAP_* bits) of what
 * it has in its effective, permitted and inheritable sets and, when it
 * may (CAP_SETPCAP), in its bounding set; raises what it keeps as
 * ambient capabilities, so a hook it runs has those and no more, even
 * as root; when it may, locks the securebits so that being root gives a
 * program it runs no capability (SECBIT_NOROOT and friends, locked); and
 * sets no_new_privs, so no setuid or file-capability program it runs
 * gains any. Returns 0 or the -errno of the step that failed. */
int privilege_drop(uint64_t keep);

#endif
