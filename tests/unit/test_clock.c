/* RINGVPN_TEST_CLOCK_SCALE (src/test_clock.c) is obeyed only by a build
 * configured with --enable-test-clock; either way a value that is set is
 * said. The test suite's builds have the switch and `make distcheck`'s
 * has not, so both halves run in CI. And the real clock's wait_until
 * (src/clock.c): done at once, done later, never done. */
#include <check.h>
#include <string.h>

#include "src/clock.h"
#include "src/test_clock.h"
#include "tests/unit/check_main.h"

struct asks {
	unsigned n, done_at; /* done from the done_at'th ask on; 0: never */
	uint64_t last; /* monotonic_ns of the last ask */
};

static bool ask(void *arg)
{
	struct asks *a = arg;

	a->last = monotonic_ns();
	return ++a->n == a->done_at;
}

START_TEST(wait_done_at_once)
{
	struct asks a = { .done_at = 1 };

	ck_assert(wait_until(ask, &a, 10000, 5));
	ck_assert_uint_eq(a.n, 1);
}
END_TEST

START_TEST(wait_done_later)
{
	struct asks a = { .done_at = 3 };

	ck_assert(wait_until(ask, &a, 10000, 1));
	ck_assert_uint_eq(a.n, 3);
}
END_TEST

/* Timed by the clock: the last ask is at the end of the whole wait. */
START_TEST(wait_never_done)
{
	struct asks a = { 0 };
	uint64_t start = monotonic_ns();

	ck_assert(!wait_until(ask, &a, 50, 5));
	ck_assert_uint_ge(a.n, 2);
	ck_assert_uint_ge(a.last - start, 50 * 1000000ULL);
}
END_TEST

START_TEST(unset_is_real_time)
{
	char note[160] = "";

	ck_assert_uint_eq(test_clock_scale(NULL, note, sizeof(note)), 1);
	ck_assert_str_eq(note, "");
}
END_TEST

#ifdef RINGVPN_TEST_CLOCK
START_TEST(test_build_obeys_and_says_so)
{
	char note[160] = "";

	ck_assert_uint_eq(test_clock_scale("30", note, sizeof(note)), 30);
	ck_assert_ptr_nonnull(strstr(note, "30 times fast"));
	ck_assert_uint_eq(test_clock_scale("1001", note, sizeof(note)), 1);
	ck_assert_ptr_nonnull(strstr(note, "ignored"));
	ck_assert_uint_eq(test_clock_scale("30x", note, sizeof(note)), 1);
	ck_assert_uint_eq(test_clock_scale("0", note, sizeof(note)), 1);
}
END_TEST
#else
START_TEST(release_build_ignores_and_says_so)
{
	char note[160] = "";

	ck_assert_uint_eq(test_clock_scale("30", note, sizeof(note)), 1);
	ck_assert_ptr_nonnull(strstr(note, "ignored"));
	ck_assert_uint_eq(test_clock_scale("1000", note, sizeof(note)), 1);
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("test_clock");
	TCase *tc = tcase_create("test_clock");

	tcase_add_test(tc, unset_is_real_time);
	tcase_add_test(tc, wait_done_at_once);
	tcase_add_test(tc, wait_done_later);
	tcase_add_test(tc, wait_never_done);
#ifdef RINGVPN_TEST_CLOCK
	tcase_add_test(tc, test_build_obeys_and_says_so);
#else
	tcase_add_test(tc, release_build_ignores_and_says_so);
#endif
	suite_add_tcase(s, tc);
	return run_suite(s);
}
