/* RINGVPN_TEST_CLOCK_SCALE (src/test_clock.c) is obeyed only by a build
 * configured with --enable-test-clock; either way a value that is set is
 * said. The test suite's builds have the switch and `make distcheck`'s
 * has not, so both halves run in CI. */
#include <check.h>
#include <string.h>

#include "src/test_clock.h"
#include "tests/unit/check_main.h"

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
#ifdef RINGVPN_TEST_CLOCK
	tcase_add_test(tc, test_build_obeys_and_says_so);
#else
	tcase_add_test(tc, release_build_ignores_and_says_so);
#endif
	suite_add_tcase(s, tc);
	return run_suite(s);
}
