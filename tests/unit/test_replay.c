#include "crypto/replay.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/messages.h"
#include "tests/unit/check_main.h"

/* Hot loops below test with if () ck_abort_msg(): each passing ck_assert
 * writes to Check's pipe, too slow for a million checks. */

#define W ((uint64_t)REPLAY_WINDOW_SIZE)
#define B ((uint64_t)REPLAY_BITS_PER_WORD)
#define R ((uint64_t)REPLAY_RING_BITS)
#define L REJECT_AFTER_MESSAGES

/* xorshift64*: deterministic, and each thread gets its own state. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return rnd(s) % n;
}

struct step {
	uint64_t counter;
	bool accept;
};

/* Tops used below: T1, one word on (T2), a hundred words and a bit on (T3),
 * one ring on (T4), then jumps that clear the whole ring. */
#define T1 10000ull
#define T2 (T1 + B)
#define T3 (T2 + 100 * B + 3)
#define T4 (T3 + R)
#define T5 1000000ull
#define T6 ((1ull << 40) + 5)

static const struct step steps[] = {
	/* 0 */ { 0, true }, { 0, false }, { 1, true }, { 1, false },
	/* 4: out of order inside the window */
	{ 9, true }, { 8, true }, { 7, true }, { 7, false }, { 2, true },
	/* 9: the oldest counter still in the window is top - W + 1 */
	{ T1, true }, { T1 - W + 1, true }, { T1 - W, false },
	{ T1 - W + 1, false }, { T1 - 1, true }, { T1 - W + 2, true },
	{ T1 - 50, true }, { T1 - 50, false }, { 9, false }, { T1, false },
	/* 19: one word forward: the old edge falls out */
	{ T2, true }, { T1 - W + 2, false }, { T2 - W + 1, true },
	{ T2 - W, false }, { T1 + 1, true }, { T2 - 1, true },
	/* 25: a hundred words forward, landing mid-word */
	{ T3, true }, { T3 - W, false }, { T3 - W + 1, true },
	{ T1 - 50, false }, { T3 - 70, true }, { T3 - 70, false },
	{ T3 - 1, true },
	/* 32: exactly one ring forward: same word, next generation */
	{ T4, true }, { T3, false }, { T4 - W + 1, true }, { T4 - W, false },
	{ T4 - 1, true }, { T4 - B, true }, { T4 - B, false },
	/* 39: a jump that clears the whole ring */
	{ T5, true }, { T4, false }, { T5 - 1, true }, { T5 - W + 1, true },
	{ T5 - W, false }, { T5 + 1, true }, { T5 - R, false },
	/* 46: a jump beyond any narrow tag, then generations around it */
	{ T6, true }, { T6 - R, false }, { T6 - W + 1, true },
	{ T6 - 1, true }, { T6 + R, true }, { T6, false }, { T6 + R - 1, true },
	/* 53: the limit */
	{ L - 1, true }, { L, false }, { L - 1, false }, { L + 1, false },
	{ UINT64_MAX, false }, { L - 2, true }, { L - W, true },
	{ L - W - 1, false }, { L - 1 - R, false },
};

START_TEST(test_table)
{
	struct replay_window w;

	replay_init(&w);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		ck_assert_msg(replay_check_and_mark(&w, steps[i].counter, L) ==
				      steps[i].accept,
			      "step %zu: counter %llu should be %s", i,
			      (unsigned long long)steps[i].counter,
			      steps[i].accept ? "accepted" : "rejected");
}
END_TEST

START_TEST(test_fresh_and_small_limit)
{
	struct replay_window w;

	memset(&w, 0, sizeof(w)); /* all-zero is a fresh window too */
	ck_assert(!replay_check_and_mark(&w, 5000, 100));
	ck_assert(replay_check_and_mark(&w, 99, 100));
	ck_assert(!replay_check_and_mark(&w, 100, 100));
	ck_assert(!replay_check_and_mark(&w, 99, 100));
	ck_assert(replay_check_and_mark(&w, 0, 100));

	/* A first counter far from 0 pushes 0 out at once. */
	replay_init(&w);
	ck_assert(replay_check_and_mark(&w, W, L));
	ck_assert(!replay_check_and_mark(&w, 0, L));
	ck_assert(replay_check_and_mark(&w, 1, L));
}
END_TEST

/* The reference: counters seen, in [base, base + span), plus top. */
struct model {
	uint64_t base, span, top;
	bool any;
	uint8_t *seen;
};

static bool model_check(struct model *m, uint64_t c, uint64_t limit)
{
	if (c >= limit || (m->any && m->top >= W && c <= m->top - W))
		return false;
	if (c < m->base || c - m->base >= m->span)
		ck_abort_msg("counter %llu outside the model",
			     (unsigned long long)c);
	if (m->seen[c - m->base])
		return false;
	m->seen[c - m->base] = 1;
	if (!m->any || c > m->top)
		m->top = c;
	m->any = true;
	return true;
}

/* Counters scattered around a position that slides forward, sometimes
 * jumping; repeats and too-old ones come up often. */
static void random_run(uint64_t base, uint64_t seed)
{
	const uint64_t span = 4000000, n = 300000;
	struct model m = { .base = base, .span = span };
	struct replay_window w;
	uint64_t s = seed, pos = 0, accepted = 0;

	m.seen = calloc(span, 1);
	ck_assert_ptr_nonnull(m.seen);
	replay_init(&w);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = rnd_below(&s, W + 600), c;
		bool got, want;

		pos += rnd_below(&s, 2000) ? 1 : rnd_below(&s, 3 * R);
		if (rnd_below(&s, 4))
			c = pos + off / 8;
		else
			c = pos >= off ? pos - off : pos;
		c = base + c % span;
		if (rnd_below(&s, 1000) == 0)
			c = L + rnd_below(&s, 3); /* at or past the limit */
		got = replay_check_and_mark(&w, c, L);
		want = model_check(&m, c, L);
		if (got != want)
			ck_abort_msg("step %llu counter %llu: got %d",
				     (unsigned long long)i,
				     (unsigned long long)c, got);
		accepted += got;
	}
	ck_assert_uint_gt(accepted, n / 4);
	free(m.seen);
}

START_TEST(test_random_model)
{
	random_run(0, 0x9e3779b97f4a7c15ull);
	random_run(L - 4000000, 0x2545f4914f6cdd1dull);
}
END_TEST

/* Stress: every thread offers the same counters [0, n), each in its own
 * order where no counter moves more than disp positions. */
struct worker {
	struct replay_window *w;
	pthread_barrier_t *barrier; /* NULL: free running */
	uint64_t *order, n, chunk;
	uint8_t *accepted;
};

static void *worker_run(void *arg)
{
	struct worker *wk = arg;

	for (uint64_t i = 0; i < wk->n; i++) {
		uint64_t c = wk->order[i];

		if (wk->barrier && i % wk->chunk == 0)
			pthread_barrier_wait(wk->barrier);
		if (replay_check_and_mark(wk->w, c, L))
			wk->accepted[c]++;
	}
	return NULL;
}

/* Shuffles within blocks of disp starting at a random offset, so each
 * counter stays less than disp away from its place. */
static void local_shuffle(uint64_t *order, uint64_t n, uint64_t disp,
			  uint64_t *s)
{
	uint64_t start = 0, next = rnd_below(s, disp) + 1;

	for (uint64_t i = 0; i < n; i++)
		order[i] = i;
	while (start < n) {
		uint64_t end = next < n ? next : n;

		for (uint64_t i = end - 1; i > start; i--) {
			uint64_t j = start + rnd_below(s, i - start + 1);
			uint64_t t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		start = end;
		next = end + disp;
	}
}

enum { THREADS = 4 };

/* Returns how many counters were accepted once; fails on any accepted
 * twice. */
static uint64_t stress(uint64_t n, uint64_t disp, uint64_t chunk,
		       uint64_t seed)
{
	struct replay_window w;
	pthread_barrier_t barrier;
	pthread_t tid[THREADS];
	struct worker wk[THREADS];
	uint64_t s = seed, once = 0;

	replay_init(&w);
	ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, THREADS), 0);
	for (int t = 0; t < THREADS; t++) {
		wk[t] = (struct worker){ .w = &w, .n = n, .chunk = chunk,
					 .barrier = chunk ? &barrier : NULL };
		wk[t].order = malloc(n * sizeof(*wk[t].order));
		wk[t].accepted = calloc(n, 1);
		ck_assert(wk[t].order && wk[t].accepted);
		local_shuffle(wk[t].order, n, disp, &s);
	}
	for (int t = 0; t < THREADS; t++)
		ck_assert_int_eq(
			pthread_create(&tid[t], NULL, worker_run, &wk[t]), 0);
	for (int t = 0; t < THREADS; t++)
		ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
	for (uint64_t c = 0; c < n; c++) {
		unsigned int total = 0;

		for (int t = 0; t < THREADS; t++)
			total += wk[t].accepted[c];
		if (total > 1)
			ck_abort_msg("counter %llu accepted %u times",
				     (unsigned long long)c, total);
		once += total;
	}
	for (int t = 0; t < THREADS; t++) {
		free(wk[t].order);
		free(wk[t].accepted);
	}
	pthread_barrier_destroy(&barrier);
	return once;
}

/* A barrier every chunk positions keeps all threads within chunk of each
 * other, so top never gets more than chunk + 2 * disp < W ahead of a counter
 * still being offered: none may be pushed out, all must be accepted once. */
START_TEST(test_threads_in_window)
{
	const uint64_t n = 1000000;

	ck_assert_uint_lt(1024 + 2 * 512, W);
	ck_assert_uint_eq(stress(n, 512, 1024, 0x1234567ull), n);
	ck_assert_uint_eq(stress(n, 2 * B, 256, 0x7654321ull), n);
}
END_TEST

/* Free running with reordering wider than the window: counters may fall
 * out, but none may be accepted twice. */
START_TEST(test_threads_free)
{
	const uint64_t n = 1000000;
	uint64_t once = stress(n, W + W / 2, 0, 0xabcdefull);

	ck_assert_uint_gt(once, 0);
	ck_assert_uint_le(once, n);
}
END_TEST

/* Edge race: one sender offers 0, 1, 2, ... in order (each newer than top,
 * so each must be accepted) while the others replay counters it has
 * already had accepted, mostly right at the window's trailing edge, where
 * the sender keeps recycling words under the replayers' feet. A replay must
 * never be accepted, and must never leave a mark that costs the sender a
 * counter. */
struct edge {
	struct replay_window w;
	_Atomic uint64_t done; /* counters the sender has had accepted */
	_Atomic bool stop;
	uint64_t n, accepted;
};

struct replayer {
	struct edge *e;
	uint64_t seed, accepted;
};

static void *edge_sender(void *arg)
{
	struct edge *e = arg;

	for (uint64_t c = 0; c < e->n; c++) {
		e->accepted += replay_check_and_mark(&e->w, c, L);
		atomic_store_explicit(&e->done, c + 1, memory_order_release);
	}
	atomic_store(&e->stop, true);
	return NULL;
}

static void *edge_replayer(void *arg)
{
	struct replayer *r = arg;
	struct edge *e = r->e;
	uint64_t s = r->seed;

	while (!atomic_load(&e->stop)) {
		uint64_t done = atomic_load_explicit(&e->done,
						     memory_order_acquire);
		uint64_t back = rnd_below(&s, 8) ? W - 16 + rnd_below(&s, 32)
						 : rnd_below(&s, W);

		if (back < done)
			r->accepted += replay_check_and_mark(&e->w,
							     done - 1 - back,
							     L);
	}
	return NULL;
}

START_TEST(test_threads_edge)
{
	struct edge e = { .n = 1000000 };
	struct replayer rep[THREADS - 1];
	pthread_t sender, tid[THREADS - 1];

	replay_init(&e.w);
	atomic_init(&e.done, 0);
	atomic_init(&e.stop, false);
	ck_assert_int_eq(pthread_create(&sender, NULL, edge_sender, &e), 0);
	for (int t = 0; t < THREADS - 1; t++) {
		rep[t] = (struct replayer){ .e = &e, .seed = 0x51ed27ull + t };
		ck_assert_int_eq(pthread_create(&tid[t], NULL, edge_replayer,
						&rep[t]), 0);
	}
	ck_assert_int_eq(pthread_join(sender, NULL), 0);
	for (int t = 0; t < THREADS - 1; t++) {
		ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
		ck_assert_uint_eq(rep[t].accepted, 0);
	}
	ck_assert_uint_eq(e.accepted, e.n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_fresh_and_small_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("random");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);
	tc = tcase_create("threads");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_threads_in_window);
	tcase_add_test(tc, test_threads_free);
	tcase_add_test(tc, test_threads_edge);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
