/* What both directions of a worker use: the intake that turns the
 * kernel's reads into work for free output areas, in order, and the
 * messages to the control thread. Nothing here logs or blocks. */
#include "src/worker/core_internal.h"

#include <errno.h>
#include <stdlib.h>

#include "src/peer.h"

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
