/* A slow UAPI client for tests: connects to a UAPI socket, sends
 * REQUESTS `get=1` requests at once (pipelined), then either reads CHUNK
 * bytes every MS milliseconds or, with no -c, never reads a byte.
 *
 * It watches the connection without reading it (poll for POLLRDHUP), so
 * that even a client that never reads learns at once when the server
 * closes on it. Prints "sent N requests" when they are sent, then one
 * line at the end:
 *   "closed by the server after S.S s (eof|reset), B bytes read": exit 0;
 *   "still open after S s, B bytes read": exit 1 (ran for SECONDS);
 * exit 2 on bad arguments or when it could not connect or send.
 *
 *   uapi_slow [-n REQUESTS] [-c CHUNK] [-i MS] [-t SECONDS] PATH
 * Defaults: 50 requests, never read, 1000 ms, 20 s. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REQUEST "get=1\n\n"

struct options {
	const char *path;
	unsigned requests;
	size_t chunk; /* 0: never read */
	unsigned interval_ms;
	unsigned seconds;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){ .requests = 50, .interval_ms = 1000,
			       .seconds = 20 };
	while ((c = getopt(argc, argv, "n:c:i:t:")) != -1) {
		if (c == 'n')
			o->requests = (unsigned)atoi(optarg);
		else if (c == 'c')
			o->chunk = (size_t)atol(optarg);
		else if (c == 'i')
			o->interval_ms = (unsigned)atoi(optarg);
		else if (c == 't')
			o->seconds = (unsigned)atoi(optarg);
		else
			return -1;
	}
	if (optind != argc - 1 || !o->requests || !o->interval_ms)
		return -1;
	o->path = argv[optind];
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* All requests in one send: a few hundred bytes, the socket takes them. */
static int send_requests(int fd, unsigned n)
{
	size_t len = strlen(REQUEST), total = n * len;
	char *buf = malloc(total);
	ssize_t sent;

	if (!buf)
		return -1;
	for (unsigned i = 0; i < n; i++)
		memcpy(buf + i * len, REQUEST, len);
	sent = send(fd, buf, total, MSG_NOSIGNAL);
	free(buf);
	return sent == (ssize_t)total ? 0 : -1;
}

/* Up to chunk bytes of what is there now; -1 once the server is gone
 * and nothing is left to read. */
static ssize_t read_chunk(int fd, size_t chunk)
{
	char buf[65536];
	size_t got = 0;

	while (got < chunk) {
		size_t want = chunk - got < sizeof(buf) ? chunk - got :
							  sizeof(buf);
		ssize_t n = recv(fd, buf, want, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 && errno == EAGAIN ? (ssize_t)got : -1;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* The server closed its end: "reset" when it left our requests unread
 * (the kernel reports ECONNRESET then), else "eof". */
static const char *how_closed(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err == ECONNRESET ? "reset" : "eof";
}

static bool server_closed(int fd, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	if (poll(&p, 1, wait_ms) <= 0)
		return false;
	return p.revents & (POLLRDHUP | POLLHUP | POLLERR);
}

/* Waits out the run, reading CHUNK bytes every interval (if asked to);
 * 0 when the server closed the connection, 1 when it never did. */
static int watch(int fd, const struct options *o)
{
	uint64_t start = now_ms(), end = start + o->seconds * 1000ULL;
	uint64_t next_read = start + o->interval_ms;
	unsigned long long bytes = 0;

	for (uint64_t t = start; t < end; t = now_ms()) {
		uint64_t until = next_read < end ? next_read : end;

		if (server_closed(fd, (int)(until - t))) {
			printf("closed by the server after %.1f s (%s), "
			       "%llu bytes read\n", (now_ms() - start) / 1e3,
			       how_closed(fd), bytes);
			return 0;
		}
		if (o->chunk && now_ms() >= next_read) {
			ssize_t n = read_chunk(fd, o->chunk);

			bytes += n > 0 ? (unsigned long long)n : 0;
			next_read += o->interval_ms;
		}
	}
	printf("still open after %u s, %llu bytes read\n", o->seconds, bytes);
	return 1;
}

int main(int argc, char **argv)
{
	struct options o;
	int fd;

	if (parse_options(argc, argv, &o)) {
		fprintf(stderr, "usage: uapi_slow [-n REQUESTS] [-c CHUNK] "
				"[-i MS] [-t SECONDS] PATH\n");
		return 2;
	}
	fd = connect_to(o.path);
	if (fd < 0 || send_requests(fd, o.requests)) {
		fprintf(stderr, "uapi_slow: %s: %s\n", o.path, strerror(errno));
		return 2;
	}
	printf("sent %u requests\n", o.requests);
	fflush(stdout);
	return watch(fd, &o);
}
