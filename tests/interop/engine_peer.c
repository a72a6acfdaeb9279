/* A minimal WireGuard peer made of the protocol engine and one UDP socket,
 * with no TUN device: it handshakes with a real implementation and
 * exchanges ICMP echo packets it builds and checks itself. Used by
 * tests/integration/engine_interop.sh to prove wire compatibility with
 * wireguard-go independently of the data path and the kernel glue.
 *
 * initiate: handshake as initiator, send an echo request from --local to
 *           --remote, succeed when the matching echo reply decrypts.
 * respond:  answer the peer's handshake, turn each echo request for
 *           --local into an echo reply, succeed after --count of them. */
#include "crypto/keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/data.h"
#include "crypto/messages.h"
#include "src/device.h"
#include "src/peer.h"
#include "src/protocol.h"
#include "tests/interop/tool_util.h"

#define TUNNEL_MTU 1420
#define RETRY_NS NSEC_PER_SEC
#define UDP_MAX 65536

#define IPV4_HDR_LEN 20
#define ICMP_HDR_LEN 8
#define ECHO_PAYLOAD_LEN 56
#define ECHO_ID 0x5276 /* "Rv" */
#define ECHO_SEQ 1
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define IPPROTO_ICMP_NUM 1

enum mode { MODE_NONE, MODE_INITIATE, MODE_RESPOND };

struct options {
	const char *key_file;
	const char *peer_b64;
	const char *endpoint;
	unsigned int listen_port;
	struct in_addr local;
	struct in_addr remote;
	bool have_local, have_remote;
	enum mode mode;
	unsigned int timeout_s;
	unsigned int count;
};

struct counters {
	unsigned int initiations_sent;
	unsigned int handshakes_rx;
	unsigned int data_tx;
	unsigned int data_rx;
	unsigned int keepalives_rx;
	unsigned int dropped;
};

struct engine_peer {
	const struct options *opt;
	struct device dev;
	struct peer *peer;
	int fd;
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	uint64_t deadline;
	struct counters stats;
	/* Datagrams are decrypted in place here. The alignment is for the
	 * header fields only; inner packets are read byte by byte. */
	uint8_t rx[UDP_MAX] __attribute__((aligned(16)));
	uint8_t tx[MESSAGE_DATA_HEADER_LEN + TUNNEL_MTU + DATA_TAILROOM]
		__attribute__((aligned(16)));
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 one's-complement sum. A region whose checksum field is already
 * correct sums to 0xffff, so the result is then 0. */
static uint16_t inet_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void fill_payload(uint8_t *p)
{
	static const char tag[] = "ringvpn-engine-interop";

	for (size_t i = 0; i < ECHO_PAYLOAD_LEN; i++)
		p[i] = i < sizeof(tag) - 1 ? (uint8_t)tag[i] : (uint8_t)i;
}

static void ipv4_header(uint8_t *ip, uint16_t total_len, struct in_addr src,
			struct in_addr dst)
{
	memset(ip, 0, IPV4_HDR_LEN);
	ip[0] = 0x45;
	put16(ip + 2, total_len);
	put16(ip + 4, 0x2b2b);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP_NUM;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	put16(ip + 10, inet_checksum(ip, IPV4_HDR_LEN));
}

static size_t build_echo_request(uint8_t *pkt, const struct options *opt)
{
	size_t len = IPV4_HDR_LEN + ICMP_HDR_LEN + ECHO_PAYLOAD_LEN;
	uint8_t *icmp = pkt + IPV4_HDR_LEN;

	ipv4_header(pkt, (uint16_t)len, opt->local, opt->remote);
	memset(icmp, 0, ICMP_HDR_LEN);
	icmp[0] = ICMP_ECHO_REQUEST;
	put16(icmp + 4, ECHO_ID);
	put16(icmp + 6, ECHO_SEQ);
	fill_payload(icmp + ICMP_HDR_LEN);
	put16(icmp + 2, inet_checksum(icmp, len - IPV4_HDR_LEN));
	return len;
}

/* Checks a decrypted inner packet: an option-less IPv4 ICMP packet with
 * valid checksums, whose total length accounts for plain_len up to the
 * zero padding WireGuard adds. Returns the real length or -EBADMSG. */
static long parse_icmp4(const uint8_t *pkt, size_t plain_len, const char **why)
{
	size_t total, ihl;

	*why = "too short for IPv4";
	if (plain_len < IPV4_HDR_LEN || pkt[0] >> 4 != 4)
		return -EBADMSG;
	ihl = (size_t)(pkt[0] & 0xf) * 4;
	total = get16(pkt + 2);
	*why = "bad IPv4 lengths";
	if (ihl < IPV4_HDR_LEN || total < ihl + ICMP_HDR_LEN ||
	    total > plain_len)
		return -EBADMSG;
	*why = "padding not explained by the IPv4 total length";
	if (plain_len != data_padded_len(total, TUNNEL_MTU))
		return -EBADMSG;
	for (size_t i = total; i < plain_len; i++)
		if (pkt[i])
			return -EBADMSG;
	*why = "IPv4 header checksum";
	if (inet_checksum(pkt, ihl))
		return -EBADMSG;
	*why = "not ICMP";
	if (pkt[9] != IPPROTO_ICMP_NUM)
		return -EBADMSG;
	*why = "ICMP checksum";
	if (inet_checksum(pkt + ihl, total - ihl))
		return -EBADMSG;
	*why = NULL;
	return (long)total;
}

static bool addr_is(const uint8_t *field, struct in_addr want)
{
	return !memcmp(field, &want, 4);
}

static const char *addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	const void *a;
	unsigned int port;

	if (sa->sa_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)(const void *)sa)
			     ->sin6_port);
	} else {
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)(const void *)sa)
			     ->sin_port);
	}
	if (!inet_ntop(sa->sa_family, a, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	snprintf(buf, len, sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 host, port);
	return buf;
}

static int send_to(struct engine_peer *ep, const void *msg, size_t len,
		   const struct sockaddr_storage *dst, socklen_t dst_len)
{
	if (sendto(ep->fd, msg, len, 0, (const struct sockaddr *)dst,
		   dst_len) < 0) {
		perror("engine_peer: sendto");
		return -errno;
	}
	return 0;
}

static int send_initiation(struct engine_peer *ep)
{
	struct message_handshake_initiation msg;
	int ret;

	ret = protocol_create_initiation(&ep->dev, ep->peer, now_ns(), &msg);
	if (ret) {
		fprintf(stderr, "engine_peer: create initiation: %s\n",
			strerror(-ret));
		return ret;
	}
	ret = send_to(ep, &msg, sizeof(msg), &ep->endpoint, ep->endpoint_len);
	if (!ret)
		ep->stats.initiations_sent++;
	return ret;
}

/* Handles any handshake-class message, sending back what the engine
 * produced. Returns 1 when it completed our initiation, 0 otherwise,
 * -errno only for local failures (bad messages are just counted). */
static int handle_handshake(struct engine_peer *ep, size_t len,
			    const struct sockaddr_storage *src,
			    socklen_t src_len)
{
	struct handshake_outcome out;
	char a[80];
	int ret;

	ret = protocol_receive_handshake(&ep->dev, ep->rx, len,
					 (const struct sockaddr *)src, false,
					 now_ns(), &out);
	addr_str((const struct sockaddr *)src, a, sizeof(a));
	if (ret) {
		ep->stats.dropped++;
		fprintf(stderr, "engine_peer: handshake message type %u from "
			"%s rejected: %s\n", ep->rx[0], a, strerror(-ret));
		return 0;
	}
	ep->stats.handshakes_rx++;
	if (out.peer != ep->peer) {
		ep->stats.dropped++;
		return 0;
	}
	if (out.reply_len) {
		ret = send_to(ep, out.reply, out.reply_len, src, src_len);
		if (ret)
			return ret;
	}
	if (out.cookie_sent)
		printf("cookie reply sent to %s\n", a);
	else if (ep->rx[0] == MESSAGE_HANDSHAKE_INITIATION)
		printf("initiation from %s answered\n", a);
	else if (ep->rx[0] == MESSAGE_HANDSHAKE_COOKIE)
		printf("cookie reply from %s accepted\n", a);
	if (out.handshake_complete) {
		printf("handshake complete with %s\n", a);
		return 1;
	}
	return 0;
}

/* Decrypts the data message in ep->rx in place; on success *plain points
 * at the inner packet. Returns its padded length (0: keepalive) or
 * -errno. */
static long handle_data(struct engine_peer *ep, size_t len, uint8_t **plain)
{
	struct data_outcome out;
	int ret;

	ret = protocol_decrypt(&ep->dev, ep->rx, len, now_ns(), &out);
	if (ret) {
		ep->stats.dropped++;
		fprintf(stderr, "engine_peer: data message (%zu bytes) "
			"rejected: %s\n", len, strerror(-ret));
		return ret;
	}
	ep->stats.data_rx++;
	if (out.confirms_next && protocol_confirm_session(out.peer, out.keypair))
		printf("session confirmed by the peer's first data message\n");
	if (!out.plain_len) {
		ep->stats.keepalives_rx++;
		printf("keepalive received\n");
	}
	*plain = ep->rx + MESSAGE_DATA_HEADER_LEN;
	return (long)out.plain_len;
}

static int send_packet(struct engine_peer *ep, const uint8_t *pkt,
		       size_t len, const struct sockaddr_storage *dst,
		       socklen_t dst_len)
{
	size_t msg_len;
	bool rekey;
	int ret;

	if (len > TUNNEL_MTU)
		return -EMSGSIZE;
	memcpy(ep->tx + MESSAGE_DATA_HEADER_LEN, pkt, len);
	ret = protocol_encrypt(ep->peer, ep->tx, len, TUNNEL_MTU, now_ns(),
			       &msg_len, &rekey);
	if (ret) {
		fprintf(stderr, "engine_peer: encrypt: %s\n", strerror(-ret));
		return ret;
	}
	ret = send_to(ep, ep->tx, msg_len, dst, dst_len);
	if (!ret)
		ep->stats.data_tx++;
	return ret;
}

static bool is_our_echo_reply(const struct engine_peer *ep,
			      const uint8_t *pkt, size_t total)
{
	const uint8_t *icmp = pkt + (pkt[0] & 0xf) * 4;
	uint8_t payload[ECHO_PAYLOAD_LEN];
	size_t icmp_len = total - (size_t)(icmp - pkt);

	if (!addr_is(pkt + 12, ep->opt->remote) ||
	    !addr_is(pkt + 16, ep->opt->local)) {
		fprintf(stderr, "engine_peer: ICMP packet with unexpected "
			"addresses ignored\n");
		return false;
	}
	if (icmp[0] != ICMP_ECHO_REPLY || icmp[1] != 0) {
		fprintf(stderr, "engine_peer: ICMP type %u code %u ignored\n",
			icmp[0], icmp[1]);
		return false;
	}
	fill_payload(payload);
	if (get16(icmp + 4) != ECHO_ID || get16(icmp + 6) != ECHO_SEQ ||
	    icmp_len != ICMP_HDR_LEN + ECHO_PAYLOAD_LEN ||
	    memcmp(icmp + ICMP_HDR_LEN, payload, ECHO_PAYLOAD_LEN)) {
		fprintf(stderr, "engine_peer: echo reply does not match our "
			"request (id %#x seq %u, %zu bytes)\n",
			get16(icmp + 4), get16(icmp + 6), icmp_len);
		return false;
	}
	return true;
}

/* Checks a decrypted data message for the reply to our echo request. */
static bool check_reply(struct engine_peer *ep, size_t len)
{
	const char *why;
	uint8_t *pkt;
	long plain, total;

	plain = handle_data(ep, len, &pkt);
	if (plain <= 0)
		return false;
	total = parse_icmp4(pkt, (size_t)plain, &why);
	if (total < 0) {
		fprintf(stderr, "engine_peer: inner packet (%ld bytes) "
			"ignored: %s\n", plain, why);
		return false;
	}
	if (!is_our_echo_reply(ep, pkt, (size_t)total))
		return false;
	printf("echo reply verified: %d bytes (inner packet %ld, "
	       "padded %ld)\n", ECHO_PAYLOAD_LEN, total, plain);
	return true;
}

static int run_initiate(struct engine_peer *ep)
{
	uint8_t request[IPV4_HDR_LEN + ICMP_HDR_LEN + ECHO_PAYLOAD_LEN];
	uint64_t next = 0;
	size_t request_len = build_echo_request(request, ep->opt);
	bool established = false;
	struct sockaddr_storage src;
	socklen_t src_len;
	long n;
	int ret;

	while (now_ns() < ep->deadline) {
		/* Until the handshake completes each retry is a fresh
		 * initiation; afterwards the echo request is retried. */
		if (now_ns() >= next) {
			ret = established ?
				send_packet(ep, request, request_len,
					    &ep->endpoint, ep->endpoint_len) :
				send_initiation(ep);
			if (ret)
				return ret;
			if (established)
				printf("echo request sent: %zu bytes\n",
				       request_len);
			next = now_ns() + RETRY_NS;
		}
		n = receive_until(ep->fd, ep->rx, sizeof(ep->rx),
				  next < ep->deadline ? next : ep->deadline,
				  &src, &src_len);
		if (n < 0)
			return (int)n;
		if (!n)
			continue;
		switch (protocol_classify(ep->rx, (size_t)n)) {
		case MESSAGE_HANDSHAKE_INITIATION:
		case MESSAGE_HANDSHAKE_RESPONSE:
		case MESSAGE_HANDSHAKE_COOKIE:
			ret = handle_handshake(ep, (size_t)n, &src, src_len);
			if (ret < 0)
				return ret;
			if (ret && !established) {
				established = true;
				next = 0;
			}
			break;
		case MESSAGE_DATA:
			if (check_reply(ep, (size_t)n))
				return 0;
			break;
		default:
			ep->stats.dropped++;
			break;
		}
	}
	fprintf(stderr, "engine_peer: timeout after %u s: %s\n",
		ep->opt->timeout_s, established ?
		"no valid echo reply received" : "handshake not completed");
	return -ETIMEDOUT;
}

/* Turns a verified echo request in place into its reply. */
static void make_echo_reply(uint8_t *pkt, size_t total)
{
	size_t ihl = (size_t)(pkt[0] & 0xf) * 4;
	uint8_t *icmp = pkt + ihl;
	uint8_t tmp[4];

	memcpy(tmp, pkt + 12, 4);
	memcpy(pkt + 12, pkt + 16, 4);
	memcpy(pkt + 16, tmp, 4);
	pkt[8] = 64;
	put16(pkt + 10, 0);
	put16(pkt + 10, inet_checksum(pkt, ihl));
	icmp[0] = ICMP_ECHO_REPLY;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 2, inet_checksum(icmp, total - ihl));
}

/* Answers an echo request in the data message in ep->rx. Returns 1 when
 * a reply was sent, 0 for anything else, -errno on local failure. */
static int answer_echo(struct engine_peer *ep, size_t len,
		       const struct sockaddr_storage *src, socklen_t src_len)
{
	const char *why;
	uint8_t *pkt, *icmp;
	long plain, total;
	int ret;

	plain = handle_data(ep, len, &pkt);
	if (plain <= 0)
		return 0;
	total = parse_icmp4(pkt, (size_t)plain, &why);
	if (total < 0) {
		fprintf(stderr, "engine_peer: inner packet (%ld bytes) "
			"ignored: %s\n", plain, why);
		return 0;
	}
	icmp = pkt + (pkt[0] & 0xf) * 4;
	if (!addr_is(pkt + 16, ep->opt->local) ||
	    !addr_is(pkt + 12, ep->opt->remote) ||
	    icmp[0] != ICMP_ECHO_REQUEST || icmp[1] != 0) {
		fprintf(stderr, "engine_peer: ICMP type %u not an echo "
			"request between the tunnel addresses, ignored\n",
			icmp[0]);
		return 0;
	}
	make_echo_reply(pkt, (size_t)total);
	ret = send_packet(ep, pkt, (size_t)total, src, src_len);
	if (ret)
		return ret;
	printf("echo reply sent: id %#x seq %u, %ld bytes\n",
	       get16(icmp + 4), get16(icmp + 6), total);
	return 1;
}

static int run_respond(struct engine_peer *ep)
{
	unsigned int replied = 0;
	struct sockaddr_storage src;
	socklen_t src_len;
	long n;
	int ret;

	printf("listening on UDP port %u\n", ep->opt->listen_port);
	fflush(stdout);
	while (replied < ep->opt->count) {
		n = receive_until(ep->fd, ep->rx, sizeof(ep->rx),
				  ep->deadline, &src, &src_len);
		if (n < 0)
			return (int)n;
		if (!n) {
			if (now_ns() < ep->deadline)
				continue;
			fprintf(stderr, "engine_peer: timeout after %u s: "
				"%u of %u echo requests answered\n",
				ep->opt->timeout_s, replied, ep->opt->count);
			return -ETIMEDOUT;
		}
		switch (protocol_classify(ep->rx, (size_t)n)) {
		case MESSAGE_HANDSHAKE_INITIATION:
		case MESSAGE_HANDSHAKE_RESPONSE:
		case MESSAGE_HANDSHAKE_COOKIE:
			ret = handle_handshake(ep, (size_t)n, &src, src_len);
			break;
		case MESSAGE_DATA:
			ret = answer_echo(ep, (size_t)n, &src, src_len);
			if (ret > 0)
				replied++;
			break;
		default:
			ep->stats.dropped++;
			ret = 0;
			break;
		}
		if (ret < 0)
			return ret;
		fflush(stdout);
	}
	printf("answered %u echo requests\n", replied);
	return 0;
}

/* Without an endpoint one dual-stack socket takes both families; with
 * one, the socket simply has the endpoint's family. */
static int open_socket(struct engine_peer *ep)
{
	int family = ep->endpoint_len ? ep->endpoint.ss_family : AF_INET6;
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	uint16_t port = htons((uint16_t)ep->opt->listen_port);
	int off = 0;

	ep->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ep->fd < 0 && family == AF_INET6 && !ep->endpoint_len) {
		family = AF_INET;
		ss.ss_family = AF_INET;
		ep->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
	if (ep->fd < 0)
		goto fail;
	if (family == AF_INET6) {
		if (setsockopt(ep->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
			       sizeof(off)))
			goto fail;
		((struct sockaddr_in6 *)&ss)->sin6_port = port;
	} else {
		((struct sockaddr_in *)&ss)->sin_port = port;
	}
	if (bind(ep->fd, (struct sockaddr *)&ss, family == AF_INET6 ?
		 sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)))
		goto fail;
	return 0;
fail:
	perror("engine_peer: socket");
	return -errno;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: engine_peer --private-key FILE --peer PUBKEY\n"
		"                   --mode initiate|respond --local IP "
		"--remote IP\n"
		"                   [--endpoint IP:PORT|[IP6]:PORT] "
		"[--listen-port N]\n"
		"                   [--timeout SECONDS] [--count N]\n");
}

static bool parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return false;
	*out = (unsigned int)v;
	return true;
}

static int parse_args(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "private-key", required_argument, NULL, 'k' },
		{ "peer", required_argument, NULL, 'p' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "listen-port", required_argument, NULL, 'l' },
		{ "local", required_argument, NULL, 'L' },
		{ "remote", required_argument, NULL, 'R' },
		{ "mode", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*opt = (struct options){ .timeout_s = 10, .count = 3 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 'k': opt->key_file = optarg; break;
		case 'p': opt->peer_b64 = optarg; break;
		case 'e': opt->endpoint = optarg; break;
		case 'l': ok = parse_uint(optarg, 65535, &opt->listen_port);
			break;
		case 'L': ok = opt->have_local =
				inet_pton(AF_INET, optarg, &opt->local) == 1;
			break;
		case 'R': ok = opt->have_remote =
				inet_pton(AF_INET, optarg, &opt->remote) == 1;
			break;
		case 'm':
			opt->mode = !strcmp(optarg, "initiate") ?
				MODE_INITIATE : !strcmp(optarg, "respond") ?
				MODE_RESPOND : MODE_NONE;
			ok = opt->mode != MODE_NONE;
			break;
		case 't': ok = parse_uint(optarg, 3600, &opt->timeout_s) &&
				opt->timeout_s;
			break;
		case 'c': ok = parse_uint(optarg, 1000, &opt->count) &&
				opt->count;
			break;
		case 'h': usage(stdout); exit(EXIT_SUCCESS);
		default: ok = false; break;
		}
		if (!ok) {
			if (optarg && c != '?')
				fprintf(stderr, "engine_peer: bad value "
					"'%s'\n", optarg);
			return -EINVAL;
		}
	}
	if (optind != argc || !opt->key_file || !opt->peer_b64 ||
	    !opt->have_local || !opt->have_remote || opt->mode == MODE_NONE ||
	    (opt->mode == MODE_INITIATE && !opt->endpoint))
		return -EINVAL;
	return 0;
}

static int setup(struct engine_peer *ep)
{
	const struct options *opt = ep->opt;
	const char *what;
	int ret;

	if (opt->endpoint &&
	    parse_endpoint(opt->endpoint, &ep->endpoint, &ep->endpoint_len)) {
		fprintf(stderr, "engine_peer: --endpoint: expected IP:PORT "
			"or [IPv6]:PORT\n");
		return -EINVAL;
	}
	ret = engine_with_peer(&ep->dev, opt->key_file, opt->peer_b64,
			       &ep->peer, &what);
	if (ret) {
		fprintf(stderr, "engine_peer: %s: %s\n", what,
			ret == -EINVAL ? "not a base64 key" : strerror(-ret));
		return ret;
	}
	return open_socket(ep);
}

int main(int argc, char **argv)
{
	struct options opt;
	struct engine_peer *ep;
	int ret;

	if (parse_args(argc, argv, &opt)) {
		usage(stderr);
		return 2;
	}
	if (crypto_init()) {
		fprintf(stderr, "engine_peer: crypto_init failed\n");
		return 1;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return 1;
	ep->opt = &opt;
	ep->fd = -1;
	ep->deadline = now_ns() + opt.timeout_s * NSEC_PER_SEC;
	ret = device_init(&ep->dev, NULL);
	if (ret) {
		free(ep);
		return 1;
	}
	ret = setup(ep);
	if (!ret)
		ret = opt.mode == MODE_INITIATE ? run_initiate(ep) :
			run_respond(ep);
	printf("stats: initiations sent %u, handshake messages accepted %u, "
	       "data sent %u, data received %u (keepalives %u), dropped %u\n",
	       ep->stats.initiations_sent, ep->stats.handshakes_rx,
	       ep->stats.data_tx, ep->stats.data_rx, ep->stats.keepalives_rx,
	       ep->stats.dropped);
	if (ep->fd >= 0)
		close(ep->fd);
	device_destroy(&ep->dev);
	free(ep);
	return ret ? 1 : 0;
}
