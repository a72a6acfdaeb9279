/* Hook commands: expand "%i", spawn the shell, wait, judge the status. */
#include "src/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/log.h"

extern char **environ;

char *hooks_expand(const char *cmd, const char *ifname)
{
	size_t nlen = strlen(ifname), hits = 0, len = strlen(cmd);
	const char *s, *hit;
	char *out, *o;

	for (s = cmd; (s = strstr(s, "%i")); s += 2)
		hits++;
	if (hits && nlen > 2 && (nlen - 2) > (SIZE_MAX - len - 1) / hits)
		return NULL;
	out = malloc(len - 2 * hits + hits * nlen + 1);
	if (!out)
		return NULL;
	/* Left to right, never rescanning the name: bash's ${hook//%i/X}. */
	for (s = cmd, o = out; (hit = strstr(s, "%i")); s = hit + 2) {
		memcpy(o, s, (size_t)(hit - s));
		o += hit - s;
		memcpy(o, ifname, nlen);
		o += nlen;
	}
	strcpy(o, s);
	return out;
}

/* True when shell's file name is "bash". */
static bool is_bash(const char *shell)
{
	const char *base = strrchr(shell, '/');

	return !strcmp(base ? base + 1 : shell, "bash");
}

/* The child gets the shell, "-e" and, from bash, pipefail and extglob:
 * wg-quick runs hooks in a subshell of its own "set -e -o pipefail" and
 * "shopt -s extglob", so "false; echo x" stops at false there too.
 * Signals are reset because the daemon blocks some for its signalfd and
 * ignores SIGPIPE, and a child inherits both; descriptors from 3 up are
 * closed because a hook that leaves a process behind would otherwise keep
 * the TUN queues and the UAPI socket open after `down'. */
static int spawn(const char *shell, const char *cmd, pid_t *pid)
{
	char *bash_argv[] = { (char *)shell, "-e", "-o", "pipefail", "-O",
			      "extglob", "-c", (char *)cmd, NULL };
	char *sh_argv[] = { (char *)shell, "-e", "-c", (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int ret;

	sigemptyset(&none);
	sigfillset(&all);
	ret = posix_spawn_file_actions_init(&fa);
	if (ret)
		return -ret;
	ret = posix_spawnattr_init(&at);
	if (ret)
		goto out_fa;
	ret = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
					       O_RDONLY, 0);
	if (!ret)
		ret = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!ret)
		ret = posix_spawnattr_setsigmask(&at, &none);
	if (!ret)
		ret = posix_spawnattr_setsigdefault(&at, &all);
	if (!ret)
		ret = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
						    POSIX_SPAWN_SETSIGDEF);
	if (!ret)
		ret = posix_spawn(pid, shell, &fa, &at,
				  is_bash(shell) ? bash_argv : sh_argv,
				  environ);
	posix_spawnattr_destroy(&at);
out_fa:
	posix_spawn_file_actions_destroy(&fa);
	return -ret;
}

static int wait_for(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int judge(const char *cmd, int status, char *err, size_t err_len)
{
	const char *name;

	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	if (WIFEXITED(status)) {
		snprintf(err, err_len, "`%s' exited with status %d", cmd,
			 WEXITSTATUS(status));
	} else {
		name = sigabbrev_np(WTERMSIG(status));
		snprintf(err, err_len, "`%s' was killed by signal %d (SIG%s)",
			 cmd, WTERMSIG(status), name ? name : "?");
	}
	return -ECANCELED;
}

static int run_one(const char *shell, const char *cmd, char *err,
		   size_t err_len)
{
	pid_t pid;
	int status, ret;

	log_info("[#] %s", cmd);
	ret = spawn(shell, cmd, &pid);
	if (ret) {
		snprintf(err, err_len, "cannot run `%s' with %s: %s", cmd,
			 shell, strerror(-ret));
		return ret;
	}
	ret = wait_for(pid, &status);
	if (ret) {
		snprintf(err, err_len, "cannot wait for `%s': %s", cmd,
			 strerror(-ret));
		return ret;
	}
	return judge(cmd, status, err, err_len);
}

int hooks_run_shell(const char *shell, const struct config_strings *hooks,
		    const char *ifname, char *err, size_t err_len)
{
	for (size_t i = 0; i < hooks->n; i++) {
		char *cmd = hooks_expand(hooks->v[i], ifname);
		int ret;

		if (!cmd) {
			snprintf(err, err_len, "out of memory");
			return -ENOMEM;
		}
		ret = run_one(shell, cmd, err, err_len);
		free(cmd);
		if (ret)
			return ret;
	}
	return 0;
}

int hooks_run(const struct config_strings *hooks, const char *ifname,
	      char *err, size_t err_len)
{
	const char *shell = access(HOOKS_BASH, X_OK) ? HOOKS_SH : HOOKS_BASH;

	return hooks_run_shell(shell, hooks, ifname, err, err_len);
}
