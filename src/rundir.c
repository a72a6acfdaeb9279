#include "src/rundir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int rundir_path(const char *ifname, const char *suffix, char *out,
		size_t out_len)
{
	const char *dir = getenv("RINGVPN_RUNDIR");
	int n;

	if (!dir || !*dir)
		dir = "/run/ringvpn";
	n = snprintf(out, out_len, "%s/%s.%s", dir, ifname, suffix);
	if (n < 0 || (size_t)n >= out_len)
		return -ENAMETOOLONG;
	return rundir_make(dir);
}

int rundir_make(const char *dir)
{
	if (!mkdir(dir, 0755))
		return chmod(dir, 0755) ? -errno : 0; /* past the umask */
	return errno == EEXIST ? 0 : -errno;
}

pid_t rundir_read_pid(const char *ifname)
{
	char path[256];
	long pid = 0;
	FILE *f;

	if (rundir_path(ifname, "pid", path, sizeof(path)))
		return 0;
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1 || pid < 0)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}
