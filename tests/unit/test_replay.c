#include "crypto/replay.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/messages.h"

/* Hot loops test with if () ck_abort_msg(): every passing ck_assert is a
 * write to Check's pipe, too slow for hundreds of thousands of checks. */

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

static const struct step steps[] = {
	/* 0 */ { 0, true }, { 0, false }, { 1, true }, { 1, false },
	/* 4: out of order inside the window */
	{ 9, true }, { 8, true }, { 7, true }, { 7, false }, { 2, true },
	/* 9: top = 10000; the edge is top - W + 1 */
	{ 10000, true }, { 10000 - W + 1, true }, { 10000 - W, false },
	{ 10000 - W + 1, false }, { 9999, true }, { 10000 - W + 2, true },
	{ 7000, true }, { 7000, false }, { 9, false }, { 10000, false },
	/* 19: one word forward: the old edge falls out */
	{ 10000 + B, true }, { 10000 - W + 2, false },
	{ 10000 + B - W + 1, true }, { 10000 + B - W, false },
	{ 10000 + 1, true }, { 10000 + B - 1, true },
	/* 25: a hundred words forward, landing mid-word */
	{ 10008 + 100 * B + 3, true }, { 10811 - W, false },
	{ 10811 - W + 1, true }, { 7000, false }, { 7001, true },
	{ 10811 - 1, true },
	/* 31: exactly one ring forward: same word, next generation */
	{ 10811 + R, true }, { 10811, false }, { 10811 + R - W + 1, true },
	{ 10811 + R - W, false }, { 10811 + R - 1, true },
	{ 10811 + R - B, true },
	/* 37: jump that clears the whole ring */
	{ 1000000, true }, { 10811 + R, false }, { 999999, true },
	{ 1000000 - W + 1, true }, { 1000000 - W, false }, { 1000001, true },
	{ 1000000 - R, false },
	/* 44: a jump far beyond any narrow tag, then generations below it */
	{ (1ull << 40) + 5, true }, { (1ull << 40) + 5 - R, false },
	{ (1ull << 40) + 5 - W + 1, true }, { (1ull << 40) + 4, true },
	{ (1ull << 40) + 5 + R, true }, { (1ull << 40) + 5, false },
	/* 50: the limit */
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
	ck_assert(replay_check_and_mark(&w, 5000, 100) == false);
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
	const uint64_t n = 300000;

	ck_assert_uint_lt(1024 + 2 * 512, W);
	ck_assert_uint_eq(stress(n, 512, 1024, 0x1234567ull), n);
	ck_assert_uint_eq(stress(n, 2 * B, 256, 0x7654321ull), n);
}
END_TEST

/* Free running with reordering wider than the window: counters may fall
 * out, but none may be accepted twice. */
START_TEST(test_threads_free)
{
	const uint64_t n = 300000;
	uint64_t once = stress(n, W + W / 2, 0, 0xabcdefull);

	ck_assert_uint_gt(once, 0);
	ck_assert_uint_le(once, n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("table");
	SRunner *sr;
	int failed;

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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
