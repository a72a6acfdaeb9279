#include "src/daemon/file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/io.h"

/* The temporary file gets the old one's mode before any text is in it,
 * so a 0600 file's keys are never readable by others, not even briefly
 * (mkstemp makes it 0600 to begin with). The mode before the owner:
 * once the file is another's, only its owner (or CAP_FOWNER) may
 * change the mode. */
static int fill(int fd, const struct stat *old, const char *text,
		size_t len, int *owner_lost)
{
	int ret;

	if (fchmod(fd, old->st_mode & 07777))
		return -errno;
	if ((old->st_uid != geteuid() || old->st_gid != getegid()) &&
	    fchown(fd, old->st_uid, old->st_gid))
		*owner_lost = 1;
	ret = write_all(fd, text, len);
	if (!ret && fsync(fd))
		ret = -errno;
	return ret;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

int file_replace(const char *path, const char *text, size_t len,
		 int *owner_lost)
{
	char real[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 16];
	struct stat old;
	int fd, ret;

	*owner_lost = 0;
	if (!realpath(path, real) || stat(real, &old))
		return -errno;
	snprintf(dir, sizeof(dir), "%s", real);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", real);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fill(fd, &old, text, len, owner_lost);
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, real))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	return sync_dir(dirname(dir));
}
