/* Who owns an interface name (src/daemon/name_lock.c) and the run directory it
 * lives in (src/rundir.c): one owner at a time, its pid from the kernel;
 * a pid file nobody locks is stale and its pid never signalled, even
 * while that pid is alive; names are never paths; a run directory others
 * can write is refused, and files in it are 0600 and never followed
 * through a symlink. Each test has a run directory of its own. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/daemon/name_lock.h"
#include "src/rundir.h"
#include "tests/unit/check_main.h"

static char top[64], run[96];

static void setup(void)
{
	snprintf(top, sizeof(top), "/tmp/rv-lock.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(run, sizeof(run), "%s/run", top);
	setenv("RINGVPN_RUNDIR", run, 1);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	ck_assert_int_eq(system(cmd), 0);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

/* A child that sits in pause() until killed. */
static pid_t idle_child(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (!pid) {
		pause();
		_exit(0);
	}
	return pid;
}

/* The second taker is told who holds it: the first, by pid. */
START_TEST(second_taker_learns_the_holder)
{
	struct name_lock lock;
	pid_t holder = 0, stale = -1, me = getpid(), child;
	int status;

	ck_assert_int_eq(name_lock_take(&lock, "wg0", &holder, &stale), 0);
	ck_assert_int_eq(stale, 0);
	ck_assert_int_eq(name_lock_write_pid(&lock), 0);
	ck_assert_uint_eq(mode_of(run), 0700);
	ck_assert_uint_eq(mode_of(lock.path), 0600);
	child = fork();
	if (!child) {
		struct name_lock other;
		pid_t pid = 0;
		int pidfd;

		if (name_lock_take(&other, "wg0", &pid, NULL) != -EEXIST ||
		    pid != me)
			_exit(1);
		pidfd = name_lock_holder("wg0", &pid);
		_exit(pidfd >= 0 && pid == me ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	name_lock_release(&lock);
	ck_assert_int_eq(access(lock.path, F_OK), -1);
}
END_TEST

/* A pid file left by a killed daemon names a pid that is someone else's
 * now (here: an idle child of ours). Nobody holds the lock, so nothing is
 * signalled; the next taker hears the stale pid. */
START_TEST(stale_pid_is_never_signalled)
{
	struct name_lock lock;
	pid_t stranger = idle_child(), pid = 0, stale = 0;
	char path[160], text[24];
	int fd, n;

	ck_assert_int_eq(rundir_path("wg0", "pid", path, sizeof(path)), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	n = snprintf(text, sizeof(text), "%ld\n", (long)stranger);
	ck_assert_int_eq(write(fd, text, (size_t)n), n);
	close(fd);
	ck_assert_int_eq(name_lock_holder("wg0", &pid), -ENOENT);
	ck_assert_int_eq(name_lock_signal("wg0", SIGTERM), -ENOENT);
	ck_assert_int_eq(waitpid(stranger, NULL, WNOHANG), 0); /* alive */
	ck_assert_int_eq(name_lock_take(&lock, "wg0", &pid, &stale), 0);
	ck_assert_int_eq(stale, stranger);
	name_lock_release(&lock);
	kill(stranger, SIGKILL);
	waitpid(stranger, NULL, 0);
}
END_TEST

/* The kernel drops a dead holder's lock: the name is free at once. */
START_TEST(holder_death_frees_the_name)
{
	struct name_lock lock;
	int sync[2], status;
	pid_t child, pid = 0;
	char c;

	ck_assert_int_eq(pipe(sync), 0);
	child = fork();
	if (!child) {
		if (name_lock_take(&lock, "wg0", &pid, NULL) ||
		    write(sync[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(sync[0], &c, 1), 1);
	ck_assert_int_eq(name_lock_take(&lock, "wg0", &pid, NULL), -EEXIST);
	ck_assert_int_eq(pid, child);
	ck_assert_int_eq(name_lock_signal("wg0", SIGKILL), 0);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(name_lock_holder("wg0", &pid), -ENOENT);
	ck_assert_int_eq(name_lock_take(&lock, "wg0", &pid, NULL), 0);
	name_lock_release(&lock);
}
END_TEST

START_TEST(names_are_not_paths)
{
	static const char *bad[] = { "", ".", "..", "../x", "a/b",
				     "0123456789abcdef", "a b" };
	struct name_lock lock;
	char path[160];
	pid_t pid;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(name_lock_take(&lock, bad[i], &pid, NULL),
				 -EINVAL);
		ck_assert_int_eq(name_lock_holder(bad[i], &pid), -EINVAL);
		ck_assert_int_eq(rundir_path(bad[i], "pid", path,
					     sizeof(path)), -EINVAL);
	}
}
END_TEST

/* Writable by others, a symlink, or someone else's: refused (at `up`),
 * and the message says which. */
START_TEST(run_directory_must_be_ours_alone)
{
	char err[256], real[128];

	ck_assert_int_eq(mkdir(run, 0700), 0);
	ck_assert_int_eq(chmod(run, 0777), 0);
	ck_assert_int_eq(rundir_check(err, sizeof(err)), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "mode 0777"));
	ck_assert_int_eq(chmod(run, 0700), 0);
	ck_assert_int_eq(chown(run, 65534, 65534), 0);
	ck_assert_int_eq(rundir_check(err, sizeof(err)), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "owned by uid 65534"));
	ck_assert_int_eq(rmdir(run), 0);
	snprintf(real, sizeof(real), "%s/real", top);
	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink(real, run), 0);
	ck_assert_int_eq(rundir_check(err, sizeof(err)), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "a symlink"));
}
END_TEST

/* Ours and 0755 (an older ringvpn's): tightened to 0700. */
START_TEST(run_directory_is_tightened)
{
	ck_assert_int_eq(mkdir(run, 0755), 0);
	ck_assert_int_eq(chmod(run, 0755), 0);
	ck_assert_int_eq(rundir_check(NULL, 0), 0);
	ck_assert_uint_eq(mode_of(run), 0700);
}
END_TEST

/* A symlink where a file is about to be written is replaced, never
 * followed: its target keeps its content. */
START_TEST(files_never_follow_symlinks)
{
	char path[160], victim[128], buf[8] = "";
	struct name_lock lock;
	pid_t pid;
	int fd;

	snprintf(victim, sizeof(victim), "%s/victim", top);
	fd = open(victim, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	close(fd);
	ck_assert_int_eq(rundir_path("wg0", "stats.tmp", path, sizeof(path)), 0);
	ck_assert_int_eq(symlink(victim, path), 0);
	fd = rundir_create(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "new", 3), 3);
	close(fd);
	ck_assert_uint_eq(mode_of(path), 0600);
	fd = open(victim, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 4);
	ck_assert_str_eq(buf, "keep");
	close(fd);
	/* The lock file too: a planted link is an error, not a target. */
	ck_assert_int_eq(rundir_path("wg1", "pid", path, sizeof(path)), 0);
	ck_assert_int_eq(symlink(victim, path), 0);
	ck_assert_int_eq(name_lock_take(&lock, "wg1", &pid, NULL), -ELOOP);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("name_lock");
	TCase *tc = tcase_create("name_lock");

	if (geteuid() != 0)
		return 77; /* chown and the run directory's owner checks */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, second_taker_learns_the_holder);
	tcase_add_test(tc, stale_pid_is_never_signalled);
	tcase_add_test(tc, holder_death_frees_the_name);
	tcase_add_test(tc, names_are_not_paths);
	tcase_add_test(tc, run_directory_must_be_ours_alone);
	tcase_add_test(tc, run_directory_is_tightened);
	tcase_add_test(tc, files_never_follow_symlinks);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
