/* TUN -> UDP: a frame read from the TUN queue (a TSO/USO super-packet,
 * or one packet) is laid out in a tx area, one message per MTU-sized
 * segment, each with its nonce; whichever workers are free cut the
 * segments from the frame and seal them in chunks (src/worker/share.h);
 * then, in the order the frames came, runs of equal-sized messages leave
 * as one sendmsg with UDP_SEGMENT. A frame with no session to send on
 * goes to the control thread, packet by packet, to wait for one. */
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
#include "src/worker/share.h"

/* A send's control data: UDP_SEGMENT, then the source (source_addr.h). */
struct tx_send {
	struct msghdr msg;
	struct iovec iov;
	bool stripped;	/* sent again without the refused source */
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t)) +
			 SOURCE_ADDR_CMSG_SPACE];
		struct cmsghdr align;
	} control;
};

/* One frame's messages, laid out and numbered by the owner, cut from the
 * frame and sealed by the crew. */
struct tx_area {
	struct share_job job;	/* sealing: first member (container) */
	uint8_t *data;		/* the intake area's bytes */
	struct keypair *kp;	/* the session all n are sealed under */
	unsigned int n;
	/* Segment i is cut from split's frame (kept until the area is
	 * finished) into message i, under nonce first_nonce + i. */
	struct offload_split split;
	uint64_t first_nonce;
	size_t mtu;
	_Atomic uint32_t seal_failed;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct source_addr source; /* family 0 once refused (reported) */
	uint16_t msg_len[TX_MAX_SEGMENTS];
	uint32_t msg_off[TX_MAX_SEGMENTS];
	struct tx_send send[TX_MAX_SEGMENTS];
};

/* The frame in buf as a split: a virtio_net_hdr frame when TUN hands us
 * those, else one packet as read. */
static int frame_split(const struct worker *w, struct offload_split *split,
		       const uint8_t *buf, size_t len)
{
	if (w->features & DP_VNET_HDR)
		return offload_split_begin(split, buf, len);
	offload_split_whole(split, buf, len);
	return 0;
}

/* A frame with no session to send on (none yet, or out of nonces): its
 * packets, cut straight into messages for the control thread, wait
 * there for a handshake. */
static void stage_frame(struct worker *w, struct peer *peer,
			const struct offload_split *split)
{
	for (unsigned int k = 0; k < split->count; k++) {
		struct msg *m = worker_to_control(w, CTL_STAGE, peer);
		size_t len;

		if (!m)
			return;
		len = offload_split_at(split, k, m->data, MSG_DATA_MAX);
		if (!len) {
			stat_inc(&w->stats.drops); /* larger than a message */
			continue;
		}
		m->len = (uint16_t)len;
		msg_ring_push(w->out);
	}
}

/* What sending n messages tells the peer's timers and counters. */
static void sent_facts(struct worker *w, struct peer *peer,
		       const struct tx_area *a, uint64_t now)
{
	if (protocol_send_wants_rekey(a->kp, now))
		worker_want_handshake(w, peer, CTL_WANT_HANDSHAKE);
	peer_fact(peer, FACT_DATA_SENT, now);
	peer_fact(peer, FACT_AUTH_SENT, now);
	atomic_fetch_add_explicit(&peer->tx_bytes,
				  a->msg_off[a->n - 1] + a->msg_len[a->n - 1],
				  memory_order_relaxed);
}

/* The frame's segments laid out in tx area a, each with its nonce,
 * taken in order here, so that the crew may cut, checksum and seal them
 * in any order (seal_chunk). Returns how many, or 0 when kp has no
 * nonces left for them (the frame is staged). */
static unsigned int plan_segments(struct worker *w, struct tx_area *a,
				  const struct offload_split *split,
				  struct keypair *kp)
{
	size_t pos = 0;
	unsigned int n = 0;

	while (n < split->count && n < TX_MAX_SEGMENTS) {
		size_t len = data_message_len(offload_split_len(split, n),
					      w->dp->mtu);

		if (len > TX_AREA_SIZE - pos)
			break;
		a->msg_off[n] = (uint32_t)pos;
		a->msg_len[n++] = (uint16_t)len;
		pos += len;
	}
	if (!n || keypair_take_nonces(kp, n, &a->first_nonce))
		return 0;
	if (n < split->count)
		stat_inc(&w->stats.drops); /* more segments than an area */
	a->split = *split;
	a->mtu = w->dp->mtu;
	a->kp = kp;
	a->n = n;
	return n;
}

/* Message i of area a cut from its frame and prepared; false if the
 * splitter refused (it does not for a frame it accepted). */
static bool cut_segment(struct tx_area *a, unsigned int i)
{
	uint8_t *msg = a->data + a->msg_off[i];
	size_t room = a->msg_len[i] - MESSAGE_DATA_HEADER_LEN -
		      NOISE_AUTHTAG_LEN;
	size_t len = offload_split_at(&a->split, i,
				      msg + MESSAGE_DATA_HEADER_LEN, room);
	size_t msg_len;

	if (!len)
		return false;
	data_prepare_nonce(a->kp, msg, len, a->mtu, a->first_nonce + i,
			   &msg_len);
	return msg_len == a->msg_len[i];
}

/* share_run_fn: cuts and seals chunk `chunk` of a tx area's messages,
 * on any worker. A message that cannot be made is zeroed: it leaves as
 * garbage its nonce's receiver drops. */
static void seal_chunk(struct share_job *job, unsigned int chunk,
		       unsigned int lane)
{
	struct tx_area *a = (struct tx_area *)job;
	unsigned int end = share_chunk_end(chunk, a->n);

	for (unsigned int i = chunk * SHARE_CHUNK_MSGS; i < end; i++) {
		uint8_t *msg = a->data + a->msg_off[i];

		if (!cut_segment(a, i)) {
			memset(msg, 0, a->msg_len[i]);
			atomic_fetch_add_explicit(&a->seal_failed, 1,
						  memory_order_relaxed);
			continue;
		}
		if (data_seal(a->kp, msg, a->msg_len[i], lane))
			atomic_fetch_add_explicit(&a->seal_failed, 1,
						  memory_order_relaxed);
	}
}

static void submit_send(struct worker *w, unsigned int area, unsigned int k,
			size_t off, size_t len, uint16_t segment)
{
	struct tx_area *a = &w->tx[area];
	struct tx_send *s = &a->send[k];
	struct io_uring_sqe *sqe;
	size_t control = 0;

	memset(&s->msg, 0, sizeof(s->msg));
	s->stripped = false;
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

/* One frame from the TUN queue, in buffer bid; a tx area is free. The
 * crew cuts its segments from the buffer, which is kept until the area
 * is finished (true); a frame staged or dropped is done with (false). */
static bool tx_frame(struct worker *w, unsigned int bid, int res)
{
	const uint8_t *buf = buf_pool_buf(&w->tx_in.bufs, bid);
	uint64_t now = datapath_now(w->dp);
	struct sockaddr_storage ep;
	struct offload_split split;
	struct source_addr from;
	struct keypair *kp;
	struct peer *peer;
	struct tx_area *a;
	unsigned int area, n;

	if (frame_split(w, &split, buf, (size_t)res) ||
	    !(peer = route(w, split.pkt, split.len, &ep, &from))) {
		stat_inc(&w->stats.drops);
		return false;
	}
	area = intake_free_area(&w->tx_in);
	a = &w->tx[area];
	a->source = from;
	a->addr_len = sockaddr_for_socket(w->dp->sock_family, &ep, &a->addr);
	if (!a->addr_len) {
		/* An IPv6 endpoint on an IPv4-only host. */
		stat_inc(&w->stats.drops);
		return false;
	}
	kp = protocol_send_keypair(peer, now);
	n = kp ? plan_segments(w, a, &split, kp) : 0;
	if (!n) {
		stage_frame(w, peer, &split);
		return false;
	}
	sent_facts(w, peer, a, now);
	intake_share(w, &w->tx_in, area, n,
		     a->msg_off[n - 1] + a->msg_len[n - 1], (int)bid);
	return true;
}

/* The area's messages are sealed: they leave, in runs. */
static void tx_finish(struct worker *w, unsigned int area)
{
	struct tx_area *a = &w->tx[area];
	uint32_t failed = atomic_exchange_explicit(&a->seal_failed, 0,
						   memory_order_relaxed);
	unsigned int sends = send_runs(w, area, a->n);

	/* A message OpenSSL refused is zeroed: the peer drops it. */
	stat_add(&w->stats.drops, failed);
	intake_area_outputs(&w->tx_in, area, sends);
	stat_add(&w->stats.udp_tx, a->n);
	stat_add(&w->stats.sends, sends);
}

void worker_tx_send_done(struct worker *w, unsigned int id, int res)
{
	unsigned int area = TX_SEND_AREA(id);
	struct tx_area *a = &w->tx[area];
	struct tx_send *s = &a->send[TX_SEND_NUMBER(id)];

	/* The same bytes go again: the area stays busy until its last
	 * send completes. */
	if (worker_send_again(w, &s->msg, &s->stripped, &a->source, res,
			      user_data(OP_UDP_SEND, id))) {
		stat_inc(&w->stats.sends);
		return;
	}
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

	struct share_board *board = &w->dp->crew->boards[w->id];
	int ret;

	w->tx_in.read_count = &w->stats.tun_rx;
	w->tx_in.process = tx_frame;
	w->tx_in.finish = tx_finish;
	w->tx = calloc(TX_AREAS, sizeof(*w->tx));
	if (!w->tx)
		return -ENOMEM;
	ret = intake_init(&w->tx_in, &w->ring, TUN_BUFS, &reads, TX_AREAS,
			  TX_AREA_SIZE, SLOT_TX);
	for (unsigned int i = 0; !ret && i < TX_AREAS; i++) {
		w->tx[i].data = intake_area_data(&w->tx_in, i);
		share_board_set(board, SLOT_TX + i, &w->tx[i].job, seal_chunk);
	}
	return ret;
}

void worker_tx_destroy(struct worker *w)
{
	intake_destroy(&w->tx_in);
	free(w->tx);
}
