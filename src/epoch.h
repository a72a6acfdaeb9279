/* Quiescent-state-based reclamation (QSBR) for the one-writer, many-reader
 * structures the workers read without locks (keypairs, index entries,
 * AllowedIPs nodes).
 *
 * The writer (control thread) unlinks an object, then epoch_retire()s it
 * with the current epoch E. Each reader (worker) calls epoch_quiescent()
 * between batches, when it holds no pointer into shared structures, which
 * publishes the epoch it has seen; a reader about to block announces
 * itself offline. epoch_reclaim() advances the epoch and frees what every
 * reader has passed: an object retired at E is free once each reader has
 * seen an epoch > E or is offline, because such a reader has re-read the
 * shared pointers since the unlink. */
#ifndef RINGVPN_SRC_EPOCH_H
#define RINGVPN_SRC_EPOCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EPOCH_OFFLINE UINT64_MAX

struct epoch_reader {
	_Atomic uint64_t seen;
};

struct epoch_item;

struct epoch {
	_Atomic uint64_t now;
	struct epoch_reader *readers;
	unsigned n_readers;
	struct epoch_item *retired; /* writer only, newest first */
};

/* readers[] starts offline: a worker goes online when it starts. */
void epoch_init(struct epoch *e, struct epoch_reader *readers, unsigned n);
/* Frees everything still retired; all readers must have stopped. */
void epoch_destroy(struct epoch *e);

/* Writer: free_fn(mem) runs once no reader can hold mem: the one way to
 * free what workers may still read (the kernel's call_rcu). With e NULL
 * (a single-threaded owner: the unit tests, the fuzzers) it runs at once.
 * Returns -ENOMEM if the bookkeeping cannot be allocated, and then
 * never frees mem: a reader may still hold it, and a leak is the only
 * safe outcome (freeing at once would be a use-after-free). */
int epoch_retire(struct epoch *e, void *mem, void (*free_fn)(void *mem));
/* Writer: how many retired objects wait to be freed, and whether mem is
 * one of them (for tests and statistics). */
size_t epoch_pending(const struct epoch *e);
bool epoch_holds(const struct epoch *e, const void *mem);
/* Writer: advances the epoch and frees what the readers have passed. */
void epoch_reclaim(struct epoch *e);
/* The same, but calls drain(arg) after deciding what to free and before
 * freeing it. A reader may hand a pointer to the writer through a queue
 * (a peer in a message) and then go quiescent: the writer must consume
 * such messages before the memory goes, and everything a reader queued
 * before the quiescent point that let the memory go is in the queue by
 * the time drain runs. */
void epoch_reclaim_after(struct epoch *e, void (*drain)(void *arg),
			 void *arg);

static inline void epoch_quiescent(struct epoch *e, struct epoch_reader *r)
{
	atomic_store(&r->seen, atomic_load(&e->now));
}

/* epoch_quiescent for a reader that still holds pointers it read while
 * its seen was `held` (work it handed to other threads and that is not
 * done yet): it may not announce more than that. */
static inline void epoch_quiescent_held(struct epoch *e,
					struct epoch_reader *r, uint64_t held)
{
	uint64_t now = atomic_load(&e->now);

	atomic_store(&r->seen, held < now ? held : now);
}

static inline uint64_t epoch_seen(const struct epoch_reader *r)
{
	return atomic_load_explicit(&r->seen, memory_order_relaxed);
}

static inline void epoch_offline(struct epoch_reader *r)
{
	atomic_store(&r->seen, EPOCH_OFFLINE);
}

/* seq_cst store: the reader's later loads of shared pointers cannot be
 * ordered before the writer can see it online. */
static inline void epoch_online(struct epoch *e, struct epoch_reader *r)
{
	epoch_quiescent(e, r);
}

#endif
