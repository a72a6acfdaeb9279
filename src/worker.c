#include "src/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "crypto/data.h"
#include "src/ip_packet.h"
#include "src/protocol.h"
#include "src/sockaddr.h"
#include "src/tunnel.h"

/* Reads kept in flight per worker, and buffers for the control thread's
 * sends. */
#define TUN_READS 16
#define UDP_RECVS 32
#define SPARE_BUFS 16
#define RING_ENTRIES 256
#define CQE_BATCH 64

enum op {
	OP_TUN_READ = 1, /* buffer home: TUN read, then UDP send */
	OP_UDP_SEND,
	OP_UDP_RECV,     /* buffer home: UDP recv, then TUN write */
	OP_TUN_WRITE,
	OP_SPARE_SEND,   /* a control-thread datagram */
	OP_EVENT_READ,
};

struct worker_buf {
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage addr;
	uint8_t *data; /* [data header][packet][tailroom] */
};

static uint64_t user_data(enum op op, unsigned index)
{
	return (uint64_t)op << 32 | index;
}

static struct io_uring_sqe *get_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

static size_t buf_len(const struct worker *w)
{
	size_t len = MESSAGE_DATA_HEADER_LEN + w->tn->mtu + DATA_TAILROOM;

	return len < MSG_DATA_MAX ? MSG_DATA_MAX : len;
}

static void stat_inc(_Atomic uint64_t *c)
{
	/* One writer per counter: no locked instruction needed. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
			      + 1, memory_order_relaxed);
}

static void arm_tun_read(struct worker *w, unsigned i)
{
	struct io_uring_sqe *sqe = get_sqe(w);
	struct worker_buf *b = &w->bufs[i];

	io_uring_prep_read(sqe, w->tun_fd, b->data + MESSAGE_DATA_HEADER_LEN,
			   w->tn->mtu, 0);
	io_uring_sqe_set_data64(sqe, user_data(OP_TUN_READ, i));
}

static void arm_udp_recv(struct worker *w, unsigned i)
{
	struct io_uring_sqe *sqe = get_sqe(w);
	struct worker_buf *b = &w->bufs[i];

	b->iov.iov_base = b->data;
	b->iov.iov_len = buf_len(w);
	b->msg.msg_name = &b->addr;
	b->msg.msg_namelen = sizeof(b->addr);
	b->msg.msg_iov = &b->iov;
	b->msg.msg_iovlen = 1;
	b->msg.msg_flags = 0;
	io_uring_prep_recvmsg(sqe, w->udp_fd, &b->msg, 0);
	io_uring_sqe_set_data64(sqe, user_data(OP_UDP_RECV, i));
}

static void arm_event_read(struct worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	io_uring_prep_read(sqe, w->event_fd, &w->event_val,
			   sizeof(w->event_val), 0);
	io_uring_sqe_set_data64(sqe, user_data(OP_EVENT_READ, 0));
}

/* Sends len bytes at b->data to addr; the completion brings b home. */
static void submit_send(struct worker *w, unsigned i, enum op op,
			size_t len, const struct sockaddr_storage *addr)
{
	struct worker_buf *b = &w->bufs[i];
	socklen_t alen = sockaddr_for_socket(w->tn->sock_family, addr,
					     &b->addr);
	struct io_uring_sqe *sqe;

	if (!alen) {
		/* An IPv6 endpoint on an IPv4-only host. */
		stat_inc(&w->stats.drops);
		if (op == OP_UDP_SEND)
			arm_tun_read(w, i);
		else
			w->spare[w->n_spare++] = i;
		return;
	}
	b->iov.iov_base = b->data;
	b->iov.iov_len = len;
	b->msg.msg_name = &b->addr;
	b->msg.msg_namelen = alen;
	b->msg.msg_iov = &b->iov;
	b->msg.msg_iovlen = 1;
	sqe = get_sqe(w);
	io_uring_prep_sendmsg(sqe, w->udp_fd, &b->msg, 0);
	io_uring_sqe_set_data64(sqe, user_data(op, i));
}

/* Hands a message to the control thread; drops (and counts) when its
 * queue is full, so a flood cannot stall the data path. */
static struct msg *to_control(struct worker *w, enum msg_kind kind,
			      struct peer *peer)
{
	struct msg *m = msg_ring_reserve(w->out);

	if (!m) {
		stat_inc(&w->stats.drops);
		return NULL;
	}
	m->kind = kind;
	m->peer = peer;
	m->keypair = NULL;
	m->len = 0;
	m->addr_len = 0;
	w->out_pushed = true;
	return m;
}

static void want_handshake(struct worker *w, struct peer *peer)
{
	/* One request in flight per peer is enough. */
	if (atomic_exchange(&peer->want_handshake, true))
		return;
	if (to_control(w, CTL_WANT_HANDSHAKE, peer))
		msg_ring_push(w->out);
}

static void stage(struct worker *w, struct peer *peer, const uint8_t *pkt,
		  size_t len)
{
	struct msg *m;

	if (len > MSG_DATA_MAX) {
		stat_inc(&w->stats.drops);
		return;
	}
	m = to_control(w, CTL_STAGE, peer);
	if (!m)
		return;
	memcpy(m->data, pkt, len);
	m->len = (uint16_t)len;
	msg_ring_push(w->out);
}

/* A packet from the TUN: find its peer, encrypt, send. Returns false when
 * the buffer is free again (the packet was dropped or staged). */
static bool tun_packet(struct worker *w, unsigned i, size_t len)
{
	struct tunnel *tn = w->tn;
	uint8_t *data = w->bufs[i].data;
	uint8_t *pkt = data + MESSAGE_DATA_HEADER_LEN;
	int family = ip_family(pkt, len);
	struct sockaddr_storage ep;
	uint64_t now = tunnel_now(tn);
	struct peer *peer;
	size_t msg_len;
	bool rekey;

	peer = family ? allowedips_lookup(tn->dev.allowedips, family,
					  ip_dst(pkt, family)) : NULL;
	if (!peer || !peer_get_endpoint(peer, &ep)) {
		stat_inc(&w->stats.drops);
		return false;
	}
	if (protocol_encrypt(peer, data, len, tn->mtu, now, &msg_len,
			     &rekey)) {
		stage(w, peer, pkt, len);
		return false;
	}
	if (rekey)
		want_handshake(w, peer);
	peer_fact(peer, FACT_DATA_SENT, now);
	peer_fact(peer, FACT_AUTH_SENT, now);
	atomic_fetch_add_explicit(&peer->tx_bytes, msg_len,
				  memory_order_relaxed);
	submit_send(w, i, OP_UDP_SEND, msg_len, &ep);
	return true;
}

static void forward_handshake(struct worker *w, struct worker_buf *b,
			      size_t len)
{
	struct msg *m = to_control(w, CTL_HANDSHAKE, NULL);

	if (!m)
		return;
	memcpy(m->data, b->data, len);
	m->len = (uint16_t)len;
	m->addr = b->addr;
	m->addr_len = sockaddr_normalize(&m->addr, b->msg.msg_namelen);
	msg_ring_push(w->out);
}

/* Checks the inner packet of a decrypted message and returns its length,
 * or 0 to drop it: cryptokey routing says the source must be one of the
 * sending peer's AllowedIPs. */
static size_t inner_packet(struct worker *w, const uint8_t *pkt,
			   size_t plain_len, struct peer *peer)
{
	int family = ip_family(pkt, plain_len);
	size_t len = family ? ip_total_len(pkt, plain_len, family) : 0;

	if (!len || !allowedips_source_ok(w->tn->dev.allowedips, family,
					  ip_src(pkt, family), peer))
		return 0;
	return len;
}

static void session_facts(struct worker *w, struct worker_buf *b,
			  const struct data_outcome *out, size_t msg_len,
			  uint64_t now)
{
	struct peer *peer = out->peer;
	struct sockaddr_storage src = b->addr;
	socklen_t src_len = sockaddr_normalize(&src, b->msg.msg_namelen);

	/* Roaming: the endpoint follows the newest authenticated packet. */
	peer_set_endpoint(peer, (struct sockaddr *)&src, src_len);
	peer_fact(peer, FACT_AUTH_RECEIVED, now);
	if (out->plain_len)
		peer_fact(peer, FACT_DATA_RECEIVED, now);
	atomic_fetch_add_explicit(&peer->rx_bytes, msg_len,
				  memory_order_relaxed);
	if (out->want_rekey)
		want_handshake(w, peer);
	if (out->confirms_next) {
		struct msg *m = to_control(w, CTL_CONFIRM, peer);

		if (m) {
			m->keypair = out->keypair;
			msg_ring_push(w->out);
		}
	}
}

/* A datagram from the network. Returns false when the buffer is free
 * again. */
static bool udp_datagram(struct worker *w, unsigned i, size_t len)
{
	struct worker_buf *b = &w->bufs[i];
	uint64_t now = tunnel_now(w->tn);
	struct data_outcome out;
	struct io_uring_sqe *sqe;
	size_t inner;

	switch (protocol_classify(b->data, len)) {
	case MESSAGE_DATA:
		break;
	case MESSAGE_HANDSHAKE_INITIATION:
	case MESSAGE_HANDSHAKE_RESPONSE:
	case MESSAGE_HANDSHAKE_COOKIE:
		forward_handshake(w, b, len);
		return false;
	default:
		stat_inc(&w->stats.drops);
		return false;
	}
	if (protocol_decrypt(&w->tn->dev, b->data, len, now, &out)) {
		stat_inc(&w->stats.drops);
		return false;
	}
	session_facts(w, b, &out, len, now);
	if (!out.plain_len)
		return false; /* a keepalive */
	inner = inner_packet(w, b->data + MESSAGE_DATA_HEADER_LEN,
			     out.plain_len, out.peer);
	if (!inner) {
		stat_inc(&w->stats.drops);
		return false;
	}
	sqe = get_sqe(w);
	io_uring_prep_write(sqe, w->tun_fd, b->data + MESSAGE_DATA_HEADER_LEN,
			    (unsigned)inner, 0);
	io_uring_sqe_set_data64(sqe, user_data(OP_TUN_WRITE, i));
	return true;
}

/* The control thread's datagrams: handshake replies, initiations,
 * keepalives and staged packets it encrypted. */
static void drain_inbound(struct worker *w)
{
	struct msg *m;

	while (w->n_spare && (m = msg_ring_peek(w->in))) {
		unsigned i = w->spare[--w->n_spare];

		memcpy(w->bufs[i].data, m->data, m->len);
		submit_send(w, i, OP_SPARE_SEND, m->len, &m->addr);
		msg_ring_pop(w->in);
	}
}

static void handle_cqe(struct worker *w, const struct io_uring_cqe *cqe)
{
	enum op op = (enum op)(cqe->user_data >> 32);
	unsigned i = (unsigned)cqe->user_data;
	int res = cqe->res;

	switch (op) {
	case OP_TUN_READ:
		if (res > 0) {
			stat_inc(&w->stats.tun_rx);
			if (tun_packet(w, i, (size_t)res))
				return;
		}
		arm_tun_read(w, i);
		return;
	case OP_UDP_SEND:
		stat_inc(res >= 0 ? &w->stats.udp_tx : &w->stats.drops);
		arm_tun_read(w, i);
		return;
	case OP_UDP_RECV:
		if (res > 0 && !(w->bufs[i].msg.msg_flags & MSG_TRUNC)) {
			stat_inc(&w->stats.udp_rx);
			if (udp_datagram(w, i, (size_t)res))
				return;
		}
		arm_udp_recv(w, i);
		return;
	case OP_TUN_WRITE:
		stat_inc(res >= 0 ? &w->stats.tun_tx : &w->stats.drops);
		arm_udp_recv(w, i);
		return;
	case OP_SPARE_SEND:
		stat_inc(res >= 0 ? &w->stats.udp_tx : &w->stats.drops);
		w->spare[w->n_spare++] = i;
		drain_inbound(w);
		return;
	case OP_EVENT_READ:
		drain_inbound(w);
		arm_event_read(w);
		return;
	}
}

static void wake_control(struct worker *w)
{
	uint64_t one = 1;

	w->out_pushed = false;
	if (write(w->tn->control_event, &one, sizeof(one)) < 0)
		stat_inc(&w->stats.drops);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct tunnel *tn = w->tn;
	struct io_uring_cqe *cqes[CQE_BATCH];

	epoch_online(&tn->epoch, w->reader);
	for (unsigned i = 0; i < TUN_READS; i++)
		arm_tun_read(w, i);
	for (unsigned i = TUN_READS; i < TUN_READS + UDP_RECVS; i++)
		arm_udp_recv(w, i);
	arm_event_read(w);

	while (!atomic_load(&tn->stopping)) {
		unsigned n;
		int ret;

		/* Blocked in the kernel we hold no shared pointers. */
		epoch_offline(w->reader);
		ret = io_uring_submit_and_wait(&w->ring, 1);
		epoch_online(&tn->epoch, w->reader);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
		    ret != -EBUSY)
			break;
		n = io_uring_peek_batch_cqe(&w->ring, cqes, CQE_BATCH);
		for (unsigned k = 0; k < n; k++)
			handle_cqe(w, cqes[k]);
		io_uring_cq_advance(&w->ring, n);
		if (w->out_pushed)
			wake_control(w);
	}
	epoch_offline(w->reader);
	return NULL;
}

int worker_init(struct worker *w, struct tunnel *tn, unsigned id,
		int tun_fd, int udp_fd)
{
	size_t len;
	int ret;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->tn = tn;
	w->reader = &tn->readers[id];
	w->tun_fd = tun_fd;
	w->udp_fd = udp_fd;
	w->event_fd = eventfd(0, EFD_CLOEXEC);
	w->n_bufs = TUN_READS + UDP_RECVS + SPARE_BUFS;
	w->bufs = calloc(w->n_bufs, sizeof(*w->bufs));
	w->spare = calloc(SPARE_BUFS, sizeof(*w->spare));
	w->in = calloc(1, sizeof(*w->in));
	w->out = calloc(1, sizeof(*w->out));
	if (w->event_fd < 0 || !w->bufs || !w->spare || !w->in || !w->out)
		return -ENOMEM;
	len = buf_len(w);
	for (unsigned i = 0; i < w->n_bufs; i++) {
		w->bufs[i].data = aligned_alloc(64, (len + 63) & ~(size_t)63);
		if (!w->bufs[i].data)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < SPARE_BUFS; i++)
		w->spare[w->n_spare++] = TUN_READS + UDP_RECVS + i;
	ret = io_uring_queue_init(RING_ENTRIES, &w->ring, 0);
	if (ret)
		return ret;
	return 0;
}

int worker_start(struct worker *w)
{
	int ret = pthread_create(&w->thread, NULL, worker_main, w);

	w->started = !ret;
	return -ret;
}

void worker_wake(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->event_fd, &one, sizeof(one)) < 0)
		stat_inc(&w->stats.drops);
}

void worker_join(struct worker *w)
{
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = false;
}

void worker_destroy(struct worker *w)
{
	if (w->ring.ring_fd > 0)
		io_uring_queue_exit(&w->ring);
	for (unsigned i = 0; w->bufs && i < w->n_bufs; i++)
		free(w->bufs[i].data);
	free(w->bufs);
	free(w->spare);
	free(w->in);
	free(w->out);
	if (w->event_fd >= 0)
		close(w->event_fd);
	if (w->udp_fd >= 0)
		close(w->udp_fd);
	memset(w, 0, sizeof(*w));
	w->event_fd = w->udp_fd = -1;
}
