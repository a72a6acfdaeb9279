/* libFuzzer target: the offload splitter and coalescer (tun/offload.h) on
 * arbitrary bytes.
 *
 * Input: one mode byte, then
 *   bit 0 clear, SPLIT:  a TUN frame (virtio_net_hdr + packet);
 *   bit 0 set, SLICES:   records [ctl][len hi][len lo][len bytes], each
 *                        one packet for the coalescer, its checksums
 *                        mended first when ctl bit 0 is set (so merges
 *                        stay reachable after a mutation).
 * Bits 1 and 2 of the mode byte take TCP and UDP away from the
 * coalescer.
 *
 * A frame the splitter takes must give whole IP packets whose checksums
 * verify by the naive sum below (not offload_csum_*) and whose payloads
 * are the frame's, in order, under the frame's own headers. Whatever
 * reaches the coalescer (split segments or slices) must come out exactly
 * once: a frame of one packet is that packet (cut to its IP length), and
 * a GSO frame, whose header and partial checksum are checked, splits
 * back into the very packets it merged. Segments of a split match that
 * byte for byte; slices up to what GRO does not keep (an IPv4 ID under
 * DF, TCP's urgent pointer, the form of a checksum). */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tun/offload.h"
#include "tun/wire.h"
#include "tests/unit/naive_csum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VNET TUN_VNET_HDR_LEN
#define PKT_MAX (65535 + 40)		/* IPv6: a header and 64 KiB */
#define STAGE_BYTES (256 * 1024)	/* packets checked per round */
#define STAGE_MAX 256
#define OUT_CAP (VNET + PKT_MAX + 64 * 1024)
#define MAX_FRAMES 48			/* fewer than staged: -ENOSPC */
#define SPLIT_WORK_MAX (2 << 20)	/* segment bytes checked per input */

#define MODE_SLICES 1
#define MODE_NO_TCP 2
#define MODE_NO_UDP 4

static void die(const char *what)
{
	fprintf(stderr, "fuzz_offload: %s\n", what);
	abort();
}

#define need(cond, what)                                               \
	do {                                                           \
		if (!(cond))                                           \
			die(what);                                     \
	} while (0)

/* ---- an independent model: naive sums and header reading ---- */

static bool v4(const uint8_t *ip)
{
	return ip[0] >> 4 == 4;
}

/* The IP length when the IP header claims one that fits in len, 0
 * otherwise. */
static size_t ip_len(const uint8_t *ip, size_t len)
{
	size_t hdr, total;

	if (len >= 20 && v4(ip)) {
		hdr = (size_t)(ip[0] & 0x0f) * 4;
		total = get16(ip + 2);
		return hdr >= 20 && total >= hdr && total <= len ? total : 0;
	}
	if (len >= 40 && ip[0] >> 4 == 6) {
		total = 40 + (size_t)get16(ip + 4);
		return total <= len ? total : 0;
	}
	return 0;
}

static uint64_t pseudo(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
	size_t alen = v4(ip) ? 4 : 16;

	return naive_sum(0, ip + (v4(ip) ? 12 : 8), 2 * alen) + proto +
	       (l4_len >> 16) + (l4_len & 0xffff);
}

static bool ip4_csum_ok(const uint8_t *ip)
{
	return !v4(ip) ||
	       naive_fold(naive_sum(0, ip, (size_t)(ip[0] & 0x0f) * 4)) ==
	       0xffff;
}

/* The L4 checksum over [l4, len) with the pseudo-header; UDP's "none"
 * (0) is never right for what the splitter or the coalescer make. */
static bool l4_csum_ok(const uint8_t *ip, size_t len, size_t l4,
		       uint8_t proto)
{
	if (proto == IPPROTO_UDP && !get16(ip + l4 + 6))
		return false;
	return naive_fold(naive_sum(pseudo(ip, proto, len - l4), ip + l4,
				    len - l4)) == 0xffff;
}

static struct virtio_net_hdr vnet_of(const uint8_t *f)
{
	struct virtio_net_hdr h;

	memcpy(&h, f, sizeof(h));
	return h;
}

/* ---- the coalescer, fed and checked in rounds ---- */

struct staged {
	size_t off, len, ip_len;
};

struct harness {
	struct offload_coalescer c;
	uint8_t *out;
	struct offload_frame frames[MAX_FRAMES];
	unsigned int flags;
	bool strict;		/* split segments: byte for byte */
	uint8_t *stage;		/* the packets fed this round */
	size_t stage_used;
	struct staged st[STAGE_MAX];
	unsigned int n;
	uint8_t *seg;		/* PKT_MAX, for re-splitting */
};

/* The header and partial checksum of a GSO frame, as the kernel will
 * read them. */
static void check_gso_frame(const uint8_t *f, size_t flen, uint8_t *tmp)
{
	struct virtio_net_hdr h = vnet_of(f);
	size_t len = flen - VNET, l4, l4_hdr;
	bool udp = h.gso_type == VIRTIO_NET_HDR_GSO_UDP_L4;
	uint8_t proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
	uint16_t c;

	memcpy(tmp, f + VNET, len);
	need(ip_len(tmp, len) == len, "a GSO frame's IP length is off");
	l4 = v4(tmp) ? 20 : 40;
	need(h.gso_type == (udp ? VIRTIO_NET_HDR_GSO_UDP_L4 : v4(tmp) ?
			    VIRTIO_NET_HDR_GSO_TCPV4 :
			    VIRTIO_NET_HDR_GSO_TCPV6) &&
	     (v4(tmp) ? tmp[9] : tmp[6]) == proto, "wrong GSO type");
	need(h.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.csum_start == l4 &&
	     h.csum_offset == (udp ? 6 : 16), "wrong checksum offsets");
	l4_hdr = udp ? 8 : (size_t)(tmp[l4 + 12] >> 4) * 4;
	need(h.hdr_len == l4 + l4_hdr && h.gso_size &&
	     len - h.hdr_len > h.gso_size &&
	     len - h.hdr_len <= (size_t)h.gso_size * OFFLOAD_MAX_SEGMENTS &&
	     len <= 65535, "wrong GSO sizes");
	need(ip4_csum_ok(tmp), "a GSO frame's IPv4 header checksum is bad");
	need(!udp || get16(tmp + l4 + 4) == len - l4, "wrong UDP length");
	/* Completed as skb_checksum_help would. */
	c = (uint16_t)~naive_fold(naive_sum(0, tmp + l4, len - l4));
	put16(tmp + l4 + h.csum_offset, c ? c : 0xffff);
	need(l4_csum_ok(tmp, len, l4, proto), "a bad partial checksum");
}

/* A re-split segment against the packet that went in. */
static void check_same(const struct harness *hs, const uint8_t *got,
		       size_t len, const uint8_t *want, size_t want_len)
{
	uint8_t *a, *b;
	size_t l4 = v4(got) ? 20 : 40;
	bool tcp = (v4(got) ? got[9] : got[6]) == IPPROTO_TCP;

	need(len == want_len, "a merged packet changed length");
	if (hs->strict) {
		need(!memcmp(got, want, len), "a merged segment changed");
		return;
	}
	need(ip4_csum_ok(got) && l4_csum_ok(got, len, l4, tcp ?
					    IPPROTO_TCP : IPPROTO_UDP),
	     "a re-split segment has a bad checksum");
	a = malloc(len);
	b = malloc(len);
	memcpy(a, got, len);
	memcpy(b, want, len);
	/* What GRO does not keep. */
	if (v4(a)) {
		memset(a + 10, 0, 2);
		memset(b + 10, 0, 2);
		if (a[6] & 0x40) {
			memset(a + 4, 0, 2);
			memset(b + 4, 0, 2);
		}
	}
	memset(a + l4 + (tcp ? 16 : 6), 0, 2);
	memset(b + l4 + (tcp ? 16 : 6), 0, 2);
	if (tcp) {
		memset(a + l4 + 18, 0, 2);
		memset(b + l4 + 18, 0, 2);
	}
	need(!memcmp(a, b, len), "a merged packet changed");
	free(a);
	free(b);
}

/* The frames of a round hold exactly its packets, in order. */
static void check_round(struct harness *hs, unsigned int n)
{
	size_t off = 0, len;
	unsigned int j = 0;

	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *f = hs->out + hs->frames[i].off;
		struct virtio_net_hdr h = vnet_of(f);
		static const uint8_t zero[VNET];
		const struct staged *p = &hs->st[j];
		struct offload_split s;

		need(hs->frames[i].off == off && j < hs->n, "frames misplaced");
		off += hs->frames[i].len;
		if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
			need(!memcmp(f, zero, VNET) &&
			     hs->frames[i].len == VNET + p->ip_len &&
			     !memcmp(f + VNET, hs->stage + p->off, p->ip_len),
			     "a frame of one packet is not that packet");
			j++;
			continue;
		}
		check_gso_frame(f, hs->frames[i].len, hs->seg);
		need(!offload_split_begin(&s, f, hs->frames[i].len),
		     "a GSO frame does not split");
		while ((len = offload_split_next(&s, hs->seg, PKT_MAX))) {
			need(j < hs->n, "a GSO frame holds too much");
			p = &hs->st[j++];
			check_same(hs, hs->seg, len, hs->stage + p->off,
				   p->ip_len);
		}
	}
	need(j == hs->n && off == hs->c.used && off <= OUT_CAP,
	     "packets lost");
}

static void flush(struct harness *hs)
{
	check_round(hs, offload_coalesce_finish(&hs->c));
	hs->n = 0;
	hs->stage_used = 0;
	offload_coalesce_init(&hs->c, hs->out, OUT_CAP, hs->frames,
			      MAX_FRAMES, hs->flags);
}

static void feed(struct harness *hs, const uint8_t *pkt, size_t len)
{
	struct staged *p;
	size_t trimmed = ip_len(pkt, len);
	int ret;

	if (hs->n == STAGE_MAX || hs->stage_used + len > STAGE_BYTES)
		flush(hs);
	p = &hs->st[hs->n];
	*p = (struct staged){ hs->stage_used, len, trimmed ? trimmed : len };
	memcpy(hs->stage + p->off, pkt, len);
	ret = offload_coalesce_add(&hs->c, hs->stage + p->off, len);
	if (ret == -ENOSPC) {
		/* The packet waits for the next round, moved to its start. */
		flush(hs);
		p = &hs->st[0];
		*p = (struct staged){ 0, len, trimmed ? trimmed : len };
		memcpy(hs->stage, pkt, len);
		ret = offload_coalesce_add(&hs->c, hs->stage, len);
	}
	need(!ret, "an empty coalescer refused a packet");
	hs->stage_used += len;
	hs->n++;
}

/* The buffers live as long as the process (allocating half a MiB per
 * input would halve the speed under ASan); out keeps its exact size, so
 * that ASan still catches a write past it. */
static struct harness *harness_get(unsigned int flags, bool strict)
{
	static struct harness hs;

	if (!hs.out) {
		hs.out = malloc(OUT_CAP);
		hs.stage = malloc(STAGE_BYTES);
		hs.seg = malloc(PKT_MAX);
		if (!hs.out || !hs.stage || !hs.seg)
			die("out of memory");
	}
	hs.flags = flags;
	hs.strict = strict;
	hs.n = 0;
	hs.stage_used = 0;
	offload_coalesce_init(&hs.c, hs.out, OUT_CAP, hs.frames, MAX_FRAMES,
			      flags);
	return &hs;
}

/* ---- the splitter ---- */

/* Segment k (payload bytes from off, chunk of them) of the packet at ip
 * with hdr header bytes, as it must be, but for its checksums. */
static void check_segment(const uint8_t *seg, size_t len, const uint8_t *ip,
			  size_t l4, size_t hdr, size_t off, unsigned int k,
			  unsigned int count, bool udp, uint8_t *exp)
{
	uint8_t *t = exp + l4;
	size_t field = l4 + (udp ? 6 : 16);

	memcpy(exp, ip, hdr);
	memcpy(exp + hdr, ip + hdr + off, len - hdr);
	if (v4(ip)) {
		put16(exp + 2, (uint32_t)len);
		put16(exp + 4, (get16(ip + 4) + k) & 0xffff);
		memcpy(exp + 10, seg + 10, 2);
	} else {
		put16(exp + 4, (uint32_t)(len - 40));
	}
	if (udp) {
		put16(t + 4, (uint32_t)(len - l4));
	} else {
		uint32_t seq = get32(t + 4) + (uint32_t)off;

		put16(t + 4, seq >> 16);
		put16(t + 6, seq & 0xffff);
		if (k + 1 < count)
			t[13] &= (uint8_t)~0x09;	/* FIN, PSH */
		if (k)
			t[13] &= (uint8_t)~0x80;	/* CWR */
	}
	memcpy(exp + field, seg + field, 2);
	need(!memcmp(seg, exp, len), "a segment differs from its model");
	need(ip4_csum_ok(seg), "a segment's IPv4 header checksum is bad");
	need(l4_csum_ok(seg, len, l4, udp ? IPPROTO_UDP : IPPROTO_TCP),
	     "a segment's L4 checksum is bad");
}

/* Without GSO: the packet, its checksum completed when asked. */
static void check_whole(const struct offload_split *s,
			const struct virtio_net_hdr *h, const uint8_t *seg,
			size_t len)
{
	size_t field = (size_t)h->csum_start + h->csum_offset;

	need(len == ip_len(s->pkt, s->len), "a whole packet changed length");
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		need(!memcmp(seg, s->pkt, len), "a whole packet changed");
		return;
	}
	need(!memcmp(seg, s->pkt, field) &&
	     !memcmp(seg + field + 2, s->pkt + field + 2, len - field - 2),
	     "a completed packet changed beyond its checksum");
	/* The field held the pseudo-header sum, which the sum now lacks. */
	need(naive_fold(naive_sum(get16(s->pkt + field), seg + h->csum_start,
				  len - h->csum_start)) == 0xffff,
	     "a completed checksum is wrong");
}

/* The L4 header's length as the headers tell it, for a GSO frame. */
static size_t model_hdr_len(const uint8_t *ip, size_t l4, bool udp)
{
	return l4 + (udp ? 8 : (size_t)(ip[l4 + 12] >> 4) * 4);
}

static void fuzz_split(const uint8_t *frame, size_t size,
		       struct harness *hs)
{
	struct virtio_net_hdr h;
	struct offload_split s;
	size_t max, len, off = 0, work = 0;
	unsigned int k = 0;
	uint8_t *seg, *exp;
	bool udp;

	if (offload_split_begin(&s, frame, size)) {
		need(!s.count && !offload_split_next(&s, NULL, 0),
		     "a refused frame left segments");
		return;
	}
	h = vnet_of(frame);
	udp = (h.gso_type & 0x7f) == VIRTIO_NET_HDR_GSO_UDP_L4;
	need(s.pkt == frame + VNET && s.len == ip_len(s.pkt, size - VNET) &&
	     s.count >= 1, "a bad split state");
	need(!s.gso_size || s.hdr_len == model_hdr_len(s.pkt, h.csum_start,
						       udp),
	     "a wrong header length");
	max = offload_split_max_segment(&s);
	seg = malloc(max);
	exp = malloc(max);
	/* No IP packet fits in 19 bytes. */
	need(!offload_split_next(&s, seg, 19) && !s.next,
	     "a segment taken into too small a buffer");
	while (work < SPLIT_WORK_MAX &&
	       (len = offload_split_next(&s, seg, max))) {
		size_t at_len;

		need(len <= max && ip_len(seg, len) == len,
		     "a segment is not an IP packet");
		/* Random access (the workers cut segments in any order)
		 * gives the same segment, and says its length first. */
		need(offload_split_len(&s, k) == len,
		     "offload_split_len disagrees with the segment");
		at_len = offload_split_at(&s, k, exp, max);
		need(at_len == len && !memcmp(exp, seg, len),
		     "offload_split_at differs from offload_split_next");
		if (s.gso_size) {
			check_segment(seg, len, s.pkt, h.csum_start,
				      s.hdr_len, off, k, s.count, udp, exp);
			off += len - s.hdr_len;
		} else {
			check_whole(&s, &h, seg, len);
		}
		feed(hs, seg, len);
		work += len;
		k++;
	}
	need(work >= SPLIT_WORK_MAX ||
	     (k == s.count && (!s.gso_size || off == s.len - s.hdr_len)),
	     "segments missing");
	free(seg);
	free(exp);
}

/* ---- slices ---- */

/* Valid checksums for whatever TCP or UDP packet p looks like, so that
 * a mutated header still reaches the merge rules. */
static void mend(uint8_t *p, size_t len)
{
	size_t total = ip_len(p, len), l4, field;
	uint8_t proto;
	uint16_t c;

	if (!total)
		return;
	l4 = v4(p) ? (size_t)(p[0] & 0x0f) * 4 : 40;
	proto = v4(p) ? p[9] : p[6];
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return;
	field = l4 + (proto == IPPROTO_TCP ? 16 : 6);
	if (field + 2 > total)
		return;
	if (v4(p)) {
		put16(p + 10, 0);
		put16(p + 10, (uint16_t)~naive_fold(naive_sum(0, p, l4)));
	}
	put16(p + field, 0);
	c = (uint16_t)~naive_fold(naive_sum(pseudo(p, proto, total - l4),
					    p + l4, total - l4));
	put16(p + field, c ? c : 0xffff);
}

static void fuzz_slices(const uint8_t *data, size_t size,
			struct harness *hs)
{
	uint8_t *pkt = malloc(PKT_MAX);

	while (size >= 3) {
		size_t len = (size_t)data[1] << 8 | data[2];
		bool fix = data[0] & 1;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		memcpy(pkt, data, len);
		if (fix)
			mend(pkt, len);
		feed(hs, pkt, len);
		data += len;
		size -= len;
	}
	free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int flags = OFFLOAD_COALESCE_TCP | OFFLOAD_COALESCE_UDP;
	struct harness *hs;
	uint8_t mode;

	if (!size)
		return 0;
	mode = data[0];
	if (mode & MODE_NO_TCP)
		flags &= ~(unsigned int)OFFLOAD_COALESCE_TCP;
	if (mode & MODE_NO_UDP)
		flags &= ~(unsigned int)OFFLOAD_COALESCE_UDP;
	hs = harness_get(flags, !(mode & MODE_SLICES));
	if (mode & MODE_SLICES)
		fuzz_slices(data + 1, size - 1, hs);
	else
		fuzz_split(data + 1, size - 1, hs);
	flush(hs);
	return 0;
}
