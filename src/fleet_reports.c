#include "src/fleet_reports.h"

#include "src/clock.h"

bool fleet_reports_claim(struct fleet_reports *r, uint16_t slot,
			 uint64_t now)
{
	uint32_t ms = (uint32_t)(now / NS_PER_MS);
	uint32_t last = atomic_load_explicit(&r->at[slot],
					     memory_order_relaxed);

	if (!ms)
		ms = 1; /* 0 means never */
	/* Unsigned: a time another worker read a little after ours looks
	 * old, and both report, rather than holding the slot for 49 days. */
	if (last && ms - last < FLEET_REPORT_INTERVAL_MS)
		return false;
	/* Of two workers that both saw the slot free, one wins. */
	return atomic_compare_exchange_strong_explicit(
		&r->at[slot], &last, ms, memory_order_relaxed,
		memory_order_relaxed);
}
