/* Numbered UDP datagrams, to see whether a path keeps their order
 * (reorder.sh: one flow through one ringvpn peer).
 *
 *   seq_udp send [-g] [-n] [-w WINDOW] ADDR PORT COUNT SIZE
 *   seq_udp recv ADDR PORT COUNT SIZE [QUIET_MS]
 *
 * send: COUNT datagrams of SIZE bytes, numbered 0 to COUNT-1, from one
 * connected socket (one flow), as fast as the path takes them: sendmmsg
 * in batches, each message one datagram or, with -g, a UDP_SEGMENT
 * super-datagram of up to GSO_SEGS of them (what a TUN device hands a
 * VPN whole). A datagram the local device queue drops comes back as
 * ENOBUFS (IP_RECVERR) and is sent again, so the numbers leave in order
 * with no gap made here.
 *   First the sender says hello until the receiver answers (FIRST_WAIT_S
 * at most), as TCP's handshake does: a multi-queue TUN device sends a
 * flow out of the queue its reverse traffic was last written to, so a
 * reply that first comes mid-flow moves the flow to another queue (and
 * ringvpn worker), and what the old one still holds arrives late:
 * reordering made by the kernel's steering, not by the VPN. -n skips the
 * hello, to show that.
 *   The receiver acknowledges the highest number it has seen, and the
 * sender keeps at most WINDOW (default 512; 0: no limit) numbers beyond
 * it in flight. A device in between that drops when its queue is full
 * (a TUN device does, silently) would otherwise lose most of a flow
 * that outruns the slowest step; with the window the flow still goes at
 * that step's full speed. After STALL_MS without an acknowledgement the
 * sender takes what it has in flight as lost and goes on. Prints
 *   sent=N gso=SEGS window=N enobufs=N stalls=N seconds=S
 *
 * recv: binds ADDR:PORT and counts until all COUNT numbers arrived, or
 * QUIET_MS (default 1000) passed without a datagram after the first
 * (FIRST_WAIT_S for the first). A datagram whose number is below the
 * highest seen before it is "reordered"; "max_late" is the largest such
 * distance. Prints
 *   received=N unique=N lost=N duplicates=N reordered=N max_late=N
 *   corrupt=N foreign=N
 * on one line. "corrupt": our header but the wrong length or body;
 * "foreign": not our header, or a number out of range.
 *
 * Exit status: 0 when it ran (whatever it counted; the caller judges),
 * 1 on a socket error, 2 on bad arguments. */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x52565351u     /* "RVSQ": a numbered datagram */
#define ACK_MAGIC 0x5256414bu /* "RVAK": the highest number seen, + 1 */
#define HELLO_MAGIC 0x52564849u /* "RVHI": answered with an ack */
#define HEADER 12	      /* magic (4) and number (8), big-endian */
#define MAX_SIZE 65507	      /* the largest UDP payload over IPv4 */
#define MAX_COUNT (1ul << 30)
#define BATCH 64   /* messages per sendmmsg and recvmmsg */
#define GSO_SEGS 64 /* what every kernel with UDP_SEGMENT takes */
#define WINDOW 512
#define STALL_MS 10
#define FIRST_WAIT_S 20
#define RCVBUF (16 << 20)

struct options {
	bool send, gso, no_hello;
	const char *addr;
	const char *port;
	unsigned long count;
	unsigned long size;
	unsigned long window;
	unsigned long quiet_ms;
};

/* The sending side: BATCH messages of `per` datagrams each. */
struct sender {
	const struct options *o;
	int fd;
	unsigned int per;
	uint8_t *buf;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	union {
		char space[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cmsg[BATCH];
	unsigned long next, acked, enobufs, stalls;
};

/* What the receiver saw. */
struct tally {
	uint8_t *seen; /* one bit per number */
	unsigned long received, unique, duplicates, reordered, corrupt,
		foreign;
	uint64_t highest, max_late;
	bool any;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: seq_udp send [-g] [-n] [-w WINDOW] ADDR PORT COUNT SIZE\n"
		"       seq_udp recv ADDR PORT COUNT SIZE [QUIET_MS]\n");
}

static bool parse_ulong(const char *s, unsigned long min, unsigned long max,
			unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && *s && !*end && *out >= min && *out <= max;
}

/* The mode, then (send only) -g, -n and -w, then the positional ones. */
static int parse_args(int argc, char **argv, struct options *o)
{
	int opt;

	if (argc < 2)
		return -EINVAL;
	o->send = !strcmp(argv[1], "send");
	if (!o->send && strcmp(argv[1], "recv"))
		return -EINVAL;
	o->window = WINDOW;
	o->quiet_ms = 1000;
	argc--;
	argv++;
	opterr = 0; /* usage() says it */
	while (o->send && (opt = getopt(argc, argv, "+gnw:")) != -1) {
		if (opt == 'g')
			o->gso = true;
		else if (opt == 'n')
			o->no_hello = true;
		else if (opt != 'w' ||
			 !parse_ulong(optarg, 0, MAX_COUNT, &o->window))
			return -EINVAL;
	}
	argc -= optind;
	argv += optind;
	if (argc < 4 || argc > 5 || (o->send && argc == 5))
		return -EINVAL;
	o->addr = argv[0];
	o->port = argv[1];
	if (!parse_ulong(argv[2], 1, MAX_COUNT, &o->count) ||
	    !parse_ulong(argv[3], HEADER, MAX_SIZE, &o->size))
		return -EINVAL;
	if (argc == 5 && !parse_ulong(argv[4], 1, 600000, &o->quiet_ms))
		return -EINVAL;
	return 0;
}

/* A UDP socket bound (recv) or connected (send) to ADDR:PORT. */
static int open_socket(const struct options *o)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST |
					      AI_NUMERICSERV };
	struct addrinfo *ai;
	int fd, ret;

	if (getaddrinfo(o->addr, o->port, &hints, &ai))
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		ret = -errno;
	else if (o->send)
		ret = connect(fd, ai->ai_addr, ai->ai_addrlen) ? -errno : fd;
	else
		ret = bind(fd, ai->ai_addr, ai->ai_addrlen) ? -errno : fd;
	if (ret < 0 && fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ret;
}

/* The body after the header: the same bytes in every datagram, so that
 * the receiver checks it with one memcmp. */
static void fill_body(uint8_t *buf, size_t size)
{
	for (size_t i = HEADER; i < size; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
}

static void put_header(uint8_t *buf, uint32_t magic, uint64_t seq)
{
	uint32_t m = htobe32(magic);
	uint64_t be = htobe64(seq);

	memcpy(buf, &m, 4);
	memcpy(buf + 4, &be, 8);
}

/* The number in buf if it starts with MAGIC, else -1. */
static int64_t get_header(const uint8_t *buf, size_t len, uint32_t magic)
{
	uint32_t m;
	uint64_t seq;

	if (len < HEADER)
		return -1;
	memcpy(&m, buf, 4);
	memcpy(&seq, buf + 4, 8);
	seq = be64toh(seq);
	if (be32toh(m) != magic || seq > INT64_MAX)
		return -1;
	return (int64_t)seq;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Without IP_RECVERR a datagram the device queue drops is lost in
 * silence; with it, sendmmsg stops there with ENOBUFS and we resend. */
static void ask_for_errors(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
}

/* Datagrams per message: GSO_SEGS (as many as fit in one UDP payload)
 * with -g on a kernel that has UDP_SEGMENT, else 1. */
static unsigned int segments(const struct options *o, int fd)
{
	int size = 0;
	socklen_t len = sizeof(size);
	unsigned long per = MAX_SIZE / o->size;

	if (!o->gso || getsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, &len))
		return 1;
	return per < GSO_SEGS ? (unsigned int)per : GSO_SEGS;
}

static int sender_init(struct sender *s, const struct options *o, int fd)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
	s->fd = fd;
	s->per = segments(o, fd);
	s->buf = malloc((size_t)BATCH * s->per * o->size);
	if (!s->buf)
		return -ENOMEM;
	for (size_t i = 0; i < (size_t)BATCH * s->per; i++)
		fill_body(s->buf + i * o->size, o->size);
	ask_for_errors(fd);
	return 0;
}

/* Message i carries `segs` datagrams from number `first` on. */
static void put_message(struct sender *s, unsigned int i, uint64_t first,
			unsigned int segs)
{
	size_t size = s->o->size;
	uint8_t *base = s->buf + (size_t)i * s->per * size;
	struct msghdr *h = &s->msgs[i].msg_hdr;

	for (unsigned int k = 0; k < segs; k++)
		put_header(base + k * size, MAGIC, first + k);
	s->iov[i] = (struct iovec){ base, segs * size };
	memset(h, 0, sizeof(*h));
	h->msg_iov = &s->iov[i];
	h->msg_iovlen = 1;
	if (s->per > 1) {
		struct cmsghdr *c = &s->cmsg[i].align;
		uint16_t gso = (uint16_t)size;

		h->msg_control = s->cmsg[i].space;
		h->msg_controllen = sizeof(s->cmsg[i].space);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(gso));
		memcpy(CMSG_DATA(c), &gso, sizeof(gso));
	}
}

/* The receiver's acknowledgements, and whatever errors the socket has
 * queued (an ICMP error would otherwise keep poll awake); how many acks
 * there were. */
static int take_acks(struct sender *s)
{
	uint8_t buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int acks = 0;

	for (int i = 0; i < 1024; i++) {
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		int64_t seq = n < 0 ? -1 : get_header(buf, (size_t)n, ACK_MAGIC);

		acks += seq >= 0;
		if (seq > (int64_t)s->acked)
			s->acked = (unsigned long)seq;
	}
	while (recvmsg(s->fd, &h, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0)
		;
	return acks;
}

/* A hello every 100 ms until the receiver answers; 0 or -ETIMEDOUT.
 * Polled in short steps: an ICMP error (no receiver yet) wakes poll at
 * once and must not shorten the 100 ms. */
static int say_hello(struct sender *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	double end = now_s() + FIRST_WAIT_S, again = 0;
	uint8_t hello[HEADER];

	put_header(hello, HELLO_MAGIC, 0);
	while (now_s() < end) {
		if (now_s() >= again) {
			send(s->fd, hello, sizeof(hello), 0);
			again = now_s() + 0.1;
		}
		if (poll(&p, 1, 10) > 0 && take_acks(s))
			return 0;
	}
	return -ETIMEDOUT;
}

/* How many numbers the window lets us send now; waits up to STALL_MS
 * for an acknowledgement when it is shut, then gives up on what is in
 * flight. */
static unsigned long window_room(struct sender *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	unsigned long w = s->o->window;

	if (!w)
		return s->o->count - s->next;
	take_acks(s);
	if (s->next - s->acked < w)
		return w - (s->next - s->acked);
	if (poll(&p, 1, STALL_MS) == 0) {
		s->stalls++;
		s->acked = s->next;
	}
	return 0;
}

/* One sendmmsg of up to `room` numbers; 0 or -errno. */
static int send_batch(struct sender *s, unsigned long room)
{
	unsigned long left = s->o->count - s->next;
	unsigned int msgs = 0, segs[BATCH];
	uint64_t first = s->next;
	int sent;

	if (room < left)
		left = room;
	while (msgs < BATCH && left) {
		segs[msgs] = left < s->per ? (unsigned int)left : s->per;
		put_message(s, msgs, first, segs[msgs]);
		first += segs[msgs];
		left -= segs[msgs++];
	}
	sent = sendmmsg(s->fd, s->msgs, msgs, 0);
	if (sent < 0)
		return -errno;
	for (int i = 0; i < sent; i++)
		s->next += segs[i];
	return 0;
}

static int run_send(const struct options *o, int fd)
{
	struct sender s;
	double start = now_s();
	const char *step = "hello";
	int ret = sender_init(&s, o, fd);

	if (!ret && !o->no_hello)
		ret = say_hello(&s);
	if (!ret)
		step = "sendmmsg";
	while (!ret && s.next < o->count) {
		unsigned long room = window_room(&s);

		if (!room)
			continue;
		ret = send_batch(&s, room);
		/* A full device queue (let it drain); a port unreachable
		 * reported late. */
		if (ret == -ENOBUFS || ret == -ECONNREFUSED || ret == -EINTR) {
			s.enobufs += ret == -ENOBUFS;
			if (ret == -ENOBUFS)
				sched_yield();
			ret = 0;
		}
	}
	free(s.buf);
	if (ret) {
		fprintf(stderr, "seq_udp: %s: %s\n", step, strerror(-ret));
		return 1;
	}
	printf("sent=%lu gso=%u window=%lu enobufs=%lu stalls=%lu "
	       "seconds=%.3f\n", s.next, s.per, o->window, s.enobufs,
	       s.stalls, now_s() - start);
	return 0;
}

static void count_one(struct tally *t, const struct options *o,
		      const uint8_t *buf, size_t len, const uint8_t *body)
{
	int64_t got = get_header(buf, len, MAGIC);
	uint64_t seq = (uint64_t)got;

	if (got < 0 || seq >= o->count) {
		t->foreign++;
		return;
	}
	t->received++;
	if (len != o->size || memcmp(buf + HEADER, body + HEADER,
				     len - HEADER))
		t->corrupt++;
	if (t->seen[seq / 8] & (1u << (seq % 8))) {
		t->duplicates++;
		return;
	}
	t->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	t->unique++;
	if (t->any && seq < t->highest) {
		t->reordered++;
		if (t->highest - seq > t->max_late)
			t->max_late = t->highest - seq;
	}
	if (!t->any || seq > t->highest)
		t->highest = seq;
	t->any = true;
}

static void set_timeout(int fd, unsigned long ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
			      .tv_usec = (suseconds_t)(ms % 1000 * 1000) };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* A big receive buffer, so that a burst is not lost here; as root the
 * limit of net.core.rmem_max does not apply. */
static void grow_rcvbuf(int fd)
{
	int size = RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* Tells the sender (at `from`) how far we got; lost on the way, the next
 * one says it again. */
static void send_ack(int fd, const struct tally *t,
		     const struct sockaddr_storage *from, socklen_t len)
{
	uint8_t ack[HEADER];

	put_header(ack, ACK_MAGIC, t->any ? t->highest + 1 : 0);
	sendto(fd, ack, sizeof(ack), MSG_DONTWAIT, (const void *)from, len);
}

/* Up to BATCH datagrams into bufs, their sources into from; the count,
 * 0 once the socket has been quiet for its timeout, or -errno. */
static int recv_batch(int fd, uint8_t (*bufs)[MAX_SIZE + 1],
		      struct mmsghdr *msgs, struct sockaddr_storage *from)
{
	struct iovec iov[BATCH];
	int n;

	memset(msgs, 0, BATCH * sizeof(*msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	do
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return n < 0 ? -errno : n;
}

static int run_recv(const struct options *o, int fd)
{
	static uint8_t bufs[BATCH][MAX_SIZE + 1], body[MAX_SIZE];
	struct sockaddr_storage from[BATCH];
	struct mmsghdr msgs[BATCH];
	struct tally t = { 0 };
	int n = 1;

	t.seen = calloc(o->count / 8 + 1, 1);
	if (!t.seen) {
		perror("seq_udp");
		return 1;
	}
	fill_body(body, o->size);
	grow_rcvbuf(fd);
	set_timeout(fd, FIRST_WAIT_S * 1000ul);
	while (t.unique < o->count &&
	       (n = recv_batch(fd, bufs, msgs, from)) > 0) {
		int hellos = 0;

		for (int i = 0; i < n; i++) {
			if (get_header(bufs[i], msgs[i].msg_len,
				       HELLO_MAGIC) >= 0)
				hellos++;
			else
				count_one(&t, o, bufs[i], msgs[i].msg_len,
					  body);
		}
		send_ack(fd, &t, &from[n - 1], msgs[n - 1].msg_hdr.msg_namelen);
		if (hellos < n)
			set_timeout(fd, o->quiet_ms);
	}
	free(t.seen);
	if (n < 0) {
		fprintf(stderr, "seq_udp: recvmmsg: %s\n", strerror(-n));
		return 1;
	}
	printf("received=%lu unique=%lu lost=%lu duplicates=%lu reordered=%lu "
	       "max_late=%llu corrupt=%lu foreign=%lu\n",
	       t.received, t.unique, o->count - t.unique, t.duplicates,
	       t.reordered, (unsigned long long)t.max_late, t.corrupt,
	       t.foreign);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	int fd, ret;

	if (parse_args(argc, argv, &o)) {
		usage();
		return 2;
	}
	fd = open_socket(&o);
	if (fd < 0) {
		fprintf(stderr, "seq_udp: %s %s port %s: %s\n",
			o.send ? "cannot send to" : "cannot bind", o.addr,
			o.port, strerror(-fd));
		return fd == -EINVAL ? 2 : 1;
	}
	ret = o.send ? run_send(&o, fd) : run_recv(&o, fd);
	close(fd);
	return ret;
}
