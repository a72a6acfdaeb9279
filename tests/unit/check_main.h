/* The one main() shape every Check test program shares. */
#ifndef RINGVPN_TESTS_CHECK_MAIN_H
#define RINGVPN_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

/* Runs the suite and turns its result into an exit status. */
static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
