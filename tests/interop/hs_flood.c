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
 * With --sources N --source-base A.B.C.D every datagram leaves from the
 * next of N IPv4 addresses (A.B.C.D and the N-1 after it, which must be
 * on an interface), chosen per packet with IP_PKTINFO: to the responder
 * they are N hosts. The count of addresses that got a reply shows that
 * the responder saw them so.
 *
 * With --garbage it sends random datagrams instead, of every size from 0
 * (empty) to --max-size bytes in turn (entry i of the pool has i % (max-size + 1)),
 * none of which is a WireGuard message: a first byte of 1-3 never comes
 * with a handshake message's exact size, and type 4 data messages name no
 * session. The responder must drop and count them all.
 *
 * IP_RECVERR makes the kernel report a datagram it dropped on our side
 * (ENOBUFS from a full device queue) instead of swallowing it: "sent"
 * counts exactly the datagrams that left this host.
 *
 * Prints one line of counts at the end; exits 0 once it has sent for
 * --seconds or is told to stop (SIGTERM, SIGINT), 1 on bad arguments or a
 * socket error.
 *
 *   hs_flood --endpoint IP:PORT --key PUBKEY [--rate N] [--seconds S]
 *            [--pool N] [--answer-cookies]
 *            [--sources N --source-base IPv4]
 *            [--garbage [--max-size BYTES]] */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
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
#include "tests/interop/tool_util.h"

#define TICK_NS 1000000ULL /* sends are paced per millisecond */
#define BATCH 64
#define MAX_SOURCES 1024
#define GARBAGE_MAX_SIZE 65507 /* the largest UDP payload over IPv4 */
#define GARBAGE_DEFAULT_SIZE 1472 /* a 1500-byte MTU, unfragmented */

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
	unsigned long max_size;
};

/* A garbage datagram: a slice of one random buffer. */
struct garbage {
	uint32_t off;
	uint16_t len;
};

struct flood {
	struct options opt;
	uint8_t target[NOISE_PUBLIC_KEY_LEN];
	struct message_handshake_initiation *pool;
	/* One maker serves the whole pool: MACs depend on the target's key
	 * and the cookie, both shared; last_mac1 is set per reply. */
	struct cookie_maker maker;
	struct garbage *junk;	/* --garbage: the pool */
	uint8_t *noise;		/* --garbage: what the pool slices */
	int fd;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	struct in_addr source_base;
	unsigned long next_source;
	unsigned long next; /* pool entry to send next */
	unsigned long sent, send_errors, cookies, other;
	bool replied[MAX_SOURCES]; /* source i got a reply */
	unsigned long n_replied;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hs_flood --endpoint IP:PORT|[IPv6]:PORT "
		   "--key RESPONDER_PUBKEY\n"
		   "                [--rate PER_SECOND] [--seconds S] "
		   "[--pool N] [--answer-cookies]\n"
		   "                [--sources N --source-base IPv4] "
		   "[--garbage [--max-size BYTES]]\n");
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
		{ "max-size", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*opt = (struct options){ .rate = 20000, .seconds = 5, .pool = 256,
				 .sources = 1,
				 .max_size = GARBAGE_DEFAULT_SIZE };
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
		case 'm': ok = parse_ulong(optarg, GARBAGE_MAX_SIZE,
					   &opt->max_size);
			  break;
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

/* One unconnected socket: with --sources each datagram names its own
 * source address, and the replies to all of them arrive here. */
static int open_socket(struct flood *f)
{
	int one = 1, family, ret;

	ret = parse_endpoint(f->opt.endpoint, &f->dst, &f->dst_len);
	if (ret)
		return ret;
	family = f->dst.ss_family;
	if (f->opt.sources > 1 &&
	    (family != AF_INET ||
	     inet_pton(AF_INET, f->opt.source_base, &f->source_base) != 1))
		return -EINVAL;
	f->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (f->fd < 0)
		return -errno;
	if (family == AF_INET)
		ret = setsockopt(f->fd, IPPROTO_IP, IP_RECVERR, &one,
				 sizeof(one)) ||
		      setsockopt(f->fd, IPPROTO_IP, IP_PKTINFO, &one,
				 sizeof(one));
	else
		ret = setsockopt(f->fd, IPPROTO_IPV6, IPV6_RECVERR, &one,
				 sizeof(one));
	return ret ? -errno : 0;
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
	const size_t max = f->opt.max_size, size = 2 * max;

	f->junk = calloc(f->opt.pool, sizeof(*f->junk));
	f->noise = malloc(size);
	if (!f->junk || !f->noise)
		return -ENOMEM;
	randombytes_buf(f->noise, size);
	for (unsigned long i = 0; i < f->opt.pool; i++) {
		struct garbage *g = &f->junk[i];
		uint8_t type;

		g->len = (uint16_t)(i % (max + 1));
		g->off = randombytes_uniform((uint32_t)(size - g->len + 1));
		type = g->len ? f->noise[g->off] : 0;
		if (type >= 1 && type <= 3 && g->len == exact[type])
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

union pktinfo_cmsg {
	struct cmsghdr hdr;
	uint8_t buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
};

/* Which of our source addresses a reply came to (IP_PKTINFO). */
static void note_replied(struct flood *f, struct msghdr *h)
{
	struct cmsghdr *cm;
	struct in_pktinfo pi;
	uint32_t i;

	for (cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
		if (cm->cmsg_level != IPPROTO_IP || cm->cmsg_type != IP_PKTINFO)
			continue;
		memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
		i = f->opt.sources > 1 ? ntohl(pi.ipi_addr.s_addr) -
					 ntohl(f->source_base.s_addr) : 0;
		if (i < f->opt.sources && !f->replied[i]) {
			f->replied[i] = true;
			f->n_replied++;
		}
	}
}

static void receive_all(struct flood *f)
{
	uint8_t buf[256];
	union pktinfo_cmsg control;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr h;
	ssize_t n;

	for (;;) {
		h = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = &control,
				     .msg_controllen = sizeof(control) };
		n = recvmsg(f->fd, &h, MSG_DONTWAIT);
		if (n < 0)
			break;
		note_replied(f, &h);
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

/* The payload of the next datagram. */
static struct iovec next_payload(struct flood *f)
{
	struct iovec iov;

	if (f->junk) {
		struct garbage *g = &f->junk[f->next];

		iov = (struct iovec){ f->noise + g->off, g->len };
	} else {
		struct message_handshake_initiation *m = &f->pool[f->next];

		/* With a cookie, MAC2 is good (the maker adds it). */
		if (f->maker.have_cookie)
			cookie_add_macs(&f->maker, (uint8_t *)m, sizeof(*m),
					now_ns());
		iov = (struct iovec){ m, sizeof(*m) };
	}
	f->next = (f->next + 1) % f->opt.pool;
	return iov;
}

/* The next source address, as the control message of one datagram. */
static void next_source(struct flood *f, struct msghdr *h,
			union pktinfo_cmsg *c)
{
	struct cmsghdr *cm = &c->hdr;
	struct in_pktinfo pi = { 0 };
	uint32_t i = (uint32_t)(f->next_source++ % f->opt.sources);

	pi.ipi_spec_dst.s_addr = htonl(ntohl(f->source_base.s_addr) + i);
	memset(c, 0, sizeof(*c));
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	h->msg_control = c;
	h->msg_controllen = sizeof(*c);
}

static void send_batch(struct flood *f, unsigned int n)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	union pktinfo_cmsg control[BATCH];
	int done;

	memset(mm, 0, sizeof(mm));
	for (unsigned int k = 0; k < n; k++) {
		struct msghdr *h = &mm[k].msg_hdr;

		iov[k] = next_payload(f);
		h->msg_name = &f->dst;
		h->msg_namelen = f->dst_len;
		h->msg_iov = &iov[k];
		h->msg_iovlen = 1;
		if (f->opt.sources > 1)
			next_source(f, h, &control[k]);
	}
	done = sendmmsg(f->fd, mm, n, 0);
	/* A full buffer or queue drops the rest: a flood does not wait. */
	f->sent += done > 0 ? (unsigned int)done : 0;
	f->send_errors += done > 0 ? n - (unsigned int)done : n;
}

static void run(struct flood *f)
{
	const uint64_t start = now_ns();
	const uint64_t end = start + f->opt.seconds * NSEC_PER_SEC;
	struct timespec tick = { 0, TICK_NS };
	uint64_t now;

	while (!stop && (now = now_ns()) < end) {
		/* Whatever the schedule says is due by now, in batches. */
		uint64_t due = (now - start) * f->opt.rate / NSEC_PER_SEC;

		/* A rate the sender cannot reach must not run past the end:
		 * the clock is read again after every batch. */
		while (f->sent + f->send_errors < due && !stop &&
		       now_ns() < end) {
			uint64_t left = due - f->sent - f->send_errors;

			send_batch(f, left < BATCH ? (unsigned int)left :
						     BATCH);
		}
		receive_all(f);
		nanosleep(&tick, NULL);
	}
	receive_all(f);
}

static void report(const struct flood *f, uint64_t ns)
{
	double s = (double)ns / NSEC_PER_SEC;

	printf("hs_flood: sent %lu %s in %.3f s (%.0f/s) from %lu sources "
	       "(%lu dropped at the socket), got %lu cookie replies, "
	       "%lu other, at %lu of the sources\n", f->sent,
	       f->opt.garbage ? "garbage datagrams" : "initiations", s,
	       s > 0 ? (double)f->sent / s : 0.0, f->opt.sources,
	       f->send_errors, f->cookies, f->other, f->n_replied);
}

int main(int argc, char **argv)
{
	struct flood f = { .fd = -1 };
	uint64_t start;
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
	ret = open_socket(&f);
	if (ret) {
		fprintf(stderr, "hs_flood: --endpoint `%s' (--source-base "
			"`%s'): %s\n", f.opt.endpoint,
			f.opt.source_base ? f.opt.source_base : "",
			strerror(-ret));
		return EXIT_FAILURE;
	}
	ret = f.opt.garbage ? make_junk(&f) : make_pool(&f);
	if (ret) {
		fprintf(stderr, "hs_flood: making the datagrams: %s\n",
			strerror(-ret));
		return EXIT_FAILURE;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	start = now_ns();
	run(&f);
	report(&f, now_ns() - start);
	close(f.fd);
	free(f.pool);
	free(f.junk);
	free(f.noise);
	return EXIT_SUCCESS;
}
