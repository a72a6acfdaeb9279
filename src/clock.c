#include "src/clock.h"

bool wait_until(bool (*done)(void *), void *arg, unsigned total_ms,
		unsigned step_ms)
{
	uint64_t deadline = monotonic_ns() + total_ms * NS_PER_MS;
	uint64_t step = step_ms * NS_PER_MS;

	for (;;) {
		uint64_t now, nap;
		struct timespec ts;

		if (done(arg))
			return true;
		now = monotonic_ns();
		if (now >= deadline)
			return false;
		/* Not past the deadline: the last ask is at it. */
		nap = deadline - now < step ? deadline - now : step;
		ts.tv_sec = (time_t)(nap / 1000000000ULL);
		ts.tv_nsec = (long)(nap % 1000000000ULL);
		nanosleep(&ts, NULL);
	}
}
