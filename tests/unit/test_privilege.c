/* Least privilege (src/daemon/privilege.c) is per thread: a worker that drops
 * everything leaves the thread that made it as it was; the control
 * thread keeps CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, as ambient ones
 * too, with the securebits locked and no_new_privs set; and a program it
 * then runs as root gets those two and nothing else. Needs root; Check
 * runs every test in a process of its own, so the drops do not leak. */
#include <check.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/daemon/privilege.h"
#include "tests/unit/check_main.h"

#define ALL_LOCKED                                                         \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |   \
	 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED)

/* FIELD ("CapEff", "NoNewPrivs") of /proc/thread-self/status, or of the
 * file at path. */
static unsigned long long field_of(const char *path, const char *field)
{
	char line[256];
	unsigned long long v = ~0ULL;
	size_t len = strlen(field);
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			v = strtoull(line + len + 1, NULL,
				     field[0] == 'C' ? 16 : 10);
	fclose(f);
	return v;
}

static unsigned long long mine(const char *field)
{
	return field_of("/proc/thread-self/status", field);
}

static void *drop_all(void *arg)
{
	unsigned long long *eff = arg;

	if (privilege_drop(0))
		return NULL;
	eff[0] = mine("CapEff");
	eff[1] = mine("CapBnd");
	eff[2] = mine("NoNewPrivs");
	return arg;
}

START_TEST(a_thread_drops_only_its_own)
{
	unsigned long long got[3], before = mine("CapEff");
	pthread_t t;
	void *ret;

	ck_assert(before & (1ULL << CAP_SYS_ADMIN));
	ck_assert_int_eq(pthread_create(&t, NULL, drop_all, got), 0);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_ptr_nonnull(ret);
	ck_assert_uint_eq(got[0], 0);
	ck_assert_uint_eq(got[1], 0);
	ck_assert_uint_eq(got[2], 1);
	ck_assert_uint_eq(mine("CapEff"), before);
	ck_assert_uint_eq(mine("NoNewPrivs"), 0);
}
END_TEST

START_TEST(control_keeps_two_and_locks)
{
	ck_assert_int_eq(privilege_drop(PRIVILEGE_KEEP), 0);
	ck_assert_uint_eq(mine("CapEff"), PRIVILEGE_KEEP);
	ck_assert_uint_eq(mine("CapPrm"), PRIVILEGE_KEEP);
	ck_assert_uint_eq(mine("CapBnd"), PRIVILEGE_KEEP);
	ck_assert_uint_eq(mine("CapAmb"), PRIVILEGE_KEEP);
	ck_assert_uint_eq(mine("NoNewPrivs"), 1);
	ck_assert_int_eq(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), ALL_LOCKED);
	/* Locked: not even turned off again. */
	ck_assert_int_ne(prctl(PR_SET_SECUREBITS, 0, 0, 0, 0), 0);
}
END_TEST

/* What a PreDown/PostDown hook of a root daemon gets: uid 0, the two
 * capabilities (ambient), nothing from being root. */
START_TEST(a_program_run_after_gets_two)
{
	char out[64];
	int status, fd;
	pid_t pid;

	ck_assert_int_eq(privilege_drop(PRIVILEGE_KEEP), 0);
	snprintf(out, sizeof(out), "/tmp/rv-priv.XXXXXX");
	fd = mkstemp(out);
	ck_assert_int_ge(fd, 0);
	pid = fork();
	if (!pid) {
		dup2(fd, STDOUT_FILENO);
		execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_uint_eq(field_of(out, "CapEff"), PRIVILEGE_KEEP);
	ck_assert_uint_eq(field_of(out, "CapPrm"), PRIVILEGE_KEEP);
	ck_assert_uint_eq(field_of(out, "NoNewPrivs"), 1);
	ck_assert_uint_eq(field_of(out, "Uid"), 0);
	close(fd);
	unlink(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("privilege");
	TCase *tc = tcase_create("privilege");

	if (geteuid() != 0)
		return 77;
	tcase_add_test(tc, a_thread_drops_only_its_own);
	tcase_add_test(tc, control_keeps_two_and_locks);
	tcase_add_test(tc, a_program_run_after_gets_two);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
