/* Who owns an interface name. A daemon's first step is to take a POSIX
 * write lock on RUNDIR/NAME.pid and write its pid there; it holds the
 * lock for its whole life, and the kernel drops it when the process dies,
 * however it dies. So:
 * - a second `up` of NAME learns at once that NAME is taken, before it
 *   touches anything (and a journal is replayed only by the lock holder);
 * - a pid file nobody holds a lock on is stale, whatever pid it names;
 * - the holder's pid comes from the kernel (F_GETLK), never from the
 *   file's text, and is pinned with a pidfd before it is signalled, so a
 *   reused pid is never signalled.
 * POSIX locks, not flock or OFD locks, because only they report their
 * holder's pid. They belong to the process and are lost when it closes
 * any fd of the file: nothing else in the daemon opens it. */
#ifndef RINGVPN_SRC_NAME_LOCK_H
#define RINGVPN_SRC_NAME_LOCK_H

#include <sys/types.h>

struct name_lock {
	int fd; /* -1: not held */
	char path[256];
};

/* Takes NAME's lock: 0 and *lock held; -EEXIST when a live process holds
 * it, with *holder its pid (0 when it is in a pid namespace we cannot
 * see); -EINVAL for a bad name; or another -errno. Whether the file
 * existed (with a pid of a run that is gone) is told by *stale, which
 * may be NULL. */
int name_lock_take(struct name_lock *lock, const char *ifname,
		   pid_t *holder, pid_t *stale);
/* Writes our pid into the lock file (the daemon, once it holds it). */
int name_lock_write_pid(struct name_lock *lock);
/* Removes the file and drops the lock. Safe on a lock not held. */
void name_lock_release(struct name_lock *lock);

/* A pidfd (O_CLOEXEC) of the process that holds NAME's lock, with *pid
 * its pid: -ENOENT when nobody does, -EREMOTE when the holder is outside
 * our pid namespace, -EINVAL for a bad name, or another -errno. */
int name_lock_holder(const char *ifname, pid_t *pid);
/* Sends sig to NAME's holder through its pidfd: 0, or as
 * name_lock_holder. */
int name_lock_signal(const char *ifname, int sig);

#endif
