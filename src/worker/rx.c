/* UDP -> TUN: one receive (with GRO, a run of datagrams from one sender)
 * is decrypted in place, checked against the sender's AllowedIPs, and
 * coalesced back into as few TUN frames as the kernel's GRO rules allow;
 * each frame is one TUN write. */
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

/* One receive as the kernel left it in a buffer. */
struct rx_view {
	uint8_t *payload;
	size_t len;
	size_t segment;	/* datagram size with GRO, else len */
	struct sockaddr_storage src;
	socklen_t src_len;
	struct source_addr dst; /* where it came to: our address */
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
	intake_area_busy(&w->rx_in, area, n);
}

/* Decrypts every datagram of v in place and writes what they carry. */
static void rx_datagrams(struct worker *w, const struct rx_view *v)
{
	unsigned int area = intake_free_area(&w->rx_in);
	struct tw_area *t = &w->tw[area];
	uint64_t now = datapath_now(w->dp);
	struct offload_coalescer c;
	unsigned int n;

	offload_coalesce_init(&c, intake_area_data(&w->rx_in, area),
			      TW_AREA_SIZE, t->frames, TW_MAX_FRAMES,
			      coalesce_flags(w));
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

static void rx_buffer(struct worker *w, unsigned int bid, int res)
{
	struct rx_view v;
	bool ok = view(w, bid, res, &v);

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

	w->rx_in.read_count = &w->stats.recvs;
	w->rx_in.process = rx_buffer;
	w->tw = calloc(TW_AREAS, sizeof(*w->tw));
	if (!w->tw)
		return -ENOMEM;
	return intake_init(&w->rx_in, &w->ring, UDP_BUFS, &reads, TW_AREAS,
			   TW_AREA_SIZE);
}

void worker_rx_destroy(struct worker *w)
{
	intake_destroy(&w->rx_in);
	free(w->tw);
}
