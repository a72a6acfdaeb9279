/* Tests that touch network devices: they need root and /dev/net/tun, and
 * run in a network namespace of their own so they never see or change the
 * host's interfaces. Check forks per test, so each test case unshares
 * again in its fixture and starts from an empty namespace. */
#ifndef RINGVPN_TESTS_NETNS_TEST_H
#define RINGVPN_TESTS_NETNS_TEST_H

#include <sched.h>
#include <stdbool.h>
#include <unistd.h>

/* Called first in main(): false means exit 77 (skipped). */
static inline bool netns_test_possible(void)
{
	return geteuid() == 0 && access("/dev/net/tun", R_OK | W_OK) == 0 &&
	       unshare(CLONE_NEWNET) == 0;
}

#endif
