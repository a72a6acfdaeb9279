/* The coalescer: decrypted packets into TUN frames, consecutive segments
 * of one flow merged into one GSO frame, as the kernel's GRO would have
 * merged them had they arrived on a NIC (tcp_gro_receive,
 * udp_gro_receive_segment, inet_gro_receive, ipv6_gro_receive).
 *
 * Frames are written back to back and only the last one, the open frame,
 * can grow: a packet either extends it (its payload appended, its
 * headers dropped) or starts a new frame. The open frame's first packet
 * keeps its headers untouched until the frame closes, so every later
 * packet is compared against the first, as GRO compares against the
 * held skb. Only the merge needs rules: whatever is not merged is passed
 * on as it is, and the kernel judges it.
 *
 * The L4 checksums of what is merged are not checked: every packet here
 * is the plaintext of a transport message whose tag verified, so not a
 * bit of it changed since the peer sealed it, and a checksum can only
 * repeat that. The kernel module says the same of a decrypted packet
 * (CHECKSUM_UNNECESSARY at every level, wg_packet_consume_data_done) and
 * its GRO then merges such packets unchecked; checking cost a pass over
 * every byte received (~8% of a receiving daemon's CPU). A merged frame
 * asks the kernel for its checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM), as a
 * GRO packet's is CHECKSUM_PARTIAL. The IPv4 header's checksum is still
 * checked: it is 20 bytes, and the kernel would drop a frame whose head
 * packet has a bad one. */
#include "tun/offload.h"
#include "tun/wire.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define IPV4_HDR 20		/* the only size merged: no options */
#define IPV6_HDR 40
#define TCP_MIN_HDR 20
#define UDP_HDR 8
#define TCP_CSUM_OFFSET 16
#define UDP_CSUM_OFFSET 6
#define IP_MAX_LEN 65535

#define TCP_PSH 0x08
/* FIN, SYN, RST, URG and CWR each end GRO for their packet. */
#define TCP_NO_MERGE 0xa7

#define IPV4_DF 0x4000
#define IPV4_MF_OFFSET 0x3fff

/* One packet as add() sees it. */
struct packet {
	const uint8_t *ip;
	size_t len;		/* the IP length; the given len if not IP */
	int family;		/* 4 or 6; 0: not a whole IP packet */
	size_t ip_hdr;
	size_t hdr_len;		/* IP + L4 headers */
	uint8_t proto;
	bool mergeable;		/* may start or join a GSO frame */
};

static size_t addr_len(int family)
{
	return family == 4 ? 4 : 16;
}

static const uint8_t *src_addr(const uint8_t *ip, int family)
{
	return ip + (family == 4 ? 12 : 8);
}

/* The IP length when it fits in len: decrypted WireGuard plaintext is
 * zero-padded to 16 bytes, so len may exceed it. */
static void parse_ip(struct packet *k)
{
	const uint8_t *ip = k->ip;
	size_t total;

	if (k->len >= IPV4_HDR && ip[0] >> 4 == 4) {
		k->ip_hdr = (size_t)(ip[0] & 0x0f) * 4;
		total = get16(ip + 2);
		if (k->ip_hdr < IPV4_HDR || total < k->ip_hdr || total > k->len)
			return;
		k->family = 4;
		k->proto = ip[9];
	} else if (k->len >= IPV6_HDR && ip[0] >> 4 == 6) {
		k->ip_hdr = IPV6_HDR;
		total = IPV6_HDR + (size_t)get16(ip + 4);
		if (total > k->len)
			return;
		k->family = 6;
		k->proto = ip[6];
	} else {
		return;
	}
	k->len = total;
}

static bool ipv4_mergeable(const uint8_t *ip)
{
	return (ip[0] & 0x0f) == 5 && !(get16(ip + 6) & IPV4_MF_OFFSET) &&
	       offload_csum_fold(offload_csum_add(0, ip, IPV4_HDR)) == 0xffff;
}

/* The L4 header's length, or 0 when the packet cannot be merged: a
 * truncated header, TCP flags that end GRO, UDP without a checksum
 * (GRO wants one, for symmetry with GSO) or with a length that
 * disagrees with IP's. */
static size_t l4_header(const struct packet *k)
{
	const uint8_t *l4 = k->ip + k->ip_hdr;
	size_t l4_len = k->len - k->ip_hdr, thlen;

	if (k->proto == IPPROTO_UDP)
		return l4_len >= UDP_HDR && get16(l4 + 4) == l4_len &&
		       get16(l4 + UDP_CSUM_OFFSET) ? UDP_HDR : 0;
	if (l4_len < TCP_MIN_HDR || (l4[13] & TCP_NO_MERGE))
		return 0;
	thlen = (size_t)(l4[12] >> 4) * 4;
	return thlen >= TCP_MIN_HDR && thlen <= l4_len ? thlen : 0;
}

static bool wanted(const struct offload_coalescer *c, uint8_t proto)
{
	return (proto == IPPROTO_TCP && (c->flags & OFFLOAD_COALESCE_TCP)) ||
	       (proto == IPPROTO_UDP && (c->flags & OFFLOAD_COALESCE_UDP));
}

static void classify(const struct offload_coalescer *c, struct packet *k,
		     const uint8_t *pkt, size_t len)
{
	size_t l4;

	memset(k, 0, sizeof(*k));
	k->ip = pkt;
	k->len = len;
	parse_ip(k);
	/* IPv6's next header must be TCP or UDP itself: no extensions. */
	if (!k->family || !wanted(c, k->proto) ||
	    (k->family == 4 && !ipv4_mergeable(k->ip)))
		return;
	l4 = l4_header(k);
	k->hdr_len = k->ip_hdr + l4;
	k->mergeable = l4 && k->len > k->hdr_len;
}

static uint8_t *open_ip(const struct offload_coalescer *c)
{
	return c->out + c->open_off + TUN_VNET_HDR_LEN;
}

static struct offload_frame *last_frame(const struct offload_coalescer *c)
{
	return &c->frames[c->n_frames - 1];
}

/* Same flow, and the IP fields GRO insists on: TOS and TTL; DF (here
 * the whole fragment field, which is DF or nothing once fragments are
 * out); and without DF an ID that counts up by one per packet. */
static bool ipv4_follows(const struct offload_coalescer *c,
			 const uint8_t *f, const uint8_t *ip)
{
	uint16_t want_id = (uint16_t)(get16(f + 4) + c->open_count);

	return f[1] == ip[1] && get16(f + 6) == get16(ip + 6) &&
	       f[8] == ip[8] && f[9] == ip[9] && !memcmp(f + 12, ip + 12, 8) &&
	       ((get16(f + 6) & IPV4_DF) || get16(ip + 4) == want_id);
}

/* Same flow label and traffic class, next header, hop limit, addresses. */
static bool ipv6_follows(const uint8_t *f, const uint8_t *ip)
{
	return !((get32(f) ^ get32(ip)) & 0x0fffffff) &&
	       f[6] == ip[6] && f[7] == ip[7] && !memcmp(f + 8, ip + 8, 32);
}

/* Ports, the next sequence number, ACK, data offset, flags (PSH may come
 * on the packet that ends the frame), window, and options byte for byte
 * (timestamps included: GRO would not merge other ones either). */
static bool tcp_follows(const struct offload_coalescer *c, const uint8_t *f,
			const struct packet *k)
{
	const uint8_t *t = k->ip + k->ip_hdr;

	return !memcmp(f, t, 4) && get32(t + 4) == c->open_next_seq &&
	       !memcmp(f + 8, t + 8, 5) && f[13] == (t[13] & ~TCP_PSH) &&
	       !memcmp(f + 14, t + 14, 2) &&
	       !memcmp(f + TCP_MIN_HDR, t + TCP_MIN_HDR,
		       k->hdr_len - k->ip_hdr - TCP_MIN_HDR);
}

static bool can_merge(const struct offload_coalescer *c,
		      const struct packet *k)
{
	size_t payload = k->len - k->hdr_len;
	const uint8_t *f;
	bool same_ip;

	if (!c->open || c->open_closed || !k->mergeable ||
	    k->family != c->open_family || k->proto != c->open_proto ||
	    k->hdr_len != c->open_hdr_len || payload > c->open_seg ||
	    c->open_count >= OFFLOAD_MAX_SEGMENTS ||
	    last_frame(c)->len - TUN_VNET_HDR_LEN + payload > IP_MAX_LEN)
		return false;
	f = open_ip(c);
	same_ip = k->family == 4 ? ipv4_follows(c, f, k->ip) :
				   ipv6_follows(f, k->ip);
	if (!same_ip)
		return false;
	if (k->proto == IPPROTO_UDP)
		return !memcmp(f + k->ip_hdr, k->ip + k->ip_hdr, 4);
	return tcp_follows(c, f + k->ip_hdr, k);
}

static int merge(struct offload_coalescer *c, const struct packet *k)
{
	size_t payload = k->len - k->hdr_len;
	const uint8_t *l4 = k->ip + k->ip_hdr;

	if (c->cap - c->used < payload)
		return -ENOSPC;
	memcpy(c->out + c->used, k->ip + k->hdr_len, payload);
	c->used += payload;
	last_frame(c)->len += payload;
	c->open_count++;
	c->open_next_seq += (uint32_t)payload;
	/* A short segment can only be the last; PSH asks for delivery now. */
	if (payload < c->open_seg)
		c->open_closed = true;
	if (k->proto == IPPROTO_TCP && (l4[13] & TCP_PSH)) {
		open_ip(c)[k->ip_hdr + 13] |= TCP_PSH;
		c->open_closed = true;
	}
	return 0;
}

/* The open frame of n packets becomes one GSO frame: lengths of the
 * whole, and the L4 checksum field left as CHECKSUM_PARTIAL wants it,
 * the folded pseudo-header sum (not inverted: the kernel adds the data
 * and inverts), as tcp4_gro_complete and udp_gro_complete leave it. */
static void finalize(struct offload_coalescer *c)
{
	uint8_t *ip = open_ip(c);
	bool tcp = c->open_proto == IPPROTO_TCP;
	size_t len = last_frame(c)->len - TUN_VNET_HDR_LEN;
	size_t ip_hdr = c->open_family == 4 ? IPV4_HDR : IPV6_HDR;
	size_t alen = addr_len(c->open_family);
	const uint8_t *src = src_addr(ip, c->open_family);
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.hdr_len = (uint16_t)c->open_hdr_len,
		.gso_size = (uint16_t)c->open_seg,
		.csum_start = (uint16_t)ip_hdr,
		.csum_offset = tcp ? TCP_CSUM_OFFSET : UDP_CSUM_OFFSET,
	};

	h.gso_type = !tcp ? VIRTIO_NET_HDR_GSO_UDP_L4 :
		     c->open_family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
					   VIRTIO_NET_HDR_GSO_TCPV6;
	memcpy(c->out + c->open_off, &h, sizeof(h));
	if (c->open_family == 4) {
		put16(ip + 2, (uint16_t)len);
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~offload_csum_fold(
				       offload_csum_add(0, ip, IPV4_HDR)));
	} else {
		put16(ip + 4, (uint16_t)(len - IPV6_HDR));
	}
	/* udp_gro_complete's length: the whole; USO rewrites it per segment. */
	if (!tcp)
		put16(ip + ip_hdr + 4, (uint16_t)(len - ip_hdr));
	put16(ip + ip_hdr + h.csum_offset,
	      offload_csum_fold(offload_pseudo_sum(src, src + alen, alen,
						   c->open_proto,
						   (uint32_t)(len - ip_hdr))));
}

static void close_open(struct offload_coalescer *c)
{
	if (c->open && c->open_count > 1)
		finalize(c);
	c->open = false;
}

static void open_frame(struct offload_coalescer *c, const struct packet *k)
{
	const uint8_t *l4 = k->ip + k->ip_hdr;

	c->open = true;
	c->open_hdr_len = k->hdr_len;
	c->open_seg = k->len - k->hdr_len;
	c->open_count = 1;
	c->open_proto = k->proto;
	c->open_family = k->family;
	c->open_closed = false;
	if (k->proto == IPPROTO_TCP) {
		c->open_next_seq = get32(l4 + 4) + (uint32_t)c->open_seg;
		c->open_closed = l4[13] & TCP_PSH;
	}
}

/* A new frame holding k as it is; it stays open for more when k could
 * be the first of a GSO frame. */
static int start_frame(struct offload_coalescer *c, const struct packet *k)
{
	size_t need = TUN_VNET_HDR_LEN + k->len;
	uint8_t *frame = c->out + c->used;

	if (c->n_frames >= c->max_frames || c->cap - c->used < need)
		return -ENOSPC;
	close_open(c);
	memset(frame, 0, TUN_VNET_HDR_LEN);
	memcpy(frame + TUN_VNET_HDR_LEN, k->ip, k->len);
	c->frames[c->n_frames++] = (struct offload_frame){
		.off = c->used,
		.len = need,
	};
	c->open_off = c->used;
	c->used += need;
	if (k->mergeable)
		open_frame(c, k);
	return 0;
}

void offload_coalesce_init(struct offload_coalescer *c, uint8_t *out,
			   size_t cap, struct offload_frame *frames,
			   unsigned int max_frames, unsigned int flags)
{
	memset(c, 0, sizeof(*c));
	c->out = out;
	c->cap = cap;
	c->frames = frames;
	c->max_frames = max_frames;
	c->flags = flags;
}

int offload_coalesce_add(struct offload_coalescer *c, const uint8_t *pkt,
			 size_t len)
{
	struct packet k;

	classify(c, &k, pkt, len);
	if (can_merge(c, &k))
		return merge(c, &k);
	return start_frame(c, &k);
}

unsigned int offload_coalesce_finish(struct offload_coalescer *c)
{
	close_open(c);
	return c->n_frames;
}
