/* rx_load: a receive-only load for one ringvpn daemon, as one peer at one
 * endpoint (contrib/bench/rx_capacity.sh drives it).
 *
 * It completes one handshake as initiator with the project's own engine
 * (as tests/interop/engine_peer does), then encrypts every transport
 * message of the whole run BEFORE the clock starts: each carries an IPv4
 * UDP packet from --src to --dst with a sequence number, under
 * consecutive counters. Only then does it send them, in runs of equal
 * datagrams with UDP_SEGMENT (one sendmsg per run), paced to --rate. So
 * the sender spends no time on crypto while it sends, and what limits the
 * rate is the daemon's receive path, not this program.
 *
 * --rate is in Gbit/s of INNER bytes (the IPv4 packets the daemon writes
 * to its TUN device), the figure a tunnel's user sees. The output also
 * gives the rate of WireGuard message bytes (UDP payload: inner bytes
 * plus padding, 16 of header and 16 of tag per message).
 *
 * stdout: key=value lines (see print_result); stderr: progress.
 *   make contrib/bench/rx_load && contrib/bench/rx_load --help */
#include "crypto/keys.h"

#include <errno.h>
#include <getopt.h>
#include <math.h> /* isfinite */
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "contrib/bench/rx_messages.h"
#include "crypto/keypair.h"
#include "crypto/messages.h"
#include "src/device.h"
#include "src/peer.h"
#include "src/protocol.h"
#include "tests/interop/tool_util.h"

#define RETRY_NS NSEC_PER_SEC
#define UDP_MAX 65536

/* A GSO send is one UDP datagram to the kernel: its payload must fit an
 * IPv4 total length of 65535 (IPv6's limit is higher), and the kernel
 * takes at most 64 segments on older kernels (128 on newer). */
#define GSO_MAX_BYTES (65535 - RX_IPV4_HDR_LEN - RX_UDP_HDR_LEN)
#define GSO_MAX_SEGS 64
/* Jumbo frames: a message still fits a GSO send several times over. */
#define MAX_MTU 9000

struct options {
	const char *key_file;
	const char *peer_b64;
	const char *endpoint;
	struct inner_flow flow;
	bool have_src, have_dst;
	double rate_gbps;	/* inner bytes */
	double seconds;
	double max_gib;		/* cap on the pre-encrypted messages */
	unsigned int timeout_s;	/* for the handshake */
};

struct result {
	size_t sent;		/* messages the kernel accepted */
	size_t send_errors;	/* failed sendmsg calls (their runs lost) */
	size_t per_run;		/* datagrams per sendmsg */
	uint64_t encrypt_ns;	/* the pre-encryption, before the clock */
	uint64_t elapsed_ns;
};

struct rx_load {
	const struct options *opt;
	struct device dev;
	struct peer *peer;
	int fd;
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	struct messages msgs;
	bool capped;		/* rate x seconds did not fit max_gib */
	uint8_t rx[UDP_MAX] __attribute__((aligned(16)));
};

static void sleep_until(uint64_t t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / NSEC_PER_SEC),
		.tv_nsec = (long)(t % NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* ------------------------------------------------------------------------
 * The handshake */

static int send_initiation(struct rx_load *ld)
{
	struct message_handshake_initiation msg;
	int ret;

	ret = protocol_create_initiation(&ld->dev, ld->peer, now_ns(), &msg);
	if (ret)
		return ret;
	if (send(ld->fd, &msg, sizeof(msg), 0) < 0 && errno != ECONNREFUSED)
		return -errno;
	return 0;
}

/* A handshake-class message from the daemon: 1 when it completed our
 * handshake, 0 when not (a cookie reply: the next initiation carries
 * MAC2), -errno on a local failure. */
static int handle_handshake(struct rx_load *ld, size_t len,
			    const struct sockaddr_storage *src)
{
	struct handshake_outcome out;
	int ret;

	ret = protocol_receive_handshake(&ld->dev, ld->rx, len,
					 (const struct sockaddr *)src, false,
					 now_ns(), &out);
	if (ret || out.peer != ld->peer) {
		fprintf(stderr, "rx_load: handshake message type %u "
			"ignored: %s\n", ld->rx[0],
			ret ? strerror(-ret) : "not from the daemon's key");
		return 0;
	}
	if (out.reply_len && send(ld->fd, out.reply, out.reply_len, 0) < 0)
		return -errno;
	return out.handshake_complete;
}

/* As initiator, one initiation a second until the response arrives. */
static int handshake(struct rx_load *ld)
{
	uint64_t deadline = now_ns() + ld->opt->timeout_s * NSEC_PER_SEC;
	uint64_t next = 0;
	struct sockaddr_storage src;
	socklen_t src_len;
	long n;
	int ret = 0;

	/* ret: 0 waiting, 1 done, < 0 failed */
	while (!ret && now_ns() < deadline) {
		if (now_ns() >= next) {
			ret = send_initiation(ld);
			if (ret)
				return ret;
			next = now_ns() + RETRY_NS;
		}
		n = receive_until(ld->fd, ld->rx, sizeof(ld->rx),
				  next < deadline ? next : deadline, &src,
				  &src_len);
		if (n <= 0) {
			ret = (int)n;
			continue;
		}
		switch (protocol_classify(ld->rx, (size_t)n)) {
		case MESSAGE_HANDSHAKE_INITIATION:
		case MESSAGE_HANDSHAKE_RESPONSE:
		case MESSAGE_HANDSHAKE_COOKIE:
			ret = handle_handshake(ld, (size_t)n, &src);
			break;
		default: /* nothing else is expected before our data */
			break;
		}
	}
	if (ret < 0)
		return ret;
	return ret ? 0 : -ETIMEDOUT;
}

/* ------------------------------------------------------------------------
 * Sending */

/* One run of n equal datagrams starting at p: one sendmsg, the kernel
 * cuts it at UDP_SEGMENT. */
static int send_run(int fd, uint8_t *p, size_t n, size_t msg_len)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = p, .iov_len = n * msg_len };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	uint16_t segment = (uint16_t)msg_len;

	memset(&ctl, 0, sizeof(ctl));
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(segment));
	memcpy(CMSG_DATA(cm), &segment, sizeof(segment));
	return sendmsg(fd, &mh, 0) < 0 ? -errno : 0;
}

/* Sends every message, run i leaving no earlier than its share of the
 * schedule (t0 + messages before it x time per message), sleeping, not
 * spinning, in between: the daemon under test needs the CPU. A run that
 * is late leaves at once, so a hiccup is caught up with. The clock stops
 * at the later of the last send and the schedule's end. */
static int send_paced(struct rx_load *ld, struct result *r)
{
	const struct messages *m = &ld->msgs;
	double ns_per_msg = ld->opt->flow.size * 8 / ld->opt->rate_gbps;
	size_t per_run = GSO_MAX_BYTES / m->msg_len;
	uint64_t t0, end;
	int ret;

	if (per_run > GSO_MAX_SEGS)
		per_run = GSO_MAX_SEGS;
	r->per_run = per_run;
	t0 = now_ns();
	for (size_t i = 0; i < m->count; i += per_run) {
		size_t n = m->count - i < per_run ? m->count - i : per_run;

		sleep_until(t0 + (uint64_t)((double)i * ns_per_msg));
		ret = send_run(ld->fd, m->buf + i * m->msg_len, n,
			       m->msg_len);
		if (!ret) {
			r->sent += n;
			continue;
		}
		/* Full buffers, or an ICMP error from an earlier send:
		 * this run is lost, counted; anything else is a bug. */
		if (ret != -ENOBUFS && ret != -EAGAIN && ret != -ECONNREFUSED)
			return ret;
		r->send_errors++;
	}
	end = t0 + (uint64_t)((double)m->count * ns_per_msg);
	sleep_until(end);
	r->elapsed_ns = now_ns() - t0;
	return 0;
}

static void print_result(const struct rx_load *ld, const struct result *r)
{
	const struct options *opt = ld->opt;
	double s = (double)r->elapsed_ns / 1e9;
	double inner = (double)r->sent * opt->flow.size;
	double wire = (double)r->sent * (double)ld->msgs.msg_len;

	printf("target_gbps=%.3f\n", opt->rate_gbps);
	printf("messages=%zu\n", r->sent);
	printf("inner_bytes=%.0f\n", inner);
	printf("message_bytes=%.0f\n", wire);
	printf("elapsed_s=%.6f\n", s);
	printf("inner_gbps=%.3f\n", inner * 8 / s / 1e9);
	printf("message_gbps=%.3f\n", wire * 8 / s / 1e9);
	printf("send_errors=%zu\n", r->send_errors);
	printf("segments_per_send=%zu\n", r->per_run);
	printf("capped=%d\n", ld->capped);
	printf("encrypt_s=%.3f\n", (double)r->encrypt_ns / 1e9);
}

/* ------------------------------------------------------------------------
 * Set-up */

/* A socket connected to the daemon: sends need no address, and only the
 * daemon's datagrams come back. A large send buffer (forced, as root)
 * keeps sendmsg from blocking on a burst. */
static int open_socket(struct rx_load *ld)
{
	int sndbuf = 16 << 20;

	ld->fd = socket(ld->endpoint.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ld->fd < 0)
		return -errno;
	if (setsockopt(ld->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
		       sizeof(sndbuf)))
		setsockopt(ld->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
			   sizeof(sndbuf));
	if (connect(ld->fd, (struct sockaddr *)&ld->endpoint,
		    ld->endpoint_len))
		return -errno;
	return 0;
}

/* Our key, the daemon as our one peer, the socket. Says what failed. */
static int setup(struct rx_load *ld)
{
	const struct options *opt = ld->opt;
	const char *what;
	int ret;

	if (parse_endpoint(opt->endpoint, &ld->endpoint, &ld->endpoint_len)) {
		fprintf(stderr, "rx_load: --endpoint '%s': expected IP:PORT "
			"or [IPv6]:PORT\n", opt->endpoint);
		return -EINVAL;
	}
	ret = engine_with_peer(&ld->dev, opt->key_file, opt->peer_b64,
			       &ld->peer, &what);
	if (ret) {
		fprintf(stderr, "rx_load: %s: %s\n", what,
			ret == -EINVAL ? "not a base64 key" : strerror(-ret));
		return ret;
	}
	ret = open_socket(ld);
	if (ret)
		fprintf(stderr, "rx_load: socket: %s\n", strerror(-ret));
	return ret;
}

/* ------------------------------------------------------------------------
 * Options */

static void usage(FILE *f)
{
	fprintf(f,
"usage: rx_load --private-key FILE --peer PUBKEY --endpoint IP:PORT\n"
"               --src IPV4 --dst IPV4 [--dport N] [--size BYTES]\n"
"               [--mtu N] [--rate GBITS] [--seconds S] [--max-gib G]\n"
"               [--timeout S]\n"
"  --peer       the daemon's public key; --endpoint its UDP address\n"
"               (IPv4 or [IPv6], with port)\n"
"  --src/--dst  inner addresses: src in our AllowedIPs on the daemon,\n"
"               dst the daemon's tunnel address\n"
"  --dport      inner UDP destination port (default 9)\n"
"  --size       inner IPv4 packet bytes, %d..MTU (default 1420)\n"
"  --mtu        the daemon's tunnel MTU, for the padding (default 1420,\n"
"               at most %d)\n"
"  --rate       Gbit/s of inner bytes (default 1)\n"
"  --seconds    how long to send (default 2)\n"
"  --max-gib    cap on the pre-encrypted messages (default 12); a run\n"
"               that needs more is cut short, with capped=1\n"
"  --timeout    seconds to wait for the handshake (default 5)\n",
		RX_MIN_INNER, MAX_MTU);
}

static bool parse_uint(const char *s, unsigned int min, unsigned int max,
		       unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = (unsigned int)v;
	return true;
}

static bool parse_u16(const char *s, unsigned int min, unsigned int max,
		      uint16_t *out)
{
	unsigned int v;

	if (!parse_uint(s, min, max, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool parse_positive(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end && isfinite(*out) && *out > 0;
}

static bool parse_one(int c, const char *arg, struct options *opt)
{
	switch (c) {
	case 'k': opt->key_file = arg; return true;
	case 'p': opt->peer_b64 = arg; return true;
	case 'e': opt->endpoint = arg; return true;
	case 's': return (opt->have_src = inet_pton(AF_INET, arg,
						    &opt->flow.src) == 1);
	case 'd': return (opt->have_dst = inet_pton(AF_INET, arg,
						    &opt->flow.dst) == 1);
	case 'P': return parse_u16(arg, 1, 65535, &opt->flow.dport);
	case 'z': return parse_u16(arg, RX_MIN_INNER, MAX_MTU,
				   &opt->flow.size);
	case 'm': return parse_u16(arg, RX_MIN_INNER, MAX_MTU,
				   &opt->flow.mtu);
	case 'r': return parse_positive(arg, &opt->rate_gbps);
	case 't': return parse_positive(arg, &opt->seconds);
	case 'M': return parse_positive(arg, &opt->max_gib);
	case 'T': return parse_uint(arg, 1, 3600, &opt->timeout_s);
	case 'h': usage(stdout); exit(EXIT_SUCCESS);
	default: return false;
	}
}

static int parse_args(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "private-key", required_argument, NULL, 'k' },
		{ "peer", required_argument, NULL, 'p' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "dport", required_argument, NULL, 'P' },
		{ "size", required_argument, NULL, 'z' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 't' },
		{ "max-gib", required_argument, NULL, 'M' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*opt = (struct options){
		.flow = { .dport = 9, .size = 1420, .mtu = 1420 },
		.rate_gbps = 1, .seconds = 2, .max_gib = 12, .timeout_s = 5,
	};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (parse_one(c, optarg, opt))
			continue;
		if (c != '?')
			fprintf(stderr, "rx_load: bad value '%s'\n", optarg);
		return -EINVAL;
	}
	if (optind != argc || !opt->key_file || !opt->peer_b64 ||
	    !opt->endpoint || !opt->have_src || !opt->have_dst)
		return -EINVAL;
	if (opt->flow.size > opt->flow.mtu) {
		fprintf(stderr, "rx_load: --size %u is larger than --mtu %u\n",
			opt->flow.size, opt->flow.mtu);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The run */

/* How many messages rate x seconds needs, whole ones and at least one,
 * capped at max_gib of memory (the run is then shorter and says so). */
static size_t plan(struct rx_load *ld, size_t msg_len)
{
	const struct options *opt = ld->opt;
	double want = opt->rate_gbps * 1e9 / 8 * opt->seconds / opt->flow.size;
	size_t max = (size_t)(opt->max_gib * (1ULL << 30) / (double)msg_len);
	size_t count = (size_t)want;

	if ((double)count < want || !count)
		count++;
	if (count > max) {
		count = max;
		ld->capped = true;
		fprintf(stderr, "rx_load: capped at %zu messages (--max-gib "
			"%g): the run lasts %.2f s, not %g\n", count,
			opt->max_gib, (double)count * opt->flow.size * 8 /
			opt->rate_gbps / 1e9, opt->seconds);
	}
	return count;
}

/* Every message of the run, sealed before the clock starts. */
static int prepare(struct rx_load *ld, struct result *r)
{
	const struct inner_flow *f = &ld->opt->flow;
	struct keypair *kp = keypairs_current(&ld->peer->keypairs);
	struct messages *m = &ld->msgs;
	size_t msg_len = messages_len(f);
	uint64_t t0 = now_ns();
	double s;
	int ret;

	/* The initiator's keypair is current once the response is in. */
	ret = kp ? messages_alloc(m, plan(ld, msg_len), msg_len) : -ENOKEY;
	if (!ret)
		ret = messages_encrypt(m, kp, f);
	if (ret) {
		fprintf(stderr, "rx_load: %zu messages of %zu bytes: %s\n",
			m->count, msg_len, strerror(-ret));
		return ret;
	}
	r->encrypt_ns = now_ns() - t0;
	s = (double)r->encrypt_ns / 1e9;
	fprintf(stderr, "rx_load: %zu messages of %zu bytes pre-encrypted "
		"in %.2f s (%.1f Gbit/s of inner bytes)\n", m->count,
		m->msg_len, s, (double)m->count * f->size * 8 / s / 1e9);
	return 0;
}

static int run(struct rx_load *ld)
{
	struct result r = { 0 };
	int ret;

	ret = setup(ld);
	if (ret)
		return ret;
	ret = handshake(ld);
	if (ret) {
		fprintf(stderr, "rx_load: handshake with %s: %s\n",
			ld->opt->endpoint, strerror(-ret));
		return ret;
	}
	fprintf(stderr, "rx_load: handshake complete\n");
	ret = prepare(ld, &r);
	if (ret)
		return ret;
	ret = send_paced(ld, &r);
	if (ret) {
		fprintf(stderr, "rx_load: send: %s\n", strerror(-ret));
		return ret;
	}
	print_result(ld, &r);
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct rx_load *ld;
	int ret;

	if (parse_args(argc, argv, &opt)) {
		usage(stderr);
		return 2;
	}
	if (crypto_init()) {
		fprintf(stderr, "rx_load: crypto_init failed\n");
		return 1;
	}
	/* Sleeps end on time: the pacing's granularity is one GSO run. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	ld = calloc(1, sizeof(*ld));
	if (!ld || device_init(&ld->dev, NULL)) {
		free(ld);
		return 1;
	}
	ld->opt = &opt;
	ld->fd = -1;
	ret = run(ld);
	messages_free(&ld->msgs);
	if (ld->fd >= 0)
		close(ld->fd);
	device_destroy(&ld->dev);
	free(ld);
	return ret ? 1 : 0;
}
