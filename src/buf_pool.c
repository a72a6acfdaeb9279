#include "src/buf_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int register_ring(struct buf_pool *p, struct io_uring *ring)
{
	struct io_uring_buf_reg reg;
	int ret;

	/* The ring must be page aligned: mmap gives exactly that. */
	p->br_bytes = p->count * sizeof(struct io_uring_buf);
	p->br = mmap(NULL, p->br_bytes, PROT_READ | PROT_WRITE,
		     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (p->br == MAP_FAILED) {
		p->br = NULL;
		return -ENOMEM;
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)p->br;
	reg.ring_entries = p->count;
	reg.bgid = (uint16_t)p->bgid;
	ret = io_uring_register_buf_ring(ring, &reg, 0);
	if (ret) {
		munmap(p->br, p->br_bytes);
		p->br = NULL;
		return ret;
	}
	io_uring_buf_ring_init(p->br);
	for (unsigned int i = 0; i < p->count; i++)
		io_uring_buf_ring_add(p->br, buf_pool_buf(p, i),
				      (unsigned int)p->size, (uint16_t)i,
				      io_uring_buf_ring_mask(p->count),
				      (int)i);
	io_uring_buf_ring_advance(p->br, (int)p->count);
	return 0;
}

int buf_pool_init(struct buf_pool *p, struct io_uring *ring,
		  unsigned int count, size_t size, int bgid)
{
	memset(p, 0, sizeof(*p));
	p->size = (size + 63) & ~(size_t)63;
	p->count = count;
	p->bgid = bgid;
	p->mem = aligned_alloc(4096, ((size_t)count * p->size + 4095) &
				     ~(size_t)4095);
	if (!p->mem || index_stack_init(&p->free, count))
		return -ENOMEM;
	if (bgid >= 0)
		return register_ring(p, ring);
	return 0;
}

int buf_pool_take(struct buf_pool *p)
{
	return index_stack_empty(&p->free) ? -1 :
					     (int)index_stack_pop(&p->free);
}

void buf_pool_put(struct buf_pool *p, unsigned int bid)
{
	if (!p->br) {
		index_stack_push(&p->free, bid);
		return;
	}
	io_uring_buf_ring_add(p->br, buf_pool_buf(p, bid),
			      (unsigned int)p->size, (uint16_t)bid,
			      io_uring_buf_ring_mask(p->count), 0);
	/* Publishes the entry: a release store of the ring's tail. */
	io_uring_buf_ring_advance(p->br, 1);
}

void buf_pool_destroy(struct buf_pool *p, struct io_uring *ring)
{
	if (p->br) {
		if (ring && ring->ring_fd > 0)
			io_uring_unregister_buf_ring(ring, p->bgid);
		munmap(p->br, p->br_bytes);
	}
	free(p->mem);
	index_stack_destroy(&p->free);
	memset(p, 0, sizeof(*p));
	p->bgid = -1;
}
