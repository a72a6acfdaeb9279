#include "src/test_clock.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef RINGVPN_TEST_CLOCK
uint64_t test_clock_scale(const char *value, char *note, size_t note_len)
{
	char *end;
	long v;

	if (!value)
		return 1;
	v = strtol(value, &end, 10);
	if (*value && !*end && v >= 1 && v <= TEST_CLOCK_MAX_SCALE) {
		snprintf(note, note_len, "test clock: every protocol timer "
			 "runs %ld times fast (RINGVPN_TEST_CLOCK_SCALE)", v);
		return (uint64_t)v;
	}
	snprintf(note, note_len, "RINGVPN_TEST_CLOCK_SCALE=%.16s is not 1 to "
		 "%d: ignored", value, TEST_CLOCK_MAX_SCALE);
	return 1;
}
#else
uint64_t test_clock_scale(const char *value, char *note, size_t note_len)
{
	if (value)
		snprintf(note, note_len, "RINGVPN_TEST_CLOCK_SCALE is ignored: "
			 "this build has no test clock (configure "
			 "--enable-test-clock)");
	return 1;
}
#endif
