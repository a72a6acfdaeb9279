/* A stack of free indices into an array of equal things (a worker's tx
 * areas, tw areas, spare buffers, plain-mode buffers): take the top one,
 * give one back. One owner, no locking; push never overflows because
 * only indices that were popped come back. */
#ifndef RINGVPN_SRC_INDEX_STACK_H
#define RINGVPN_SRC_INDEX_STACK_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct index_stack {
	unsigned int *slot;
	unsigned int n;		/* free indices: slot[0..n) */
};

/* Holds 0 to count - 1, 0 on top. */
static inline int index_stack_init(struct index_stack *s, unsigned int count)
{
	s->slot = calloc(count ? count : 1, sizeof(*s->slot));
	s->n = 0;
	if (!s->slot)
		return -ENOMEM;
	while (s->n < count) {
		s->slot[s->n] = count - 1 - s->n;
		s->n++;
	}
	return 0;
}

static inline void index_stack_destroy(struct index_stack *s)
{
	free(s->slot);
	s->slot = NULL;
	s->n = 0;
}

static inline bool index_stack_empty(const struct index_stack *s)
{
	return s->n == 0;
}

/* The index pop would return; the stack must not be empty. */
static inline unsigned int index_stack_peek(const struct index_stack *s)
{
	return s->slot[s->n - 1];
}

/* The stack must not be empty. */
static inline unsigned int index_stack_pop(struct index_stack *s)
{
	return s->slot[--s->n];
}

static inline void index_stack_push(struct index_stack *s, unsigned int i)
{
	s->slot[s->n++] = i;
}

#endif
