/* One worker's crypto shared with the others, so that one peer can use
 * every core (DESIGN.md, "One peer must be able to use every worker").
 *
 * A batch (the segments of a TSO super-packet to seal, the datagrams of
 * a GRO receive to open) is a job cut into chunks of a few messages. Its
 * owner, the worker that read the batch, has done the ordered part
 * already (nonces, headers, session lookups). It posts the job on its
 * board, wakes workers that sleep, and goes on with its own work (the
 * next buffer's ordered part, its sends and writes, and other workers'
 * jobs): the crypto is left to the others for a grace period, as the
 * kernel module leaves it to its per-CPU workers, and only then does the
 * owner claim what is left of its own jobs. A woken worker needs ~10 us
 * to start here (a VM); without the grace the owner, already running,
 * would take most chunks and stay the busiest thread by far. Any worker
 * that wakes or passes by claims chunks too. Whoever finishes the last chunk of a job wakes its owner
 * if that one sleeps. Only the owner reads a job's results, and it sends
 * or writes the batches in the order they came: claiming spreads the
 * crypto, never the order.
 *
 * Nothing waits for long: a helper that is slow to wake or busy finds no
 * chunk left, because the owner did them once the grace ended. A claim is one compare-and-swap per
 * chunk; no lock, allocation or system call per packet. A wake-up is one
 * eventfd write per posted job and sleeping worker.
 *
 * Lifetime: a job's memory and what its chunks point to (buffers,
 * keypairs) are the owner's, and stay valid until the job is done: the
 * owner keeps its output area, and while a job is unfinished it never
 * announces, at its quiescent points, an epoch later than the one it had
 * when it read the job's keypairs (intake_held_epoch,
 * epoch_quiescent_held), nor goes offline: no keypair a chunk uses can
 * be freed. A worker that leaves its loop finishes its jobs first. */
#ifndef RINGVPN_SRC_WORKER_SHARE_H
#define RINGVPN_SRC_WORKER_SHARE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/clock.h"

/* Jobs one board holds: one per output area of its worker. */
#define SHARE_SLOTS 32
/* Messages per chunk: a claim costs ~0.1 us, sealing 4 full-size
 * messages ~4 us; small enough that two workers finish a 45-segment
 * super-packet within a chunk of each other. */
#define SHARE_CHUNK_MSGS 4
#define SHARE_MAX_CHUNKS 0xffffu /* the claim word's fields */
/* A job smaller than this runs inline: waking a worker costs more than
 * it would save (a GRO receive of 64 TCP ACKs is 6 KiB). The caller
 * decides (core.c's intake_share), with this and its backlog. */
#define SHARE_MIN_BYTES (16 * 1024)
/* How long an owner leaves a posted job to the others: a little more
 * than a super-packet's crypto takes one worker (12 chunks, ~50 us). */
#define SHARE_GRACE_NS 60000

/* How many chunks n messages make, and where chunk `chunk` of n ends
 * (it starts at chunk * SHARE_CHUNK_MSGS). */
static inline unsigned int share_chunks(unsigned int n)
{
	return (n + SHARE_CHUNK_MSGS - 1) / SHARE_CHUNK_MSGS;
}

static inline unsigned int share_chunk_end(unsigned int chunk, unsigned int n)
{
	unsigned int end = (chunk + 1) * SHARE_CHUNK_MSGS;

	return end < n ? end : n;
}

struct share_job;

/* Does chunk `chunk` of job (its messages [chunk * SHARE_CHUNK_MSGS,
 * ...)); lane is the calling worker's id (keypair EVP contexts). Runs
 * on any worker; writes only to the job's own messages. */
typedef void share_run_fn(struct share_job *job, unsigned int chunk,
			  unsigned int lane);

struct share_job {
	/* generation << 32 | chunks << 16 | next chunk to claim: a claim
	 * succeeds only for the posting it read, so a slow helper never
	 * claims a chunk of a job that was finished and posted again. */
	_Atomic uint64_t claim;
	_Atomic uint32_t done; /* chunks finished */
	uint32_t chunks;       /* the owner's copy */
	uint64_t posted;       /* the owner's: when, in share_clock ns */
	share_run_fn *run;     /* set once, at set-up */
};

/* One worker's posted jobs, seen by all. */
struct share_board {
	struct share_job *slot[SHARE_SLOTS]; /* set once, at set-up */
	_Atomic uint32_t open; /* slots that may have chunks to claim */
	_Atomic bool sleeping; /* its worker waits in the kernel */
	int wake_fd;	       /* its worker's eventfd */
};

/* Every worker's board; board i is worker i's. */
struct share_crew {
	struct share_board *boards;
	unsigned int n;
	bool enabled; /* else every job runs inline (RINGVPN_DISABLE) */
};

/* 0 or -ENOMEM; n boards, none sleeping, wake_fd -1 until set. */
int share_crew_init(struct share_crew *crew, unsigned int n, bool enabled);
void share_crew_destroy(struct share_crew *crew);

/* Owner: slot's job gets run as its function (once, at set-up). */
void share_board_set(struct share_board *b, unsigned int slot,
		     struct share_job *job, share_run_fn *run);

/* Owner: slot's job has chunks chunks. When sharing is on, the job has
 * two chunks or more and the owner finds it `worth` a hand-off, it is
 * posted for the crew and sleeping workers are woken: the owner's
 * share_help finishes what nobody took. Otherwise it runs here and now.
 * share_job_done tells when it is done. self is the owner's board
 * index; now is share_clock's. */
void share_run(struct share_crew *crew, unsigned int self, unsigned int slot,
	       unsigned int chunks, bool worth, uint64_t now);

/* The clock of `now` and `posted`: monotonic nanoseconds, never the test
 * clock's faster time (the grace is about real wake-up latency). */
static inline uint64_t share_clock(void)
{
	return monotonic_ns();
}

/* Owner: every chunk of the job finished (their writes are visible). */
static inline bool share_job_done(const struct share_job *job)
{
	return atomic_load_explicit(&job->done, memory_order_acquire) ==
	       job->chunks;
}

/* Any worker: claims and runs chunks of other workers' posted jobs, and
 * of its own whose grace ended by now, until none is open; returns
 * whether it ran any, and adds those of other workers' jobs to *helped
 * (if not NULL). */
bool share_help(struct share_crew *crew, unsigned int self, uint64_t now,
		unsigned int *helped);

/* Owner: how long until the grace of its oldest open job ends (0: it
 * has), or UINT64_MAX when it has none open: how long it may sleep. */
uint64_t share_own_wait(const struct share_crew *crew, unsigned int self,
			uint64_t now);

/* Worker self is about to wait in the kernel. Returns false, and stays
 * awake, when there is a chunk to claim on another worker's board or when
 * `finished` (the caller's own check for jobs that completed, read after
 * the flag is set, so no completion's wake-up is missed). */
bool share_may_sleep(struct share_crew *crew, unsigned int self,
		     bool (*finished)(void *arg), void *arg);
/* ... and is awake again. */
void share_awake(struct share_crew *crew, unsigned int self);

#endif
