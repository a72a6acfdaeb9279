/* The sticky source address's control messages (src/source_addr.c):
 * parsing what recvmsg hands over, good and bad, table-driven; writing
 * the message sendmsg takes and taking it out again for a resend; and,
 * in a network namespace of its own, the kernel's side of the contract:
 * a dual-stack socket reports the address a datagram came to, a reply
 * sent with it leaves from that address, and a send from an address that
 * was deleted is refused with an error source_addr_refused knows, then
 * goes through once the message is stripped. The last part needs root
 * and is skipped without it. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "netlink/rtnl.h"
#include "src/source_addr.h"
#include "tests/unit/check_main.h"

/* Control data for the parser: room for three messages. */
union control {
	uint8_t buf[3 * CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

/* One message of data len at the start of c: its header says claimed
 * bytes (CMSG_LEN(len) unless a test lies), the msghdr says controllen
 * bytes of control data (0: CMSG_SPACE(len)). */
static struct cmsghdr *one(union control *c, struct msghdr *msg, int level,
			   int type, const void *data, size_t len,
			   size_t claimed, size_t controllen)
{
	struct cmsghdr *cm = &c->align;

	memset(c, 0, sizeof(*c));
	memset(msg, 0, sizeof(*msg));
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = claimed ? claimed : CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
	msg->msg_control = c->buf;
	msg->msg_controllen = controllen ? controllen : CMSG_SPACE(len);
	return cm;
}

static struct in6_pktinfo in6(const char *addr, unsigned int ifindex)
{
	struct in6_pktinfo p = { .ipi6_ifindex = ifindex };

	ck_assert_int_eq(inet_pton(AF_INET6, addr, &p.ipi6_addr), 1);
	return p;
}

static struct in_pktinfo in4(const char *addr, const char *spec, int ifindex)
{
	struct in_pktinfo p = { .ipi_ifindex = ifindex };

	ck_assert_int_eq(inet_pton(AF_INET, addr, &p.ipi_addr), 1);
	ck_assert_int_eq(inet_pton(AF_INET, spec, &p.ipi_spec_dst), 1);
	return p;
}

/* What parsing gave, as "family address ifindex", or "-" for false. */
static const char *text(bool ok, const struct source_addr *s, char *out,
			size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!ok)
		return "-";
	inet_ntop(s->family, &s->addr, a, sizeof(a));
	snprintf(out, len, "%d %s %d", s->family == AF_INET ? 4 : 6, a,
		 s->ifindex);
	return out;
}

START_TEST(parse_table)
{
	const struct in6_pktinfo g6 = in6("2001:db8::11", 3);
	const struct in6_pktinfo m4 = in6("::ffff:198.51.100.7", 2);
	const struct in6_pktinfo un6 = in6("::", 2);
	const struct in6_pktinfo m0 = in6("::ffff:0.0.0.0", 2);
	const struct in_pktinfo p4 = in4("198.51.100.9", "198.51.100.1", 4);
	const struct in_pktinfo z4 = in4("0.0.0.0", "198.51.100.1", 4);
	const struct in_pktinfo b4 = in4("255.255.255.255", "198.51.100.1", 4);
	const struct in_pktinfo mc4 = in4("224.0.0.9", "198.51.100.1", 4);
	const struct in6_pktinfo mc6 = in6("ff02::1", 3);
	const int gro = 1400;
	const size_t l6 = sizeof(g6), l4 = sizeof(p4);
	static const size_t s6 = CMSG_SPACE(sizeof(struct in6_pktinfo));
	const struct {
		int level, type;
		const void *data;
		size_t len, claimed, controllen;
		const char *want;
	} t[] = {
		/* 1 */ { IPPROTO_IPV6, IPV6_PKTINFO, &g6, l6, 0, 0,
			  "6 2001:db8::11 3" },
		/* 2: IPv4 on a dual-stack socket */
		{ IPPROTO_IPV6, IPV6_PKTINFO, &m4, l6, 0, 0,
		  "4 198.51.100.7 2" },
		/* 3: the header's destination, not spec_dst */
		{ IPPROTO_IP, IP_PKTINFO, &p4, l4, 0, 0, "4 198.51.100.9 4" },
		/* 4-5: unspecified addresses name nothing */
		{ IPPROTO_IPV6, IPV6_PKTINFO, &un6, l6, 0, 0, "-" },
		{ IPPROTO_IPV6, IPV6_PKTINFO, &m0, l6, 0, 0, "-" },
		/* 6 */ { IPPROTO_IP, IP_PKTINFO, &z4, l4, 0, 0, "-" },
		/* 7-8: a message shorter than its type */
		{ IPPROTO_IPV6, IPV6_PKTINFO, &g6, l6, CMSG_LEN(l6 - 1), 0,
		  "-" },
		{ IPPROTO_IP, IP_PKTINFO, &p4, l4, CMSG_LEN(l4 - 1), 0, "-" },
		/* 9-10: one that claims more than the control data holds */
		{ IPPROTO_IPV6, IPV6_PKTINFO, &g6, l6, 0, CMSG_LEN(l6) - 1,
		  "-" },
		{ IPPROTO_IPV6, IPV6_PKTINFO, &g6, l6, s6 + 64, s6, "-" },
		/* 11: longer than its type but inside the data: fine */
		{ IPPROTO_IPV6, IPV6_PKTINFO, &g6, l6, CMSG_LEN(l6) + 4, s6,
		  "6 2001:db8::11 3" },
		/* 12-15: other messages, or the types at the other level */
		{ SOL_UDP, UDP_GRO, &gro, sizeof(gro), 0, 0, "-" },
		{ IPPROTO_IP, IPV6_PKTINFO, &g6, l6, 0, 0, "-" },
		{ IPPROTO_IPV6, IP_PKTINFO, &p4, l4, 0, 0, "-" },
		{ SOL_SOCKET, IP_PKTINFO, &p4, l4, 0, 0, "-" },
		/* 16-18: broadcast and multicast destinations: never a
		 * source the kernel takes */
		{ IPPROTO_IP, IP_PKTINFO, &b4, l4, 0, 0, "-" },
		{ IPPROTO_IP, IP_PKTINFO, &mc4, l4, 0, 0, "-" },
		{ IPPROTO_IPV6, IPV6_PKTINFO, &mc6, l6, 0, 0, "-" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct source_addr s = { .ifindex = -7 }, before = s;
		union control c;
		struct msghdr msg;
		struct cmsghdr *cm = one(&c, &msg, t[i].level, t[i].type,
					 t[i].data, t[i].len, t[i].claimed,
					 t[i].controllen);
		bool ok = source_addr_from_cmsg(&msg, cm, &s);
		char got[96];

		ck_assert_msg(!strcmp(text(ok, &s, got, sizeof(got)),
				      t[i].want),
			      "line %zu: %s, want %s", i + 1, got, t[i].want);
		if (!ok)
			ck_assert_msg(!memcmp(&s, &before, sizeof(s)),
				      "line %zu: touched on failure", i + 1);
	}
}
END_TEST

/* What recvmsg gives with UDP_GRO and IPV6_PKTINFO, walked as rx.c walks
 * it: the second message is found. */
START_TEST(parse_after_gro)
{
	const struct in6_pktinfo g6 = in6("2001:db8::11", 3);
	union control c;
	struct msghdr msg;
	struct source_addr s;
	int gro = 1400, found = 0;
	struct cmsghdr *cm = one(&c, &msg, SOL_UDP, UDP_GRO, &gro,
				 sizeof(gro), 0, 0);

	cm = (struct cmsghdr *)(c.buf + CMSG_SPACE(sizeof(gro)));
	cm->cmsg_level = IPPROTO_IPV6;
	cm->cmsg_type = IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(g6));
	memcpy(CMSG_DATA(cm), &g6, sizeof(g6));
	msg.msg_controllen = CMSG_SPACE(sizeof(gro)) + CMSG_SPACE(sizeof(g6));
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		found += source_addr_from_cmsg(&msg, cm, &s);
	ck_assert_int_eq(found, 1);
	ck_assert_int_eq(s.family, AF_INET6);
	ck_assert_int_eq(s.ifindex, 3);
}
END_TEST

/* parse(put(src)) is src, but for the interface, which goes along only
 * for a link-local IPv6 address. */
static void round_trip(const char *addr, int family, int ifindex,
		       int want_ifindex)
{
	struct source_addr src, back;
	union control c;
	struct msghdr msg = { .msg_control = c.buf };
	size_t n;

	memset(&src, 0, sizeof(src));
	src.family = (sa_family_t)family;
	src.ifindex = ifindex;
	ck_assert_int_eq(inet_pton(family, addr, &src.addr), 1);
	n = source_addr_put_cmsg(&src, c.buf, sizeof(c.buf));
	ck_assert_uint_eq(n, family == AF_INET ?
			  CMSG_SPACE(sizeof(struct in_pktinfo)) :
			  CMSG_SPACE(sizeof(struct in6_pktinfo)));
	ck_assert_uint_le(n, SOURCE_ADDR_CMSG_SPACE);
	msg.msg_controllen = n;
	if (family == AF_INET) {
		/* IP_PKTINFO takes the source in ipi_spec_dst, which the
		 * parser does not read: check the bytes. */
		struct in_pktinfo p;

		memcpy(&p, CMSG_DATA(&c.align), sizeof(p));
		ck_assert_int_eq(c.align.cmsg_level, IPPROTO_IP);
		ck_assert_int_eq(c.align.cmsg_type, IP_PKTINFO);
		ck_assert(!memcmp(&p.ipi_spec_dst, &src.addr.v4, 4));
		ck_assert_int_eq(p.ipi_ifindex, want_ifindex);
		ck_assert_uint_eq(p.ipi_addr.s_addr, 0);
		return;
	}
	ck_assert(source_addr_from_cmsg(&msg, &c.align, &back));
	ck_assert_int_eq(back.ifindex, want_ifindex);
	back.ifindex = src.ifindex;
	ck_assert(source_addr_equal(&back, &src));
}

START_TEST(put_round_trip)
{
	struct source_addr none = { .family = 0 };
	union control c;

	round_trip("2001:db8::11", AF_INET6, 3, 0);
	round_trip("fe80::1", AF_INET6, 3, 3);
	round_trip("198.51.100.9", AF_INET, 4, 0);
	ck_assert_uint_eq(source_addr_put_cmsg(&none, c.buf, sizeof(c.buf)),
			  0);
	none.family = AF_INET6;
	ck_assert_uint_eq(source_addr_put_cmsg(&none, c.buf,
					       SOURCE_ADDR_CMSG_SPACE - 1), 0);
}
END_TEST

/* UDP_SEGMENT then the source, as tx.c builds a send: stripping leaves
 * UDP_SEGMENT alone; a send with the source only is left with none; one
 * without a source is not touched. */
START_TEST(strip_keeps_the_rest)
{
	struct source_addr src = { .family = AF_INET6 };
	union control c;
	struct msghdr msg = { .msg_control = c.buf };
	uint16_t seg = 1200;
	size_t first = CMSG_SPACE(sizeof(seg));

	memset(&c, 0, sizeof(c));
	inet_pton(AF_INET6, "2001:db8::11", &src.addr);
	c.align.cmsg_level = SOL_UDP;
	c.align.cmsg_type = UDP_SEGMENT;
	c.align.cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(&c.align), &seg, sizeof(seg));
	msg.msg_controllen = first;
	msg.msg_controllen += source_addr_put_cmsg(&src, c.buf + first,
						   sizeof(c.buf) - first);
	ck_assert(source_addr_strip_cmsg(&msg));
	ck_assert_uint_eq(msg.msg_controllen, first);
	ck_assert_ptr_eq(msg.msg_control, c.buf);
	ck_assert(!source_addr_strip_cmsg(&msg));
	ck_assert_uint_eq(msg.msg_controllen, first);

	msg.msg_controllen = source_addr_put_cmsg(&src, c.buf, sizeof(c.buf));
	ck_assert(source_addr_strip_cmsg(&msg));
	ck_assert_uint_eq(msg.msg_controllen, 0);
	ck_assert_ptr_null(msg.msg_control);
}
END_TEST

START_TEST(refused_errors)
{
	ck_assert(source_addr_refused(-EINVAL));
	ck_assert(source_addr_refused(-EADDRNOTAVAIL));
	ck_assert(source_addr_refused(-ENETUNREACH));
	ck_assert(!source_addr_refused(-EMSGSIZE));
	ck_assert(!source_addr_refused(-EIO));
	ck_assert(!source_addr_refused(0));
}
END_TEST

/* ---- the kernel's side, in a namespace of our own ---------------------- */

#define PORT 47011

struct lo_net {
	struct netlink nl;
	int lo;
};

static void lo_add(struct lo_net *n, int family, const char *addr)
{
	uint8_t a[16];

	ck_assert_int_eq(inet_pton(family, addr, a), 1);
	ck_assert_int_eq(netlink_addr_add(&n->nl, n->lo, family, a,
					  family == AF_INET ? 32 : 128, true,
					  NULL), 0);
}

static void lo_del(struct lo_net *n, int family, const char *addr)
{
	uint8_t a[16];

	ck_assert_int_eq(inet_pton(family, addr, a), 1);
	ck_assert_int_eq(netlink_addr_del(&n->nl, n->lo, family, a,
					  family == AF_INET ? 32 : 128), 0);
}

static void sockaddr_of(int family, const char *addr, uint16_t port,
			struct sockaddr_in6 *out)
{
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = htons(port);
	if (family == AF_INET6) {
		inet_pton(AF_INET6, addr, &out->sin6_addr);
		return;
	}
	out->sin6_addr.s6_addr[10] = out->sin6_addr.s6_addr[11] = 0xff;
	inet_pton(AF_INET, addr, &out->sin6_addr.s6_addr[12]);
}

/* A dual-stack UDP socket on port, bound to addr (NULL: any). */
static int dual_stack_socket(int family, const char *addr, uint16_t port)
{
	struct sockaddr_in6 at = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), zero = 0;

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (addr)
		sockaddr_of(family, addr, port, &at);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&at, sizeof(at)), 0);
	return fd;
}

/* One datagram in; its destination as the server learns it. */
static struct source_addr receive_dst(int fd, struct sockaddr_in6 *from)
{
	union control c;
	char buf[16];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_name = from, .msg_namelen = sizeof(*from),
			      .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = c.buf,
			      .msg_controllen = sizeof(c.buf) };
	struct source_addr dst = { .family = 0 };
	struct cmsghdr *cm;

	ck_assert_int_eq(recvmsg(fd, &msg, 0), 4);
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		source_addr_from_cmsg(&msg, cm, &dst);
	return dst;
}

/* "ping" to `to` until server has a datagram (IPv6 on a loopback just
 * brought up may drop the first), at most 5 s. */
static void ping_until_heard(int client, int server,
			     const struct sockaddr_in6 *to)
{
	struct pollfd p = { .fd = server, .events = POLLIN };

	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(sendto(client, "ping", 4, 0,
					(const struct sockaddr *)to,
					sizeof(*to)), 4);
		if (poll(&p, 1, 100) == 1)
			return;
	}
	ck_abort_msg("the server heard nothing");
}

/* sendmsg of "pong" to `to` from src (none: the routes choose). */
static int send_from(int fd, const struct sockaddr_in6 *to,
		     const struct source_addr *src, bool strip)
{
	union control c;
	struct iovec iov = { "pong", 4 };
	struct msghdr msg = { .msg_name = (void *)to,
			      .msg_namelen = sizeof(*to), .msg_iov = &iov,
			      .msg_iovlen = 1, .msg_control = c.buf };

	msg.msg_controllen = source_addr_put_cmsg(src, c.buf, sizeof(c.buf));
	if (strip)
		source_addr_strip_cmsg(&msg);
	if (!msg.msg_controllen)
		msg.msg_control = NULL;
	return sendmsg(fd, &msg, 0) < 0 ? -errno : 0;
}

/* Which address the client saw the reply come from (NULL: any). */
static void reply_came_from(int client, int family, const char *want)
{
	struct sockaddr_in6 from, expect;
	socklen_t len = sizeof(from);
	char buf[8];

	ck_assert_int_eq(recvfrom(client, buf, sizeof(buf), MSG_DONTWAIT,
				  (struct sockaddr *)&from, &len), 4);
	if (!want)
		return;
	sockaddr_of(family, want, 0, &expect);
	ck_assert_msg(!memcmp(&from.sin6_addr, &expect.sin6_addr, 16),
		      "the reply did not come from %s", want);
}

/* The server has addresses A and B; the client, at C, sends to B; the
 * reply sent with what the server learned comes from B (not C, what the
 * routes say for a local destination). B deleted: the same send is
 * refused as source_addr_refused says, and goes through stripped. */
static void kernel_contract(int family, const char *a, const char *b,
			    const char *c)
{
	struct lo_net n;
	struct sockaddr_in6 to_b, client_addr;
	struct source_addr dst;
	int server, client;

	ck_assert_int_eq(netlink_open(&n.nl), 0);
	ck_assert_int_eq(netlink_link_index(&n.nl, "lo", &n.lo), 0);
	ck_assert_int_eq(netlink_link_set_up(&n.nl, n.lo, true), 0);
	lo_add(&n, family, a);
	lo_add(&n, family, b);
	lo_add(&n, family, c);
	server = dual_stack_socket(family, NULL, PORT);
	ck_assert_int_eq(source_addr_enable(server, AF_INET6), 0);
	client = dual_stack_socket(family, c, 0);
	sockaddr_of(family, b, PORT, &to_b);
	ping_until_heard(client, server, &to_b);
	dst = receive_dst(server, &client_addr);
	ck_assert_int_eq(dst.family, family);
	ck_assert_int_eq(dst.ifindex, n.lo);
	ck_assert_int_eq(send_from(server, &client_addr, &dst, false), 0);
	reply_came_from(client, family, b);

	lo_del(&n, family, b);
	ck_assert(source_addr_refused(send_from(server, &client_addr, &dst,
						false)));
	ck_assert_int_eq(send_from(server, &client_addr, &dst, true), 0);
	reply_came_from(client, family, NULL); /* by the routes: C itself */
	close(server);
	close(client);
	netlink_close(&n.nl);
}

static void own_namespace(void)
{
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
}

START_TEST(kernel_ipv4)
{
	kernel_contract(AF_INET, "198.51.100.1", "198.51.100.11",
			"198.51.100.2");
}
END_TEST

START_TEST(kernel_ipv6)
{
	kernel_contract(AF_INET6, "2001:db8::1", "2001:db8::11",
			"2001:db8::2");
}
END_TEST

static Suite *source_addr_suite(void)
{
	Suite *s = suite_create("source_addr");
	TCase *tc = tcase_create("messages");
	TCase *kc = tcase_create("kernel");

	tcase_add_test(tc, parse_table);
	tcase_add_test(tc, parse_after_gro);
	tcase_add_test(tc, put_round_trip);
	tcase_add_test(tc, strip_keeps_the_rest);
	tcase_add_test(tc, refused_errors);
	suite_add_tcase(s, tc);
	/* Root, and a namespace to be had (the fixture takes one per test;
	 * this one keeps the parent off the host's network too). */
	if (geteuid() == 0 && unshare(CLONE_NEWNET) == 0) {
		tcase_add_checked_fixture(kc, own_namespace, NULL);
		tcase_add_test(kc, kernel_ipv4);
		tcase_add_test(kc, kernel_ipv6);
		suite_add_tcase(s, kc);
	}
	return s;
}

int main(void)
{
	return run_suite(source_addr_suite());
}
