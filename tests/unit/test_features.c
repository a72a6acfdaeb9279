/* The data-path feature names: RINGVPN_DISABLE's parser and the list
 * `show` prints. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/worker/features.h"
#include "tests/unit/check_main.h"

START_TEST(test_parse_names_and_separators)
{
	unsigned int mask = 123;
	char bad[16] = "";

	ck_assert_int_eq(datapath_parse_list(NULL, &mask, bad, sizeof(bad)),
			 0);
	ck_assert_uint_eq(mask, 0);
	ck_assert_int_eq(datapath_parse_list("", &mask, bad, sizeof(bad)), 0);
	ck_assert_uint_eq(mask, 0);
	ck_assert_int_eq(datapath_parse_list("udp_gso", &mask, bad,
					     sizeof(bad)), 0);
	ck_assert_uint_eq(mask, DP_UDP_GSO);
	ck_assert_int_eq(datapath_parse_list(" tso,, uso  udp_gro,", &mask,
					     bad, sizeof(bad)), 0);
	ck_assert_uint_eq(mask, DP_TSO | DP_USO | DP_UDP_GRO);
	ck_assert_int_eq(datapath_parse_list(
		"vnet_hdr,tso,uso,udp_gso,udp_gro,multishot_recv,"
		"multishot_read,defer_taskrun,evp_aead,parallel", &mask, bad,
		sizeof(bad)), 0);
	ck_assert_uint_eq(mask, DP_ALL);
}
END_TEST

START_TEST(test_parse_refuses_unknown_words)
{
	unsigned int mask;
	char bad[8] = "";

	ck_assert_int_eq(datapath_parse_list("tso,gso", &mask, bad,
					     sizeof(bad)), -EINVAL);
	ck_assert_str_eq(bad, "gso");
	/* A prefix of a name is not the name. */
	ck_assert_int_eq(datapath_parse_list("ts", &mask, NULL, 0), -EINVAL);
	ck_assert_int_eq(datapath_parse_list("tsoo", &mask, NULL, 0),
			 -EINVAL);
	/* The word is cut to what bad holds, never overflowing it. */
	ck_assert_int_eq(datapath_parse_list("multishot_everything", &mask,
					     bad, sizeof(bad)), -EINVAL);
	ck_assert_str_eq(bad, "multish");
}
END_TEST

START_TEST(test_env_is_read)
{
	unsigned int mask;

	setenv("RINGVPN_DISABLE", "defer_taskrun", 1);
	ck_assert_int_eq(datapath_disabled_from_env(&mask, NULL, 0), 0);
	ck_assert_uint_eq(mask, DP_DEFER_TASKRUN);
	unsetenv("RINGVPN_DISABLE");
	ck_assert_int_eq(datapath_disabled_from_env(&mask, NULL, 0), 0);
	ck_assert_uint_eq(mask, 0);
}
END_TEST

START_TEST(test_string_round_trips_and_truncates)
{
	char buf[200];
	unsigned int mask;

	ck_assert_str_eq(datapath_features_string(0, buf, sizeof(buf)),
			 "none");
	datapath_features_string(DP_ALL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "vnet_hdr tso uso udp_gso udp_gro "
			      "multishot_recv multishot_read defer_taskrun "
			      "evp_aead parallel");
	ck_assert_int_eq(datapath_parse_list(buf, &mask, NULL, 0), 0);
	ck_assert_uint_eq(mask, DP_ALL);
	/* Only whole words when the buffer is short. */
	datapath_features_string(DP_VNET_HDR | DP_TSO, buf, 12);
	ck_assert_str_eq(buf, "vnet_hdr");
	datapath_features_string(DP_VNET_HDR, buf, 4);
	ck_assert_str_eq(buf, "");
}
END_TEST

static Suite *features_suite(void)
{
	Suite *s = suite_create("features");
	TCase *tc = tcase_create("features");

	tcase_add_test(tc, test_parse_names_and_separators);
	tcase_add_test(tc, test_parse_refuses_unknown_words);
	tcase_add_test(tc, test_env_is_read);
	tcase_add_test(tc, test_string_round_trips_and_truncates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(features_suite());
}
