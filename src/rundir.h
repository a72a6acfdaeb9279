/* Where a running interface keeps its files: RINGVPN_RUNDIR (for tests)
 * or /run/ringvpn, holding IFNAME.pid (the name lock: src/daemon/name_lock.h),
 * IFNAME.stats and IFNAME.journal.
 *
 * Those files say which peers exist and where they are, and the journal
 * says what `down` will delete, so the directory is the daemon's alone:
 * made 0700, and one that exists must be a real directory owned by the
 * daemon's effective uid that nobody else may write to (in a directory
 * others can write, they could plant a symlink where we are about to
 * write); `up` checks that first. Files in it are 0600 and opened
 * O_NOFOLLOW. Root's `down`, `show` and `syncconf` may act on a
 * directory that an unprivileged daemon owns (the hardened mode). */
#ifndef RINGVPN_SRC_RUNDIR_H
#define RINGVPN_SRC_RUNDIR_H

#include <stddef.h>

/* RINGVPN_RUNDIR when set and not empty, else /run/ringvpn. */
const char *rundir_dir(void);

/* Makes the run directory (0700) or checks the one there as above.
 * -EPERM for one that is not ours alone, with err (when not NULL) saying
 * what is wrong with it; or mkdir's or lstat's -errno. */
int rundir_check(char *err, size_t err_len);

/* Writes DIR/IFNAME.SUFFIX into out, making DIR (0700) when it is not
 * there. -EINVAL for a name ifname_valid refuses, -ENAMETOOLONG when out
 * is too short, or mkdir's -errno. */
int rundir_path(const char *ifname, const char *suffix, char *out,
		size_t out_len);

/* A new 0600 file at path for writing, replacing a leftover one at that
 * name but never following a symlink (O_EXCL | O_NOFOLLOW): the fd, or
 * -errno. */
int rundir_create(const char *path);

/* Creates a directory that others must read, 0755 whatever the umask
 * (the UAPI socket directory: wg-quick runs its userspace implementation
 * under umask 077); one that exists is left as it is. */
int rundir_make_shared(const char *dir);

#endif
