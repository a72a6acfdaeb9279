#include "src/index_table.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>

#define INITIAL_BUCKETS 64

static struct index_entry **bucket(const struct index_table *t, uint32_t index)
{
	/* Indices are uniformly random already: no need to hash them. */
	return &t->buckets[index & t->mask];
}

int index_table_init(struct index_table *t)
{
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	t->mask = INITIAL_BUCKETS - 1;
	t->count = 0;
	return t->buckets ? 0 : -ENOMEM;
}

void index_table_destroy(struct index_table *t)
{
	for (size_t i = 0; t->buckets && i <= t->mask; i++) {
		struct index_entry *e = t->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
}

/* Keeps chains short: double when entries outnumber buckets. */
static void grow(struct index_table *t)
{
	size_t n = (t->mask + 1) * 2;
	struct index_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* still correct, only slower */
	for (size_t i = 0; i <= t->mask; i++) {
		struct index_entry *e = t->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->index & (n - 1)];
			b[e->index & (n - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = n - 1;
}

int index_table_add(struct index_table *t, enum index_kind kind,
		    struct peer *peer, struct keypair *kp, uint32_t *index)
{
	struct index_entry *e = malloc(sizeof(*e));
	uint32_t idx;

	if (!e)
		return -ENOMEM;
	do
		idx = randombytes_random();
	while (index_table_find(t, idx));
	e->index = idx;
	e->kind = kind;
	e->peer = peer;
	e->keypair = kp;
	e->next = *bucket(t, idx);
	*bucket(t, idx) = e;
	if (++t->count > t->mask + 1)
		grow(t);
	*index = idx;
	return 0;
}

struct index_entry *index_table_find(const struct index_table *t,
				     uint32_t index)
{
	struct index_entry *e = *bucket(t, index);

	while (e && e->index != index)
		e = e->next;
	return e;
}

int index_table_remove(struct index_table *t, uint32_t index)
{
	struct index_entry **pp = bucket(t, index);

	for (; *pp; pp = &(*pp)->next) {
		struct index_entry *e = *pp;

		if (e->index != index)
			continue;
		*pp = e->next;
		free(e);
		t->count--;
		return 0;
	}
	return -ENOENT;
}
