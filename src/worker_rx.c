/* UDP -> TUN: one receive (with GRO, a run of datagrams from one sender)
 * is decrypted in place, checked against the sender's AllowedIPs, and
 * coalesced back into as few TUN frames as the kernel's GRO rules allow;
 * each frame is one TUN write. */
#include "src/worker_internal.h"

#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>

#include "src/datapath.h"
#include "src/device.h"
#include "src/features.h"
#include "src/ip_packet.h"
#include "src/protocol.h"
#include "src/sockaddr.h"

/* One receive as the kernel left it in a buffer. */
struct rx_view {
	uint8_t *payload;
	size_t len;
	size_t segment;	/* datagram size with GRO, else len */
	struct sockaddr_storage src;
	socklen_t src_len;
};

static void forward_handshake(struct worker *w, const uint8_t *data,
			      size_t len, const struct rx_view *v)
{
	struct msg *m = worker_to_control(w, CTL_HANDSHAKE, NULL);

	if (!m)
		return;
	memcpy(m->data, data, len);
	m->len = (uint16_t)len;
	m->addr = v->src;
	m->addr_len = v->src_len;
	msg_ring_push(w->out);
}

/* The inner packet's length, or 0 to drop it: cryptokey routing says the
 * source must be one of the sending peer's AllowedIPs. */
static size_t inner_packet(struct worker *w, const uint8_t *pkt,
			   size_t plain_len, struct peer *peer)
{
	int family = ip_family(pkt, plain_len);
	size_t len = family ? ip_total_len(pkt, plain_len, family) : 0;

	if (!len || !allowedips_source_ok(w->dp->dev->allowedips, family,
					  ip_src(pkt, family), peer))
		return 0;
	return len;
}

static void session_facts(struct worker *w, const struct rx_view *v,
			  const struct data_outcome *out, size_t msg_len,
			  uint64_t now)
{
	struct peer *peer = out->peer;

	/* Roaming: the endpoint follows the newest authenticated packet. */
	peer_set_endpoint(peer, (const struct sockaddr *)&v->src,
			  v->src_len);
	peer_fact(peer, FACT_AUTH_RECEIVED, now);
	if (out->plain_len)
		peer_fact(peer, FACT_DATA_RECEIVED, now);
	atomic_fetch_add_explicit(&peer->rx_bytes, msg_len,
				  memory_order_relaxed);
	if (out->want_rekey)
		worker_want_handshake(w, peer, CTL_REKEY_RECEIVED);
	if (out->confirms_next) {
		struct msg *m = worker_to_control(w, CTL_CONFIRM, peer);

		if (m) {
			m->keypair = out->keypair;
			msg_ring_push(w->out);
		}
	}
}

static void rx_datagram(struct worker *w, struct offload_coalescer *c,
			uint8_t *msg, size_t len, const struct rx_view *v,
			uint64_t now)
{
	struct data_outcome out;
	size_t inner;
	int ret;

	switch (protocol_classify(msg, len)) {
	case MESSAGE_DATA:
		break;
	case MESSAGE_HANDSHAKE_INITIATION:
	case MESSAGE_HANDSHAKE_RESPONSE:
	case MESSAGE_HANDSHAKE_COOKIE:
		forward_handshake(w, msg, len, v);
		return;
	default:
		stat_inc(&w->stats.drops);
		stat_inc(&w->stats.bad);
		log_debug_ratelimited(&w->log_rx, "%s: worker %u: dropped a "
				      "datagram of %zu bytes that is no "
				      "WireGuard message", w->dp->ifname,
				      w->id, len);
		return;
	}
	ret = protocol_decrypt(w->dp->dev, msg, len, now, &out);
	if (ret) {
		stat_inc(&w->stats.drops);
		stat_inc(&w->stats.bad);
		log_debug_ratelimited(&w->log_rx, "%s: worker %u: dropped a "
				      "data message: %s", w->dp->ifname, w->id,
				      strerror(-ret));
		return;
	}
	session_facts(w, v, &out, len, now);
	if (!out.plain_len)
		return; /* a keepalive */
	inner = inner_packet(w, msg + MESSAGE_DATA_HEADER_LEN, out.plain_len,
			     out.peer);
	if (!inner ||
	    offload_coalesce_add(c, msg + MESSAGE_DATA_HEADER_LEN, inner))
		stat_inc(&w->stats.drops);
}

static unsigned int coalesce_flags(const struct worker *w)
{
	unsigned int flags = 0;

	if (w->features & DP_TSO)
		flags |= OFFLOAD_COALESCE_TCP;
	if (w->features & DP_USO)
		flags |= OFFLOAD_COALESCE_UDP;
	return flags;
}

static void write_frames(struct worker *w, unsigned int area, unsigned int n)
{
	struct tw_area *t = &w->tw[area];
	/* Without IFF_VNET_HDR the TUN takes the bare packet. */
	size_t skip = w->features & DP_VNET_HDR ? 0 : TUN_VNET_HDR_LEN;

	for (unsigned int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = worker_sqe(w);

		io_uring_prep_write(sqe, w->tun_fd,
				    t->data + t->frames[i].off + skip,
				    (unsigned int)(t->frames[i].len - skip),
				    0);
		io_uring_sqe_set_data64(sqe, user_data(OP_TUN_WRITE, area));
	}
	t->pending = n;
	index_stack_pop(&w->tw_free);
}

/* Decrypts every datagram of v in place and writes what they carry. */
static void rx_datagrams(struct worker *w, const struct rx_view *v)
{
	unsigned int area = index_stack_peek(&w->tw_free);
	struct tw_area *t = &w->tw[area];
	uint64_t now = datapath_now(w->dp);
	struct offload_coalescer c;
	unsigned int n;

	offload_coalesce_init(&c, t->data, TW_AREA_SIZE, t->frames,
			      TW_MAX_FRAMES, coalesce_flags(w));
	for (size_t off = 0; off < v->len; off += v->segment) {
		size_t len = v->len - off < v->segment ? v->len - off :
							 v->segment;

		stat_inc(&w->stats.udp_rx);
		rx_datagram(w, &c, v->payload + off, len, v, now);
	}
	n = offload_coalesce_finish(&c);
	if (n)
		write_frames(w, area, n);
}

static size_t gro_segment(struct cmsghdr *cm)
{
	int size;

	if (cm->cmsg_level != SOL_UDP || cm->cmsg_type != UDP_GRO ||
	    cm->cmsg_len < CMSG_LEN(sizeof(size)))
		return 0;
	memcpy(&size, CMSG_DATA(cm), sizeof(size));
	return size > 0 ? (size_t)size : 0;
}

static void set_source(struct rx_view *v, const void *name, size_t len)
{
	if (len > sizeof(v->src))
		len = sizeof(v->src);
	memcpy(&v->src, name, len);
	v->src_len = sockaddr_normalize(&v->src, (socklen_t)len);
}

/* A multishot receive's buffer: header, name, control, payload. */
static bool view_ring(struct worker *w, uint8_t *buf, int res,
		      struct rx_view *v)
{
	struct msghdr *t = &w->recv_template;
	struct io_uring_recvmsg_out *o;
	struct cmsghdr *cm;

	o = io_uring_recvmsg_validate(buf, res, t);
	if (!o || (o->flags & MSG_TRUNC))
		return false;
	v->payload = io_uring_recvmsg_payload(o, t);
	v->len = io_uring_recvmsg_payload_length(o, res, t);
	v->segment = 0;
	for (cm = io_uring_recvmsg_cmsg_firsthdr(o, t); cm;
	     cm = io_uring_recvmsg_cmsg_nexthdr(o, t, cm))
		v->segment = v->segment ? v->segment : gro_segment(cm);
	set_source(v, io_uring_recvmsg_name(o),
		   o->namelen < t->msg_namelen ? o->namelen : t->msg_namelen);
	return true;
}

static bool view_plain(struct worker *w, unsigned int bid, int res,
		       struct rx_view *v)
{
	struct udp_plain *u = &w->udp_plain[bid];
	struct cmsghdr *cm;

	if (u->msg.msg_flags & MSG_TRUNC)
		return false;
	v->payload = buf_pool_buf(&w->udp_bufs, bid);
	v->len = (size_t)res;
	v->segment = 0;
	for (cm = CMSG_FIRSTHDR(&u->msg); cm; cm = CMSG_NXTHDR(&u->msg, cm))
		v->segment = v->segment ? v->segment : gro_segment(cm);
	set_source(v, &u->addr, u->msg.msg_namelen);
	return true;
}

static void rx_buffer(struct worker *w, unsigned int bid, int res)
{
	struct rx_view v;
	bool ok = buf_pool_is_ring(&w->udp_bufs) ?
		view_ring(w, buf_pool_buf(&w->udp_bufs, bid), res, &v) :
		view_plain(w, bid, res, &v);

	if (!ok || !v.len) {
		stat_inc(&w->stats.drops);
		if (ok) { /* an empty datagram: no message for us either */
			stat_inc(&w->stats.udp_rx);
			stat_inc(&w->stats.bad);
		}
		return;
	}
	if (!v.segment || v.segment > v.len)
		v.segment = v.len;
	rx_datagrams(w, &v);
}

static void arm_plain_recv(struct worker *w, unsigned int bid)
{
	struct udp_plain *u = &w->udp_plain[bid];
	struct io_uring_sqe *sqe = worker_sqe(w);

	memset(&u->msg, 0, sizeof(u->msg));
	u->iov.iov_base = buf_pool_buf(&w->udp_bufs, bid);
	u->iov.iov_len = UDP_PAYLOAD_MAX;
	u->msg.msg_name = &u->addr;
	u->msg.msg_namelen = sizeof(u->addr);
	u->msg.msg_iov = &u->iov;
	u->msg.msg_iovlen = 1;
	u->msg.msg_control = u->control.buf;
	u->msg.msg_controllen = sizeof(u->control.buf);
	io_uring_prep_recvmsg(sqe, w->udp_fd, &u->msg, 0);
	io_uring_sqe_set_data64(sqe, user_data(OP_UDP_RECV, bid));
}

static void arm_ring_recv(struct worker *w)
{
	struct io_uring_sqe *sqe;

	if (w->udp_recv_armed ||
	    w->udp_waiting.tail - w->udp_waiting.head >= UDP_BUFS)
		return; /* every buffer is ours: re-armed when one is back */
	sqe = worker_sqe(w);
	io_uring_prep_recvmsg_multishot(sqe, w->udp_fd, &w->recv_template, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID_UDP;
	io_uring_sqe_set_data64(sqe, user_data(OP_UDP_RECV, 0));
	w->udp_recv_armed = true;
}

static void udp_buf_done(struct worker *w, unsigned int bid)
{
	if (!buf_pool_is_ring(&w->udp_bufs)) {
		arm_plain_recv(w, bid);
		return;
	}
	buf_pool_put(&w->udp_bufs, bid);
	arm_ring_recv(w);
}

static void drain_waiting(struct worker *w)
{
	uint32_t bid;
	int32_t res;

	while (!index_stack_empty(&w->tw_free) &&
	       bid_fifo_pop(&w->udp_waiting, &bid, &res)) {
		rx_buffer(w, bid, res);
		udp_buf_done(w, bid);
	}
}

void worker_rx_recv_done(struct worker *w, const struct io_uring_cqe *cqe)
{
	bool ring = buf_pool_is_ring(&w->udp_bufs);
	unsigned int bid;

	if (ring && !(cqe->flags & IORING_CQE_F_MORE))
		w->udp_recv_armed = false;
	if (ring && !(cqe->flags & IORING_CQE_F_BUFFER)) {
		arm_ring_recv(w);
		return;
	}
	bid = ring ? cqe->flags >> IORING_CQE_BUFFER_SHIFT :
		     (unsigned int)cqe->user_data;
	/* A plain recvmsg of 0 is an empty datagram, counted like any other
	 * bad one; a multishot result always holds its header. */
	if (cqe->res < 0 || (ring && !cqe->res)) {
		udp_buf_done(w, bid);
		return;
	}
	stat_inc(&w->stats.recvs);
	worker_mark_defined(buf_pool_buf(&w->udp_bufs, bid), cqe->res);
	if (!ring) /* the kernel also wrote the address and its length */
		worker_mark_defined(&w->udp_plain[bid],
				    sizeof(w->udp_plain[bid]));
	if (!bid_fifo_push(&w->udp_waiting, bid, cqe->res)) {
		stat_inc(&w->stats.drops);
		udp_buf_done(w, bid);
		return;
	}
	drain_waiting(w);
	if (ring)
		arm_ring_recv(w);
}

void worker_rx_write_done(struct worker *w, unsigned int area, int res)
{
	stat_inc(res >= 0 ? &w->stats.tun_tx : &w->stats.drops);
	if (--w->tw[area].pending)
		return;
	index_stack_push(&w->tw_free, area);
	drain_waiting(w);
}

void worker_rx_start(struct worker *w)
{
	if (buf_pool_is_ring(&w->udp_bufs)) {
		arm_ring_recv(w);
		return;
	}
	for (int bid; (bid = buf_pool_take(&w->udp_bufs)) >= 0;)
		arm_plain_recv(w, (unsigned int)bid);
}

static int init_buffers(struct worker *w)
{
	int ret = -ENOMEM;

	if (w->features & DP_MULTISHOT_RECV) {
		ret = buf_pool_init(&w->udp_bufs, &w->ring, UDP_BUFS,
				    UDP_BUF_SIZE, BGID_UDP);
		if (ret) {
			buf_pool_destroy(&w->udp_bufs, &w->ring);
			w->features &= ~DP_MULTISHOT_RECV;
		}
	}
	if (!(w->features & DP_MULTISHOT_RECV)) {
		ret = buf_pool_init(&w->udp_bufs, &w->ring, UDP_BUFS,
				    UDP_PAYLOAD_MAX, -1);
		w->udp_plain = calloc(UDP_BUFS, sizeof(*w->udp_plain));
		if (!ret && !w->udp_plain)
			ret = -ENOMEM;
	}
	return ret;
}

int worker_rx_init(struct worker *w)
{
	int ret = init_buffers(w);

	if (ret)
		return ret;
	memset(&w->recv_template, 0, sizeof(w->recv_template));
	w->recv_template.msg_namelen = UDP_NAME_LEN;
	w->recv_template.msg_controllen = UDP_CONTROL_LEN;
	w->udp_waiting.cap = UDP_BUFS;
	w->udp_waiting.bid = calloc(UDP_BUFS, sizeof(uint32_t));
	w->udp_waiting.res = calloc(UDP_BUFS, sizeof(int32_t));
	w->tw = calloc(TW_AREAS, sizeof(*w->tw));
	if (!w->udp_waiting.bid || !w->udp_waiting.res || !w->tw ||
	    index_stack_init(&w->tw_free, TW_AREAS))
		return -ENOMEM;
	for (unsigned int i = 0; i < TW_AREAS; i++) {
		w->tw[i].data = aligned_alloc(64, TW_AREA_SIZE);
		if (!w->tw[i].data)
			return -ENOMEM;
	}
	return 0;
}

void worker_rx_destroy(struct worker *w)
{
	buf_pool_destroy(&w->udp_bufs, w->ring_ready ? &w->ring : NULL);
	free(w->udp_plain);
	for (unsigned int i = 0; w->tw && i < TW_AREAS; i++)
		free(w->tw[i].data);
	free(w->tw);
	index_stack_destroy(&w->tw_free);
	free(w->udp_waiting.bid);
	free(w->udp_waiting.res);
}
