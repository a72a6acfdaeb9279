/* Segmentation and coalescing of virtio_net_hdr frames: the software half
 * of TUN's TSO/USO offloads.
 *
 * A frame is TUN_VNET_HDR_LEN bytes of struct virtio_net_hdr followed by
 * one IPv4 or IPv6 packet. With offloads on, a TUN read returns a frame
 * whose packet may be a TCP or UDP "super-packet" of up to 64 KiB that
 * the kernel expects us to cut into gso_size pieces (TSO/USO), and whose
 * L4 checksum may be only partial (VIRTIO_NET_HDR_F_NEEDS_CSUM: the field
 * at csum_start + csum_offset holds the folded pseudo-header sum and the
 * rest is ours to add).
 *
 *   splitter:  frame  ->  MTU-sized packets with complete checksums
 *   coalescer: packets ->  frames, consecutive TCP segments of one flow
 *                          (and equal-sized UDP datagrams) merged back,
 *                          by the rules of the kernel's own GRO
 *
 * Both are pure functions over caller-owned buffers: no allocation, no
 * I/O, no state beyond the structs below. Every input is treated as
 * hostile (the fuzz target feeds them random bytes). All multi-byte
 * header fields are in network order; the virtio_net_hdr fields are in
 * host order (little-endian virtio, which is what TUN uses on x86 and on
 * every little-endian host without TUNSETVNETBE). */
#ifndef RINGVPN_TUN_OFFLOAD_H
#define RINGVPN_TUN_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tun/tun.h"

/* ---- splitter ---- */

struct offload_split {
	const uint8_t *pkt;	/* the packet after the vnet header */
	size_t len;		/* its IP length (bytes past it are ignored) */
	size_t l4_off;		/* start of the TCP/UDP header */
	size_t hdr_len;		/* IP + L4 headers copied into each segment */
	size_t gso_size;	/* payload bytes per segment; 0: no GSO */
	size_t payload_off;	/* payload bytes already emitted */
	unsigned int count;	/* segments in total */
	unsigned int next;	/* index of the next segment */
	uint8_t gso_type;	/* VIRTIO_NET_HDR_GSO_* without ECN bit */
	bool needs_csum;
	uint16_t csum_start, csum_offset;
};

/* Parses and validates a frame of frame_len bytes (header included).
 * Returns 0 and fills *s, or -EINVAL (and an empty *s) when the header
 * and the packet do not agree: not IPv4/IPv6, an IP length past the
 * frame; unknown gso_type or UFO (the ECN bit is ignored), a GSO type
 * that does not match the IP version or the protocol, GSO without
 * NEEDS_CSUM, gso_size 0, a csum_offset other than TCP's 16 or UDP's 6,
 * csum_start not where the L4 header starts (IPv4: right after the
 * header and options, not a fragment; IPv6: after hop-by-hop and
 * destination options only, since a routing header would change the
 * pseudo-header), a truncated L4 header or a TCP data offset past the
 * packet; without GSO, a NEEDS_CSUM field outside the packet, inside the
 * IP header or at an odd offset. hdr_len in the vnet header is never
 * trusted: the headers give it. A GSO packet holding no more than
 * gso_size bytes of payload yields one segment, as does a frame without
 * GSO (its checksum completed when NEEDS_CSUM is set). The frame must
 * stay valid and unchanged until the last offload_split_next(). */
int offload_split_begin(struct offload_split *s, const uint8_t *frame,
			size_t frame_len);

/* Writes the next segment, a complete IPv4/IPv6 packet, to out and
 * returns its length; 0 when no segment is left or it does not fit in
 * cap (the split is then left where it was). Per segment: IPv4 total
 * length, ID (incremented per segment like the kernel's TSO) and header
 * checksum; IPv6 payload length; TCP sequence number (+gso_size per
 * segment), FIN and PSH only on the last segment, CWR only on the first;
 * UDP length; the full L4 checksum, from scratch (UDP: 0 becomes 0xffff,
 * over IPv4 too, where 0 would mean none). Without GSO a NEEDS_CSUM
 * checksum is completed like skb_checksum_help(), 0 sent as 0xffff. */
size_t offload_split_next(struct offload_split *s, uint8_t *out,
			  size_t cap);

/* A split of one segment, the packet as it is (len bytes at pkt, no
 * vnet header, no checksum to complete): what a TUN device without
 * IFF_VNET_HDR hands over, cut by the same calls as a super-packet. */
void offload_split_whole(struct offload_split *s, const uint8_t *pkt,
			 size_t len);

/* Segment k as offload_split_next() gives it after k calls, without
 * moving s: the segments may be cut in any order, by several threads at
 * once (s and the frame are only read). */
size_t offload_split_at(const struct offload_split *s, unsigned int k,
			uint8_t *out, size_t cap);
/* The length segment k will have; 0 past the last. */
size_t offload_split_len(const struct offload_split *s, unsigned int k);

/* The largest segment offload_split_next() will produce for s. */
size_t offload_split_max_segment(const struct offload_split *s);

/* ---- coalescer ---- */

/* What may be merged: TCP needs TUN_TSO, UDP needs TUN_USO on the
 * device (the kernel rejects GSO types it was not offered). */
enum offload_coalesce_flags {
	OFFLOAD_COALESCE_TCP = 1,
	OFFLOAD_COALESCE_UDP = 2,
};

struct offload_frame {
	size_t off;	/* in the coalescer's out buffer */
	size_t len;	/* vnet header included */
};

/* The most packets one frame carries (the kernel's GRO stops at 64 too). */
#define OFFLOAD_MAX_SEGMENTS 64

struct offload_coalescer {
	uint8_t *out;
	size_t cap, used;
	unsigned int flags;
	/* The open frame, the only one that can still grow. */
	bool open;
	size_t open_off;	/* frame start (its vnet header) */
	size_t open_hdr_len;	/* IP + L4 header length */
	size_t open_seg;	/* payload size of the first segment */
	unsigned int open_count;
	uint8_t open_proto;	/* IPPROTO_TCP or IPPROTO_UDP */
	int open_family;	/* 4 or 6 */
	bool open_closed;	/* short or PSH segment: may not grow */
	uint32_t open_next_seq;	/* TCP: sequence number expected next */
	struct offload_frame *frames;
	unsigned int n_frames, max_frames;
};

/* Frames are written to out (cap bytes) and listed in frames (up to
 * max_frames). */
void offload_coalesce_init(struct offload_coalescer *c, uint8_t *out,
			   size_t cap, struct offload_frame *frames,
			   unsigned int max_frames, unsigned int flags);

/* Adds one IP packet (len bytes, a whole packet as decrypted: its IP
 * length is trusted only after it is checked against len, and then cuts
 * off the zero padding WireGuard adds; a packet that is not IPv4/IPv6 or
 * is shorter than its IP length is passed on as it is). It is merged
 * into the open frame when that follows the kernel's GRO rules: same
 * addresses, ports and protocol; same TOS/traffic class, TTL/hop limit,
 * DF, no IPv4 options and no IPv6 extension headers; TCP: sequence
 * number adjacent, same ACK, window, flags (no SYN/FIN/RST/URG/CWR; PSH
 * may come on the packet that then closes the frame), and TCP options
 * byte for byte; IPv4: no fragment, a valid header checksum, and without
 * DF an ID one more than the last; UDP: a non-zero checksum and a UDP
 * length equal to IP's; a payload; every segment but the last exactly
 * as large as the first (a shorter one closes the frame); at most
 * OFFLOAD_MAX_SEGMENTS and 65535 IP bytes per frame; the packet's own
 * L4 checksum verified first (a bad one is never merged). Otherwise it
 * starts a new frame (as it is, vnet header all zero). Returns 0, or
 * -ENOSPC, with nothing changed, when out or frames has no room for it
 * (flush with offload_coalesce_finish(), init again and re-add). */
int offload_coalesce_add(struct offload_coalescer *c, const uint8_t *pkt,
			 size_t len);

/* Closes the open frame and returns the number of frames. A frame that
 * holds more than one segment gets gso_type TCPV4/TCPV6/UDP_L4,
 * gso_size, hdr_len, NEEDS_CSUM with csum_start/csum_offset, the IP
 * length (and IPv4 header checksum) of the whole, and the partial
 * (pseudo-header) L4 checksum the kernel expects, folded but not
 * inverted (CHECKSUM_PARTIAL), and for UDP the UDP length of the whole,
 * as the kernel's GRO leaves them; a frame of one packet is the packet
 * unchanged behind a zero vnet header. Calling it again changes
 * nothing; offload_coalesce_init() starts over. */
unsigned int offload_coalesce_finish(struct offload_coalescer *c);

/* ---- checksums (RFC 1071), shared with the tests ---- */

/* The one's-complement sum of len bytes (as big-endian 16-bit words, an
 * odd last byte padded with zero) added to sum, kept in 32 bits with
 * end-around carry: any length, any alignment. Sums chain across
 * buffers only when every buffer but the last has even length. */
uint32_t offload_csum_add(uint32_t sum, const uint8_t *data, size_t len);
/* Folds to 16 bits (not inverted). */
uint16_t offload_csum_fold(uint32_t sum);
/* The pseudo-header sum for IPv4 (addr_len 4) or IPv6 (16). */
uint32_t offload_pseudo_sum(const uint8_t *src, const uint8_t *dst,
			    size_t addr_len, uint8_t proto, uint32_t l4_len);

#endif
