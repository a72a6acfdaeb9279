/* A handshake flood for tests: initiations with a valid MAC1 for a
 * responder's public key, from a pool of random static keys that are not
 * its peers, sent at a fixed rate from one UDP socket. Each one costs the
 * responder a DH unless its load defences stop it first: a cookie reply
 * (no MAC2) or the ratelimiter (MAC2, but too many from one source).
 *
 * With --answer-cookies the flooder proves its address: it decrypts the
 * cookie replies it gets and puts MAC2 on everything after, so that only
 * the ratelimiter stands between it and the responder's public-key work.
 *
 * With --sources N --source-base A.B.C.D it sends from N IPv4 addresses
 * (A.B.C.D and the N-1 after it, which must be on an interface), a batch
 * from each in turn.
 *
 * With --garbage it sends random datagrams of random sizes (1 to 1400
 * bytes) instead, none of which is a WireGuard message: a first byte of
 * 1-3 never comes with a handshake message's exact size, and type 4 data
 * messages name no session. The responder must drop and count them all.
 *
 * Prints one line of counts at the end; exits 0 once it has sent for
 * --seconds or is told to stop (SIGTERM, SIGINT), 1 on bad arguments or a
 * socket error.
 *
 *   hs_flood --endpoint IP:PORT --key PUBKEY [--rate N] [--seconds S]
 *            [--pool N] [--answer-cookies]
 *            [--sources N --source-base IPv4] [--garbage] */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <netdb.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/keys.h"
#include "crypto/messages.h"

#define NS_PER_SEC 1000000000ULL
#define TICK_NS 1000000ULL /* sends are paced per millisecond */
#define BATCH 64
#define MAX_SOURCES 1024
#define GARBAGE_MAX 1400

struct options {
	const char *endpoint;
	const char *key_b64;
	unsigned long rate;
	unsigned long seconds;
	unsigned long pool;
	bool answer_cookies;
	unsigned long sources;
	const char *source_base;
	bool garbage;
};

struct garbage {
	uint8_t data[GARBAGE_MAX];
	uint16_t len;
};

struct flood {
	struct options opt;
	uint8_t target[NOISE_PUBLIC_KEY_LEN];
	struct message_handshake_initiation *pool;
	/* One maker serves the whole pool: MACs depend on the target's key
	 * and the cookie, both shared; last_mac1 is set per reply. */
	struct cookie_maker maker;
	struct garbage *junk;	/* --garbage: the pool, random */
	int fds[MAX_SOURCES];
	unsigned long n_fds, next_fd;
	unsigned long next; /* pool entry to send next */
	unsigned long sent, send_errors, cookies, other;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hs_flood --endpoint IP:PORT|[IPv6]:PORT "
		   "--key RESPONDER_PUBKEY\n"
		   "                [--rate PER_SECOND] [--seconds S] "
		   "[--pool N] [--answer-cookies]\n");
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && end != s && !*end && *out && *out <= max;
}

static int parse_args(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "key", required_argument, NULL, 'k' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "pool", required_argument, NULL, 'p' },
		{ "answer-cookies", no_argument, NULL, 'c' },
		{ "sources", required_argument, NULL, 'n' },
		{ "source-base", required_argument, NULL, 'b' },
		{ "garbage", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*opt = (struct options){ .rate = 20000, .seconds = 5, .pool = 256,
				 .sources = 1 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 'e': opt->endpoint = optarg; break;
		case 'k': opt->key_b64 = optarg; break;
		case 'r': ok = parse_ulong(optarg, 10000000, &opt->rate); break;
		case 's': ok = parse_ulong(optarg, 3600, &opt->seconds); break;
		case 'p': ok = parse_ulong(optarg, 65536, &opt->pool); break;
		case 'c': opt->answer_cookies = true; break;
		case 'n': ok = parse_ulong(optarg, MAX_SOURCES, &opt->sources);
			  break;
		case 'b': opt->source_base = optarg; break;
		case 'g': opt->garbage = true; break;
		case 'h': usage(stdout); exit(EXIT_SUCCESS);
		default: ok = false; break;
		}
		if (!ok) {
			fprintf(stderr, "hs_flood: bad value `%s'\n",
				optarg ? optarg : "");
			return -EINVAL;
		}
	}
	if (optind != argc || !opt->endpoint || !opt->key_b64)
		return -EINVAL;
	if (opt->sources > 1 && (!opt->source_base || opt->answer_cookies))
		return -EINVAL; /* one cookie maker: one source */
	return 0;
}

/* IPv4:PORT or [IPv6]:PORT, numeric; the socket is connected to it,
 * from src (IPv4) when given. */
static int open_socket(const char *text, const struct in_addr *src)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	char host[64];
	const char *port = strrchr(text, ':');
	size_t hlen = port ? (size_t)(port - text) : 0;
	struct addrinfo *res;
	int fd;

	if (hlen > 1 && text[0] == '[' && text[hlen - 1] == ']') {
		text++;
		hlen -= 2;
	}
	if (!hlen || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (getaddrinfo(host, port + 1, &hints, &res))
		return -EINVAL;
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd >= 0 && src) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_addr = *src };

		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen)) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd < 0 ? -errno : fd;
}

/* Entry i comes from its own random static key and carries index i, so
 * that a cookie reply (which echoes the index) names its message. */
static int make_pool(struct flood *f)
{
	struct wg_identity id = { 0 };
	struct handshake hs;
	uint8_t priv[NOISE_PUBLIC_KEY_LEN];
	int ret = 0;

	f->pool = calloc(f->opt.pool, sizeof(*f->pool));
	if (!f->pool)
		return -ENOMEM;
	for (unsigned long i = 0; i < f->opt.pool && !ret; i++) {
		key_generate_private(priv);
		ret = wg_identity_set(&id, priv);
		if (!ret)
			ret = handshake_init(&hs, &id, f->target, NULL);
		if (!ret)
			ret = handshake_create_initiation(&hs, &id, (uint32_t)i,
							  &f->pool[i]);
		if (!ret)
			cookie_add_macs(&f->maker, (uint8_t *)&f->pool[i],
					sizeof(f->pool[i]), now_ns());
		handshake_wipe(&hs);
	}
	wg_identity_clear(&id);
	sodium_memzero(priv, sizeof(priv));
	return ret;
}

/* Random datagrams that are no WireGuard message (see the top). */
static int make_junk(struct flood *f)
{
	static const uint16_t exact[4] = {
		0, sizeof(struct message_handshake_initiation),
		sizeof(struct message_handshake_response),
		sizeof(struct message_handshake_cookie),
	};

	f->junk = calloc(f->opt.pool, sizeof(*f->junk));
	if (!f->junk)
		return -ENOMEM;
	for (unsigned long i = 0; i < f->opt.pool; i++) {
		struct garbage *g = &f->junk[i];

		g->len = (uint16_t)(1 + randombytes_uniform(GARBAGE_MAX));
		randombytes_buf(g->data, g->len);
		if (g->data[0] >= 1 && g->data[0] <= 3 &&
		    g->len == exact[g->data[0]])
			g->len--;
	}
	return 0;
}

/* A cookie reply is for the pool entry whose index it echoes. */
static void take_cookie(struct flood *f, const uint8_t *buf)
{
	const struct message_handshake_cookie *c = (const void *)buf;
	uint32_t i = le32toh(c->receiver_index);

	if (i >= f->opt.pool)
		return;
	memcpy(f->maker.last_mac1, f->pool[i].macs.mac1, COOKIE_LEN);
	f->maker.have_last_mac1 = true;
	cookie_consume_reply(&f->maker, c, now_ns());
}

static void receive_from(struct flood *f, int fd, uint8_t *buf, size_t size)
{
	ssize_t n;

	while ((n = recv(fd, buf, size, MSG_DONTWAIT)) >= 0) {
		if (n == sizeof(struct message_handshake_cookie) &&
		    buf[0] == MESSAGE_HANDSHAKE_COOKIE) {
			f->cookies++;
			if (f->opt.answer_cookies)
				take_cookie(f, buf);
		} else {
			f->other++;
		}
	}
}

static void receive_all(struct flood *f)
{
	uint8_t buf[256];

	for (unsigned long s = 0; s < f->n_fds; s++)
		receive_from(f, f->fds[s], buf, sizeof(buf));
}

static void send_batch(struct flood *f, unsigned n)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	int done;

	int fd = f->fds[f->next_fd++ % f->n_fds];

	memset(mm, 0, sizeof(mm));
	for (unsigned k = 0; k < n; k++) {
		struct message_handshake_initiation *m = &f->pool[f->next];
		struct garbage *g = f->junk ? &f->junk[f->next] : NULL;

		f->next = (f->next + 1) % f->opt.pool;
		if (g) {
			iov[k] = (struct iovec){ g->data, g->len };
		} else {
			/* With a cookie, MAC2 is good (the maker adds it). */
			if (f->maker.have_cookie)
				cookie_add_macs(&f->maker, (uint8_t *)m,
						sizeof(*m), now_ns());
			iov[k] = (struct iovec){ m, sizeof(*m) };
		}
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
	}
	done = sendmmsg(fd, mm, n, 0);
	/* A full socket buffer drops the rest: a flood does not wait. */
	f->sent += done > 0 ? (unsigned)done : 0;
	f->send_errors += done > 0 ? n - (unsigned)done : n;
}

static void run(struct flood *f)
{
	const uint64_t start = now_ns();
	const uint64_t end = start + f->opt.seconds * NS_PER_SEC;
	struct timespec tick = { 0, TICK_NS };
	uint64_t now;

	while (!stop && (now = now_ns()) < end) {
		/* Whatever the schedule says is due by now, in batches. */
		uint64_t due = (now - start) * f->opt.rate / NS_PER_SEC;

		/* A rate the sender cannot reach must not run past the end:
		 * the clock is read again after every batch. */
		while (f->sent + f->send_errors < due && !stop &&
		       now_ns() < end) {
			uint64_t left = due - f->sent - f->send_errors;

			send_batch(f, left < BATCH ? (unsigned)left : BATCH);
		}
		receive_all(f);
		nanosleep(&tick, NULL);
	}
	receive_all(f);
}

/* One socket, or one per source address. */
static int open_sockets(struct flood *f)
{
	struct in_addr src;

	if (f->opt.sources > 1 &&
	    inet_pton(AF_INET, f->opt.source_base, &src) != 1)
		return -EINVAL;
	for (unsigned long i = 0; i < f->opt.sources; i++) {
		struct in_addr a = { htonl(ntohl(src.s_addr) + (uint32_t)i) };
		int fd = open_socket(f->opt.endpoint,
				     f->opt.sources > 1 ? &a : NULL);

		if (fd < 0)
			return fd;
		f->fds[f->n_fds++] = fd;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct flood f = { 0 };
	int ret;

	if (parse_args(argc, argv, &f.opt)) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	if (crypto_init() || key_from_base64(f.target, f.opt.key_b64)) {
		fprintf(stderr, "hs_flood: --key: not a base64 key\n");
		return EXIT_FAILURE;
	}
	cookie_maker_init(&f.maker, f.target);
	ret = open_sockets(&f);
	if (ret) {
		fprintf(stderr, "hs_flood: --endpoint `%s': %s\n",
			f.opt.endpoint, strerror(-ret));
		return EXIT_FAILURE;
	}
	ret = f.opt.garbage ? make_junk(&f) : make_pool(&f);
	if (ret) {
		fprintf(stderr, "hs_flood: making initiations: %s\n",
			strerror(-ret));
		return EXIT_FAILURE;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	run(&f);
	printf("hs_flood: sent %lu %s from %lu sources (%lu dropped at the "
	       "socket), got %lu cookie replies, %lu other\n", f.sent,
	       f.opt.garbage ? "garbage datagrams" : "initiations", f.n_fds,
	       f.send_errors, f.cookies, f.other);
	for (unsigned long i = 0; i < f.n_fds; i++)
		close(f.fds[i]);
	free(f.pool);
	free(f.junk);
	return EXIT_SUCCESS;
}
