/* PreUp, PostUp, PreDown and PostDown: shell commands run as wg-quick(8)
 * runs them, so that hooks written for wg-quick work unchanged.
 *
 * wg-quick replaces every "%i" with the interface name (bash's
 * ${hook//%i/$INTERFACE}: no escape, "%%i" becomes "%" and the name) and
 * evals the result in a subshell of its own bash, which runs under
 * "set -e -o pipefail" and "shopt -s extglob". Hooks therefore use bash
 * syntax ([[ ]], arrays, <<<), which dash, Debian's /bin/sh, refuses:
 * hooks run as "HOOKS_BASH -e -o pipefail -O extglob -c CMD" when bash is
 * executable, else as "HOOKS_SH -e -c CMD". Each one is logged first as
 * "[#] CMD" (log_info), as wg-quick prints it. Unlike wg-quick, LC_ALL is
 * not forced to C: hooks get the caller's environment as it is. */
#ifndef RINGVPN_SRC_HOOKS_H
#define RINGVPN_SRC_HOOKS_H

#include "src/config.h" /* struct config_strings */

#define HOOKS_BASH "/bin/bash"
#define HOOKS_SH "/bin/sh"

/* Runs each command of hooks (in order) with every "%i" replaced by
 * ifname, through bash (or sh, see above), with the caller's environment,
 * stdin from /dev/null, stdout/stderr inherited, descriptors from 3 up
 * closed, and every signal unblocked and at its default action (the
 * daemon blocks some for its signalfd and ignores SIGPIPE; a child would
 * inherit both). Stops at the first that fails. Returns 0, -ENOMEM,
 * -errno of spawning or waiting, or -ECANCELED when a command exited
 * non-zero or was killed: the command ran and said no, which no system
 * error means (and -ECHILD is what waitpid itself fails with). err names
 * the command (as run, after expansion) and its exit status or signal.
 * The calling thread blocks until each command ends, and must not share
 * its children with a SIGCHLD handler that reaps them. */
int hooks_run(const struct config_strings *hooks, const char *ifname,
	      char *err, size_t err_len);

/* hooks_run with the shell given: for tests, and a missing shell. */
int hooks_run_shell(const char *shell, const struct config_strings *hooks,
		    const char *ifname, char *err, size_t err_len);

/* The expansion alone, for tests: a malloc'd string, or NULL. */
char *hooks_expand(const char *cmd, const char *ifname);

#endif
