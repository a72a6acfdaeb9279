#include "src/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int file_actions(posix_spawn_file_actions_t *fa, int in_fd)
{
	int ret = in_fd >= 0 ?
		posix_spawn_file_actions_adddup2(fa, in_fd, STDIN_FILENO) :
		posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null",
						 O_RDONLY, 0);

	return ret ? ret : posix_spawn_file_actions_addclosefrom_np(fa, 3);
}

static int default_signals(posix_spawnattr_t *at)
{
	sigset_t none, all;
	int ret;

	sigemptyset(&none);
	sigfillset(&all);
	ret = posix_spawnattr_setsigmask(at, &none);
	if (!ret)
		ret = posix_spawnattr_setsigdefault(at, &all);
	if (!ret)
		ret = posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK |
						   POSIX_SPAWN_SETSIGDEF);
	return ret;
}

/* posix_spawn's results are positive error numbers. */
static int spawn(char *const argv[], int in_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int ret = posix_spawn_file_actions_init(&fa);

	if (ret)
		return -ret;
	ret = posix_spawnattr_init(&at);
	if (ret)
		goto out_fa;
	ret = file_actions(&fa, in_fd);
	if (!ret)
		ret = default_signals(&at);
	if (!ret)
		ret = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
out_fa:
	posix_spawn_file_actions_destroy(&fa);
	return -ret;
}

int spawn_wait(char *const argv[], int in_fd, int *status)
{
	pid_t pid;
	int ret = spawn(argv, in_fd, &pid);

	if (ret)
		return ret;
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

bool spawn_succeeded(int status, char *detail, size_t detail_len)
{
	const char *name;

	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return true;
	if (WIFEXITED(status)) {
		snprintf(detail, detail_len, "exited with status %d",
			 WEXITSTATUS(status));
		return false;
	}
	name = sigabbrev_np(WTERMSIG(status));
	snprintf(detail, detail_len, "was killed by signal %d (SIG%s)",
		 WTERMSIG(status), name ? name : "?");
	return false;
}
