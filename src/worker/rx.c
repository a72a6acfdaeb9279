/* UDP -> TUN: one receive (with GRO, a run of datagrams from one sender)
 * is sorted here (handshakes to the control thread, data to its
 * session), its data messages are opened in place in chunks by whichever
 * workers are free (src/worker/share.h), and then, in the order the
 * receives came, each is checked against the replay window and the
 * sender's AllowedIPs and coalesced back into as few TUN frames as the
 * kernel's GRO rules allow; each frame is one TUN write. */
#include "src/worker/core_internal.h"

#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>

#include "src/worker/datapath.h"
#include "src/device.h"
#include "src/worker/features.h"
#include "src/ip_packet.h"
#include "src/protocol.h"
#include "src/sockaddr.h"
#include "src/worker/share.h"

/* One receive as the kernel left it in a buffer. */
struct rx_view {
	uint8_t *payload;
	size_t len;
	size_t segment;	/* datagram size with GRO, else len */
	struct sockaddr_storage src;
	socklen_t src_len;
	struct source_addr dst; /* where it came to: our address */
};

/* A receive the kernel's GRO built carries at most 64 datagrams
 * (UDP_GRO_CNT_MAX), but a UDP_SEGMENT send from this host reaches a
 * UDP_GRO socket whole: up to 128 (UDP_MAX_SEGMENTS). More are dropped. */
#define RX_MAX_DATA 128

/* One data message of a receive, on its way. */
struct rx_data {
	struct keypair *kp;
	uint32_t off;	/* in the receive's payload */
	uint16_t len;
	bool opened;	/* set by whichever worker opened it */
};

/* One receive's data messages, opened by the crew, and where the frames
 * they carry go (the intake area's bytes). */
struct tw_area {
	struct share_job job;	/* opening: first member (container) */
	struct rx_view view;	/* the receive, its buffer kept */
	unsigned int n;
	struct rx_data data[RX_MAX_DATA];
	struct offload_frame frames[TW_MAX_FRAMES];
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
	m->source = v->dst;
	msg_ring_push(w->out);
}

/* Data under an index we never gave out: with FleetRecovery, one that
 * another gateway of the fleet may have (its check byte holds: 1 in 256
 * random ones) goes to the control thread, with where it came from and
 * to, which may answer it with a handshake (src/fleet_recovery.h). Only
 * the first of its slot in FLEET_REPORT_INTERVAL_MS goes: the rest would
 * take ring slots from handshakes for nothing (src/fleet_reports.h). */
static void unknown_index(struct worker *w, const uint8_t *msg, size_t len,
			  const struct rx_view *v, uint64_t now)
{
	uint64_t counter;
	uint32_t index;
	struct msg *m;

	/* Without FleetRecovery, nothing to read in the header again. */
	if (!w->dp->dev->fleet || data_parse(msg, len, &index, &counter) ||
	    !device_fleet_report(w->dp->dev, index, now))
		return;
	m = worker_to_control(w, CTL_UNKNOWN_INDEX, NULL);
	if (!m)
		return;
	m->index = index;
	m->addr = v->src;
	m->addr_len = v->src_len;
	m->source = v->dst;
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

	/* Roaming: the endpoint, and the local address we answer from,
	 * follow the newest authenticated packet. */
	peer_set_path(peer, (const struct sockaddr *)&v->src, v->src_len,
		      &v->dst);
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

static void drop_bad(struct worker *w, size_t len, const char *why)
{
	stat_inc(&w->stats.drops);
	stat_inc(&w->stats.bad);
	log_debug_ratelimited(&w->log_rx, "%s: worker %u: dropped a datagram "
			      "of %zu bytes: %s", w->dp->ifname, w->id, len,
			      why);
}

/* Sorts one datagram: a handshake goes to the control thread, a data
 * message of a live session joins t's list to be opened. */
static void sort_datagram(struct worker *w, struct tw_area *t, uint8_t *msg,
			  size_t len, uint64_t now)
{
	struct rx_data *d = &t->data[t->n];
	int ret;

	switch (protocol_classify(msg, len)) {
	case MESSAGE_DATA:
		break;
	case MESSAGE_HANDSHAKE_INITIATION:
	case MESSAGE_HANDSHAKE_RESPONSE:
	case MESSAGE_HANDSHAKE_COOKIE:
		forward_handshake(w, msg, len, &t->view);
		return;
	default:
		drop_bad(w, len, "no WireGuard message");
		return;
	}
	if (t->n == RX_MAX_DATA) {
		stat_inc(&w->stats.drops);
		return;
	}
	ret = protocol_receive_keypair(w->dp->dev, msg, len, now, &d->kp);
	if (ret == -ENOENT) {
		unknown_index(w, msg, len, &t->view, now);
		drop_bad(w, len, "unknown session index");
		return;
	}
	if (ret) {
		drop_bad(w, len, strerror(-ret));
		return;
	}
	d->off = (uint32_t)(msg - t->view.payload);
	d->len = (uint16_t)len;
	t->n++;
}

/* share_run_fn: opens chunk `chunk` of a tw area's data messages, on
 * any worker. */
static void open_chunk(struct share_job *job, unsigned int chunk,
		       unsigned int lane)
{
	struct tw_area *t = (struct tw_area *)job;
	unsigned int end = share_chunk_end(chunk, t->n);

	for (unsigned int i = chunk * SHARE_CHUNK_MSGS; i < end; i++)
		t->data[i].opened = !data_open(t->data[i].kp,
					       t->view.payload + t->data[i].off,
					       t->data[i].len, lane);
}

/* An opened message, in order: the replay window, the session's facts,
 * the source check, and its packet into the coalescer. */
static void accept_datagram(struct worker *w, struct offload_coalescer *c,
			    const struct tw_area *t, const struct rx_data *d,
			    uint64_t now)
{
	uint8_t *msg = t->view.payload + d->off;
	struct data_outcome out;
	size_t inner;
	int ret;

	ret = d->opened ? protocol_received(d->kp, msg, d->len, now, &out) :
			  -EBADMSG;
	if (ret) {
		drop_bad(w, d->len, strerror(-ret));
		return;
	}
	session_facts(w, &t->view, &out, d->len, now);
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
	uint8_t *data = intake_area_data(&w->rx_in, area);
	/* Without IFF_VNET_HDR the TUN takes the bare packet. */
	size_t skip = w->features & DP_VNET_HDR ? 0 : TUN_VNET_HDR_LEN;

	for (unsigned int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = uring_sqe(&w->ring);

		io_uring_prep_write(sqe, w->tun_fd,
				    data + t->frames[i].off + skip,
				    (unsigned int)(t->frames[i].len - skip),
				    0);
		io_uring_sqe_set_data64(sqe, user_data(OP_TUN_WRITE, area));
	}
	intake_area_outputs(&w->rx_in, area, n);
}

/* Sorts every datagram of the receive in buffer bid (v) into a tw area
 * and has the crew open its data messages; the buffer is kept until
 * rx_finish. Returns whether it was. */
static bool rx_datagrams(struct worker *w, unsigned int bid,
			 const struct rx_view *v)
{
	unsigned int area = intake_free_area(&w->rx_in);
	struct tw_area *t = &w->tw[area];
	uint64_t now = datapath_now(w->dp);

	t->view = *v;
	t->n = 0;
	for (size_t off = 0; off < v->len; off += v->segment) {
		size_t len = v->len - off < v->segment ? v->len - off :
							 v->segment;

		stat_inc(&w->stats.udp_rx);
		sort_datagram(w, t, v->payload + off, len, now);
	}
	if (!t->n)
		return false;
	intake_share(w, &w->rx_in, area, t->n, v->len, (int)bid);
	return true;
}

/* The area's messages are opened: what they carry, in order, to TUN. */
static void rx_finish(struct worker *w, unsigned int area)
{
	struct tw_area *t = &w->tw[area];
	uint64_t now = datapath_now(w->dp);
	struct offload_coalescer c;
	unsigned int n;

	offload_coalesce_init(&c, intake_area_data(&w->rx_in, area),
			      TW_AREA_SIZE, t->frames, TW_MAX_FRAMES,
			      coalesce_flags(w));
	for (unsigned int i = 0; i < t->n; i++)
		accept_datagram(w, &c, t, &t->data[i], now);
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

/* What one receive holds: its datagrams, their size with GRO, where
 * they came from and which of our addresses they came to; false when it
 * holds nothing we can read. */
static bool view(struct worker *w, unsigned int bid, int res,
		 struct rx_view *v)
{
	struct buf_pool_recv r;
	struct cmsghdr *cm;

	if (!buf_pool_recv(&w->rx_in.bufs, bid, res, &r))
		return false;
	v->payload = r.payload;
	v->len = r.len;
	v->segment = 0;
	memset(&v->dst, 0, sizeof(v->dst));
	for (cm = CMSG_FIRSTHDR(&r.control); cm;
	     cm = CMSG_NXTHDR(&r.control, cm)) {
		v->segment = v->segment ? v->segment : gro_segment(cm);
		source_addr_from_cmsg(&r.control, cm, &v->dst);
	}
	set_source(v, r.name, r.name_len);
	return true;
}

static bool rx_buffer(struct worker *w, unsigned int bid, int res)
{
	struct rx_view v;
	bool ok = view(w, bid, res, &v);

	if (!ok || !v.len) {
		stat_inc(&w->stats.drops);
		if (ok) { /* an empty datagram: no message for us either */
			stat_inc(&w->stats.udp_rx);
			stat_inc(&w->stats.bad);
		}
		return false;
	}
	if (!v.segment || v.segment > v.len)
		v.segment = v.len;
	return rx_datagrams(w, bid, &v);
}

void worker_rx_write_done(struct worker *w, unsigned int area, int res)
{
	stat_inc(res >= 0 ? &w->stats.tun_tx : &w->stats.drops);
	intake_output_done(w, &w->rx_in, area);
}

int worker_rx_init(struct worker *w)
{
	/* A multishot receive when the kernel has it; otherwise a recvmsg
	 * on every buffer, so that datagrams never wait for one. */
	struct buf_pool_reads reads = {
		.kind = BUF_POOL_RECVMSG,
		.fd = w->udp_fd,
		.len = UDP_PAYLOAD_MAX,
		.bgid = w->features & DP_MULTISHOT_RECV ? BGID_UDP : -1,
		.depth = UDP_BUFS,
		.user_data = user_data(OP_UDP_RECV, 0),
	};

	struct share_board *board = &w->dp->crew->boards[w->id];
	int ret;

	w->rx_in.read_count = &w->stats.recvs;
	w->rx_in.process = rx_buffer;
	w->rx_in.finish = rx_finish;
	w->tw = calloc(TW_AREAS, sizeof(*w->tw));
	if (!w->tw)
		return -ENOMEM;
	ret = intake_init(&w->rx_in, &w->ring, UDP_BUFS, &reads, TW_AREAS,
			  TW_AREA_SIZE, SLOT_RX);
	for (unsigned int i = 0; !ret && i < TW_AREAS; i++)
		share_board_set(board, SLOT_RX + i, &w->tw[i].job, open_chunk);
	return ret;
}

void worker_rx_destroy(struct worker *w)
{
	intake_destroy(&w->rx_in);
	free(w->tw);
}
