/* Hook commands: expand "%i", spawn the shell, wait, judge the status. */
#include "src/daemon/hooks.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/log.h"
#include "src/spawn.h"

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

/* The shell gets "-e" and, when it is bash, pipefail and extglob:
 * wg-quick runs hooks in a subshell of its own "set -e -o pipefail" and
 * "shopt -s extglob", so "false; echo x" stops at false there too. */
static int run_one(const char *shell, const char *cmd, char *err,
		   size_t err_len)
{
	char *bash_argv[] = { (char *)shell, "-e", "-o", "pipefail", "-O",
			      "extglob", "-c", (char *)cmd, NULL };
	char *sh_argv[] = { (char *)shell, "-e", "-c", (char *)cmd, NULL };
	char detail[64];
	int status, ret;

	log_info("[#] %s", cmd);
	ret = spawn_wait(is_bash(shell) ? bash_argv : sh_argv, -1, &status);
	if (ret) {
		snprintf(err, err_len, "cannot run `%s' with %s: %s", cmd,
			 shell, strerror(-ret));
		return ret;
	}
	if (spawn_succeeded(status, detail, sizeof(detail)))
		return 0;
	/* The command ran and said no, which no system error means. */
	snprintf(err, err_len, "`%s' %s", cmd, detail);
	return -ECANCELED;
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
