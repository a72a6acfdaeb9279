#include "src/index_table.h"
#include "src/epoch.h"

/* A chained hash table keyed by the index itself: indices are uniformly
 * random (fleet indexes look so too: crypto/fleet_index.h), so their low
 * bits pick the bucket without hashing. The writer
 * keeps entries <= buckets by doubling the bucket array.
 *
 * Concurrency: one writer (the control thread) calls every mutating
 * function, while any number of data path threads call find without locks.
 * This works like RCU:
 *
 *  - a new entry is filled in completely (index, kind, peer, keypair and
 *    next) before one release store of a bucket head makes it reachable,
 *    and readers load bucket heads and next pointers with acquire, so a
 *    reader that reaches an entry sees it initialised;
 *  - index and peer never change while an entry is reachable, so a reader
 *    only returns the entry whose index it was asked for. kind and keypair
 *    change once, from a handshake to its keypair: set_keypair stores the
 *    keypair, then the kind with release, so a reader that loads kind and
 *    then keypair (both at least acquire) never sees INDEX_KEYPAIR with
 *    the handshake's NULL keypair;
 *  - removal is one release store of the predecessor's next (or the bucket
 *    head) to the removed entry's successor. The removed entry keeps its own
 *    next, so a reader standing on it walks on down an intact chain; the
 *    entry goes to epoch_retire rather than free();
 *  - growth never relinks a reachable entry: it builds a new, private bucket
 *    array holding fresh copies of every entry, publishes it with one
 *    release store of t->buckets, and retires the old array and all the old
 *    entries. A reader that loaded the old array goes on through old chains
 *    that nobody writes any more. The mask lives inside the array, so a
 *    reader never pairs one array with another's size;
 *  - epoch_retire (QSBR) frees memory only once every reader that
 *    might hold it has been quiescent; a table without an epoch frees at
 *    once: single-threaded use.
 *
 * So a find racing with the writer returns an entry the table held during
 * the call, or NULL: it may miss an entry being added, and may return one
 * being removed, or the pre-growth copy of an entry (which does not see a
 * set_keypair made after the copy: the reader then treats a packet for a
 * brand-new keypair as unknown, once). It never returns an entry for a
 * different index and never touches freed memory.
 *
 * The writer reads the pointers with relaxed loads: it wrote them itself.
 * Memory: one malloc of 32 bytes per entry, one pointer per bucket. */

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>

#define INITIAL_BUCKETS 64

typedef _Atomic(struct index_entry *) slot_t;

struct index_buckets {
	size_t mask; /* buckets - 1; a power of two. Fixed for the array. */
	slot_t slot[];
};

static struct index_buckets *buckets_new(size_t n)
{
	struct index_buckets *b = malloc(sizeof(*b) + n * sizeof(b->slot[0]));

	if (!b)
		return NULL;
	b->mask = n - 1;
	for (size_t i = 0; i < n; i++)
		atomic_init(&b->slot[i], NULL);
	return b;
}

/* For arrays no reader can see: never published, or the table is being
 * destroyed. */
static void buckets_free_all(struct index_buckets *b)
{
	for (size_t i = 0; i <= b->mask; i++) {
		struct index_entry *e, *next;

		e = atomic_load_explicit(&b->slot[i], memory_order_relaxed);
		for (; e; e = next) {
			next = atomic_load_explicit(&e->next,
						    memory_order_relaxed);
			free(e);
		}
	}
	free(b);
}

static void retire(struct index_table *t, void *mem)
{
	epoch_retire(t->epoch, mem, free);
}

static struct index_buckets *writer_buckets(const struct index_table *t)
{
	return atomic_load_explicit(&t->buckets, memory_order_relaxed);
}

int index_table_init(struct index_table *t, struct epoch *epoch)
{
	struct index_buckets *b = buckets_new(INITIAL_BUCKETS);

	atomic_init(&t->buckets, b);
	t->count = 0;
	t->epoch = epoch;
	return b ? 0 : -ENOMEM;
}

void index_table_destroy(struct index_table *t)
{
	struct index_buckets *b = writer_buckets(t);

	if (b)
		buckets_free_all(b);
	atomic_store_explicit(&t->buckets, NULL, memory_order_relaxed);
	t->count = 0;
}

static struct index_entry *entry_new(uint32_t index, enum index_kind kind,
				     struct peer *peer, struct keypair *kp)
{
	struct index_entry *e = malloc(sizeof(*e));

	if (!e)
		return NULL;
	e->index = index;
	atomic_init(&e->kind, kind);
	e->peer = peer;
	atomic_init(&e->keypair, kp);
	atomic_init(&e->next, NULL);
	return e;
}

static struct index_entry *entry_copy(const struct index_entry *e)
{
	enum index_kind kind;
	struct keypair *kp;

	kind = atomic_load_explicit(&e->kind, memory_order_relaxed);
	kp = atomic_load_explicit(&e->keypair, memory_order_relaxed);
	return entry_new(e->index, kind, e->peer, kp);
}

/* Pushes e on the head of its chain. Release: e, filled in before, must be
 * complete for any reader that finds it. */
static void link_head(struct index_buckets *b, struct index_entry *e)
{
	slot_t *head = &b->slot[e->index & b->mask];

	atomic_store_explicit(&e->next,
			      atomic_load_explicit(head, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(head, e, memory_order_release);
}

/* Copies every entry of old into a new array twice the size. The new
 * array is private until published, so its links need no ordering. */
static struct index_buckets *copy_grown(const struct index_buckets *old)
{
	struct index_buckets *b = buckets_new((old->mask + 1) * 2);

	if (!b)
		return NULL;
	for (size_t i = 0; i <= old->mask; i++) {
		struct index_entry *e, *c;

		e = atomic_load_explicit(&old->slot[i], memory_order_relaxed);
		for (; e; e = atomic_load_explicit(&e->next,
						   memory_order_relaxed)) {
			c = entry_copy(e);
			if (!c) {
				buckets_free_all(b);
				return NULL;
			}
			link_head(b, c);
		}
	}
	return b;
}

/* Retires the array and every entry still linked in it: after the new array
 * is published nothing writes to them, and readers may still walk them. */
static void retire_all(struct index_table *t, struct index_buckets *old)
{
	for (size_t i = 0; i <= old->mask; i++) {
		struct index_entry *e, *next;

		e = atomic_load_explicit(&old->slot[i], memory_order_relaxed);
		for (; e; e = next) {
			next = atomic_load_explicit(&e->next,
						    memory_order_relaxed);
			retire(t, e);
		}
	}
	retire(t, old);
}

/* Keeps chains short: doubles when entries outnumber buckets. */
static void grow(struct index_table *t)
{
	struct index_buckets *old = writer_buckets(t);
	struct index_buckets *b = copy_grown(old);

	if (!b)
		return; /* still correct, only slower */
	atomic_store_explicit(&t->buckets, b, memory_order_release);
	retire_all(t, old);
}

static struct index_entry *chain_find(const struct index_buckets *b,
				      uint32_t index)
{
	struct index_entry *e;

	e = atomic_load_explicit(&b->slot[index & b->mask],
				 memory_order_acquire);
	while (e && e->index != index)
		e = atomic_load_explicit(&e->next, memory_order_acquire);
	return e;
}

struct index_entry *index_table_find(const struct index_table *t,
				     uint32_t index)
{
	const struct index_buckets *b;

	b = atomic_load_explicit(&t->buckets, memory_order_acquire);
	return b ? chain_find(b, index) : NULL;
}

static uint32_t pick_random(void *arg, unsigned tries)
{
	return randombytes_random();
}

int index_table_add(struct index_table *t, enum index_kind kind,
		    struct peer *peer, struct keypair *kp, uint32_t *index)
{
	return index_table_add_picked(t, kind, peer, kp, pick_random, NULL,
				      index);
}

int index_table_add_picked(struct index_table *t, enum index_kind kind,
			   struct peer *peer, struct keypair *kp,
			   index_pick_fn *pick, void *arg, uint32_t *index)
{
	struct index_buckets *b = writer_buckets(t);
	struct index_entry *e;
	unsigned tries = 0;
	uint32_t idx;

	do
		idx = pick(arg, tries++);
	while (chain_find(b, idx));
	e = entry_new(idx, kind, peer, kp);
	if (!e)
		return -ENOMEM;
	link_head(b, e);
	if (++t->count > b->mask + 1)
		grow(t);
	*index = idx;
	return 0;
}

int index_table_set_keypair(struct index_table *t, uint32_t index,
			    struct keypair *kp)
{
	struct index_entry *e = chain_find(writer_buckets(t), index);

	if (!e)
		return -ENOENT;
	/* Keypair first: kind's release store publishes it. */
	atomic_store_explicit(&e->keypair, kp, memory_order_release);
	atomic_store_explicit(&e->kind, INDEX_KEYPAIR, memory_order_release);
	return 0;
}

int index_table_remove(struct index_table *t, uint32_t index)
{
	struct index_buckets *b = writer_buckets(t);
	slot_t *pp = &b->slot[index & b->mask];
	struct index_entry *e;

	for (;;) {
		e = atomic_load_explicit(pp, memory_order_relaxed);
		if (!e)
			return -ENOENT;
		if (e->index == index)
			break;
		pp = &e->next;
	}
	/* The one store that unlinks e; e->next stays for readers on e.
	 * Release, because a reader that loads the new value must also see
	 * the successor's initialisation. */
	atomic_store_explicit(pp, atomic_load_explicit(&e->next,
						       memory_order_relaxed),
			      memory_order_release);
	t->count--;
	retire(t, e);
	return 0;
}

size_t index_table_count(const struct index_table *t)
{
	return t->count;
}

size_t index_table_nbuckets(const struct index_table *t)
{
	struct index_buckets *b = writer_buckets(t);

	return b ? b->mask + 1 : 0;
}
