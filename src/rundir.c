#include "src/rundir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int rundir_path(const char *ifname, const char *suffix, char *out,
		size_t out_len)
{
	const char *dir = getenv("RINGVPN_RUNDIR");
	int n;

	if (!dir || !*dir)
		dir = "/run/ringvpn";
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	n = snprintf(out, out_len, "%s/%s.%s", dir, ifname, suffix);
	return n < 0 || (size_t)n >= out_len ? -ENAMETOOLONG : 0;
}
