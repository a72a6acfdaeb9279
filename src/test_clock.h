/* RINGVPN_TEST_CLOCK_SCALE: a test's way to run every protocol timer
 * (rekeying, keepalives, the initiation limit, the rate limiter, the
 * cookie secret) N times fast, to see in seconds what takes minutes.
 *
 * It changes the protocol, so a daemon that users run must never obey a
 * variable that happens to be in its environment: only a build
 * configured with --enable-test-clock (the test suite's) reads it, and
 * either way a value that is set is said at `up`. */
#ifndef RINGVPN_SRC_TEST_CLOCK_H
#define RINGVPN_SRC_TEST_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define TEST_CLOCK_MAX_SCALE 1000

/* The scale for the variable's value (NULL when unset): 1 unless this is
 * a test build and value is 1 to TEST_CLOCK_MAX_SCALE. When value is set,
 * note gets one line for the log saying what was made of it. */
uint64_t test_clock_scale(const char *value, char *note, size_t note_len);

#endif
