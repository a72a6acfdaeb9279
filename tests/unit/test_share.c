/* The crypto hand-off between workers (src/worker/share.c): jobs run
 * inline when sharing is off or not worth it; a posted job's chunks are
 * each run exactly once, by whoever claims them; sleeping workers are
 * woken and none is lost; and, with threads, every worker posting and
 * helping at once (tests/tsan.sh runs this under ThreadSanitizer). */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "src/worker/share.h"
#include "tests/unit/check_main.h"

#define MAX_MSGS (64 * SHARE_CHUNK_MSGS)
/* A time at which the grace of jobs posted at 0 is over. */
#define LATE SHARE_GRACE_NS

/* A job whose messages are numbers: a chunk writes out[i] from in[i]
 * and counts its runs with plain (non-atomic) writes, so that two
 * workers running one chunk is a data race for TSan and a count of 2. */
struct test_job {
	struct share_job job; /* first: the run function's container */
	unsigned int n;
	uint32_t in[MAX_MSGS], out[MAX_MSGS];
	uint8_t runs[MAX_MSGS];
	unsigned int lane[MAX_MSGS];
};

static uint32_t mix(uint32_t x)
{
	return x * 2654435761u + 12345u;
}

static void run_chunk(struct share_job *job, unsigned int chunk,
		      unsigned int lane)
{
	struct test_job *t = (struct test_job *)job;
	unsigned int end = (chunk + 1) * SHARE_CHUNK_MSGS;

	for (unsigned int i = chunk * SHARE_CHUNK_MSGS; i < end && i < t->n;
	     i++) {
		t->out[i] = mix(t->in[i]);
		t->runs[i]++;
		t->lane[i] = lane;
	}
}

/* Fills t with n messages seeded by seed. */
static void fill(struct test_job *t, unsigned int n, uint32_t seed)
{
	t->n = n;
	memset(t->runs, 0, sizeof(t->runs));
	for (unsigned int i = 0; i < n; i++)
		t->in[i] = seed + i;
}

/* Each message ran once and its output is right. */
static void check_job(const struct test_job *t)
{
	for (unsigned int i = 0; i < t->n; i++) {
		ck_assert_uint_eq(t->runs[i], 1);
		ck_assert_uint_eq(t->out[i], mix(t->in[i]));
	}
}

static unsigned int chunks_of(unsigned int n)
{
	return (n + SHARE_CHUNK_MSGS - 1) / SHARE_CHUNK_MSGS;
}

START_TEST(test_disabled_runs_inline)
{
	static struct test_job t;
	struct share_crew crew;

	ck_assert_int_eq(share_crew_init(&crew, 2, false), 0);
	ck_assert(!crew.enabled);
	share_board_set(&crew.boards[0], 3, &t.job, run_chunk);
	fill(&t, 40, 7);
	share_run(&crew, 0, 3, chunks_of(40), true, 0);
	ck_assert(share_job_done(&t.job));
	ck_assert_uint_eq(atomic_load(&crew.boards[0].open), 0);
	check_job(&t);
	ck_assert_uint_eq(t.lane[39], 0);
	ck_assert(!share_help(&crew, 1, LATE, NULL));
	share_crew_destroy(&crew);
}
END_TEST

START_TEST(test_one_worker_never_shares)
{
	struct share_crew crew;

	ck_assert_int_eq(share_crew_init(&crew, 1, true), 0);
	ck_assert(!crew.enabled);
	share_crew_destroy(&crew);
}
END_TEST

/* One chunk, or a job its owner finds not worth it, runs inline. */
START_TEST(test_small_jobs_run_inline)
{
	static struct test_job t;
	struct share_crew crew;

	ck_assert_int_eq(share_crew_init(&crew, 2, true), 0);
	share_board_set(&crew.boards[0], 0, &t.job, run_chunk);
	fill(&t, SHARE_CHUNK_MSGS, 1);
	share_run(&crew, 0, 0, 1, true, 0);
	ck_assert(share_job_done(&t.job));
	check_job(&t);
	fill(&t, 64, 2);
	share_run(&crew, 0, 0, chunks_of(64), false, 0);
	ck_assert(share_job_done(&t.job));
	ck_assert_uint_eq(atomic_load(&crew.boards[0].open), 0);
	check_job(&t);
	share_crew_destroy(&crew);
}
END_TEST

/* A posted job waits for a claimer; a helper's share_help runs all of
 * it, with its own lane, and closes it; posted again, with fewer chunks,
 * only the new posting's chunks run. */
START_TEST(test_posted_job_is_claimed_once)
{
	static struct test_job t;
	struct share_crew crew;
	unsigned int helped = 0;

	ck_assert_int_eq(share_crew_init(&crew, 3, true), 0);
	share_board_set(&crew.boards[1], 5, &t.job, run_chunk);
	fill(&t, 45, 100);
	share_run(&crew, 1, 5, chunks_of(45), true, 0);
	ck_assert(!share_job_done(&t.job));
	ck_assert_uint_eq(atomic_load(&crew.boards[1].open), 1u << 5);
	ck_assert(share_help(&crew, 2, 0, &helped));
	ck_assert_uint_eq(helped, chunks_of(45));
	ck_assert(share_job_done(&t.job));
	ck_assert_uint_eq(atomic_load(&crew.boards[1].open), 0);
	check_job(&t);
	ck_assert_uint_eq(t.lane[0], 2);
	ck_assert(!share_help(&crew, 0, LATE, NULL)); /* nothing left */

	/* The owner leaves its job to the others for the grace period,
	 * then claims it itself. */
	fill(&t, 9, 200);
	share_run(&crew, 1, 5, chunks_of(9), true, 0);
	ck_assert_uint_eq(share_own_wait(&crew, 1, 1000),
			  SHARE_GRACE_NS - 1000);
	ck_assert(!share_help(&crew, 1, LATE - 1, &helped));
	ck_assert_uint_eq(share_own_wait(&crew, 1, LATE), 0);
	ck_assert(share_help(&crew, 1, LATE, &helped)); /* the owner itself */
	ck_assert_uint_eq(share_own_wait(&crew, 1, LATE), UINT64_MAX);
	/* A worker restarted (a port change) sets its jobs up again: a job
	 * it left posted does not stay open. */
	share_run(&crew, 1, 5, chunks_of(9), true, 0);
	ck_assert_uint_eq(atomic_load(&crew.boards[1].open), 1u << 5);
	share_board_set(&crew.boards[1], 5, &t.job, run_chunk);
	ck_assert_uint_eq(atomic_load(&crew.boards[1].open), 0);
	ck_assert(!share_help(&crew, 0, LATE, NULL));
	ck_assert_uint_eq(helped, chunks_of(45)); /* not counted as help */
	ck_assert(share_job_done(&t.job));
	check_job(&t);
	ck_assert_uint_eq(t.runs[9], 0); /* beyond this posting: not run */
	share_crew_destroy(&crew);
}
END_TEST

static bool yes(void *arg)
{
	(void)arg;
	return true;
}

/* A sleeping worker is woken by a post (one eventfd write, however many
 * posts), and does not go to sleep while a job is open or its own check
 * says a job finished. */
START_TEST(test_sleeping_worker_is_woken)
{
	static struct test_job t;
	struct share_crew crew;
	uint64_t v;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(share_crew_init(&crew, 2, true), 0);
	crew.boards[1].wake_fd = fd;
	share_board_set(&crew.boards[0], 0, &t.job, run_chunk);
	ck_assert(share_may_sleep(&crew, 1, NULL, NULL));
	ck_assert(!share_may_sleep(&crew, 0, yes, NULL));
	ck_assert(!atomic_load(&crew.boards[0].sleeping));
	fill(&t, 64, 3);
	share_run(&crew, 0, 0, chunks_of(64), true, 0);
	ck_assert(!atomic_load(&crew.boards[1].sleeping));
	ck_assert_int_eq(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	ck_assert_uint_eq(v, 1);
	/* A job is open: nobody sleeps. */
	ck_assert(!share_may_sleep(&crew, 1, NULL, NULL));
	ck_assert(share_help(&crew, 1, LATE, NULL));
	check_job(&t);
	share_awake(&crew, 1);
	share_crew_destroy(&crew);
	close(fd);
}
END_TEST

/* Threads: every thread owns SLOTS jobs and posts ROUNDS postings of
 * varying size over them, in turn, helping the others and sleeping on
 * its eventfd whenever it has nothing to do but wait: until the grace
 * of its oldest job ends, or with no timeout when all its jobs are
 * claimed (then a lost wake-up hangs the test, and Check's timeout
 * fails it). */
#define SLOTS 4
#define ROUNDS 3000

struct crew_thread {
	struct share_crew *crew;
	unsigned int id;
	int fd;
	struct test_job jobs[SLOTS];
	unsigned int posted[SLOTS];
	unsigned int shared; /* chunks of ours another thread ran */
};

struct wait_arg {
	struct test_job *job;
};

static bool job_done(void *arg)
{
	return share_job_done(&((struct wait_arg *)arg)->job->job);
}

/* Helps until job is done; sleeps when there is nothing to help with. */
static void wait_job(struct crew_thread *t, struct test_job *job)
{
	struct wait_arg arg = { job };

	while (!share_job_done(&job->job)) {
		struct pollfd p = { .fd = t->fd, .events = POLLIN };
		uint64_t v, wait;

		if (share_help(t->crew, t->id, share_clock(), NULL))
			continue;
		wait = share_own_wait(t->crew, t->id, share_clock());
		if (wait && share_may_sleep(t->crew, t->id, job_done, &arg)) {
			struct timespec ts = { 0, (long)wait };

			if (ppoll(&p, 1, wait == UINT64_MAX ? NULL : &ts,
				  NULL) > 0)
				(void)!read(t->fd, &v, sizeof(v));
		}
		share_awake(t->crew, t->id);
	}
}

static void count_shared(struct crew_thread *t, const struct test_job *job)
{
	for (unsigned int i = 0; i < job->n; i++)
		t->shared += job->lane[i] != t->id;
}

static void *crew_main(void *arg)
{
	struct crew_thread *t = arg;

	for (unsigned int r = 0; r < ROUNDS; r++) {
		unsigned int slot = r % SLOTS;
		struct test_job *job = &t->jobs[slot];
		unsigned int n = 1 + (r * 7 + t->id * 13) % MAX_MSGS;

		if (t->posted[slot]) {
			wait_job(t, job);
			check_job(job);
			count_shared(t, job);
		}
		fill(job, n, r * 1000 + t->id);
		share_run(t->crew, t->id, slot, chunks_of(n), true,
			  share_clock());
		t->posted[slot]++;
	}
	for (unsigned int slot = 0; slot < SLOTS; slot++) {
		wait_job(t, &t->jobs[slot]);
		check_job(&t->jobs[slot]);
	}
	return NULL;
}

static void run_threads(unsigned int n)
{
	struct crew_thread *t = calloc(n, sizeof(*t));
	pthread_t *th = calloc(n, sizeof(*th));
	struct share_crew crew;
	unsigned int shared = 0;

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(th);
	ck_assert_int_eq(share_crew_init(&crew, n, true), 0);
	for (unsigned int i = 0; i < n; i++) {
		t[i].crew = &crew;
		t[i].id = i;
		t[i].fd = eventfd(0, EFD_CLOEXEC);
		ck_assert_int_ge(t[i].fd, 0);
		crew.boards[i].wake_fd = t[i].fd;
		for (unsigned int s = 0; s < SLOTS; s++)
			share_board_set(&crew.boards[i], s, &t[i].jobs[s].job,
					run_chunk);
	}
	for (unsigned int i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, crew_main,
						&t[i]), 0);
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		shared += t[i].shared;
		close(t[i].fd);
	}
	/* Not a speed claim, only that sharing happened at all. */
	ck_assert_uint_gt(shared, 0);
	share_crew_destroy(&crew);
	free(t);
	free(th);
}

START_TEST(test_two_threads)
{
	run_threads(2);
}
END_TEST

START_TEST(test_four_threads)
{
	run_threads(4);
}
END_TEST

static Suite *share_suite(void)
{
	Suite *s = suite_create("share");
	TCase *tc = tcase_create("share");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_disabled_runs_inline);
	tcase_add_test(tc, test_one_worker_never_shares);
	tcase_add_test(tc, test_small_jobs_run_inline);
	tcase_add_test(tc, test_posted_job_is_claimed_once);
	tcase_add_test(tc, test_sleeping_worker_is_woken);
	tcase_add_test(tc, test_two_threads);
	tcase_add_test(tc, test_four_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(share_suite());
}
