#include "src/daemon/name_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/rundir.h"

/* A holder that is on its way out unlinks the file: whoever opened it
 * just before gets a lock on a name nobody sees. A few tries settle it. */
#define TAKE_TRIES 8

/* Who holds a write lock on fd's file: true with *pid (0: another pid
 * namespace), false when nobody does. */
static bool held_by(int fd, pid_t *pid)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_GETLK, &fl) || fl.l_type == F_UNLCK)
		return false;
	*pid = fl.l_pid;
	return true;
}

/* Whether fd is still the file at path. */
static bool still_at(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* The pid a file names, 0 for none: what a run that is gone left. */
static pid_t pid_in(int fd)
{
	char text[24] = "";
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	long pid = n > 0 ? strtol(text, NULL, 10) : 0;

	return pid > 0 ? (pid_t)pid : 0;
}

/* One try: 0 held, -EEXIST with *holder, -EAGAIN to try again. */
static int try_take(struct name_lock *lock, pid_t *holder, pid_t *stale)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(lock->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		      0600);

	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETLK, &fl)) {
		int ret = errno == EACCES || errno == EAGAIN ? -EAGAIN : -errno;

		if (ret == -EAGAIN && held_by(fd, holder))
			ret = -EEXIST;
		close(fd);
		return ret;
	}
	if (!still_at(fd, lock->path)) {
		close(fd);
		return -EAGAIN;
	}
	if (stale)
		*stale = pid_in(fd);
	lock->fd = fd;
	return 0;
}

int name_lock_take(struct name_lock *lock, const char *ifname,
		   pid_t *holder, pid_t *stale)
{
	int ret = rundir_path(ifname, "pid", lock->path, sizeof(lock->path));

	lock->fd = -1;
	if (ret)
		return ret;
	for (int i = 0; i < TAKE_TRIES; i++) {
		ret = try_take(lock, holder, stale);
		if (ret != -EAGAIN)
			break;
	}
	return ret;
}

int name_lock_write_pid(struct name_lock *lock)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

	if (ftruncate(lock->fd, 0) || pwrite(lock->fd, text, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

void name_lock_release(struct name_lock *lock)
{
	if (lock->fd < 0)
		return;
	unlink(lock->path); /* before the lock goes: see TAKE_TRIES */
	close(lock->fd);
	lock->fd = -1;
}

/* Pins pid with a pidfd, then asks again: had the holder died before
 * the pidfd was made, its pid could be someone else's by now. */
static int pin_holder(int fd, pid_t *pid)
{
	pid_t again;
	int pidfd;

	if (!held_by(fd, pid))
		return -ENOENT;
	if (*pid <= 0)
		return -EREMOTE;
	pidfd = pidfd_open(*pid, 0);
	if (pidfd < 0)
		return errno == ESRCH ? -EAGAIN : -errno;
	if (held_by(fd, &again) && again == *pid)
		return pidfd;
	close(pidfd);
	return -EAGAIN;
}

int name_lock_holder(const char *ifname, pid_t *pid)
{
	char path[256];
	int ret = rundir_path(ifname, "pid", path, sizeof(path)), fd;

	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = -EAGAIN;
	for (int i = 0; ret == -EAGAIN && i < TAKE_TRIES; i++)
		ret = pin_holder(fd, pid);
	close(fd);
	return ret;
}

int name_lock_signal(const char *ifname, int sig)
{
	pid_t pid;
	int pidfd = name_lock_holder(ifname, &pid), ret;

	if (pidfd < 0)
		return pidfd;
	ret = pidfd_send_signal(pidfd, sig, NULL, 0) ? -errno : 0;
	close(pidfd);
	return ret;
}
