/* TUN -> UDP: a frame read from the TUN queue is split into packets
 * (TSO/USO super-packets into MTU-sized segments), each is encrypted in
 * place behind its header in a tx area, and runs of equal-sized messages
 * leave as one sendmsg with UDP_SEGMENT. */
#include "src/worker/core_internal.h"

#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>

#include "src/worker/datapath.h"
#include "src/device.h"
#include "src/worker/features.h"
#include "src/ip_packet.h"
#include "src/log.h"
#include "src/protocol.h"
#include "src/sockaddr.h"

/* Where a frame's packets come from: the splitter when TUN hands us
 * virtio_net_hdr frames, the packet itself otherwise. */
struct tx_source {
	struct offload_split split;
	bool whole;	/* no vnet header: one packet, as read */
	bool done;
};

static int source_begin(const struct worker *w, struct tx_source *src,
			const uint8_t *buf, size_t len)
{
	memset(src, 0, sizeof(*src));
	if (w->features & DP_VNET_HDR)
		return offload_split_begin(&src->split, buf, len);
	src->whole = true;
	src->split.pkt = buf;
	src->split.len = len;
	return 0;
}

static size_t source_next(struct tx_source *src, uint8_t *out, size_t cap)
{
	if (!src->whole)
		return offload_split_next(&src->split, out, cap);
	if (src->done || src->split.len > cap)
		return 0;
	memcpy(out, src->split.pkt, src->split.len);
	src->done = true;
	return src->split.len;
}

static bool source_left(const struct tx_source *src)
{
	return src->whole ? !src->done : src->split.next < src->split.count;
}

static void stage(struct worker *w, struct peer *peer, const uint8_t *pkt,
		  size_t len)
{
	struct msg *m;

	if (len > MSG_DATA_MAX) {
		stat_inc(&w->stats.drops);
		return;
	}
	m = worker_to_control(w, CTL_STAGE, peer);
	if (!m)
		return;
	memcpy(m->data, pkt, len);
	m->len = (uint16_t)len;
	msg_ring_push(w->out);
}

/* Encrypts the source's packets one after another into tx area `area`;
 * packets without a session go to the control thread. Returns how many
 * messages the area holds; their lengths are in its msg_len. */
static unsigned int encrypt_segments(struct worker *w, unsigned int area,
				     struct tx_source *src,
				     struct peer *peer, uint64_t now)
{
	const size_t reserve = MESSAGE_DATA_HEADER_LEN + DATA_TAILROOM;
	uint8_t *data = intake_area_data(&w->tx_in, area);
	struct tx_area *a = &w->tx[area];
	size_t pos = 0, total = 0;
	unsigned int n = 0;
	bool rekey = false;

	while (n < TX_MAX_SEGMENTS && TX_AREA_SIZE - pos > reserve) {
		uint8_t *msg = data + pos;
		size_t len = source_next(src, msg + MESSAGE_DATA_HEADER_LEN,
					 TX_AREA_SIZE - pos - reserve);
		size_t msg_len;
		bool want;

		if (!len)
			break;
		if (protocol_encrypt(peer, msg, len, w->dp->mtu, now,
				     &msg_len, &want)) {
			stage(w, peer, msg + MESSAGE_DATA_HEADER_LEN, len);
			continue;
		}
		rekey |= want;
		a->msg_len[n++] = (uint16_t)msg_len;
		pos += msg_len;
		total += msg_len;
	}
	if (source_left(src))
		stat_inc(&w->stats.drops); /* more segments than an area */
	if (rekey)
		worker_want_handshake(w, peer, CTL_WANT_HANDSHAKE);
	if (n) {
		peer_fact(peer, FACT_DATA_SENT, now);
		peer_fact(peer, FACT_AUTH_SENT, now);
		atomic_fetch_add_explicit(&peer->tx_bytes, total,
					  memory_order_relaxed);
	}
	return n;
}

static void submit_send(struct worker *w, unsigned int area, unsigned int k,
			size_t off, size_t len, uint16_t segment)
{
	struct tx_area *a = &w->tx[area];
	struct tx_send *s = &a->send[k];
	struct io_uring_sqe *sqe;
	size_t control = 0;

	memset(&s->msg, 0, sizeof(s->msg));
	s->iov.iov_base = intake_area_data(&w->tx_in, area) + off;
	s->iov.iov_len = len;
	s->msg.msg_name = &a->addr;
	s->msg.msg_namelen = a->addr_len;
	s->msg.msg_iov = &s->iov;
	s->msg.msg_iovlen = 1;
	if (segment) {
		struct cmsghdr *cm = &s->control.align;

		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(segment));
		memcpy(CMSG_DATA(cm), &segment, sizeof(segment));
		control = CMSG_SPACE(sizeof(segment));
	}
	/* Last, so that a resend can drop it (worker_tx_send_done). */
	control += source_addr_put_cmsg(&a->source, s->control.buf + control,
					sizeof(s->control.buf) - control);
	if (control) {
		s->msg.msg_control = s->control.buf;
		s->msg.msg_controllen = control;
	}
	sqe = uring_sqe(&w->ring);
	io_uring_prep_sendmsg(sqe, w->udp_fd, &s->msg, 0);
	io_uring_sqe_set_data64(sqe, user_data(OP_UDP_SEND,
					       TX_SEND_ID(area, k)));
}

/* Sends a's n messages: with GSO, each run of equal-sized messages (the
 * last one may be shorter) within the kernel's limits is one sendmsg.
 * Returns the number of sends. */
static unsigned int send_runs(struct worker *w, unsigned int area,
			      unsigned int n)
{
	const struct tx_area *a = &w->tx[area];
	bool gso = w->features & DP_UDP_GSO;
	unsigned int sends = 0, i = 0;
	size_t off = 0;

	while (i < n) {
		unsigned int start = i++;
		size_t size = a->msg_len[start], bytes = size;

		while (gso && i < n && i - start < GSO_MAX_SEGMENTS &&
		       a->msg_len[i] <= size &&
		       bytes + a->msg_len[i] <= GSO_MAX_BYTES) {
			bytes += a->msg_len[i];
			if (a->msg_len[i++] < size)
				break; /* a short one ends a run */
		}
		submit_send(w, area, sends++, off, bytes,
			    i - start > 1 ? (uint16_t)size : 0);
		off += bytes;
	}
	return sends;
}

static struct peer *route(struct worker *w, const uint8_t *pkt, size_t len,
			  struct sockaddr_storage *ep, struct source_addr *src)
{
	int family = ip_family(pkt, len);
	struct peer *peer;

	peer = family ? allowedips_lookup(w->dp->dev->allowedips, family,
					  ip_dst(pkt, family)) : NULL;
	if (!peer || !peer_get_path(peer, ep, src))
		return NULL;
	return peer;
}

/* One frame from the TUN queue, in buffer bid; a tx area is free. */
static void tx_frame(struct worker *w, unsigned int bid, int res)
{
	const uint8_t *buf = buf_pool_buf(&w->tx_in.bufs, bid);
	struct sockaddr_storage ep;
	struct source_addr from;
	struct tx_source src;
	struct peer *peer;
	struct tx_area *a;
	unsigned int area, n, sends;

	if (source_begin(w, &src, buf, (size_t)res) ||
	    !(peer = route(w, src.split.pkt, src.split.len, &ep, &from))) {
		stat_inc(&w->stats.drops);
		return;
	}
	area = intake_free_area(&w->tx_in);
	a = &w->tx[area];
	a->source = from;
	a->addr_len = sockaddr_for_socket(w->dp->sock_family, &ep, &a->addr);
	if (!a->addr_len) {
		/* An IPv6 endpoint on an IPv4-only host. */
		stat_inc(&w->stats.drops);
		return;
	}
	n = encrypt_segments(w, area, &src, peer, datapath_now(w->dp));
	if (!n)
		return;
	sends = send_runs(w, area, n);
	intake_area_busy(&w->tx_in, area, sends);
	stat_add(&w->stats.udp_tx, n);
	stat_add(&w->stats.sends, sends);
}

/* A send refused because its source address is gone goes again, the
 * same bytes (the area stays busy until its last send completes) from
 * the routing table's choice; the first such refusal of an area tells
 * the control thread, which makes the peers forget that address. */
static bool resent_without_source(struct worker *w, unsigned int area,
				  unsigned int k, int res)
{
	struct tx_area *a = &w->tx[area];
	struct tx_send *s = &a->send[k];
	struct io_uring_sqe *sqe;

	if (!source_addr_refused(res) || !source_addr_strip_cmsg(&s->msg))
		return false;
	if (a->source.family) {
		worker_source_gone(w, &a->source);
		a->source.family = 0;
	}
	sqe = uring_sqe(&w->ring);
	io_uring_prep_sendmsg(sqe, w->udp_fd, &s->msg, 0);
	io_uring_sqe_set_data64(sqe, user_data(OP_UDP_SEND,
					       TX_SEND_ID(area, k)));
	stat_inc(&w->stats.sends);
	return true;
}

void worker_tx_send_done(struct worker *w, unsigned int id, int res)
{
	unsigned int area = TX_SEND_AREA(id);

	if (res < 0 && resent_without_source(w, area, TX_SEND_NUMBER(id),
					     res))
		return;
	if (res < 0) {
		stat_inc(&w->stats.drops);
		/* A device without checksum offload refuses GSO: EIO. */
		if (res == -EIO && (w->features & DP_UDP_GSO)) {
			w->features &= ~DP_UDP_GSO;
			log_warn("%s: worker %u: UDP GSO refused by the "
				 "kernel, sending one datagram per call",
				 w->dp->ifname, w->id);
		}
	}
	intake_output_done(w, &w->tx_in, area);
}

int worker_tx_init(struct worker *w)
{
	/* One read on the TUN queue: a multishot read when the kernel has
	 * it; otherwise one single-shot read at a time, because several on
	 * a TUN fd make io_uring spawn a blocking worker thread for each. */
	struct buf_pool_reads reads = {
		.kind = BUF_POOL_READ,
		.fd = w->tun_fd,
		.len = TUN_BUF_SIZE,
		.bgid = w->features & DP_MULTISHOT_READ ? BGID_TUN : -1,
		.depth = 1,
		.user_data = user_data(OP_TUN_READ, 0),
	};

	w->tx_in.read_count = &w->stats.tun_rx;
	w->tx_in.process = tx_frame;
	w->tx = calloc(TX_AREAS, sizeof(*w->tx));
	if (!w->tx)
		return -ENOMEM;
	return intake_init(&w->tx_in, &w->ring, TUN_BUFS, &reads, TX_AREAS,
			   TX_AREA_SIZE);
}

void worker_tx_destroy(struct worker *w)
{
	intake_destroy(&w->tx_in);
	free(w->tx);
}
