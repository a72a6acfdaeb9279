/* What both directions of a worker use: the intake that turns the
 * kernel's reads into work for free output areas, in order, and the
 * messages to the control thread. Nothing here logs or blocks. */
#include "src/worker/core_internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "src/epoch.h"
#include "src/peer.h"
#include "src/worker/datapath.h"
#include "src/worker/share.h"

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
		size_t area_size, unsigned int slot_base)
{
	int ret = buf_pool_init(&in->bufs, ring, bufs, reads);

	in->slot_base = slot_base;
	if (!ret)
		ret = bid_fifo_init(&in->waiting, bufs);
	if (!ret)
		ret = bid_fifo_init(&in->sharing, n_areas);
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
	free(in->sharing.bid);
	free(in->sharing.res);
	for (unsigned int i = 0; in->areas && i < in->n_areas; i++)
		free(in->areas[i].data);
	free(in->areas);
	index_stack_destroy(&in->free_areas);
}

/* Every area's job has a board slot, and a tx area's chunks fit the
 * claim word. */
_Static_assert(SLOT_RX + TW_AREAS <= SHARE_SLOTS && SHARE_SLOTS <= 32,
	       "a board slot per area, in a 32-bit mask");
_Static_assert(TX_MAX_SEGMENTS / SHARE_CHUNK_MSGS < SHARE_MAX_CHUNKS,
	       "a frame's chunks fit the claim word");

static struct share_job *area_job(const struct worker *w,
				  const struct intake *in, unsigned int area)
{
	return w->dp->crew->boards[w->id].slot[in->slot_base + area];
}

/* An area whose outputs all completed is free for the next buffer. */
static void area_release(struct intake *in, unsigned int area)
{
	if (!--in->areas[area].pending)
		index_stack_push(&in->free_areas, area);
}

/* The oldest area whose crypto runs (intake_sharing must be true). */
static unsigned int oldest_shared(const struct intake *in)
{
	return in->sharing.bid[in->sharing.head % in->sharing.cap];
}

bool intake_shared_done(const struct worker *w, const struct intake *in)
{
	return intake_sharing(in) &&
	       share_job_done(area_job(w, in, oldest_shared(in)));
}

/* The areas at the head of `sharing` whose crypto is done, in order. */
static void finish_ready(struct worker *w, struct intake *in)
{
	while (intake_sharing(in)) {
		unsigned int area = oldest_shared(in);
		uint32_t a;
		int32_t held = -1;

		if (!share_job_done(area_job(w, in, area)))
			return;
		bid_fifo_pop(&in->sharing, &a, &held);
		in->finish(w, area);
		area_release(in, area); /* its crypto's share */
		if (held >= 0)
			buf_pool_recycle(&in->bufs, (unsigned int)held);
	}
}

/* Finishes what is done, then processes waiting buffers (in order) while
 * an area is free. Not reentrant: finish() and process() may free areas
 * or share crypto, and this loop picks that up. */
void intake_poll(struct worker *w, struct intake *in)
{
	uint32_t bid;
	int32_t res;

	if (in->draining)
		return;
	in->draining = true;
	for (;;) {
		finish_ready(w, in);
		if (index_stack_empty(&in->free_areas) ||
		    !bid_fifo_pop(&in->waiting, &bid, &res))
			break;
		if (!in->process(w, bid, res))
			buf_pool_recycle(&in->bufs, bid);
	}
	in->draining = false;
}

void intake_share(struct worker *w, struct intake *in, unsigned int area,
		  unsigned int n, size_t bytes, int held_bid)
{
	index_stack_pop(&in->free_areas);
	in->areas[area].pending = 1;
	in->areas[area].held_epoch = epoch_seen(w->reader);
	/* Room for every area: an area is in `sharing` at most once. */
	bid_fifo_push(&in->sharing, area, held_bid);
	share_run(w->dp->crew, w->id, in->slot_base + area, share_chunks(n),
		  bytes >= SHARE_MIN_BYTES, share_clock());
}

uint64_t intake_held_epoch(const struct intake *in)
{
	if (!intake_sharing(in))
		return UINT64_MAX;
	/* Areas are finished in order: the head is the oldest. */
	return in->areas[oldest_shared(in)].held_epoch;
}

void intake_wait_shared(const struct worker *w, const struct intake *in)
{
	for (unsigned int i = in->sharing.head; i != in->sharing.tail; i++)
		while (!share_job_done(area_job(w, in,
						in->sharing.bid[i %
								in->sharing.cap])))
			sched_yield();
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
	intake_poll(w, in);
	buf_pool_arm(&in->bufs);
}

void intake_output_done(struct worker *w, struct intake *in, unsigned int area)
{
	area_release(in, area);
	intake_poll(w, in);
}

bool worker_send_again(struct worker *w, struct msghdr *msg, bool *stripped,
		       struct source_addr *src, int res, uint64_t user_data)
{
	struct io_uring_sqe *sqe;

	if (*stripped) {
		/* The resend without the source went through: the source
		 * was at fault. One that failed again (a path MTU, no route
		 * at all) proves nothing, and nobody is told. */
		*stripped = false;
		if (res >= 0 && src->family) {
			worker_source_gone(w, src);
			src->family = 0;
		}
		return false;
	}
	if (!source_addr_refused(res) || !source_addr_strip_cmsg(msg))
		return false;
	*stripped = true;
	sqe = uring_sqe(&w->ring);
	io_uring_prep_sendmsg(sqe, w->udp_fd, msg, 0);
	io_uring_sqe_set_data64(sqe, user_data);
	return true;
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
	m->source.family = 0;
	w->out_pushed = true;
	return m;
}

void worker_source_gone(struct worker *w, const struct source_addr *src)
{
	struct msg *m = worker_to_control(w, CTL_SOURCE_GONE, NULL);

	if (!m)
		return;
	m->source = *src;
	msg_ring_push(w->out);
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
