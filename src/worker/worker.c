/* The worker thread: its ring, the features it probed, the event loop,
 * and the control thread's datagrams. The two directions of the data path
 * are tx.c and rx.c. */
#include "src/worker/worker.h"
#include "src/worker/core_internal.h"

#ifdef HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#endif
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "src/worker/datapath.h"
#include "src/epoch.h"
#include "src/worker/features.h"
#include "src/log.h"
#include "src/daemon/privilege.h"
#include "src/sockaddr.h"
#include "src/worker/share.h"

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
		b->source = m->source;
		b->msg.msg_controllen = source_addr_put_cmsg(
			&b->source, b->control.buf, sizeof(b->control.buf));
		if (b->msg.msg_controllen)
			b->msg.msg_control = b->control.buf;
		sqe = uring_sqe(&w->ring);
		io_uring_prep_sendmsg(sqe, w->udp_fd, &b->msg, 0);
		io_uring_sqe_set_data64(sqe, user_data(OP_SPARE_SEND, i));
		msg_ring_pop(w->in);
	}
}

/* The kernel detaches every queue of a TUN device that is deleted, and
 * reads then fail with EBADFD at once (a move to another namespace does
 * not detach them). Nothing is left to do here: the worker stops asking
 * (reads would fail as fast as they are submitted) and wakes the control
 * thread, which ends the tunnel. */
static void tun_deleted(struct worker *w)
{
	atomic_store(&w->tun_gone, true);
	w->out_pushed = true;
}

static void handle_cqe(struct worker *w, const struct io_uring_cqe *cqe)
{
	enum op op = (enum op)(cqe->user_data >> 32);
	unsigned int i = (unsigned int)cqe->user_data;

	switch (op) {
	case OP_TUN_READ:
		if (cqe->res == -EBADFD)
			tun_deleted(w);
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
		if (worker_send_again(w, &w->spare[i].msg,
				      &w->spare[i].stripped,
				      &w->spare[i].source, cqe->res,
				      cqe->user_data))
			return;
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
static int wait_for_work(struct worker *w, uint64_t timeout_ns)
{
	struct io_uring_cqe *cqe;
#ifdef HAVE_VALGRIND_MEMCHECK_H
	if (RUNNING_ON_VALGRIND) {
		struct __kernel_timespec now = { 0 };
		struct pollfd p = { .fd = w->ring.ring_fd, .events = POLLIN };
		int ret = io_uring_submit(&w->ring);

		if (ret < 0)
			return ret;
		poll(&p, 1, 1);
		ret = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &now,
						       NULL);
		return ret == -ETIME ? 0 : ret;
	}
#endif
	if (timeout_ns != UINT64_MAX) {
		struct __kernel_timespec ts = {
			.tv_sec = (long long)(timeout_ns / 1000000000u),
			.tv_nsec = (long long)(timeout_ns % 1000000000u),
		};
		int ret = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1,
							   &ts, NULL);

		return ret == -ETIME ? 0 : ret;
	}
	return io_uring_submit_and_wait(&w->ring, 1);
}

/* share_may_sleep's check: an area of ours whose crypto is done. */
static bool sharing_done(void *arg)
{
	struct worker *w = arg;

	return intake_shared_done(w, &w->tx_in) ||
	       intake_shared_done(w, &w->rx_in);
}

/* A quiescent point (src/epoch.h), between batches: we hold no shared
 * pointer of our own, but crypto we handed to other workers may still
 * use the keypairs we read for it, so we announce no later epoch than
 * the one we had when we read them. */
static void quiescent(struct worker *w)
{
	uint64_t tx = intake_held_epoch(&w->tx_in);
	uint64_t rx = intake_held_epoch(&w->rx_in);

	epoch_quiescent_held(w->dp->epoch, w->reader, tx < rx ? tx : rx);
}

static bool sharing(const struct worker *w)
{
	return intake_sharing(&w->tx_in) || intake_sharing(&w->rx_in);
}

/* Waits for work when there is none: not while another worker's chunks
 * are open or ours are done, and only until the grace of our oldest
 * open job ends (then we claim it). Offline while we wait, unless our
 * crypto runs elsewhere. */
static int wait_unless_work(struct worker *w)
{
	struct share_crew *crew = w->dp->crew;
	uint64_t timeout = share_own_wait(crew, w->id, share_clock());
	bool offline;
	int ret;

	quiescent(w);
	if (!timeout || !share_may_sleep(crew, w->id, sharing_done, w))
		return io_uring_submit(&w->ring);
	offline = !sharing(w);
	if (offline)
		epoch_offline(w->reader);
	ret = wait_for_work(w, timeout);
	share_awake(crew, w->id);
	if (offline)
		epoch_online(w->dp->epoch, w->reader);
	return ret;
}

/* One pass over the posted jobs: other workers' chunks, and ours whose
 * grace ended. One pass, not until none is left, so that a worker whose
 * neighbour keeps posting still serves its own ring between passes. */
static void help(struct worker *w)
{
	unsigned int helped = 0;

	share_help(w->dp->crew, w->id, share_clock(), &helped);
	stat_add(&w->stats.helped, helped);
}

/* Leaving the loop while the other workers may go on (an io_uring
 * error): our jobs are finished first, by us if nobody took them, so
 * that none is left pointing at keypairs the epoch would then free. */
static void finish_own_jobs(struct worker *w)
{
	share_help(w->dp->crew, w->id, UINT64_MAX, NULL);
	intake_wait_shared(w, &w->tx_in);
	intake_wait_shared(w, &w->rx_in);
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

	while (!atomic_load(&dp->stopping) &&
	       !atomic_load_explicit(&w->tun_gone, memory_order_relaxed)) {
		ret = wait_unless_work(w);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
		    ret != -EBUSY)
			break;
		reap(w, cqes);
		help(w);
		intake_poll(w, &w->tx_in);
		intake_poll(w, &w->rx_in);
		if (w->out_pushed)
			wake_control(w);
	}
	finish_own_jobs(w);
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
	if (!dp->crew->enabled)
		w->features &= ~DP_PARALLEL;
	w->event_fd = eventfd(0, EFD_CLOEXEC);
	dp->crew->boards[id].wake_fd = w->event_fd;
	atomic_store(&dp->crew->boards[id].sleeping, false);
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

/* "rv-IFNAME-wN" in the 15 characters a thread name may have: top, perf
 * and contrib/bench/bench.sh tell the workers apart by it. A long
 * interface name is cut, never the "-wN" that says which worker. */
static void thread_name(char out[16], const char *ifname, unsigned int id)
{
	char suffix[16];
	int len = snprintf(suffix, sizeof(suffix), "-w%u", id); /* <= 12 */
	size_t keep = strnlen(ifname, (size_t)(15 - 3 - len));

	memcpy(out, "rv-", 3);
	memcpy(out + 3, ifname, keep);
	memcpy(out + 3 + keep, suffix, (size_t)len + 1);
}

int worker_start(struct worker *w)
{
	char name[16];
	int ret = pthread_create(&w->thread, NULL, worker_main, w);

	w->started = !ret;
	if (ret)
		return -ret;
	/* Only for people and tools that look: a failure changes nothing. */
	thread_name(name, w->dp->ifname ? w->dp->ifname : "", w->id);
	pthread_setname_np(w->thread, name);
	return 0;
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
