/* A set of equal buffers that the kernel fills on a worker's behalf.
 *
 * With a provided buffer ring (kernel 5.19+) the kernel picks a free
 * buffer for each completion of a multishot read or receive, so one
 * request serves many packets; returning a buffer is two stores, no
 * system call. Without one (probe failed or the feature is forced off)
 * the pool is a plain free list and the worker names the buffer of each
 * single-shot request itself. Either way a buffer is identified by its
 * index ("bid"), and the worker gives it back with buf_pool_put() when the
 * packet in it is done. */
#ifndef RINGVPN_SRC_BUF_POOL_H
#define RINGVPN_SRC_BUF_POOL_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/index_stack.h"

struct buf_pool {
	uint8_t *mem;		/* count * size bytes */
	size_t size;
	unsigned int count;	/* a power of two in ring mode */
	int bgid;		/* buffer group id; -1 in plain mode */
	struct io_uring_buf_ring *br;
	size_t br_bytes;
	struct index_stack free; /* plain mode: the free bids */
};

/* Allocates count buffers of size bytes. With bgid >= 0 registers them as
 * buffer group bgid of ring (-errno if the kernel refuses; the caller
 * falls back to bgid -1, the plain free list). */
int buf_pool_init(struct buf_pool *p, struct io_uring *ring,
		  unsigned int count, size_t size, int bgid);

static inline bool buf_pool_is_ring(const struct buf_pool *p)
{
	return p->br != NULL;
}

static inline uint8_t *buf_pool_buf(const struct buf_pool *p,
				    unsigned int bid)
{
	return p->mem + (size_t)bid * p->size;
}

/* Plain mode: a free buffer's bid, or -1 when all are in use. */
int buf_pool_take(struct buf_pool *p);

/* Gives bid back: to the kernel's ring, or to the free list. */
void buf_pool_put(struct buf_pool *p, unsigned int bid);

void buf_pool_destroy(struct buf_pool *p, struct io_uring *ring);

#endif
