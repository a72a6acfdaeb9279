#include "src/epoch.h"

#include <errno.h>
#include <stdlib.h>

struct epoch_item {
	void *mem;
	void (*free_fn)(void *mem);
	uint64_t epoch;
	struct epoch_item *next;
};

void epoch_init(struct epoch *e, struct epoch_reader *readers, unsigned n)
{
	atomic_init(&e->now, 1);
	e->readers = readers;
	e->n_readers = n;
	e->retired = NULL;
	for (unsigned i = 0; i < n; i++)
		atomic_init(&readers[i].seen, EPOCH_OFFLINE);
}

static void free_list(struct epoch_item *it)
{
	while (it) {
		struct epoch_item *next = it->next;

		it->free_fn(it->mem);
		free(it);
		it = next;
	}
}

void epoch_destroy(struct epoch *e)
{
	free_list(e->retired);
	e->retired = NULL;
}

int epoch_retire(struct epoch *e, void *mem, void (*free_fn)(void *mem))
{
	struct epoch_item *it;

	if (!e) {
		free_fn(mem);
		return 0;
	}
	it = malloc(sizeof(*it));
	if (!it)
		return -ENOMEM; /* mem leaks: see epoch.h */
	it->mem = mem;
	it->free_fn = free_fn;
	it->epoch = atomic_load(&e->now);
	it->next = e->retired;
	e->retired = it;
	return 0;
}

/* The oldest epoch some online reader may still be inside. */
static uint64_t oldest_seen(const struct epoch *e)
{
	uint64_t min = EPOCH_OFFLINE;

	for (unsigned i = 0; i < e->n_readers; i++) {
		uint64_t s = atomic_load(&e->readers[i].seen);

		if (s < min)
			min = s;
	}
	return min;
}

void epoch_reclaim_after(struct epoch *e, void (*drain)(void *arg),
			 void *arg)
{
	struct epoch_item **pp = &e->retired, *done;
	uint64_t oldest;

	atomic_fetch_add(&e->now, 1);
	if (!e->retired)
		return;
	oldest = oldest_seen(e);
	/* The list is newest first: find the first item every reader has
	 * passed; everything after it is older still. */
	while (*pp && (*pp)->epoch >= oldest)
		pp = &(*pp)->next;
	done = *pp;
	*pp = NULL;
	if (drain && done)
		drain(arg);
	free_list(done);
}

size_t epoch_pending(const struct epoch *e)
{
	size_t n = 0;

	for (const struct epoch_item *it = e->retired; it; it = it->next)
		n++;
	return n;
}

bool epoch_holds(const struct epoch *e, const void *mem)
{
	for (const struct epoch_item *it = e->retired; it; it = it->next)
		if (it->mem == mem)
			return true;
	return false;
}

void epoch_reclaim(struct epoch *e)
{
	epoch_reclaim_after(e, NULL, NULL);
}
