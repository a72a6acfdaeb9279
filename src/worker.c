/* The worker thread: its ring, the features it probed, the event loop,
 * and the control thread's datagrams. The two directions of the data path
 * are worker_tx.c and worker_rx.c. */
#include "src/worker_internal.h"

#ifdef HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#endif
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "src/datapath.h"
#include "src/epoch.h"
#include "src/features.h"
#include "src/log.h"
#include "src/peer.h"
#include "src/privilege.h"
#include "src/sockaddr.h"

static int bid_fifo_init(struct bid_fifo *f, unsigned int cap)
{
	f->cap = cap;
	f->head = f->tail = 0;
	f->bid = calloc(cap, sizeof(*f->bid));
	f->res = calloc(cap, sizeof(*f->res));
	return f->bid && f->res ? 0 : -ENOMEM;
}

static bool bid_fifo_push(struct bid_fifo *f, uint32_t bid, int32_t res)
{
	if (f->tail - f->head >= f->cap)
		return false;
	f->bid[f->tail % f->cap] = bid;
	f->res[f->tail % f->cap] = res;
	f->tail++;
	return true;
}

static bool bid_fifo_pop(struct bid_fifo *f, uint32_t *bid, int32_t *res)
{
	if (f->head == f->tail)
		return false;
	*bid = f->bid[f->head % f->cap];
	*res = f->res[f->head % f->cap];
	f->head++;
	return true;
}

int intake_init(struct intake *in, struct io_uring *ring, unsigned int bufs,
		const struct buf_pool_reads *reads, unsigned int n_areas,
		size_t area_size)
{
	int ret = buf_pool_init(&in->bufs, ring, bufs, reads);

	if (!ret)
		ret = bid_fifo_init(&in->waiting, bufs);
	if (!ret)
		ret = index_stack_init(&in->free_areas, n_areas);
	if (ret)
		return ret;
	in->areas = calloc(n_areas, sizeof(*in->areas));
	if (!in->areas)
		return -ENOMEM;
	in->n_areas = n_areas;
	for (unsigned int i = 0; i < n_areas; i++) {
		in->areas[i].data = aligned_alloc(64, area_size);
		if (!in->areas[i].data)
			return -ENOMEM;
	}
	return 0;
}

void intake_destroy(struct intake *in)
{
	buf_pool_destroy(&in->bufs);
	free(in->waiting.bid);
	free(in->waiting.res);
	for (unsigned int i = 0; in->areas && i < in->n_areas; i++)
		free(in->areas[i].data);
	free(in->areas);
	index_stack_destroy(&in->free_areas);
}

/* Buffers wait (in order) while every area is still in flight. */
static void drain(struct worker *w, struct intake *in)
{
	uint32_t bid;
	int32_t res;

	while (!index_stack_empty(&in->free_areas) &&
	       bid_fifo_pop(&in->waiting, &bid, &res)) {
		in->process(w, bid, res);
		buf_pool_recycle(&in->bufs, bid);
	}
}

void intake_read_done(struct worker *w, struct intake *in,
		      const struct io_uring_cqe *cqe)
{
	unsigned int bid;
	int res;

	if (!buf_pool_complete(&in->bufs, cqe, &bid, &res)) {
		buf_pool_arm(&in->bufs); /* -ENOBUFS and the like: now, or */
		return;			/* when a buffer comes back */
	}
	if (res < 0) {
		buf_pool_recycle(&in->bufs, bid);
		return;
	}
	stat_inc(in->read_count);
	if (!bid_fifo_push(&in->waiting, bid, res)) {
		stat_inc(&w->stats.drops);
		buf_pool_recycle(&in->bufs, bid);
		return;
	}
	drain(w, in);
	buf_pool_arm(&in->bufs);
}

void intake_output_done(struct worker *w, struct intake *in, unsigned int area)
{
	if (--in->areas[area].pending)
		return;
	index_stack_push(&in->free_areas, area);
	drain(w, in);
}

/* Hands a message to the control thread; drops (and counts) when its
 * queue is full, so a flood cannot stall the data path. */
struct msg *worker_to_control(struct worker *w, enum msg_kind kind,
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

void worker_want_handshake(struct worker *w, struct peer *peer,
			   enum msg_kind kind)
{
	/* One request in flight per peer is enough. */
	if (atomic_exchange(&peer->want_handshake, true))
		return;
	if (worker_to_control(w, kind, peer))
		msg_ring_push(w->out);
}

static void arm_event_read(struct worker *w)
{
	struct io_uring_sqe *sqe = uring_sqe(&w->ring);

	io_uring_prep_read(sqe, w->event_fd, &w->event_val,
			   sizeof(w->event_val), 0);
	io_uring_sqe_set_data64(sqe, user_data(OP_EVENT_READ, 0));
}

/* The control thread's datagrams: handshake replies, initiations,
 * keepalives and staged packets it encrypted. */
static void drain_inbound(struct worker *w)
{
	struct msg *m;

	while (!index_stack_empty(&w->spare_free) &&
	       (m = msg_ring_peek(w->in))) {
		unsigned int i = index_stack_pop(&w->spare_free);
		struct spare_buf *b = &w->spare[i];
		socklen_t alen = sockaddr_for_socket(w->dp->sock_family,
						     &m->addr, &b->addr);
		struct io_uring_sqe *sqe;

		if (!alen) {
			stat_inc(&w->stats.drops);
			index_stack_push(&w->spare_free, i);
			msg_ring_pop(w->in);
			continue;
		}
		memcpy(b->data, m->data, m->len);
		memset(&b->msg, 0, sizeof(b->msg));
		b->iov.iov_base = b->data;
		b->iov.iov_len = m->len;
		b->msg.msg_name = &b->addr;
		b->msg.msg_namelen = alen;
		b->msg.msg_iov = &b->iov;
		b->msg.msg_iovlen = 1;
		sqe = uring_sqe(&w->ring);
		io_uring_prep_sendmsg(sqe, w->udp_fd, &b->msg, 0);
		io_uring_sqe_set_data64(sqe, user_data(OP_SPARE_SEND, i));
		msg_ring_pop(w->in);
	}
}

static void handle_cqe(struct worker *w, const struct io_uring_cqe *cqe)
{
	enum op op = (enum op)(cqe->user_data >> 32);
	unsigned int i = (unsigned int)cqe->user_data;

	switch (op) {
	case OP_TUN_READ:
		intake_read_done(w, &w->tx_in, cqe);
		return;
	case OP_UDP_SEND:
		worker_tx_send_done(w, i, cqe->res);
		return;
	case OP_UDP_RECV:
		intake_read_done(w, &w->rx_in, cqe);
		return;
	case OP_TUN_WRITE:
		worker_rx_write_done(w, i, cqe->res);
		return;
	case OP_SPARE_SEND:
		stat_inc(&w->stats.sends);
		stat_inc(cqe->res >= 0 ? &w->stats.udp_tx : &w->stats.drops);
		index_stack_push(&w->spare_free, i);
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
	if (write(w->dp->control_event, &one, sizeof(one)) < 0)
		stat_inc(&w->stats.drops);
}

/* Handles every completion there is; returns how many. */
static unsigned int reap(struct worker *w, struct io_uring_cqe **cqes)
{
	unsigned int n, total = 0;

	while ((n = io_uring_peek_batch_cqe(&w->ring, cqes, CQE_BATCH))) {
		for (unsigned int k = 0; k < n; k++)
			handle_cqe(w, cqes[k]);
		io_uring_cq_advance(&w->ring, n);
		total += n;
	}
	return total;
}

/* liburing 2.3 declares io_uring_enable_rings() but its library does not
 * export it: the system call is one line. */
static int enable_ring(struct io_uring *ring)
{
	return (int)syscall(__NR_io_uring_register, ring->ring_fd,
			    IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

/* valgrind 3.19 does not know that io_uring_enter may block: a worker
 * waiting in it holds valgrind's one big lock and starves every other
 * thread, and a short timeout does not help (valgrind switches threads
 * only at calls it knows may block, or after a long time slice). Under
 * valgrind the worker therefore sleeps in poll(2) on the ring (which
 * valgrind knows), for at most 1 ms, then collects without waiting;
 * elsewhere it is a plain wait for one completion. */
static int wait_for_work(struct worker *w)
{
#ifdef HAVE_VALGRIND_MEMCHECK_H
	if (RUNNING_ON_VALGRIND) {
		struct __kernel_timespec now = { 0 };
		struct pollfd p = { .fd = w->ring.ring_fd, .events = POLLIN };
		struct io_uring_cqe *cqe;
		int ret = io_uring_submit(&w->ring);

		if (ret < 0)
			return ret;
		poll(&p, 1, 1);
		ret = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &now,
						       NULL);
		return ret == -ETIME ? 0 : ret;
	}
#endif
	return io_uring_submit_and_wait(&w->ring, 1);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct datapath *dp = w->dp;
	struct io_uring_cqe *cqes[CQE_BATCH];
	int ret;

	/* Before the first packet: capabilities are a thread's own, and
	 * this one parses whatever the network and the TUN send it. The
	 * io_uring threads the kernel makes for it copy what it has then. */
	if ((ret = privilege_drop(0)))
		log_warn("%s: worker %u: cannot drop its capabilities: %s",
			 dp->ifname, w->id, strerror(-ret));
	/* SINGLE_ISSUER: the thread that enables the ring is its issuer. */
	if ((w->features & DP_DEFER_TASKRUN) &&
	    enable_ring(&w->ring) < 0) {
		log_error("%s: worker %u: cannot enable its io_uring",
			  dp->ifname, w->id);
		return NULL;
	}
	epoch_online(dp->epoch, w->reader);
	intake_start(&w->tx_in);
	intake_start(&w->rx_in);
	arm_event_read(w);

	while (!atomic_load(&dp->stopping)) {
		/* Blocked in the kernel we hold no shared pointers. */
		epoch_offline(w->reader);
		ret = wait_for_work(w);
		epoch_online(dp->epoch, w->reader);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
		    ret != -EBUSY)
			break;
		reap(w, cqes);
		if (w->out_pushed)
			wake_control(w);
	}
	epoch_offline(w->reader);
	return NULL;
}

/* A ring with SINGLE_ISSUER | DEFER_TASKRUN (completions are processed
 * only when this thread asks, with no interrupts from task work) when the
 * kernel has it, a plain one otherwise. It starts disabled so that it
 * binds to the worker thread, not to the thread that sets it up. */
static int setup_ring(struct worker *w)
{
	struct io_uring_params p;
	int ret = -EINVAL;

	if (w->features & DP_DEFER_TASKRUN) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
			  IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED;
		p.cq_entries = CQ_ENTRIES;
		ret = io_uring_queue_init_params(RING_ENTRIES, &w->ring, &p);
		if (ret)
			w->features &= ~DP_DEFER_TASKRUN;
	}
	if (ret) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		ret = io_uring_queue_init_params(RING_ENTRIES, &w->ring, &p);
	}
	if (ret)
		return ret;
	w->ring_ready = true;
	return 0;
}

/* Drops the ring features this kernel lacks. */
static void probe_ring(struct worker *w)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&w->ring);

	if (!probe ||
	    !io_uring_opcode_supported(probe, IORING_OP_READ_MULTISHOT))
		w->features &= ~DP_MULTISHOT_READ;
	/* Multishot recvmsg came with Linux 6.0, as did SEND_ZC. */
	if (!probe || !io_uring_opcode_supported(probe, IORING_OP_SEND_ZC))
		w->features &= ~DP_MULTISHOT_RECV;
	if (probe)
		io_uring_free_probe(probe);
}

/* A multishot request needs its provided buffer ring: the buffer pools
 * fall back to single-shot requests when the kernel refused one. */
static void probe_buffer_rings(struct worker *w)
{
	if (!buf_pool_is_ring(&w->tx_in.bufs))
		w->features &= ~DP_MULTISHOT_READ;
	if (!buf_pool_is_ring(&w->rx_in.bufs))
		w->features &= ~DP_MULTISHOT_RECV;
}

/* UDP_SEGMENT (Linux 4.18) and UDP_GRO (5.0) on the socket. */
static void probe_socket(struct worker *w)
{
	int one = 1, size = 0;
	socklen_t len = sizeof(size);

	if (getsockopt(w->udp_fd, SOL_UDP, UDP_SEGMENT, &size, &len))
		w->features &= ~DP_UDP_GSO;
	if ((w->features & DP_UDP_GRO) &&
	    setsockopt(w->udp_fd, SOL_UDP, UDP_GRO, &one, sizeof(one)))
		w->features &= ~DP_UDP_GRO;
}

static int init_spares(struct worker *w)
{
	w->spare = calloc(SPARE_BUFS, sizeof(*w->spare));
	if (!w->spare || index_stack_init(&w->spare_free, SPARE_BUFS))
		return -ENOMEM;
	return 0;
}

int worker_init(struct worker *w, const struct datapath *dp, unsigned int id,
		int tun_fd, int udp_fd)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->dp = dp;
	w->reader = &dp->epoch->readers[id];
	w->tun_fd = tun_fd;
	w->udp_fd = udp_fd;
	w->features = dp->allowed;
	w->event_fd = eventfd(0, EFD_CLOEXEC);
	w->in = calloc(1, sizeof(*w->in));
	w->out = calloc(1, sizeof(*w->out));
	if (w->event_fd < 0 || !w->in || !w->out)
		return -ENOMEM;
	ret = setup_ring(w);
	if (ret)
		return ret;
	probe_ring(w);
	probe_socket(w);
	ret = init_spares(w);
	if (!ret)
		ret = worker_tx_init(w);
	if (!ret)
		ret = worker_rx_init(w);
	if (!ret)
		probe_buffer_rings(w);
	return ret;
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
	if (!w->dp)
		return; /* never initialised */
	worker_tx_destroy(w);
	worker_rx_destroy(w);
	if (w->ring_ready)
		io_uring_queue_exit(&w->ring);
	free(w->spare);
	index_stack_destroy(&w->spare_free);
	free(w->in);
	free(w->out);
	if (w->event_fd >= 0)
		close(w->event_fd);
	if (w->udp_fd >= 0)
		close(w->udp_fd);
	memset(w, 0, sizeof(*w));
	w->event_fd = w->udp_fd = -1;
}
