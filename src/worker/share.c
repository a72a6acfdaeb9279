/* The claiming, posting and waking behind src/worker/share.h.
 *
 * The four flags that decide a wake-up (a board's `open` and `sleeping`,
 * a job's `done`, read against the sleeper's own flag) are accessed
 * sequentially consistent: a worker sets `sleeping` and then looks for
 * work; a poster publishes work and then looks at `sleeping`. In one
 * total order, one of the two sees the other, so no wake-up is lost. */
#include "src/worker/share.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define NEXT_MASK 0xffffull
#define CHUNKS_SHIFT 16
#define GEN_SHIFT 32

int share_crew_init(struct share_crew *crew, unsigned int n, bool enabled)
{
	crew->boards = calloc(n, sizeof(*crew->boards));
	if (!crew->boards)
		return -ENOMEM;
	crew->n = n;
	crew->enabled = enabled && n > 1;
	for (unsigned int i = 0; i < n; i++)
		crew->boards[i].wake_fd = -1;
	return 0;
}

void share_crew_destroy(struct share_crew *crew)
{
	free(crew->boards);
	crew->boards = NULL;
	crew->n = 0;
}

void share_board_set(struct share_board *b, unsigned int slot,
		     struct share_job *job, share_run_fn *run)
{
	job->run = run;
	job->chunks = 0;
	atomic_init(&job->claim, 0);
	atomic_init(&job->done, 0);
	b->slot[slot] = job;
	/* A board outlives its workers (a port change restarts them): no
	 * bit of a job that is gone may stay open. */
	atomic_fetch_and(&b->open, ~(1u << slot));
}

/* A chunk of the job's current posting, or false when none is left. The
 * successful CAS reads the posting's release store (or a later claim,
 * which continues its release sequence): what the owner wrote before
 * posting is visible, and the job cannot be posted again before this
 * chunk is finished. Whoever claims the last chunk closes the job on
 * board b at once, so that nobody spins on a job with nothing left; it
 * cannot close a later posting of the slot, which waits for this chunk. */
static bool claim(struct share_board *b, unsigned int slot,
		  struct share_job *job, unsigned int *chunk,
		  unsigned int *chunks)
{
	uint64_t c = atomic_load_explicit(&job->claim, memory_order_acquire);

	for (;;) {
		unsigned int next = (unsigned int)(c & NEXT_MASK);
		unsigned int total = (unsigned int)(c >> CHUNKS_SHIFT &
						    NEXT_MASK);

		if (next >= total)
			return false;
		if (atomic_compare_exchange_weak_explicit(
			    &job->claim, &c, c + 1, memory_order_acquire,
			    memory_order_acquire)) {
			*chunk = next;
			*chunks = total;
			if (next + 1 == total)
				atomic_fetch_and(&b->open, ~(1u << slot));
			return true;
		}
	}
}

/* Returns whether that was the job's last chunk. */
static bool finish(struct share_job *job, unsigned int chunks)
{
	return atomic_fetch_add(&job->done, 1) + 1 == chunks;
}

static void wake(struct share_board *b)
{
	uint64_t one = 1;

	/* The exchange makes one waker write, however many find it
	 * asleep; a failed write leaves it to its next wake-up. */
	if (b->wake_fd >= 0 && atomic_exchange(&b->sleeping, false))
		(void)!write(b->wake_fd, &one, sizeof(one));
}

/* Wakes up to `want` sleeping workers other than self. */
static void wake_helpers(struct share_crew *crew, unsigned int self,
			 unsigned int want)
{
	for (unsigned int k = 1; k < crew->n && want; k++) {
		struct share_board *b = &crew->boards[(self + k) % crew->n];

		if (atomic_load(&b->sleeping)) {
			wake(b);
			want--;
		}
	}
}

static void post(struct share_job *job, unsigned int chunks)
{
	uint64_t gen = (atomic_load_explicit(&job->claim,
					     memory_order_relaxed) >>
			GEN_SHIFT) + 1;

	job->chunks = chunks;
	atomic_store_explicit(&job->done, 0, memory_order_relaxed);
	atomic_store_explicit(&job->claim,
			      gen << GEN_SHIFT |
				      (uint64_t)chunks << CHUNKS_SHIFT,
			      memory_order_release);
}

void share_run(struct share_crew *crew, unsigned int self, unsigned int slot,
	       unsigned int chunks, bool worth, uint64_t now)
{
	struct share_board *b = &crew->boards[self];
	struct share_job *job = b->slot[slot];
	unsigned int chunk, total;

	if (crew->enabled && chunks > 1 && worth) {
		/* Open before posted: whoever claims the posting's last
		 * chunk closes it, and must find it open. A helper that sees
		 * it open early finds nothing yet and looks again. */
		job->posted = now;
		atomic_fetch_or(&b->open, 1u << slot);
		post(job, chunks);
		wake_helpers(crew, self, chunks - 1);
		return;
	}
	post(job, chunks);
	while (claim(b, slot, job, &chunk, &total)) {
		job->run(job, chunk, self);
		finish(job, total);
	}
}

/* Claims and runs chunks of board b's jobs in `open`; returns how many. */
static unsigned int help_board(struct share_board *b, uint32_t open,
			       unsigned int self)
{
	unsigned int ran = 0;

	while (open) {
		unsigned int slot = (unsigned int)__builtin_ctz(open);
		struct share_job *job = b->slot[slot];
		unsigned int chunk, total;

		open &= open - 1;
		while (claim(b, slot, job, &chunk, &total)) {
			job->run(job, chunk, self);
			ran++;
			if (finish(job, total))
				wake(b);
		}
	}
	return ran;
}

/* The owner's open jobs whose grace ended by now. */
static uint32_t own_due(const struct share_board *b, uint64_t now)
{
	uint32_t open = atomic_load_explicit(&b->open, memory_order_relaxed);
	uint32_t due = 0;

	for (uint32_t o = open; o; o &= o - 1) {
		unsigned int slot = (unsigned int)__builtin_ctz(o);

		if (now - b->slot[slot]->posted >= SHARE_GRACE_NS)
			due |= 1u << slot;
	}
	return due;
}

bool share_help(struct share_crew *crew, unsigned int self, uint64_t now,
		unsigned int *helped)
{
	struct share_board *own = &crew->boards[self];
	unsigned int mine, others = 0;

	if (!crew->enabled)
		return false;
	for (unsigned int k = 1; k < crew->n; k++) {
		struct share_board *b = &crew->boards[(self + k) % crew->n];

		others += help_board(b, atomic_load(&b->open), self);
	}
	mine = help_board(own, own_due(own, now), self);
	if (helped)
		*helped += others;
	return mine || others;
}

uint64_t share_own_wait(const struct share_crew *crew, unsigned int self,
			uint64_t now)
{
	const struct share_board *b = &crew->boards[self];
	uint32_t open = atomic_load_explicit(&b->open, memory_order_relaxed);
	uint64_t wait = UINT64_MAX;

	for (; open; open &= open - 1) {
		uint64_t age = now - b->slot[__builtin_ctz(open)]->posted;
		uint64_t left = age >= SHARE_GRACE_NS ? 0 :
							SHARE_GRACE_NS - age;

		wait = left < wait ? left : wait;
	}
	return wait;
}

static bool open_elsewhere(struct share_crew *crew, unsigned int self)
{
	for (unsigned int i = 0; i < crew->n; i++)
		if (i != self && atomic_load(&crew->boards[i].open))
			return true;
	return false;
}

bool share_may_sleep(struct share_crew *crew, unsigned int self,
		     bool (*finished)(void *arg), void *arg)
{
	struct share_board *b = &crew->boards[self];

	atomic_store(&b->sleeping, true);
	/* finished() may read with acquire only: the fence keeps its loads
	 * after the store, as the argument at the top needs. */
	atomic_thread_fence(memory_order_seq_cst);
	if ((crew->enabled && open_elsewhere(crew, self)) ||
	    (finished && finished(arg))) {
		atomic_store(&b->sleeping, false);
		return false;
	}
	return true;
}

void share_awake(struct share_crew *crew, unsigned int self)
{
	atomic_store(&crew->boards[self].sleeping, false);
}
