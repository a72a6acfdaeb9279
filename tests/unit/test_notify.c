/* sd_notify without libsystemd: which NOTIFY_SOCKET values are taken,
 * that the variable is gone afterwards (hooks must not inherit it), and
 * that a datagram reaches a socket bound at a path and at an abstract
 * name, byte for byte. */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/daemon/notify.h"
#include "tests/unit/check_main.h"

START_TEST(init_values)
{
	static const struct { const char *value; bool enabled; } t[] = {
		/* 1 */ { "/run/systemd/notify", true },
		/* 2 */ { "@abstract-name", true },
		/* 3 */ { "relative/path", false },
		/* 4 */ { "@", false },
		/* 5 */ { "", false },
		/* 6 */ { "vsock:2:1234", false },
	};
	struct notifier n;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		setenv("NOTIFY_SOCKET", t[i].value, 1);
		notify_init(&n);
		ck_assert_msg(n.enabled == t[i].enabled, "line %zu", i + 1);
		ck_assert_msg(!getenv("NOTIFY_SOCKET") == t[i].enabled,
			      "line %zu", i + 1);
	}
	unsetenv("NOTIFY_SOCKET");
	notify_init(&n);
	ck_assert(!n.enabled);
	ck_assert_int_eq(notify_send(&n, "READY=1"), 0);
}
END_TEST

/* Binds a datagram socket where value says; returns its fd. */
static int listen_at(const char *value)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(value);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memcpy(sun.sun_path, value, strlen(value));
	if (value[0] == '@')
		sun.sun_path[0] = '\0';
	else
		len++;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

static void heard(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	ck_assert_int_eq(n, (ssize_t)strlen(want));
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

static void round_trip(const char *value)
{
	struct notifier n;
	int fd = listen_at(value);

	setenv("NOTIFY_SOCKET", value, 1);
	notify_init(&n);
	ck_assert(n.enabled);
	ck_assert_int_eq(notify_send(&n, "READY=1\nSTATUS=wg0 up"), 0);
	heard(fd, "READY=1\nSTATUS=wg0 up");
	ck_assert_int_eq(notify_send(&n, "STOPPING=1"), 0);
	heard(fd, "STOPPING=1");
	close(fd);
}

START_TEST(send_to_path)
{
	char dir[] = "/tmp/ringvpn-notify-XXXXXX", path[64];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	round_trip(path);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(send_to_abstract)
{
	char name[64];

	snprintf(name, sizeof(name), "@ringvpn-test-notify-%ld",
		 (long)getpid());
	round_trip(name);
}
END_TEST

/* Nobody listening: an error for the caller to log at debug, no crash. */
START_TEST(send_to_nobody)
{
	char dir[] = "/tmp/ringvpn-notify-XXXXXX", path[64];
	struct notifier n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none", dir);
	setenv("NOTIFY_SOCKET", path, 1);
	notify_init(&n);
	ck_assert_int_eq(notify_send(&n, "READY=1"), -ENOENT);
	rmdir(dir);
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, init_values);
	tcase_add_test(tc, send_to_path);
	tcase_add_test(tc, send_to_abstract);
	tcase_add_test(tc, send_to_nobody);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(notify_suite());
}
