/* FleetRecovery's gate between the workers and the control thread: data
 * under another gateway's index reaches the control thread at most once
 * per slot per FLEET_REPORT_INTERVAL_MS, however much of it comes. The
 * messages share the workers' rings with handshakes, confirmations and
 * staged packets, and a flood of one index (or the bulk data of many
 * clients after a mass failover) must not crowd those out; the control
 * thread, which initiates at most once per peer per REKEY_TIMEOUT, would
 * drop the rest anyway.
 *
 * One array for all workers, not one each: a slot is then reported once
 * per interval in all (an exchange decides races), and the memory is
 * 65536 * 4 bytes = 256 KiB per device, only with FleetRecovery on. The
 * times are milliseconds of the monotonic clock in 32 bits: they wrap
 * after 49 days, when a slot last reported a multiple of that ago may be
 * held back for one interval, which only delays its recovery.
 *
 * Lock-free, relaxed atomics: a report is a hint, ordering nothing. */
#ifndef RINGVPN_SRC_FLEET_REPORTS_H
#define RINGVPN_SRC_FLEET_REPORTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/fleet_index.h"

/* REKEY_TIMEOUT, the control thread's limit per peer. */
#define FLEET_REPORT_INTERVAL_MS 5000u

struct fleet_reports {
	_Atomic uint32_t at[FLEET_SLOTS]; /* ms; 0: never */
};

/* Zeroed memory is ready: no slot reported. */

/* Any thread: true if data of slot at now (ns) should be reported, which
 * is then recorded; false if it was within the interval. */
bool fleet_reports_claim(struct fleet_reports *r, uint16_t slot,
			 uint64_t now);

#endif
