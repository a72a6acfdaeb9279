#include "src/rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/ifname.h"

const char *rundir_dir(void)
{
	const char *dir = getenv("RINGVPN_RUNDIR");

	return dir && *dir ? dir : "/run/ringvpn";
}

static int refuse(const char *dir, const struct stat *st, char *err,
		  size_t err_len)
{
	if (err)
		snprintf(err, err_len, "the run directory %s must be a "
			 "directory owned by uid %ld and writable by it alone "
			 "(it is %s, mode %04o, owned by uid %ld)", dir,
			 (long)geteuid(), S_ISDIR(st->st_mode) ?
			 "a directory" : S_ISLNK(st->st_mode) ? "a symlink" :
			 "not a directory", (unsigned)(st->st_mode & 07777),
			 (long)st->st_uid);
	return -EPERM;
}

int rundir_check(char *err, size_t err_len)
{
	const char *dir = rundir_dir();
	struct stat st;

	if (!mkdir(dir, 0700))
		return 0; /* 0700 whatever the umask: it only takes bits */
	if (errno != EEXIST || lstat(dir, &st)) {
		if (err)
			snprintf(err, err_len, "cannot make the run directory "
				 "%s: %m", dir);
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		return refuse(dir, &st, err, err_len);
	/* Ours but readable by others (made by an older ringvpn): the
	 * stats file's endpoints are root's business alone. */
	if ((st.st_mode & 077) && chmod(dir, 0700))
		return -errno;
	return 0;
}

int rundir_path(const char *ifname, const char *suffix, char *out,
		size_t out_len)
{
	int n;

	if (!ifname_valid(ifname))
		return -EINVAL;
	n = snprintf(out, out_len, "%s/%s.%s", rundir_dir(), ifname, suffix);
	if (n < 0 || (size_t)n >= out_len)
		return -ENAMETOOLONG;
	if (mkdir(rundir_dir(), 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int rundir_create(const char *path)
{
	int fd;

	if (unlink(path) && errno != ENOENT)
		return -errno;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	return fd < 0 ? -errno : fd;
}

int rundir_make_shared(const char *dir)
{
	if (!mkdir(dir, 0755))
		return chmod(dir, 0755) ? -errno : 0; /* past the umask */
	return errno == EEXIST ? 0 : -errno;
}
