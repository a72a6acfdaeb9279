/* The UAPI server's output queue and deadline, against real sockets:
 * each test opens the server under a name of its own, connects clients
 * to it and drives it as the control loop does (pollfds, poll without
 * waiting, serve), passing the time in. The handler's replies are 1 MiB,
 * more than a socket buffer holds, so a client that does not read
 * leaves a reply queued. (That every buffer is wiped cannot be seen
 * from outside; src/uapi/server.c frees them all through secret_buf.)
 * Needs root (the socket lives in
 * /var/run/wireguard) and exits 77 (skipped) without it. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/uapi/server.h"
#include "tests/unit/check_main.h"

#define REPLY_BYTES (1u << 20)
#define T0 1000000 /* ms; any start time will do */

/* Set up afresh for each test (Check forks per test). */
static struct {
	struct uapi_server s;
	unsigned answered; /* requests the handler saw */
} fx;

/* "reply N" and padding up to REPLY_BYTES in all, then errno=0. */
static void big_reply(void *arg, const char *req, size_t len, FILE *reply)
{
	unsigned *answered = arg;
	const char *end = "errno=0\n\n";
	int n = fprintf(reply, "reply %u\n", (*answered)++);

	for (size_t i = (size_t)n; i < REPLY_BYTES - strlen(end); i++)
		fputc('x', reply);
	fputs(end, reply);
}

static void setup(void)
{
	char name[16];

	snprintf(name, sizeof(name), "rvut%d", (int)getpid());
	fx.answered = 0;
	ck_assert_int_eq(uapi_server_open(&fx.s, name), 0);
}

static void teardown(void)
{
	uapi_server_close(&fx.s);
}

/* One turn of the control loop at time now_ms; returns the events asked
 * for the first connection (0 if there is none). */
static short turn(uint64_t now_ms)
{
	struct pollfd pfd[1 + UAPI_MAX_CONNS];
	unsigned n = uapi_server_pollfds(&fx.s, pfd);

	ck_assert_int_ge(poll(pfd, n, 0), 0);
	uapi_server_serve(&fx.s, pfd, n, now_ms, big_reply, &fx.answered);
	n = uapi_server_pollfds(&fx.s, pfd);
	return n > 1 ? pfd[1].events : 0;
}

/* A client connected and accepted, with text sent. */
static int client(const char *text)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sun.sun_path, fx.s.path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
			 0);
	turn(T0); /* accepts */
	ck_assert_int_eq(send(fd, text, strlen(text), 0),
			 (ssize_t)strlen(text));
	return fd;
}

static bool server_closed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

/* Reads one whole reply (it ends in "errno=0\n\n") and checks its
 * number, turning the loop at now_ms while the client waits for more. */
static void read_reply(int fd, unsigned want, uint64_t now_ms)
{
	static char buf[REPLY_BYTES];
	size_t got = 0;
	unsigned num;

	while (got < REPLY_BYTES) {
		ssize_t n = recv(fd, buf + got, REPLY_BYTES - got,
				 MSG_DONTWAIT);

		if (n < 0 && errno == EAGAIN) {
			turn(now_ms);
			continue;
		}
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_int_eq(sscanf(buf, "reply %u\n", &num), 1);
	ck_assert_uint_eq(num, want);
	ck_assert_int_eq(memcmp(buf + got - 9, "errno=0\n\n", 9), 0);
}

/* Three requests at once, none read: one is answered, its reply waits
 * for POLLOUT and no more is read; serve came back (it never blocks). */
START_TEST(one_reply_queued)
{
	int fd = client("get=1\n\nget=1\n\nget=1\n\n");

	ck_assert_int_eq(turn(T0), POLLOUT);
	ck_assert_int_eq(turn(T0 + 1), POLLOUT);
	ck_assert_uint_eq(fx.answered, 1);
	ck_assert(!server_closed(fd));
	close(fd);
}
END_TEST

/* The same client reading: each reply whole and in order, one at a
 * time; then the connection is idle again, asking for POLLIN. */
START_TEST(replies_in_order)
{
	int fd = client("get=1\n\nget=1\n\nget=1\n\n");

	turn(T0);
	for (unsigned i = 0; i < 3; i++)
		read_reply(fd, i, T0);
	ck_assert_int_eq(turn(T0), POLLIN);
	ck_assert_uint_eq(fx.answered, 3);
	close(fd);
}
END_TEST

/* A reply not taken by the deadline: the connection is closed at the
 * first turn past it, though poll has nothing to say about it. */
START_TEST(deadline_closes_queued)
{
	int fd = client("get=1\n\n");

	turn(T0);
	turn(T0 + UAPI_DEADLINE_MS - 1);
	ck_assert(!server_closed(fd));
	turn(T0 + UAPI_DEADLINE_MS);
	ck_assert(server_closed(fd));
	ck_assert_int_eq(turn(T0 + UAPI_DEADLINE_MS), 0);
	close(fd);
}
END_TEST

/* Half a request that never ends: closed at the deadline too, however
 * the bytes trickle in. */
START_TEST(deadline_closes_partial)
{
	int fd = client("get=1\n");

	turn(T0);
	ck_assert_int_eq(send(fd, "\r", 1, 0), 1);
	turn(T0 + UAPI_DEADLINE_MS - 1);
	ck_assert(!server_closed(fd));
	turn(T0 + UAPI_DEADLINE_MS);
	ck_assert(server_closed(fd));
	ck_assert_uint_eq(fx.answered, 0);
	close(fd);
}
END_TEST

/* Each request has its own deadline: a reply sent just before its
 * deadline gives the next request a fresh one. */
START_TEST(deadline_per_request)
{
	int fd = client("get=1\n\nget=1\n\n");

	turn(T0);
	read_reply(fd, 0, T0 + UAPI_DEADLINE_MS - 1);
	turn(T0 + UAPI_DEADLINE_MS + 1);
	ck_assert(!server_closed(fd));
	ck_assert_uint_eq(fx.answered, 2);
	close(fd);
}
END_TEST

/* A client gone with its reply queued: closed on the hang-up. */
START_TEST(hangup_closes)
{
	int fd = client("get=1\n\n");

	turn(T0);
	close(fd);
	ck_assert_int_eq(turn(T0), 0);
}
END_TEST

/* The empty line split between two reads: the search for a request's
 * end, which skips what it has seen, still finds it. */
START_TEST(end_split_between_reads)
{
	int fd = client("get=1\n");

	turn(T0);
	ck_assert_uint_eq(fx.answered, 0);
	ck_assert_int_eq(send(fd, "\n", 1, 0), 1);
	turn(T0);
	ck_assert_uint_eq(fx.answered, 1);
	close(fd);
}
END_TEST

/* A request longer than UAPI_MAX_REQUEST: its refusal comes through the
 * queue like any reply, then the connection is closed. */
START_TEST(overlong_refused)
{
	static char chunk[65536];
	char want[32], got[32] = "";
	int fd = client("set=1\n");
	size_t sent = 0;

	memset(chunk, 'a', sizeof(chunk));
	while (sent <= UAPI_MAX_REQUEST && !server_closed(fd)) {
		ssize_t n = send(fd, chunk, sizeof(chunk),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		sent += n > 0 ? (size_t)n : 0;
		turn(T0);
	}
	turn(T0);
	ck_assert(server_closed(fd));
	snprintf(want, sizeof(want), "errno=%d\n\n", -EMSGSIZE);
	ck_assert_int_eq(recv(fd, got, sizeof(got) - 1, 0),
			 (ssize_t)strlen(want));
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(fx.answered, 0);
	close(fd);
}
END_TEST

static Suite *uapi_server_suite(void)
{
	Suite *s = suite_create("uapi_server");
	TCase *tc = tcase_create("queue");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, one_reply_queued);
	tcase_add_test(tc, replies_in_order);
	tcase_add_test(tc, deadline_closes_queued);
	tcase_add_test(tc, deadline_closes_partial);
	tcase_add_test(tc, deadline_per_request);
	tcase_add_test(tc, hangup_closes);
	tcase_add_test(tc, end_split_between_reads);
	tcase_add_test(tc, overlong_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (geteuid() != 0)
		return 77;
	return run_suite(uapi_server_suite());
}
