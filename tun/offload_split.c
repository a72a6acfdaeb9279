/* The splitter: a TUN frame (virtio_net_hdr + packet) into packets the
 * wire can carry, doing in software what a NIC does for TSO/USO.
 *
 * The L4 header is found at csum_start, which the kernel points at the
 * TCP/UDP header past any IPv4 options or IPv6 extension headers; its
 * length comes from the header itself (the TCP data offset, UDP's fixed
 * 8), never from hdr_len, which is only a hint. Every segment's L4
 * checksum is computed from scratch: the partial value the kernel left
 * in the field is a pseudo-header sum over the super-packet's length,
 * of no use for a segment. */
#include "tun/offload.h"
#include "tun/wire.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define IPV4_MIN_HDR 20
#define IPV6_HDR 40
#define TCP_MIN_HDR 20
#define UDP_HDR 8
#define TCP_CSUM_OFFSET 16
#define UDP_CSUM_OFFSET 6

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

#define IPV4_MF_OFFSET 0x3fff	/* a fragment: more to come, or not first */

static bool is_ipv4(const uint8_t *pkt)
{
	return pkt[0] >> 4 == 4;
}

/* The length the IP header claims, 0 when that cannot be right. Bytes
 * past it are not the packet's and are ignored. *hdr is the fixed IPv4
 * header with its options, or IPv6's 40 bytes. */
static size_t ip_length(const uint8_t *pkt, size_t len, size_t *hdr)
{
	size_t total;

	if (len >= IPV4_MIN_HDR && is_ipv4(pkt)) {
		*hdr = (size_t)(pkt[0] & 0x0f) * 4;
		total = get16(pkt + 2);
		return *hdr < IPV4_MIN_HDR || total < *hdr || total > len ?
		       0 : total;
	}
	if (len >= IPV6_HDR && pkt[0] >> 4 == 6) {
		*hdr = IPV6_HDR;
		total = IPV6_HDR + (size_t)get16(pkt + 4);
		return total > len ? 0 : total;
	}
	return 0;
}

/* The protocol whose header starts at l4_off, or -1 when the IP header
 * does not lead there. IPv6 may reach it through hop-by-hop and
 * destination options; a routing header would change the pseudo-header's
 * destination and a fragment header cannot carry a segmentable payload,
 * so both are refused. The caller has checked that l4_off + 8 <= len. */
static int l4_protocol(const uint8_t *pkt, size_t hdr, size_t l4_off)
{
	uint8_t nh;
	size_t off;

	if (is_ipv4(pkt))
		return l4_off == hdr &&
		       !(get16(pkt + 6) & IPV4_MF_OFFSET) ? pkt[9] : -1;
	nh = pkt[6];
	for (off = IPV6_HDR; off < l4_off;
	     off += ((size_t)pkt[off + 1] + 1) * 8) {
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_DSTOPTS)
			return -1;
		nh = pkt[off];
	}
	return off == l4_off ? nh : -1;
}

/* What each GSO type demands of the packet. */
static int gso_expect(const struct offload_split *s, uint8_t *proto,
		      uint16_t *csum_offset)
{
	bool v4 = is_ipv4(s->pkt);

	switch (s->gso_type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (v4 != (s->gso_type == VIRTIO_NET_HDR_GSO_TCPV4))
			return -EINVAL;
		*proto = IPPROTO_TCP;
		*csum_offset = TCP_CSUM_OFFSET;
		return 0;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		*proto = IPPROTO_UDP;
		*csum_offset = UDP_CSUM_OFFSET;
		return 0;
	default:
		/* UFO (GSO_UDP) would need IP fragmentation: never offered. */
		return -EINVAL;
	}
}

static int parse_gso(struct offload_split *s, size_t ip_hdr,
		     uint16_t gso_size)
{
	size_t l4 = s->csum_start, payload;
	uint16_t csum_offset;
	uint8_t proto;

	if (gso_expect(s, &proto, &csum_offset) || !s->needs_csum ||
	    !gso_size || s->csum_offset != csum_offset ||
	    l4 + UDP_HDR > s->len || l4_protocol(s->pkt, ip_hdr, l4) != proto)
		return -EINVAL;
	if (proto == IPPROTO_UDP) {
		s->hdr_len = l4 + UDP_HDR;
	} else {
		if (l4 + TCP_MIN_HDR > s->len)
			return -EINVAL;
		s->hdr_len = l4 + (size_t)(s->pkt[l4 + 12] >> 4) * 4;
		if (s->hdr_len < l4 + TCP_MIN_HDR || s->hdr_len > s->len)
			return -EINVAL;
	}
	s->l4_off = l4;
	s->gso_size = gso_size;
	payload = s->len - s->hdr_len;
	/* No payload at all still leaves one (header-only) segment. */
	s->count = payload > gso_size ?
		   (unsigned int)((payload + gso_size - 1) / gso_size) : 1;
	return 0;
}

/* Without GSO the checksum is generic (HW_CSUM): any protocol, any
 * offset, as long as the 16-bit field lies on a 16-bit boundary of the
 * summed range past the IP header. */
static int parse_csum(const struct offload_split *s, size_t ip_hdr)
{
	size_t field = (size_t)s->csum_start + s->csum_offset;

	if (s->csum_start < ip_hdr || (s->csum_offset & 1) ||
	    field + 2 > s->len)
		return -EINVAL;
	return 0;
}

static int parse(struct offload_split *s, const uint8_t *frame,
		 size_t frame_len)
{
	struct virtio_net_hdr h;
	size_t ip_hdr = 0;

	if (frame_len < TUN_VNET_HDR_LEN)
		return -EINVAL;
	/* Host order: TUN's legacy virtio header is native-endian. */
	memcpy(&h, frame, sizeof(h));
	s->pkt = frame + TUN_VNET_HDR_LEN;
	s->len = ip_length(s->pkt, frame_len - TUN_VNET_HDR_LEN, &ip_hdr);
	if (!s->len)
		return -EINVAL;
	s->gso_type = h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	s->needs_csum = h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	s->csum_start = h.csum_start;
	s->csum_offset = h.csum_offset;
	s->count = 1;
	if (s->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return parse_gso(s, ip_hdr, h.gso_size);
	s->hdr_len = s->len;
	return s->needs_csum ? parse_csum(s, ip_hdr) : 0;
}

int offload_split_begin(struct offload_split *s, const uint8_t *frame,
			size_t frame_len)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = parse(s, frame, frame_len);
	if (err)
		memset(s, 0, sizeof(*s)); /* nothing to split */
	return err;
}

void offload_split_whole(struct offload_split *s, const uint8_t *pkt,
			 size_t len)
{
	memset(s, 0, sizeof(*s));
	s->pkt = pkt;
	s->len = len;
	s->count = 1;
}

size_t offload_split_at(const struct offload_split *s, unsigned int k,
			uint8_t *out, size_t cap)
{
	struct offload_split at = *s;

	/* What the k calls before it would have left. */
	at.next = k;
	at.payload_off = (size_t)k * s->gso_size;
	return offload_split_next(&at, out, cap);
}

size_t offload_split_len(const struct offload_split *s, unsigned int k)
{
	size_t payload = s->len - s->hdr_len, off;

	if (k >= s->count)
		return 0;
	if (!s->gso_size)
		return s->len;
	off = (size_t)k * s->gso_size;
	return s->hdr_len + (payload - off < s->gso_size ? payload - off :
							     s->gso_size);
}

size_t offload_split_max_segment(const struct offload_split *s)
{
	size_t payload = s->len - s->hdr_len;

	if (!s->gso_size)
		return s->len;
	return s->hdr_len + (payload < s->gso_size ? payload : s->gso_size);
}

static void fix_ip(uint8_t *out, size_t len, unsigned int k)
{
	size_t hdr = (size_t)(out[0] & 0x0f) * 4;

	if (!is_ipv4(out)) {
		put16(out + 4, (uint16_t)(len - IPV6_HDR));
		return;
	}
	/* TSO numbers the segments' IDs on from the super-packet's. */
	put16(out + 2, (uint16_t)len);
	put16(out + 4, (uint16_t)(get16(out + 4) + k));
	put16(out + 10, 0);
	put16(out + 10, (uint16_t)~offload_csum_fold(
				offload_csum_add(0, out, hdr)));
}

/* The L4 checksum of out's segment, from scratch; payload points to the
 * segment's payload in the frame (summed there, while out is written). */
static uint16_t l4_checksum(const struct offload_split *s, const uint8_t *out,
			    const uint8_t *payload, size_t chunk, uint8_t proto)
{
	size_t alen = is_ipv4(out) ? 4 : 16;
	const uint8_t *src = out + (is_ipv4(out) ? 12 : 8);
	size_t l4_hdr = s->hdr_len - s->l4_off;
	uint32_t sum;

	sum = offload_pseudo_sum(src, src + alen, alen, proto,
				 (uint32_t)(l4_hdr + chunk));
	/* The L4 header has even length, so the payload chains on. */
	sum = offload_csum_add(sum, out + s->l4_off, l4_hdr);
	sum = offload_csum_add(sum, payload, chunk);
	return (uint16_t)~offload_csum_fold(sum);
}

static void fix_l4(const struct offload_split *s, uint8_t *out,
		   const uint8_t *payload, size_t chunk)
{
	uint8_t *l4 = out + s->l4_off;
	bool first = s->next == 0, last = s->next + 1 == s->count;
	uint16_t csum;

	if (s->gso_type == VIRTIO_NET_HDR_GSO_UDP_L4) {
		put16(l4 + 4, (uint16_t)(UDP_HDR + chunk));
		put16(l4 + UDP_CSUM_OFFSET, 0);
		csum = l4_checksum(s, out, payload, chunk, IPPROTO_UDP);
		/* 0 would mean "no checksum" (and is invalid over IPv6). */
		put16(l4 + UDP_CSUM_OFFSET, csum ? csum : 0xffff);
		return;
	}
	put32(l4 + 4, get32(l4 + 4) + (uint32_t)s->payload_off);
	if (!last)
		l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (!first)
		l4[13] &= (uint8_t)~TCP_CWR;
	put16(l4 + TCP_CSUM_OFFSET, 0);
	put16(l4 + TCP_CSUM_OFFSET,
	      l4_checksum(s, out, payload, chunk, IPPROTO_TCP));
}

static size_t next_gso(struct offload_split *s, uint8_t *out, size_t cap)
{
	size_t left = s->len - s->hdr_len - s->payload_off;
	size_t chunk = left < s->gso_size ? left : s->gso_size;
	const uint8_t *payload = s->pkt + s->hdr_len + s->payload_off;

	if (s->hdr_len + chunk > cap)
		return 0;
	memcpy(out, s->pkt, s->hdr_len);
	memcpy(out + s->hdr_len, payload, chunk);
	fix_ip(out, s->hdr_len + chunk, s->next);
	fix_l4(s, out, payload, chunk);
	s->payload_off += chunk;
	return s->hdr_len + chunk;
}

/* The checksum the kernel left for us: the field holds the pseudo-header
 * sum, so the sum from csum_start to the end, field included, is the
 * whole of it (skb_checksum_help's rule, 0 sent as 0xffff). */
static void complete_csum(const struct offload_split *s, uint8_t *out)
{
	uint16_t csum = (uint16_t)~offload_csum_fold(
		offload_csum_add(0, out + s->csum_start,
				 s->len - s->csum_start));

	put16(out + s->csum_start + s->csum_offset, csum ? csum : 0xffff);
}

size_t offload_split_next(struct offload_split *s, uint8_t *out, size_t cap)
{
	size_t len;

	if (s->next >= s->count)
		return 0;
	if (s->gso_size) {
		len = next_gso(s, out, cap);
	} else {
		len = s->len <= cap ? s->len : 0;
		if (len) {
			memcpy(out, s->pkt, len);
			if (s->needs_csum)
				complete_csum(s, out);
		}
	}
	if (len)
		s->next++;
	return len;
}
