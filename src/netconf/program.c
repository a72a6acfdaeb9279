/* The programs netconf runs (resolvconf, nft): found on PATH as
 * posix_spawnp will look, and run as a child (no shell, so nothing in
 * the config is ever interpreted) with its input written into a pipe
 * before it starts: the pipe holds it all, so we never block on a child
 * that does not read, and never write to one that has exited (no
 * SIGPIPE). */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"
#include "src/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* posix_spawnp's search path when PATH is unset (confstr _CS_PATH). */
#define DEFAULT_PATH "/bin:/usr/bin"
/* The most a program's input may be; far beyond a real DNS list or
 * firewall script. */
#define MAX_INPUT (1u << 20)

/* Whether posix_spawnp would find name on PATH. */
bool netconf_on_path(const char *name)
{
	const char *path = getenv("PATH");
	char file[4096];
	struct stat st;

	if (!path)
		path = DEFAULT_PATH;
	while (path) {
		const char *colon = strchr(path, ':');
		int dlen = colon ? (int)(colon - path) : (int)strlen(path);

		/* An empty entry is the current directory. */
		snprintf(file, sizeof(file), "%.*s/%s", dlen ? dlen : 1,
			 dlen ? path : ".", name);
		if (!stat(file, &st) && S_ISREG(st.st_mode) &&
		    !access(file, X_OK))
			return true;
		path = colon ? colon + 1 : NULL;
	}
	return false;
}

/* Whether the pipe can take len bytes without a reader, grown if need
 * be (a pipe may start at one page when the user has many). */
static bool pipe_holds(int fd, size_t len)
{
	int size = fcntl(fd, F_GETPIPE_SZ);

	if (size >= 0 && (size_t)size >= len)
		return true;
	return len <= MAX_INPUT && fcntl(fd, F_SETPIPE_SZ, (int)len) >= 0;
}

/* A pipe already holding input, for the child's stdin. */
static int input_pipe(const char *input, size_t len, int *rfd)
{
	int fds[2], ret = 0;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	if (!pipe_holds(fds[1], len))
		ret = -E2BIG;
	while (!ret && len) {
		ssize_t w = write(fds[1], input, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			break;
		}
		input += w;
		len -= (size_t)w;
	}
	close(fds[1]);
	if (ret)
		close(fds[0]);
	else
		*rfd = fds[0];
	return ret;
}

int netconf_run_program(char *const argv[], const char *input, size_t len,
			char *detail, size_t detail_len)
{
	int in_fd = -1, status, ret = input_pipe(input, len, &in_fd);

	if (!ret) {
		ret = spawn_wait(argv, in_fd, &status);
		close(in_fd);
	}
	if (ret) {
		snprintf(detail, detail_len, "%s", strerror(-ret));
		return ret;
	}
	return spawn_succeeded(status, detail, detail_len) ? 0 : -EIO;
}
