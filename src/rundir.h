/* Where a running interface keeps its files: RINGVPN_RUNDIR (for tests)
 * or /run/ringvpn, then IFNAME.pid, IFNAME.stats, IFNAME.journal. */
#ifndef RINGVPN_SRC_RUNDIR_H
#define RINGVPN_SRC_RUNDIR_H

#include <stddef.h>
#include <sys/types.h>

/* Writes DIR/IFNAME.SUFFIX into out, creating DIR (0755) if needed. */
int rundir_path(const char *ifname, const char *suffix, char *out,
		size_t out_len);

/* Creates dir 0755 whatever the umask (wg-quick runs its userspace
 * implementation under umask 077); one that exists is left as it is. */
int rundir_make(const char *dir);

/* The pid in IFNAME.pid, or 0 when there is none. */
pid_t rundir_read_pid(const char *ifname);

#endif
