/* The monotonic clock, and waiting on it. Real time only: the test
 * clock's faster protocol time is datapath_now's (src/worker/datapath.h),
 * which reads this one. */
#ifndef RINGVPN_SRC_CLOCK_H
#define RINGVPN_SRC_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL

/* CLOCK_MONOTONIC in nanoseconds. Inline: the data path reads it per
 * batch (share_clock). */
static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Asks done(arg) every step_ms until it says true (returns true) or
 * total_ms have passed by the clock (returns false, after one last
 * ask at the end): the sleeps are not counted, so a loaded machine,
 * whose sleeps run long, does not stretch the wait. */
bool wait_until(bool (*done)(void *), void *arg, unsigned total_ms,
		unsigned step_ms);

#endif
