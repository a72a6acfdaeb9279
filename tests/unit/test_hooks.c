/* Hook commands: "%i" expansion as bash's ${hook//%i/X}, order and the
 * stop at the first failure (commands append to a file), the messages
 * for an exit status and a signal, what the child inherits (environment)
 * and what it must not (blocked or ignored signals, stdin, descriptors),
 * wg-quick's errexit/pipefail, and a shell that cannot be run. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/daemon/hooks.h"
#include "tests/unit/check_main.h"

struct expand_case {
	const char *cmd, *ifname, *want;
};

/* The expected column was checked against bash 5.2's ${hook//%i/$IF}. */
static const struct expand_case expansions[] = {
	{ "", "wg0", "" },
	{ "echo up", "wg0", "echo up" },
	{ "%i", "wg0", "wg0" },
	{ "ip link set %i up", "wg0", "ip link set wg0 up" },
	{ "a %i b %i", "wg0", "a wg0 b wg0" },
	{ "%i%i", "wg0", "wg0wg0" },
	{ "%%i", "wg0", "%wg0" }, /* no escape */
	{ "%ii", "wg0", "wg0i" },
	{ "x%", "wg0", "x%" },
	{ "%", "wg0", "%" },
	{ "%I %d", "wg0", "%I %d" },
	{ "%i", "a%ib", "a%ib" }, /* the name is not scanned again */
	{ "<%i>", "", "<>" },
	{ "%i.%i", "verylongname015", "verylongname015.verylongname015" },
};

START_TEST(test_expand)
{
	const struct expand_case *c = &expansions[_i];
	char *got = hooks_expand(c->cmd, c->ifname);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, c->want);
	free(got);
}
END_TEST

/* A fresh directory with a log file path for commands to append to. */
struct scratch {
	char dir[64];
	char log[96];
};

static void scratch_init(struct scratch *t)
{
	strcpy(t->dir, "/tmp/ringvpn-hooks.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->log, sizeof(t->log), "%s/log", t->dir);
}

static void scratch_free(struct scratch *t)
{
	unlink(t->log);
	rmdir(t->dir);
}

/* The log's contents ("" when there is none). */
static void log_eq(const struct scratch *t, const char *want)
{
	char buf[256] = "";
	FILE *f = fopen(t->log, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

/* A list of commands: printf formats given the log path ("%%i" for a
 * hook's "%i"). */
static struct config_strings cmds(const struct scratch *t,
				  const char *const *v, size_t n)
{
	struct config_strings l = { calloc(n, sizeof(char *)), n };

	ck_assert_ptr_nonnull(l.v);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_ge(asprintf(&l.v[i], v[i], t->log), 0);
	}
	return l;
}

static void cmds_free(struct config_strings *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* Runs the commands through shell (NULL: hooks_run's choice) for "wg0";
 * returns what it returned, with its message in err. */
static int run(const char *shell, const struct scratch *t,
	       const char *const *v, size_t n, char *err, size_t err_len)
{
	struct config_strings l = cmds(t, v, n);
	int ret;

	if (shell)
		ret = hooks_run_shell(shell, &l, "wg0", err, err_len);
	else
		ret = hooks_run(&l, "wg0", err, err_len);
	cmds_free(&l);
	return ret;
}

#define RUN(shell, t, v, err) \
	run(shell, t, v, sizeof(v) / sizeof(v[0]), err, sizeof(err))

START_TEST(test_order)
{
	static const char *const v[] = {
		"echo one >> %s", "echo two-%%i >> %s", "echo three >> %s",
	};
	struct scratch t;
	char err[256] = "untouched";

	scratch_init(&t);
	ck_assert_int_eq(RUN(NULL, &t, v, err), 0);
	log_eq(&t, "one\ntwo-wg0\nthree\n");
	ck_assert_str_eq(err, "untouched");
	scratch_free(&t);
}
END_TEST

START_TEST(test_stops_at_failure)
{
	static const char *const v[] = {
		"echo one >> %s", "echo two >> %s; exit 3", "echo three >> %s",
	};
	struct scratch t;
	char err[512], want[512];

	scratch_init(&t);
	ck_assert_int_eq(RUN(NULL, &t, v, err), -ECANCELED);
	log_eq(&t, "one\ntwo\n");
	snprintf(want, sizeof(want),
		 "`echo two >> %s; exit 3' exited with status 3", t.log);
	ck_assert_str_eq(err, want);
	scratch_free(&t);
}
END_TEST

START_TEST(test_signal)
{
	static const char *const v[] = { "kill -KILL $$", "echo no >> %s" };
	struct scratch t;
	char err[256];

	scratch_init(&t);
	ck_assert_int_eq(RUN(NULL, &t, v, err), -ECANCELED);
	ck_assert_str_eq(err, "`kill -KILL $$' was killed by signal 9 "
			 "(SIGKILL)");
	log_eq(&t, "");
	scratch_free(&t);
}
END_TEST

/* As in wg-quick's subshell: errexit stops a hook at its first failing
 * command, and pipefail makes a pipeline fail with any of its parts. */
START_TEST(test_errexit_pipefail)
{
	static const char *const errexit[] = { "false; echo no >> %s" };
	static const char *const pipefail[] = { "false | true" };
	struct scratch t;
	char err[256];

	scratch_init(&t);
	ck_assert_int_eq(RUN(NULL, &t, errexit, err), -ECANCELED);
	log_eq(&t, "");
	ck_assert_int_eq(RUN("/bin/sh", &t, errexit, err), -ECANCELED);
	log_eq(&t, "");
	if (!access(HOOKS_BASH, X_OK)) {
		ck_assert_int_eq(RUN(NULL, &t, pipefail, err), -ECANCELED);
		ck_assert_str_eq(err, "`false | true' exited with status 1");
	}
	scratch_free(&t);
}
END_TEST

/* Hooks written for wg-quick use bash syntax, extglob included. */
START_TEST(test_bash_syntax)
{
	static const char *const v[] = {
		"[[ %%i == wg* ]] && a=(x y) && echo ${#a[@]} >> %s",
		"shopt -q extglob && [[ %%i == +(w|g|0) ]]",
	};
	struct scratch t;
	char err[256];

	if (access(HOOKS_BASH, X_OK))
		return;
	scratch_init(&t);
	ck_assert_msg(RUN(NULL, &t, v, err) == 0, "%s", err);
	log_eq(&t, "2\n");
	scratch_free(&t);
}
END_TEST

START_TEST(test_environment_and_stdin)
{
	static const char *const v[] = {
		"[ \"$RINGVPN_HOOK_TEST\" = 'a b' ]",
		"[ \"$(readlink /proc/self/fd/0)\" = /dev/null ]",
	};
	struct scratch t;
	char err[256];

	ck_assert_int_eq(setenv("RINGVPN_HOOK_TEST", "a b", 1), 0);
	scratch_init(&t);
	ck_assert_msg(RUN(NULL, &t, v, err) == 0, "%s", err);
	scratch_free(&t);
}
END_TEST

/* The daemon blocks signals for its signalfd and ignores some: a hook
 * must start with neither, or "kill" in a hook would do nothing. */
START_TEST(test_signals_reset)
{
	static const char *const blocked[] = { "kill -USR1 $$; exit 0" };
	static const char *const ignored[] = { "kill -TERM $$; exit 0" };
	struct scratch t;
	sigset_t set;
	char err[256];

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &set, NULL), 0);
	ck_assert(signal(SIGTERM, SIG_IGN) != SIG_ERR);
	scratch_init(&t);
	ck_assert_int_eq(RUN(NULL, &t, blocked, err), -ECANCELED);
	ck_assert_str_eq(err, "`kill -USR1 $$; exit 0' was killed by signal "
			 "10 (SIGUSR1)");
	ck_assert_int_eq(RUN(NULL, &t, ignored, err), -ECANCELED);
	ck_assert_str_eq(err, "`kill -TERM $$; exit 0' was killed by signal "
			 "15 (SIGTERM)");
	scratch_free(&t);
}
END_TEST

/* A descriptor left open without O_CLOEXEC (a TUN queue, say) must not
 * reach the hook. */
START_TEST(test_descriptors_closed)
{
	char cmd[64], err[256];
	char *v[1] = { cmd };
	struct config_strings l = { v, 1 };
	int fd = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(fd, 3);
	snprintf(cmd, sizeof(cmd), "[ ! -e /proc/$$/fd/%d ]", fd);
	ck_assert_msg(hooks_run(&l, "wg0", err, sizeof(err)) == 0, "%s", err);
	close(fd);
}
END_TEST

START_TEST(test_bad_shell)
{
	static const char *const v[] = { "echo no >> %s" };
	struct scratch t;
	char err[512], want[512], path[128];
	int fd;

	scratch_init(&t);
	ck_assert_int_eq(RUN("/nonexistent/sh", &t, v, err), -ENOENT);
	snprintf(want, sizeof(want), "cannot run `echo no >> %s' with "
		 "/nonexistent/sh: %s", t.log, strerror(ENOENT));
	ck_assert_str_eq(err, want);

	/* Not executable: even root needs one x bit to exec. */
	snprintf(path, sizeof(path), "%s/sh", t.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(RUN(path, &t, v, err), -EACCES);
	log_eq(&t, "");
	unlink(path);
	scratch_free(&t);
}
END_TEST

START_TEST(test_nothing_to_run)
{
	struct config_strings none = { NULL, 0 };
	char err[16] = "untouched";

	ck_assert_int_eq(hooks_run(&none, "wg0", err, sizeof(err)), 0);
	ck_assert_int_eq(hooks_run_shell("/nonexistent", &none, "wg0", err,
					 sizeof(err)), 0);
	ck_assert_str_eq(err, "untouched");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hooks");
	TCase *expand = tcase_create("expand");
	TCase *runs = tcase_create("run");

	tcase_add_loop_test(expand, test_expand, 0,
			    sizeof(expansions) / sizeof(expansions[0]));
	tcase_add_test(runs, test_order);
	tcase_add_test(runs, test_stops_at_failure);
	tcase_add_test(runs, test_signal);
	tcase_add_test(runs, test_errexit_pipefail);
	tcase_add_test(runs, test_bash_syntax);
	tcase_add_test(runs, test_environment_and_stdin);
	tcase_add_test(runs, test_signals_reset);
	tcase_add_test(runs, test_descriptors_closed);
	tcase_add_test(runs, test_bad_shell);
	tcase_add_test(runs, test_nothing_to_run);
	tcase_set_timeout(runs, 30);
	suite_add_tcase(s, expand);
	suite_add_tcase(s, runs);
	return run_suite(s);
}
