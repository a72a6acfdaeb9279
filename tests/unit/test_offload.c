/* The offload splitter and coalescer on hand-built IPv4/IPv6, TCP/UDP
 * packets. Every checksum here is checked by the naive byte-at-a-time
 * sum below, never by offload_csum_*, so that a bug shared by the
 * module's sum and its users cannot hide. */
#include "tun/offload.h"
#include "tun/wire.h"
#include "tests/unit/naive_csum.h"
#include "tests/unit/check_main.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VNET TUN_VNET_HDR_LEN
#define FRAME_MAX (VNET + 65535 + 40)
#define STREAM_MAX 80		/* packets in a stream */
#define PKT_MAX 16384		/* bytes per stream packet */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* ck_assert records every passing check; the hot loops only pay on a
 * failure. */
#define need(cond)                                                     \
	do {                                                           \
		if (!(cond))                                           \
			ck_abort_msg("%s", #cond);                     \
	} while (0)

/* ---- naive Internet checksum ---- */

static bool v4(const uint8_t *ip)
{
	return ip[0] >> 4 == 4;
}

static size_t ip_len(const uint8_t *ip)
{
	return v4(ip) ? get16(ip + 2) : 40 + (size_t)get16(ip + 4);
}

/* The builder below only makes IPv4 options and an IPv6 hop-by-hop
 * header, so this is all the parsing the tests need. */
static size_t l4_off(const uint8_t *ip)
{
	if (v4(ip))
		return (size_t)(ip[0] & 0x0f) * 4;
	return ip[6] == 0 ? 40 + ((size_t)ip[41] + 1) * 8 : 40;
}

static uint8_t l4_proto(const uint8_t *ip)
{
	return v4(ip) ? ip[9] : ip[6] == 0 ? ip[40] : ip[6];
}

static uint64_t naive_pseudo(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
	size_t alen = v4(ip) ? 4 : 16;
	const uint8_t *src = ip + (v4(ip) ? 12 : 8);

	return naive_sum(0, src, 2 * alen) + proto + (l4_len >> 16) +
	       (l4_len & 0xffff);
}

static size_t csum_field(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : 6;
}

static bool ip4_csum_ok(const uint8_t *ip)
{
	return !v4(ip) || naive_fold(naive_sum(0, ip, l4_off(ip))) == 0xffff;
}

/* The whole L4 checksum of a packet of len bytes, pseudo-header and all;
 * UDP's 0 ("none") counts as wrong: nothing here may produce it. */
static bool l4_csum_ok(const uint8_t *ip, size_t len)
{
	size_t l4 = l4_off(ip);
	uint8_t proto = l4_proto(ip);

	if (proto == IPPROTO_UDP && !get16(ip + l4 + 6))
		return false;
	return naive_fold(naive_sum(naive_pseudo(ip, proto, len - l4),
				    ip + l4, len - l4)) == 0xffff;
}

/* ---- packet builder ---- */

struct spec {
	int family;		/* 4 or 6 */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t tos, ttl;
	uint16_t id;		/* IPv4 */
	bool df;
	uint32_t flow;		/* IPv6 flow label */
	size_t ip_opt_len;	/* IPv4 options (NOPs), a multiple of 4 */
	size_t ext_len;		/* IPv6 hop-by-hop header, a multiple of 8 */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;		/* TCP */
	uint16_t window;
	size_t tcp_opt_len;	/* a multiple of 4 */
};

static struct spec base(int family, uint8_t proto)
{
	return (struct spec){
		.family = family, .proto = proto, .ttl = 64, .id = 0x1234,
		.flow = 0x12345, .sport = 40000, .dport = 5201,
		.seq = 0x10000000, .ack = 0x20000000, .flags = TCP_ACK,
		.window = 502, .tcp_opt_len = 12,
	};
}

static void fix_csums(uint8_t *ip)
{
	size_t len = ip_len(ip), l4 = l4_off(ip);
	uint8_t proto = l4_proto(ip);
	uint8_t *field = ip + l4 + csum_field(proto);
	uint16_t c;

	if (v4(ip)) {
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~naive_fold(naive_sum(0, ip, l4)));
	}
	put16(field, 0);
	c = (uint16_t)~naive_fold(naive_sum(naive_pseudo(ip, proto, len - l4),
					    ip + l4, len - l4));
	put16(field, proto == IPPROTO_UDP && !c ? 0xffff : c);
}

static size_t build_ip(uint8_t *p, const struct spec *s, size_t len)
{
	static const uint8_t a4[8] = { 10, 0, 0, 1, 10, 0, 0, 2 };
	size_t hdr = s->family == 4 ? 20 + s->ip_opt_len : 40 + s->ext_len;

	if (s->family == 4) {
		p[0] = (uint8_t)(0x40 | hdr / 4);
		p[1] = s->tos;
		put16(p + 2, (uint32_t)len);
		put16(p + 4, s->id);
		put16(p + 6, s->df ? 0x4000 : 0);
		p[8] = s->ttl;
		p[9] = s->proto;
		memcpy(p + 12, a4, 8);
		memset(p + 20, 1, s->ip_opt_len);
		return hdr;
	}
	put32(p, 0x60000000u | (uint32_t)s->tos << 20 | (s->flow & 0xfffff));
	put16(p + 4, (uint32_t)(len - 40));
	p[6] = s->ext_len ? 0 : s->proto;
	p[7] = s->ttl;
	for (int i = 0; i < 32; i++)
		p[8 + i] = (uint8_t)(i % 16 ? 0x11 * (i % 16) : 0xfd);
	if (s->ext_len) {
		p[40] = s->proto;
		p[41] = (uint8_t)(s->ext_len / 8 - 1);
		p[42] = 1; /* PadN */
		p[43] = (uint8_t)(s->ext_len - 4);
	}
	return hdr;
}

static size_t l4_hdr_len(const struct spec *s)
{
	return s->proto == IPPROTO_TCP ? 20 + s->tcp_opt_len : 8;
}

/* A complete packet: payload behind the headers s describes, with valid
 * checksums. Returns its length. */
static size_t build(uint8_t *p, const struct spec *s, const uint8_t *payload,
		    size_t plen)
{
	size_t l4_hdr = l4_hdr_len(s);
	size_t ip_hdr = s->family == 4 ? 20 + s->ip_opt_len : 40 + s->ext_len;
	size_t len = ip_hdr + l4_hdr + plen;
	uint8_t *l4 = p + ip_hdr;

	memset(p, 0, ip_hdr + l4_hdr);
	build_ip(p, s, len);
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->proto == IPPROTO_UDP) {
		put16(l4 + 4, (uint32_t)(l4_hdr + plen));
	} else {
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)(l4_hdr / 4 << 4);
		l4[13] = s->flags;
		put16(l4 + 14, s->window);
		/* NOP NOP timestamp(10) when 12 bytes; a pattern otherwise. */
		for (size_t i = 0; i < s->tcp_opt_len; i++)
			l4[20 + i] = i < 2 ? 1 : i == 2 ? 8 : i == 3 ? 10 :
				     (uint8_t)(0x30 + i);
	}
	memcpy(l4 + l4_hdr, payload, plen);
	fix_csums(p);
	return len;
}

/* A frame as TUN hands it over: the L4 checksum field holds the folded
 * pseudo-header sum over the whole length, as the kernel leaves it. */
static size_t build_frame(uint8_t *f, const struct spec *s,
			  const uint8_t *payload, size_t plen,
			  uint8_t gso_type, uint16_t gso_size)
{
	uint8_t *ip = f + VNET;
	size_t len = build(ip, s, payload, plen);
	size_t l4 = l4_off(ip);
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = gso_type,
		.hdr_len = (uint16_t)(l4 + l4_hdr_len(s)),
		.gso_size = gso_size,
		.csum_start = (uint16_t)l4,
		.csum_offset = (uint16_t)csum_field(s->proto),
	};

	put16(ip + l4 + csum_field(s->proto),
	      naive_fold(naive_pseudo(ip, s->proto, len - l4)));
	memcpy(f, &h, sizeof(h));
	return VNET + len;
}

static uint8_t gso_type_for(const struct spec *s)
{
	if (s->proto == IPPROTO_UDP)
		return VIRTIO_NET_HDR_GSO_UDP_L4;
	return s->family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
				VIRTIO_NET_HDR_GSO_TCPV6;
}

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint8_t *make_payload(size_t len, uint64_t seed)
{
	uint8_t *p = malloc(len + 1);

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)next_rand(&seed);
	return p;
}

/* ---- splitting ---- */

static struct virtio_net_hdr vnet_of(const uint8_t *f)
{
	struct virtio_net_hdr h;

	memcpy(&h, f, sizeof(h));
	return h;
}

/* Segment k of the super-packet at ip, as it must come out: the header
 * with the per-segment fields patched, then its slice of the payload.
 * The checksum fields are taken from got; they are checked apart. */
static void expect_segment(uint8_t *exp, const uint8_t *ip, size_t hdr,
			   size_t off, size_t chunk, unsigned int k,
			   unsigned int count, const uint8_t *got)
{
	size_t l4 = l4_off(ip), len = hdr + chunk;
	uint8_t *t = exp + l4;

	memcpy(exp, ip, hdr);
	memcpy(exp + hdr, ip + hdr + off, chunk);
	if (v4(ip)) {
		put16(exp + 2, (uint32_t)len);
		put16(exp + 4, (get16(ip + 4) + k) & 0xffff);
		memcpy(exp + 10, got + 10, 2);
	} else {
		put16(exp + 4, (uint32_t)(len - 40));
	}
	if (l4_proto(ip) == IPPROTO_UDP) {
		put16(t + 4, (uint32_t)(len - l4));
	} else {
		put32(t + 4, get32(t + 4) + (uint32_t)off);
		if (k + 1 < count)
			t[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (k)
			t[13] &= (uint8_t)~TCP_CWR;
	}
	memcpy(t + csum_field(l4_proto(ip)), got + l4 + csum_field(l4_proto(ip)),
	       2);
}

/* Splits a GSO frame of plen payload bytes and checks every segment. */
static void check_split(const uint8_t *f, size_t flen, size_t plen)
{
	const uint8_t *ip = f + VNET;
	struct virtio_net_hdr h = vnet_of(f);
	size_t hdr = ip_len(ip) - plen, gso = h.gso_size, off = 0;
	unsigned int count = plen > gso ? (unsigned int)((plen + gso - 1) / gso)
					: 1;
	uint8_t *seg = malloc(FRAME_MAX), *exp = malloc(FRAME_MAX);
	struct offload_split s;

	ck_assert_int_eq(offload_split_begin(&s, f, flen), 0);
	ck_assert_uint_eq(s.count, count);
	ck_assert_uint_eq(offload_split_max_segment(&s),
			  hdr + (plen < gso ? plen : gso));
	/* In any order, without moving s (offload_split_at): last first. */
	ck_assert_uint_eq(offload_split_len(&s, count), 0);
	for (unsigned int k = count; k-- > 0;) {
		size_t at = (size_t)k * gso;
		size_t chunk = plen - at < gso ? plen - at : gso;
		size_t len = offload_split_at(&s, k, seg, FRAME_MAX);

		need(offload_split_len(&s, k) == hdr + chunk);
		need(len == hdr + chunk);
		expect_segment(exp, ip, hdr, at, chunk, k, count, seg);
		need(!memcmp(seg, exp, len));
	}
	ck_assert_uint_eq(s.next, 0);
	for (unsigned int k = 0; k < count; k++) {
		size_t chunk = plen - off < gso ? plen - off : gso;
		size_t len = offload_split_next(&s, seg, FRAME_MAX);

		need(len == hdr + chunk);
		expect_segment(exp, ip, hdr, off, chunk, k, count, seg);
		need(!memcmp(seg, exp, len));
		need(ip_len(seg) == len);
		need(ip4_csum_ok(seg));
		need(l4_csum_ok(seg, len));
		off += chunk;
	}
	ck_assert_uint_eq(off, plen);
	ck_assert_uint_eq(offload_split_next(&s, seg, FRAME_MAX), 0);
	free(seg);
	free(exp);
}

static void split_case(const struct spec *s, size_t plen, uint16_t gso)
{
	uint8_t *f = malloc(FRAME_MAX), *payload = make_payload(plen, plen);

	check_split(f, build_frame(f, s, payload, plen, gso_type_for(s), gso),
		    plen);
	free(f);
	free(payload);
}

static const int families[] = { 4, 6, 4, 6 };
static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_TCP, IPPROTO_UDP,
				  IPPROTO_UDP };

START_TEST(checksum_known)
{
	/* RFC 1071's example: the folded sum of these is 0xddf2. */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03,
				       0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t a[] = { 1, 2, 3, 4 }, b[] = { 5, 6, 7, 8 };

	ck_assert_uint_eq(offload_csum_fold(offload_csum_add(0, rfc, 8)),
			  0xddf2);
	ck_assert_uint_eq(offload_csum_fold(offload_csum_add(0, rfc, 0)), 0);
	/* An odd byte is the high half of a word padded with zero. */
	ck_assert_uint_eq(offload_csum_fold(offload_csum_add(0, rfc + 2, 1)),
			  0xf200);
	ck_assert_uint_eq(offload_csum_fold(offload_pseudo_sum(a, b, 4, 6,
							       0x10000)),
			  naive_fold(0x0102 + 0x0304 + 0x0506 + 0x0708 + 6 +
				     1));
}
END_TEST

/* Every length and alignment up to a few KiB, in one piece and in
 * chunks of even length, against the naive sum. */
START_TEST(checksum_random)
{
	uint8_t *buf = make_payload(4096 + 16, 7);
	uint64_t x = 99;

	for (int i = 0; i < 3000; i++) {
		size_t align = next_rand(&x) % 16, len = next_rand(&x) % 4097;
		size_t cut = (next_rand(&x) % (len + 1)) & ~(size_t)1;
		uint32_t start = (uint32_t)next_rand(&x) & 0xffff;
		uint16_t want = naive_fold(naive_sum(start, buf + align, len));
		uint32_t sum;

		need(offload_csum_fold(offload_csum_add(start, buf + align,
							len)) == want);
		sum = offload_csum_add(start, buf + align, cut);
		sum = offload_csum_add(sum, buf + align + cut, len - cut);
		need(offload_csum_fold(sum) == want);
		/* A running sum near 2^32 carries around. */
		start = 0xffffffff - (uint32_t)(next_rand(&x) % 0x20000);
		need(offload_csum_fold(offload_csum_add(start, buf + align,
							len)) ==
		     naive_fold(naive_sum(start, buf + align, len)));
	}
	free(buf);
}
END_TEST

/* All ones, far past 64 KiB: any carry lost or overflow shows. */
START_TEST(checksum_large)
{
	size_t len = (size_t)1 << 22;
	uint8_t *buf = malloc(len + 1);
	uint32_t sum = 0;

	memset(buf, 0xff, len + 1);
	ck_assert_uint_eq(offload_csum_fold(offload_csum_add(0, buf, len)),
			  0xffff);
	/* 0xffff is zero in one's complement: the odd byte alone is left. */
	ck_assert_uint_eq(offload_csum_fold(offload_csum_add(0, buf, len + 1)),
			  0xff00);
	for (int i = 0; i < 200; i++)
		sum = offload_csum_add(sum, buf, 65536);
	ck_assert_uint_eq(offload_csum_fold(sum), 0xffff);
	memset(buf, 0, len);
	buf[len - 1] = 0x12;
	ck_assert_uint_eq(offload_csum_fold(offload_csum_add(0, buf, len)),
			  0x0012);
	free(buf);
}
END_TEST

/* A 64 KiB TSO/USO frame with a short last segment. */
START_TEST(split_large)
{
	struct spec s = base(families[_i], protos[_i]);

	s.flags = TCP_ACK | TCP_PSH | TCP_CWR | TCP_ECE | TCP_FIN;
	split_case(&s, 65000, 1380);
	split_case(&s, 65535 - 20 - 32 - (_i % 2 ? 20 : 0), 1448);
	split_case(&s, 1380 * 40, 1380);	/* an exact multiple */
	split_case(&s, 65000, 65000);		/* one segment, all of it */
	split_case(&s, 30000, 65535);
	if (s.family == 6) /* IPv6 can carry 64 KiB past its header */
		split_case(&s, 65535 - l4_hdr_len(&s), 1280);
}
END_TEST

/* Small payloads with every gso_size from 1 to 300. */
START_TEST(split_small)
{
	static const size_t plens[] = { 0, 1, 2, 99, 100, 101, 299, 1001 };
	struct spec s = base(families[_i], protos[_i]);

	s.flags = TCP_ACK | TCP_PSH | TCP_CWR;
	for (size_t i = 0; i < sizeof(plens) / sizeof(plens[0]); i++)
		for (uint16_t gso = 1; gso <= 300; gso++)
			split_case(&s, plens[i], gso);
}
END_TEST

START_TEST(split_wraps)
{
	struct spec s = base(families[_i], protos[_i]);

	s.id = 0xfffe;
	s.seq = 0xffffff00;
	split_case(&s, 5000, 100);
	s.tcp_opt_len = 40;
	s.tos = 0xff;
	s.df = true;
	split_case(&s, 3000, 1000);
	s.tcp_opt_len = 0;
	split_case(&s, 3001, 1000);
}
END_TEST

/* IPv4 options and an IPv6 hop-by-hop header sit before csum_start. */
START_TEST(split_ip_options)
{
	struct spec s = base(families[_i], protos[_i]);

	if (s.family == 4)
		s.ip_opt_len = 40;
	else
		s.ext_len = 16;
	split_case(&s, 10000, 1300);
	split_case(&s, 7, 3);
}
END_TEST

START_TEST(split_ecn)
{
	struct spec s = base(4, IPPROTO_TCP);
	uint8_t *f = malloc(FRAME_MAX), *payload = make_payload(4000, 1);
	size_t len = build_frame(f, &s, payload, 4000,
				 VIRTIO_NET_HDR_GSO_TCPV4 |
				 VIRTIO_NET_HDR_GSO_ECN, 1000);

	check_split(f, len, 4000);
	free(f);
	free(payload);
}
END_TEST

/* GSO_NONE with NEEDS_CSUM: one segment, the checksum completed. */
START_TEST(split_none_csum)
{
	struct spec s = base(families[_i], protos[_i]);
	uint8_t *f = malloc(FRAME_MAX), *seg = malloc(FRAME_MAX);
	uint8_t *payload = make_payload(1200, 3);
	size_t len = build_frame(f, &s, payload, 1200,
				 VIRTIO_NET_HDR_GSO_NONE, 0);
	struct offload_split sp;

	ck_assert_int_eq(offload_split_begin(&sp, f, len), 0);
	ck_assert_uint_eq(sp.count, 1);
	ck_assert_uint_eq(offload_split_max_segment(&sp), len - VNET);
	ck_assert_uint_eq(offload_split_next(&sp, seg, FRAME_MAX), len - VNET);
	ck_assert(l4_csum_ok(seg, len - VNET));
	/* The same packet built with a full checksum from the start. */
	build(f, &s, payload, 1200);
	ck_assert_mem_eq(seg, f, len - VNET);
	ck_assert_uint_eq(offload_split_next(&sp, seg, FRAME_MAX), 0);
	free(f);
	free(seg);
	free(payload);
}
END_TEST

/* A generic checksum (ICMP-like: not TCP or UDP, no pseudo-header):
 * the sum from csum_start, field included, must come out 0xffff. */
START_TEST(split_none_generic)
{
	struct spec s = base(4, IPPROTO_UDP);
	uint8_t f[VNET + 100], seg[100];
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = 20,
		.csum_offset = 2,
	};
	struct offload_split sp;

	build(f + VNET, &s, (const uint8_t *)"0123456789abcdefghijklmnop", 25);
	f[VNET + 9] = IPPROTO_ICMP;
	put16(f + VNET + 22, 0);
	memcpy(f, &h, sizeof(h));
	ck_assert_int_eq(offload_split_begin(&sp, f, VNET + 53), 0);
	ck_assert_uint_eq(offload_split_next(&sp, seg, sizeof(seg)), 53);
	ck_assert_uint_eq(naive_fold(naive_sum(0, seg + 20, 33)), 0xffff);
	ck_assert_mem_eq(seg, f + VNET, 22);
	ck_assert_mem_eq(seg + 24, f + VNET + 24, 29);
}
END_TEST

/* A packet read without a vnet header is a split of one segment: the
 * packet, byte for byte, through the same calls. */
START_TEST(split_whole_packet)
{
	struct spec s = base(4, IPPROTO_UDP);
	uint8_t p[100], seg[100];
	size_t len = build(p, &s, (const uint8_t *)"as it is", 8);
	struct offload_split sp;

	offload_split_whole(&sp, p, len);
	ck_assert_uint_eq(sp.count, 1);
	ck_assert_uint_eq(offload_split_len(&sp, 0), len);
	ck_assert_uint_eq(offload_split_len(&sp, 1), 0);
	ck_assert_uint_eq(offload_split_at(&sp, 0, seg, len - 1), 0);
	ck_assert_uint_eq(offload_split_at(&sp, 0, seg, sizeof(seg)), len);
	ck_assert_mem_eq(seg, p, len);
	ck_assert_uint_eq(offload_split_at(&sp, 1, seg, sizeof(seg)), 0);
}
END_TEST

/* Without NEEDS_CSUM the packet is copied as it is, bytes past its IP
 * length left out. */
START_TEST(split_none_plain)
{
	struct spec s = base(families[_i], protos[_i]);
	uint8_t f[VNET + 200] = { 0 }, seg[200];
	size_t len = build(f + VNET, &s, (const uint8_t *)"payload", 7);
	struct offload_split sp;

	ck_assert_int_eq(offload_split_begin(&sp, f, VNET + len + 9), 0);
	ck_assert_ptr_eq(sp.pkt, f + VNET);
	ck_assert_uint_eq(sp.len, len);
	ck_assert_uint_eq(offload_split_max_segment(&sp), len);
	ck_assert_uint_eq(offload_split_next(&sp, seg, len - 1), 0);
	ck_assert_uint_eq(offload_split_next(&sp, seg, len), len);
	ck_assert_mem_eq(seg, f + VNET, len);
	ck_assert_uint_eq(offload_split_next(&sp, seg, sizeof(seg)), 0);
}
END_TEST

/* A UDP checksum that sums to 0 is sent as 0xffff (0 means none). The
 * payload's last word is chosen to make it so. */
START_TEST(split_udp_zero)
{
	struct spec s = base(_i ? 6 : 4, IPPROTO_UDP);
	uint8_t f[VNET + 200], seg[200], payload[64] = { 0 };
	size_t len, l4;
	uint16_t fold;
	struct offload_split sp;

	for (int i = 0; i < 62; i++)
		payload[i] = (uint8_t)(i * 37);
	build(f + VNET, &s, payload, 64);
	l4 = l4_off(f + VNET);
	put16(f + VNET + l4 + 6, 0);
	fold = naive_fold(naive_sum(naive_pseudo(f + VNET, IPPROTO_UDP, 72),
				    f + VNET + l4, 72));
	put16(payload + 62, (uint16_t)(0xffff - fold));
	for (int gso = 0; gso < 2; gso++) {
		len = build_frame(f, &s, payload, 64,
				  gso ? VIRTIO_NET_HDR_GSO_UDP_L4 : 0,
				  gso ? 1000 : 0);
		ck_assert_int_eq(offload_split_begin(&sp, f, len), 0);
		ck_assert_uint_eq(offload_split_next(&sp, seg, sizeof(seg)),
				  len - VNET);
		ck_assert_uint_eq(get16(seg + l4 + 6), 0xffff);
		ck_assert(l4_csum_ok(seg, len - VNET));
	}
}
END_TEST

/* A segment that does not fit is not taken: the split stays put. */
START_TEST(split_cap)
{
	struct spec s = base(4, IPPROTO_TCP);
	uint8_t *f = malloc(FRAME_MAX), *seg = malloc(FRAME_MAX);
	uint8_t *payload = make_payload(3000, 5);
	size_t len = build_frame(f, &s, payload, 3000,
				 VIRTIO_NET_HDR_GSO_TCPV4, 1400);
	struct offload_split sp;

	ck_assert_int_eq(offload_split_begin(&sp, f, len), 0);
	ck_assert_uint_eq(offload_split_max_segment(&sp), 52 + 1400);
	ck_assert_uint_eq(offload_split_next(&sp, seg, 52 + 1399), 0);
	ck_assert_uint_eq(sp.next, 0);
	ck_assert_uint_eq(offload_split_next(&sp, seg, 52 + 1400), 52 + 1400);
	ck_assert_uint_eq(offload_split_next(&sp, seg, 52 + 1400), 52 + 1400);
	/* The short last one fits where a full one would not. */
	ck_assert_uint_eq(offload_split_next(&sp, seg, 52 + 200), 52 + 200);
	ck_assert_uint_eq(get32(seg + 24), s.seq + 2800);
	ck_assert_uint_eq(offload_split_next(&sp, seg, FRAME_MAX), 0);
	free(f);
	free(seg);
	free(payload);
}
END_TEST

/* ---- inconsistent frames ---- */

enum breakage {
	BAD_SHORT_FRAME,	/* less than a vnet header */
	BAD_NO_PACKET,
	BAD_VERSION,
	BAD_IHL,
	BAD_TOTAL_LONG,		/* IP length past the frame */
	BAD_TOTAL_SHORT,	/* IP length inside the IP header */
	BAD_IPV6_TRUNCATED,
	BAD_UFO,
	BAD_GSO_TYPE,
	BAD_GSO_TYPE_HIGH,
	BAD_GSO_FAMILY,		/* TCPV4 on IPv6, TCPV6 on IPv4 */
	BAD_GSO_PROTO,		/* TCP GSO on a UDP packet */
	BAD_GSO_SIZE,
	BAD_NO_NEEDS_CSUM,
	BAD_CSUM_START_PAST,
	BAD_CSUM_START_MOVED,	/* not where the IP header ends */
	BAD_CSUM_OFFSET,
	BAD_TCP_DOFF_SMALL,
	BAD_TCP_DOFF_PAST,
	BAD_L4_TRUNCATED,
	BAD_FRAGMENT,		/* IPv4 MF, or an IPv6 fragment header */
	BAD_ROUTING,		/* IPv6 routing header */
	BAD_NONE_FIELD_PAST,
	BAD_NONE_FIELD_HALF,	/* its last byte past the packet */
	BAD_NONE_ODD_OFFSET,
	BAD_NONE_START_IN_IP,
	BAD_COUNT
};

/* Builds a valid GSO frame for the (family, proto) of variant, then
 * breaks it one way. Returns its length, 0 if that way does not apply. */
static size_t broken_frame(uint8_t *f, int family, uint8_t proto,
			   enum breakage b)
{
	struct spec s = base(family, proto);
	uint8_t payload[600];
	uint8_t *ip = f + VNET;
	struct virtio_net_hdr h;
	size_t len, l4;

	memset(payload, 0x5a, sizeof(payload));
	if (b == BAD_ROUTING && family == 6)
		s.ext_len = 8;
	len = build_frame(f, &s, payload, sizeof(payload), gso_type_for(&s),
			  200);
	h = vnet_of(f);
	l4 = h.csum_start;
	switch (b) {
	case BAD_SHORT_FRAME: return VNET - 1;
	case BAD_NO_PACKET: return VNET;
	case BAD_VERSION: ip[0] = (uint8_t)(5 << 4 | (ip[0] & 0x0f)); break;
	case BAD_IHL:
		if (family == 6)
			return 0;
		ip[0] = 0x44;
		break;
	case BAD_TOTAL_LONG: len--; break;
	case BAD_TOTAL_SHORT:
		if (family == 6)
			return 0;
		put16(ip + 2, 19);
		break;
	case BAD_IPV6_TRUNCATED:
		if (family == 4)
			return 0;
		len = VNET + 39;
		break;
	case BAD_UFO: h.gso_type = VIRTIO_NET_HDR_GSO_UDP; break;
	case BAD_GSO_TYPE: h.gso_type = 2; break;
	case BAD_GSO_TYPE_HIGH: h.gso_type = 0x7f; break;
	case BAD_GSO_FAMILY:
		if (proto == IPPROTO_UDP)
			return 0;
		h.gso_type = family == 4 ? VIRTIO_NET_HDR_GSO_TCPV6 :
					   VIRTIO_NET_HDR_GSO_TCPV4;
		break;
	case BAD_GSO_PROTO:
		/* The other protocol's GSO type and checksum offset. */
		s.proto = proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
		h.gso_type = gso_type_for(&s);
		h.csum_offset = (uint16_t)csum_field(s.proto);
		break;
	case BAD_GSO_SIZE: h.gso_size = 0; break;
	case BAD_NO_NEEDS_CSUM: h.flags = 0; break;
	case BAD_CSUM_START_PAST: h.csum_start = (uint16_t)(len - VNET - 4);
		break;
	case BAD_CSUM_START_MOVED: h.csum_start += 4; break;
	case BAD_CSUM_OFFSET: h.csum_offset += 2; break;
	case BAD_TCP_DOFF_SMALL:
		if (proto == IPPROTO_UDP)
			return 0;
		ip[l4 + 12] = 4 << 4;
		break;
	case BAD_TCP_DOFF_PAST:
		if (proto == IPPROTO_UDP)
			return 0;
		/* The packet ends inside the header its data offset claims. */
		len = VNET + l4 + 40;
		ip[l4 + 12] = 11 << 4;
		if (family == 4)
			put16(ip + 2, (uint32_t)(l4 + 40));
		else
			put16(ip + 4, (uint32_t)(l4 + 40 - 40));
		break;
	case BAD_L4_TRUNCATED:
		len = VNET + l4 + (proto == IPPROTO_UDP ? 7 : 19);
		if (family == 4)
			put16(ip + 2, (uint32_t)(len - VNET));
		else
			put16(ip + 4, (uint32_t)(len - VNET - 40));
		break;
	case BAD_FRAGMENT:
		if (family == 4) {
			put16(ip + 6, 0x2000);
		} else {
			ip[6] = IPPROTO_FRAGMENT;
			ip[40] = proto;
			h.csum_start = 48;
		}
		break;
	case BAD_ROUTING:
		if (family == 4)
			return 0;
		ip[6] = IPPROTO_ROUTING;
		break;
	case BAD_NONE_FIELD_PAST:
		h.gso_type = 0;
		h.csum_offset = (uint16_t)(len - VNET - l4);
		break;
	case BAD_NONE_FIELD_HALF:
		h.gso_type = 0;
		len--;
		if (family == 4)
			put16(ip + 2, get16(ip + 2) - 1);
		else
			put16(ip + 4, get16(ip + 4) - 1);
		h.csum_offset = (uint16_t)(len - VNET - l4 - 1);
		break;
	case BAD_NONE_ODD_OFFSET:
		h.gso_type = 0;
		h.csum_offset = 5;
		break;
	case BAD_NONE_START_IN_IP:
		h.gso_type = 0;
		h.csum_start = (uint16_t)(l4_off(ip) - 2);
		break;
	case BAD_COUNT: break;
	}
	memcpy(f, &h, sizeof(h));
	return len;
}

START_TEST(split_bad)
{
	uint8_t *f = malloc(FRAME_MAX);
	struct offload_split s;
	unsigned int tried = 0;

	for (int b = 0; b < BAD_COUNT; b++) {
		size_t len = broken_frame(f, families[_i], protos[_i], b);

		if (!len && b != BAD_SHORT_FRAME)
			continue;
		tried++;
		if (offload_split_begin(&s, f, len) != -EINVAL)
			ck_abort_msg("breakage %d accepted", b);
		ck_assert_uint_eq(s.count, 0);
		ck_assert_uint_eq(offload_split_next(&s, f, FRAME_MAX), 0);
	}
	ck_assert_uint_ge(tried, 17);
	/* Unbroken, the same frame is fine. */
	ck_assert_int_eq(offload_split_begin(&s, f,
					     broken_frame(f, families[_i],
							  protos[_i],
							  BAD_COUNT)),
			 0);
	free(f);
}
END_TEST

/* What a split that succeeded must have produced: for GSO, segments with
 * valid checksums of the protocol the GSO type names; for NONE, the
 * generic sum completed. */
static void check_random_split(const uint8_t *f, size_t flen)
{
	struct offload_split s;
	struct virtio_net_hdr h = vnet_of(f);
	size_t max, len, total = 0;
	unsigned int n = 0;
	uint8_t *seg, gso = h.gso_type & 0x7f;
	uint8_t proto = gso == VIRTIO_NET_HDR_GSO_UDP_L4 ? IPPROTO_UDP :
			IPPROTO_TCP;

	if (offload_split_begin(&s, f, flen))
		return;
	max = offload_split_max_segment(&s);
	seg = malloc(max ? max : 1);
	need(s.len <= flen - VNET && s.count);
	while ((len = offload_split_next(&s, seg, max))) {
		size_t l4 = h.csum_start;

		need(len <= max && ip_len(seg) == len);
		if (gso) {
			need(ip4_csum_ok(seg));
			need(naive_fold(naive_sum(naive_pseudo(seg, proto,
							       len - l4),
						  seg + l4, len - l4)) ==
			     0xffff);
			total += len - s.hdr_len;
		} else if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			uint16_t partial = get16(f + VNET + l4 + h.csum_offset);

			need(naive_fold(naive_sum(partial, seg + l4,
						  len - l4)) == 0xffff);
		} else {
			need(!memcmp(seg, f + VNET, len));
		}
		n++;
	}
	need(n == s.count);
	need(!gso || total == s.len - s.hdr_len);
	free(seg);
}

/* Random bytes, and valid frames with a few bytes of their headers
 * changed: nothing crashes, and what is accepted splits soundly. */
START_TEST(split_random)
{
	uint8_t *f = malloc(FRAME_MAX), *payload = make_payload(3000, 11);
	uint64_t x = 0x1234567;

	for (int i = 0; i < 6000; i++) {
		struct spec s = base(next_rand(&x) % 2 ? 4 : 6,
				     next_rand(&x) % 2 ? IPPROTO_TCP :
							 IPPROTO_UDP);
		size_t len;

		if (i % 3 == 0) {
			len = next_rand(&x) % 200;
			for (size_t j = 0; j < len; j++)
				f[j] = (uint8_t)next_rand(&x);
		} else {
			len = build_frame(f, &s, payload,
					  next_rand(&x) % 3000,
					  gso_type_for(&s),
					  (uint16_t)(next_rand(&x) % 1500));
			for (int j = next_rand(&x) % 4; j >= 0; j--)
				f[next_rand(&x) % 80] = (uint8_t)next_rand(&x);
			if (next_rand(&x) % 4 == 0)
				len = next_rand(&x) % (len + 1);
		}
		check_random_split(f, len);
	}
	free(f);
	free(payload);
}
END_TEST

/* ---- coalescing ---- */

/* Packets as they arrive from the tunnel, in order. */
struct stream {
	uint8_t (*pkt)[PKT_MAX];
	size_t len[STREAM_MAX];		/* as handed over, padding included */
	size_t ip_len[STREAM_MAX];
	unsigned int n;
};

static struct stream *stream_new(void)
{
	struct stream *st = calloc(1, sizeof(*st));

	st->pkt = calloc(STREAM_MAX, PKT_MAX);
	ck_assert_ptr_nonnull(st->pkt);
	return st;
}

static void stream_free(struct stream *st)
{
	free(st->pkt);
	free(st);
}

static uint8_t *stream_push(struct stream *st, const struct spec *s,
			    const uint8_t *payload, size_t plen)
{
	uint8_t *p = st->pkt[st->n];

	ck_assert_uint_lt(st->n, STREAM_MAX);
	st->len[st->n] = st->ip_len[st->n] = build(p, s, payload, plen);
	st->n++;
	return p;
}

/* n segments of one flow, each but the last seg bytes (the last
 * last_len), numbered as a sender numbers them. */
static void stream_flow(struct stream *st, struct spec *s, unsigned int n,
			size_t seg, size_t last_len)
{
	uint8_t *payload = make_payload(seg > last_len ? seg : last_len,
					st->n + 1);

	for (unsigned int i = 0; i < n; i++) {
		size_t plen = i + 1 == n ? last_len : seg;

		payload[0] = (uint8_t)i;
		stream_push(st, s, payload, plen);
		s->seq += (uint32_t)plen;
		s->id++;
	}
	free(payload);
}

struct result {
	uint8_t *out;
	struct offload_frame frames[STREAM_MAX];
	unsigned int n;
};

static void coalesce(const struct stream *st, unsigned int flags,
		     struct result *r)
{
	struct offload_coalescer c;

	r->out = malloc(STREAM_MAX * (PKT_MAX + VNET));
	offload_coalesce_init(&c, r->out, STREAM_MAX * (PKT_MAX + VNET),
			      r->frames, STREAM_MAX, flags);
	for (unsigned int i = 0; i < st->n; i++)
		ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[i],
						      st->len[i]), 0);
	r->n = offload_coalesce_finish(&c);
	ck_assert_uint_eq(c.used, r->frames[r->n - 1].off +
				  r->frames[r->n - 1].len);
}

/* A GSO frame's header, lengths and partial checksum: completed naively
 * the way the kernel will, the checksum must verify. */
static void check_gso_frame(const uint8_t *f, size_t flen)
{
	struct virtio_net_hdr h = vnet_of(f);
	size_t len = flen - VNET, l4;
	uint8_t *ip = malloc(len);
	uint8_t proto;
	uint16_t c;

	memcpy(ip, f + VNET, len);
	l4 = l4_off(ip);
	proto = l4_proto(ip);
	ck_assert_uint_eq(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.gso_type, proto == IPPROTO_UDP ?
			  VIRTIO_NET_HDR_GSO_UDP_L4 : v4(ip) ?
			  VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6);
	ck_assert_uint_eq(h.csum_start, l4);
	ck_assert_uint_eq(h.csum_offset, csum_field(proto));
	ck_assert_uint_eq(h.hdr_len, l4 + (proto == IPPROTO_UDP ? 8 :
					   (size_t)(ip[l4 + 12] >> 4) * 4));
	ck_assert_uint_gt(h.gso_size, 0);
	ck_assert_uint_gt(len - h.hdr_len, h.gso_size);
	ck_assert_uint_eq(ip_len(ip), len);
	ck_assert(ip4_csum_ok(ip));
	if (proto == IPPROTO_UDP)
		ck_assert_uint_eq(get16(ip + l4 + 4), len - l4);
	c = (uint16_t)~naive_fold(naive_sum(0, ip + l4, len - l4));
	put16(ip + l4 + h.csum_offset, c ? c : 0xffff);
	ck_assert(l4_csum_ok(ip, len));
	free(ip);
}

/* Segment got of a re-split frame is input packet want; with DF set the
 * IPv4 ID need not count up (and the header checksum follows it). */
static void check_same(const uint8_t *got, size_t len, const uint8_t *want,
		       size_t want_len)
{
	ck_assert_uint_eq(len, want_len);
	if (v4(want) && (want[6] & 0x40)) {
		ck_assert_mem_eq(got, want, 4);
		ck_assert_mem_eq(got + 6, want + 6, 4);
		ck_assert_mem_eq(got + 12, want + 12, len - 12);
		ck_assert(ip4_csum_ok(got));
	} else {
		ck_assert_mem_eq(got, want, len);
	}
}

/* The frames hold exactly the stream: a frame of one packet is that
 * packet (its padding cut), a GSO frame splits back into its packets. */
static void check_frames(const struct stream *st, const struct result *r)
{
	uint8_t *seg = malloc(FRAME_MAX);
	unsigned int j = 0;
	size_t off = 0;

	for (unsigned int i = 0; i < r->n; i++) {
		const uint8_t *f = r->out + r->frames[i].off;
		struct virtio_net_hdr h = vnet_of(f);
		struct offload_split s;
		size_t len;

		ck_assert_uint_eq(r->frames[i].off, off);
		off += r->frames[i].len;
		ck_assert_uint_lt(j, st->n);
		if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
			static const uint8_t zero[VNET];

			ck_assert_mem_eq(f, zero, VNET);
			ck_assert_uint_eq(r->frames[i].len - VNET,
					  st->ip_len[j]);
			ck_assert_mem_eq(f + VNET, st->pkt[j], st->ip_len[j]);
			j++;
			continue;
		}
		check_gso_frame(f, r->frames[i].len);
		ck_assert_int_eq(offload_split_begin(&s, f, r->frames[i].len),
				 0);
		while ((len = offload_split_next(&s, seg, FRAME_MAX))) {
			ck_assert_uint_lt(j, st->n);
			check_same(seg, len, st->pkt[j], st->ip_len[j]);
			j++;
		}
	}
	ck_assert_uint_eq(j, st->n);
	free(seg);
}

/* How many packets each frame holds. */
static void check_layout(const struct result *r, const unsigned int *want,
			 unsigned int n)
{
	ck_assert_uint_eq(r->n, n);
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *f = r->out + r->frames[i].off;
		struct virtio_net_hdr h = vnet_of(f);
		size_t payload = r->frames[i].len - VNET - h.hdr_len;
		unsigned int got = h.gso_type ?
			(unsigned int)((payload + h.gso_size - 1) /
				       h.gso_size) : 1;

		if (got != want[i])
			ck_abort_msg("frame %u holds %u packets, not %u", i,
				     got, want[i]);
	}
}

/* Coalesces st and checks both the frames and their layout. */
static void expect(const struct stream *st, unsigned int flags,
		   const unsigned int *want, unsigned int n)
{
	struct result r;

	coalesce(st, flags, &r);
	check_frames(st, &r);
	check_layout(&r, want, n);
	free(r.out);
}

#define EXPECT(st, flags, ...)                                         \
	do {                                                           \
		const unsigned int want_[] = { __VA_ARGS__ };          \
		expect(st, flags, want_,                               \
		       sizeof(want_) / sizeof(want_[0]));              \
	} while (0)

#define BOTH (OFFLOAD_COALESCE_TCP | OFFLOAD_COALESCE_UDP)

/* Six segments of 1000 bytes of flow _i, then a rule broken on the
 * fourth (index 3); a broken packet starts a frame of its own and the
 * next one cannot join it either, so the layout is 3, 1, 2. */
static struct stream *six(struct spec *s)
{
	struct stream *st = stream_new();

	stream_flow(st, s, 6, 1000, 1000);
	return st;
}

static void expect_broken_fourth(struct stream *st)
{
	fix_csums(st->pkt[3]);
	EXPECT(st, BOTH, 3, 1, 2);
	stream_free(st);
}

/* The splitter's segments of a super-frame coalesce back into that very
 * frame, byte for byte: vnet header, IP header, partial checksum. */
START_TEST(coalesce_roundtrip)
{
	struct spec s = base(families[_i], protos[_i]);
	uint8_t *f = malloc(FRAME_MAX), *out = malloc(FRAME_MAX + 1000);
	uint8_t *payload = make_payload(60000, 17), *seg = malloc(FRAME_MAX);
	struct offload_frame frames[4];
	struct offload_coalescer c;
	struct offload_split sp;
	size_t len, seglen;

	s.flags = TCP_ACK | TCP_PSH;
	len = build_frame(f, &s, payload, 60000, gso_type_for(&s), 1380);
	ck_assert_int_eq(offload_split_begin(&sp, f, len), 0);
	ck_assert_uint_eq(sp.count, 44);
	offload_coalesce_init(&c, out, FRAME_MAX + 1000, frames, 4, BOTH);
	while ((seglen = offload_split_next(&sp, seg, FRAME_MAX)))
		ck_assert_int_eq(offload_coalesce_add(&c, seg, seglen), 0);
	ck_assert_uint_eq(offload_coalesce_finish(&c), 1);
	ck_assert_uint_eq(frames[0].off, 0);
	ck_assert_uint_eq(frames[0].len, len);
	ck_assert_mem_eq(out, f, len);
	check_gso_frame(out, len);
	free(f);
	free(out);
	free(payload);
	free(seg);
}
END_TEST

START_TEST(coalesce_flow)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = stream_new();

	stream_flow(st, &s, 10, 1000, 1000);
	EXPECT(st, BOTH, 10);
	stream_free(st);
	/* A short last one joins and closes. */
	st = stream_new();
	s = base(families[_i], protos[_i]);
	stream_flow(st, &s, 10, 1000, 10);
	stream_flow(st, &s, 2, 1000, 1000);
	EXPECT(st, BOTH, 10, 2);
	stream_free(st);
}
END_TEST

START_TEST(coalesce_short_middle)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = stream_new();

	stream_flow(st, &s, 3, 1000, 500);
	stream_flow(st, &s, 2, 1000, 1000);
	EXPECT(st, BOTH, 3, 2);
	stream_free(st);
}
END_TEST

/* A longer one does not join (GRO only merges down to the first size). */
START_TEST(coalesce_longer)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = stream_new();

	stream_flow(st, &s, 3, 1000, 1000);
	stream_flow(st, &s, 3, 1200, 1200);
	EXPECT(st, BOTH, 3, 3);
	stream_free(st);
}
END_TEST

START_TEST(coalesce_seq_gap)
{
	struct spec s = base(families[_i], IPPROTO_TCP);
	struct stream *st = stream_new();

	stream_flow(st, &s, 3, 1000, 1000);
	s.seq += 1000; /* a segment lost */
	stream_flow(st, &s, 3, 1000, 1000);
	EXPECT(st, BOTH, 3, 3);
	stream_free(st);
}
END_TEST

START_TEST(coalesce_ttl)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = six(&s);

	st->pkt[3][v4(st->pkt[3]) ? 8 : 7]--;
	expect_broken_fourth(st);
}
END_TEST

START_TEST(coalesce_tos)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = six(&s);

	if (s.family == 4)
		st->pkt[3][1] = 2; /* ECT(0) */
	else
		st->pkt[3][1] |= 0x20;
	expect_broken_fourth(st);
}
END_TEST

START_TEST(coalesce_ipv6_flow_label)
{
	struct spec s = base(6, _i ? IPPROTO_UDP : IPPROTO_TCP);
	struct stream *st = six(&s);

	st->pkt[3][3] ^= 1;
	expect_broken_fourth(st);
}
END_TEST

START_TEST(coalesce_bad_checksum)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = six(&s);
	size_t l4 = l4_off(st->pkt[3]);

	static const unsigned int one_frame[] = { 6 };
	struct result r;

	/* The AEAD vouched for the payload: a wrong L4 checksum does not
	 * keep a packet out. The frame leaves the checksum to the kernel,
	 * which computes it from the data: re-split, the packet has the
	 * right one again. */
	st->pkt[3][l4 + csum_field(s.proto)] ^= 0x10;
	coalesce(st, BOTH, &r);
	st->pkt[3][l4 + csum_field(s.proto)] ^= 0x10;
	check_frames(st, &r);
	check_layout(&r, one_frame, 1);
	free(r.out);
	stream_free(st);
	/* The IPv4 header's checksum is checked. */
	if (s.family == 4) {
		s = base(4, protos[_i]);
		st = six(&s);
		st->pkt[3][10] ^= 1;
		EXPECT(st, BOTH, 3, 1, 2);
		stream_free(st);
	}
}
END_TEST

START_TEST(coalesce_other_flow)
{
	struct spec a = base(families[_i], protos[_i]), b = a;
	struct stream *st = stream_new();

	b.sport++;
	for (int i = 0; i < 4; i++) {
		stream_flow(st, &a, 1, 1000, 1000);
		stream_flow(st, &b, 1, 1000, 1000);
	}
	EXPECT(st, BOTH, 1, 1, 1, 1, 1, 1, 1, 1);
	stream_free(st);
}
END_TEST

START_TEST(coalesce_ip_options)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = stream_new();

	if (s.family == 4)
		s.ip_opt_len = 8;
	else
		s.ext_len = 8;
	stream_flow(st, &s, 3, 1000, 1000);
	EXPECT(st, BOTH, 1, 1, 1);
	stream_free(st);
}
END_TEST

START_TEST(coalesce_max_segments)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = stream_new();

	stream_flow(st, &s, 65, 100, 100);
	EXPECT(st, BOTH, 64, 1);
	stream_free(st);
}
END_TEST

/* 65535 IP bytes fit exactly; one more byte starts a new frame. */
START_TEST(coalesce_max_bytes)
{
	struct spec s = base(families[_i], protos[_i]);
	size_t hdr = (s.family == 4 ? 20 : 40) + l4_hdr_len(&s);
	/* Four of seg and a shorter fifth make exactly 65535 bytes. */
	size_t seg = (65535 - hdr) / 5 + 1, fifth = 65535 - hdr - 4 * seg;
	struct stream *st = stream_new();

	ck_assert_uint_lt(fifth, seg);
	stream_flow(st, &s, 5, seg, fifth);
	stream_flow(st, &s, 1, seg, seg);
	EXPECT(st, BOTH, 5, 1);
	stream_free(st);
	st = stream_new();
	s = base(families[_i], protos[_i]);
	stream_flow(st, &s, 5, seg, fifth + 1);
	EXPECT(st, BOTH, 4, 1);
	stream_free(st);
	st = stream_new();
	s = base(families[_i], protos[_i]);
	stream_flow(st, &s, 50, 1460, 1460);
	EXPECT(st, BOTH, (65535 - hdr) / 1460, 50 - (65535 - hdr) / 1460);
	stream_free(st);
}
END_TEST

START_TEST(coalesce_tcp_flags)
{
	static const uint8_t breaking[] = { TCP_SYN, TCP_FIN, TCP_RST, TCP_URG,
					    TCP_CWR };
	struct spec s;
	struct stream *st;

	for (size_t i = 0; i < sizeof(breaking); i++) {
		s = base(families[_i], IPPROTO_TCP);
		st = six(&s);
		st->pkt[3][l4_off(st->pkt[3]) + 13] |= breaking[i];
		expect_broken_fourth(st);
	}
	/* Not even when all of them carry it. */
	for (size_t i = 0; i < sizeof(breaking); i++) {
		s = base(families[_i], IPPROTO_TCP);
		s.flags |= breaking[i];
		st = six(&s);
		EXPECT(st, BOTH, 1, 1, 1, 1, 1, 1);
		stream_free(st);
	}
	/* FIN on the last: not merged, like SYN. */
	s = base(families[_i], IPPROTO_TCP);
	st = six(&s);
	st->pkt[5][l4_off(st->pkt[5]) + 13] |= TCP_FIN;
	fix_csums(st->pkt[5]);
	EXPECT(st, BOTH, 5, 1);
	stream_free(st);
	/* ECE alike on all is fine. */
	s = base(families[_i], IPPROTO_TCP);
	s.flags |= TCP_ECE;
	st = six(&s);
	EXPECT(st, BOTH, 6);
	stream_free(st);
}
END_TEST

/* PSH ends a frame: joins it when it comes in the middle, and a frame
 * whose first packet has it stays alone. */
START_TEST(coalesce_psh)
{
	struct spec s = base(families[_i], IPPROTO_TCP);
	struct stream *st = six(&s);
	struct result r;

	st->pkt[2][l4_off(st->pkt[2]) + 13] |= TCP_PSH;
	fix_csums(st->pkt[2]);
	coalesce(st, BOTH, &r);
	check_frames(st, &r);
	ck_assert_uint_eq(r.n, 2);
	/* The merged frame carries PSH; its re-split puts it on the last. */
	ck_assert(r.out[VNET + l4_off(r.out + VNET) + 13] & TCP_PSH);
	free(r.out);
	stream_free(st);
	s = base(families[_i], IPPROTO_TCP);
	st = six(&s);
	st->pkt[0][l4_off(st->pkt[0]) + 13] |= TCP_PSH;
	fix_csums(st->pkt[0]);
	EXPECT(st, BOTH, 1, 5);
	stream_free(st);
}
END_TEST

START_TEST(coalesce_tcp_fields)
{
	for (int field = 0; field < 3; field++) {
		struct spec s = base(families[_i], IPPROTO_TCP);
		struct stream *st = six(&s);
		uint8_t *t = st->pkt[3] + l4_off(st->pkt[3]);

		switch (field) {
		case 0: t[11] ^= 1; break;	/* ACK */
		case 1: t[15] ^= 1; break;	/* window */
		case 2: t[20 + 11] ^= 1; break;	/* timestamp option */
		}
		expect_broken_fourth(st);
	}
}
END_TEST

START_TEST(coalesce_options_length)
{
	struct spec s = base(families[_i], IPPROTO_TCP);
	struct stream *st = stream_new();

	stream_flow(st, &s, 3, 1000, 1000);
	s.tcp_opt_len = 0;
	stream_flow(st, &s, 3, 1000, 1000);
	EXPECT(st, BOTH, 3, 3);
	stream_free(st);
}
END_TEST

/* A pure ACK (no payload) never joins or starts a GSO frame. */
START_TEST(coalesce_pure_ack)
{
	struct spec s = base(families[_i], IPPROTO_TCP);
	struct stream *st = stream_new();

	stream_flow(st, &s, 3, 1000, 1000);
	stream_flow(st, &s, 1, 0, 0);
	stream_flow(st, &s, 1, 0, 0);
	stream_flow(st, &s, 3, 1000, 1000);
	EXPECT(st, BOTH, 3, 1, 1, 3);
	stream_free(st);
}
END_TEST

/* Without DF the IPv4 ID must count up by one; with DF it may do
 * anything, but DF itself must agree. */
START_TEST(coalesce_ipv4_id)
{
	uint8_t proto = _i ? IPPROTO_UDP : IPPROTO_TCP;
	struct spec s = base(4, proto);
	struct stream *st = six(&s);

	put16(st->pkt[3] + 4, get16(st->pkt[3] + 4) + 1);
	expect_broken_fourth(st);
	s = base(4, proto);
	s.df = true;
	st = six(&s);
	for (int i = 0; i < 6; i++) {
		put16(st->pkt[i] + 4, i % 2 ? 0 : 0x7777 * i);
		fix_csums(st->pkt[i]);
	}
	EXPECT(st, BOTH, 6);
	stream_free(st);
	s = base(4, proto);
	s.df = true;
	st = six(&s);
	st->pkt[3][6] = 0;
	expect_broken_fourth(st);
}
END_TEST

/* IPv4 UDP without a checksum (0) is not merged, even when its data
 * happen to sum so that 0 would verify: GRO wants one, like GSO. */
START_TEST(coalesce_udp_no_checksum)
{
	struct spec s = base(4, IPPROTO_UDP);
	struct stream *st = six(&s);
	uint8_t payload[64] = { 0 };
	uint16_t fold;

	for (int i = 0; i < 6; i++)
		put16(st->pkt[i] + 26, 0);
	EXPECT(st, BOTH, 1, 1, 1, 1, 1, 1);
	st->n = 0;
	stream_push(st, &s, payload, 64);
	put16(st->pkt[0] + 26, 0);
	fold = naive_fold(naive_sum(naive_pseudo(st->pkt[0], IPPROTO_UDP, 72),
				    st->pkt[0] + 20, 72));
	put16(payload + 62, 0xffff - fold);
	st->n = 0;
	for (int i = 0; i < 3; i++, s.id++)
		stream_push(st, &s, payload, 64);
	ck_assert_uint_eq(get16(st->pkt[0] + 26), 0xffff);
	EXPECT(st, BOTH, 3);
	for (int i = 0; i < 3; i++) {
		put16(st->pkt[i] + 26, 0);
		ck_assert(naive_fold(naive_sum(naive_pseudo(st->pkt[i],
							    IPPROTO_UDP, 72),
					       st->pkt[i] + 20, 72)) ==
			  0xffff);
	}
	EXPECT(st, BOTH, 1, 1, 1);
	stream_free(st);
}
END_TEST

/* A UDP length short of IP's ("padded or malicious" to GRO). */
START_TEST(coalesce_udp_length)
{
	struct spec s = base(families[_i], IPPROTO_UDP);
	struct stream *st = six(&s);

	for (int i = 0; i < 6; i++) {
		uint8_t *udp = st->pkt[i] + l4_off(st->pkt[i]);

		put16(udp + 4, get16(udp + 4) - 2);
		fix_csums(st->pkt[i]);
	}
	EXPECT(st, BOTH, 1, 1, 1, 1, 1, 1);
	stream_free(st);
}
END_TEST

/* IPv4 fragments never merge. */
START_TEST(coalesce_fragments)
{
	struct spec s = base(4, _i ? IPPROTO_UDP : IPPROTO_TCP);
	struct stream *st = six(&s);

	for (int i = 0; i < 6; i++) {
		st->pkt[i][6] |= 0x20; /* MF */
		fix_csums(st->pkt[i]);
	}
	EXPECT(st, BOTH, 1, 1, 1, 1, 1, 1);
	stream_free(st);
}
END_TEST

/* Only what the device was offered: TCP needs TSO, UDP needs USO. */
START_TEST(coalesce_flags)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = six(&s);
	unsigned int other = s.proto == IPPROTO_TCP ? OFFLOAD_COALESCE_UDP :
						      OFFLOAD_COALESCE_TCP;

	EXPECT(st, other, 1, 1, 1, 1, 1, 1);
	EXPECT(st, 0, 1, 1, 1, 1, 1, 1);
	EXPECT(st, BOTH ^ other, 6);
	stream_free(st);
}
END_TEST

/* Decrypted WireGuard plaintext is padded to 16 bytes: the IP length
 * rules, and the padding goes nowhere. */
START_TEST(coalesce_padding)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = six(&s);

	for (int i = 0; i < 6; i++)
		st->len[i] += 15 - i;
	EXPECT(st, BOTH, 6);
	stream_free(st);
}
END_TEST

/* Not IP, or shorter than it claims: passed on as is. */
START_TEST(coalesce_malformed)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = six(&s);
	struct result r;

	st->len[1] = st->ip_len[1] = 3;
	st->len[3] = st->ip_len[3] = st->ip_len[3] - 1;
	st->pkt[4][0] = 0x55;
	coalesce(st, BOTH, &r);
	check_frames(st, &r);
	check_layout(&r, (const unsigned int[]){ 1, 1, 1, 1, 1, 1 }, 6);
	ck_assert_uint_eq(r.frames[1].len, VNET + 3);
	free(r.out);
	stream_free(st);
}
END_TEST

/* A full out buffer or frame list leaves the coalescer as it was: finish
 * gives what was there, and a new round takes the packet. */
START_TEST(coalesce_enospc)
{
	struct spec s = base(families[_i], protos[_i]);
	struct stream *st = six(&s);
	size_t one = VNET + st->ip_len[0];
	uint8_t *out = malloc(4 * one);
	struct offload_frame frames[2];
	struct offload_coalescer c;

	/* Room for one packet and half of the next one's payload. */
	offload_coalesce_init(&c, out, one + 500, frames, 2, BOTH);
	ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[0], st->len[0]), 0);
	ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[1], st->len[1]),
			 -ENOSPC);
	ck_assert_uint_eq(c.used, one);
	ck_assert_uint_eq(offload_coalesce_finish(&c), 1);
	ck_assert_uint_eq(frames[0].len, one);
	ck_assert_mem_eq(out + VNET, st->pkt[0], st->ip_len[0]);
	offload_coalesce_init(&c, out, one + 500, frames, 2, BOTH);
	ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[1], st->len[1]), 0);
	ck_assert_uint_eq(offload_coalesce_finish(&c), 1);
	/* Out of frames: two that cannot merge fill the list. */
	offload_coalesce_init(&c, out, 4 * one, frames, 2, 0);
	ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[0], st->len[0]), 0);
	ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[1], st->len[1]), 0);
	ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[2], st->len[2]),
			 -ENOSPC);
	ck_assert_uint_eq(offload_coalesce_finish(&c), 2);
	ck_assert_uint_eq(c.used, 2 * one);
	/* An open GSO frame survives a refused packet and is finished. */
	offload_coalesce_init(&c, out, 2 * one - 1, frames, 2, BOTH);
	ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[0], st->len[0]), 0);
	ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[1], st->len[1]), 0);
	ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[2], st->len[2]),
			 -ENOSPC);
	ck_assert_uint_eq(offload_coalesce_finish(&c), 1);
	check_gso_frame(out, frames[0].len);
	/* No room at all. */
	offload_coalesce_init(&c, out, 0, frames, 0, BOTH);
	ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[0], st->len[0]),
			 -ENOSPC);
	ck_assert_uint_eq(offload_coalesce_finish(&c), 0);
	free(out);
	stream_free(st);
}
END_TEST

/* Random bytes, and valid streams with bytes changed (checksums mended
 * or not): nothing crashes, and the frames account for every byte. */
START_TEST(coalesce_random)
{
	uint8_t *out = malloc(FRAME_MAX * 2);
	struct offload_frame frames[16];
	struct stream *st = stream_new();
	uint64_t x = 77;

	for (int round = 0; round < 400; round++) {
		struct spec s = base(next_rand(&x) % 2 ? 4 : 6,
				     next_rand(&x) % 2 ? IPPROTO_TCP :
							 IPPROTO_UDP);
		struct offload_coalescer c;
		size_t total = 0;
		unsigned int n;

		st->n = 0;
		stream_flow(st, &s, 12, 1 + next_rand(&x) % 1400,
			    1 + next_rand(&x) % 1400);
		for (unsigned int i = 0; i < st->n; i++) {
			uint8_t *p = st->pkt[i];

			if (next_rand(&x) % 3 == 0)
				for (size_t j = 0; j < 64; j++)
					p[j] = (uint8_t)next_rand(&x);
			else if (next_rand(&x) % 2)
				p[next_rand(&x) % 64] ^=
					(uint8_t)(1u << next_rand(&x) % 8);
			if (next_rand(&x) % 2 && ip_len(p) <= st->len[i] &&
			    l4_off(p) + 20 <= ip_len(p))
				fix_csums(p);
			st->len[i] = next_rand(&x) % (st->len[i] + 16);
		}
		offload_coalesce_init(&c, out, FRAME_MAX * 2, frames, 16,
				      BOTH);
		for (unsigned int i = 0; i < st->n; i++) {
			ck_assert_int_eq(offload_coalesce_add(&c, st->pkt[i],
							      st->len[i]), 0);
			total += st->len[i];
		}
		n = offload_coalesce_finish(&c);
		need(n >= 1 && n <= st->n);
		need(frames[n - 1].off + frames[n - 1].len == c.used);
		need(c.used <= total + n * VNET);
	}
	free(out);
	stream_free(st);
}
END_TEST

static Suite *offload_suite(void)
{
	Suite *s = suite_create("offload");
	TCase *tc = tcase_create("checksum");

	tcase_add_test(tc, checksum_known);
	tcase_add_test(tc, checksum_random);
	tcase_add_test(tc, checksum_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("split");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, split_large, 0, 4);
	tcase_add_loop_test(tc, split_small, 0, 4);
	tcase_add_loop_test(tc, split_wraps, 0, 4);
	tcase_add_loop_test(tc, split_ip_options, 0, 4);
	tcase_add_test(tc, split_ecn);
	tcase_add_loop_test(tc, split_none_csum, 0, 4);
	tcase_add_test(tc, split_none_generic);
	tcase_add_test(tc, split_whole_packet);
	tcase_add_loop_test(tc, split_none_plain, 0, 4);
	tcase_add_loop_test(tc, split_udp_zero, 0, 2);
	tcase_add_test(tc, split_cap);
	tcase_add_loop_test(tc, split_bad, 0, 4);
	tcase_add_test(tc, split_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("coalesce");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, coalesce_roundtrip, 0, 4);
	tcase_add_loop_test(tc, coalesce_flow, 0, 4);
	tcase_add_loop_test(tc, coalesce_short_middle, 0, 4);
	tcase_add_loop_test(tc, coalesce_longer, 0, 4);
	tcase_add_loop_test(tc, coalesce_seq_gap, 0, 2);
	tcase_add_loop_test(tc, coalesce_ttl, 0, 4);
	tcase_add_loop_test(tc, coalesce_tos, 0, 4);
	tcase_add_loop_test(tc, coalesce_ipv6_flow_label, 0, 2);
	tcase_add_loop_test(tc, coalesce_bad_checksum, 0, 4);
	tcase_add_loop_test(tc, coalesce_other_flow, 0, 4);
	tcase_add_loop_test(tc, coalesce_ip_options, 0, 4);
	tcase_add_loop_test(tc, coalesce_max_segments, 0, 4);
	tcase_add_loop_test(tc, coalesce_max_bytes, 0, 4);
	tcase_add_loop_test(tc, coalesce_tcp_flags, 0, 2);
	tcase_add_loop_test(tc, coalesce_psh, 0, 2);
	tcase_add_loop_test(tc, coalesce_tcp_fields, 0, 2);
	tcase_add_loop_test(tc, coalesce_options_length, 0, 2);
	tcase_add_loop_test(tc, coalesce_pure_ack, 0, 2);
	tcase_add_loop_test(tc, coalesce_ipv4_id, 0, 2);
	tcase_add_test(tc, coalesce_udp_no_checksum);
	tcase_add_loop_test(tc, coalesce_fragments, 0, 2);
	tcase_add_loop_test(tc, coalesce_udp_length, 0, 2);
	tcase_add_loop_test(tc, coalesce_flags, 0, 4);
	tcase_add_loop_test(tc, coalesce_padding, 0, 4);
	tcase_add_loop_test(tc, coalesce_malformed, 0, 4);
	tcase_add_loop_test(tc, coalesce_enospc, 0, 4);
	tcase_add_test(tc, coalesce_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(offload_suite());
}
