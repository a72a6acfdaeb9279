/* What the workers see of the interface they serve: the one face of the
 * tunnel on the data path, so that a worker needs neither the tunnel nor
 * its config, UAPI server or netlink socket.
 *
 * Ownership: the tunnel embeds it and fills it before the first worker
 * starts; the device and the epoch it points to are the tunnel's too.
 * While workers run, only `stopping` changes (the control thread sets
 * it) and the crew's boards (their own rules); every other field is
 * read-only to everyone. */
#ifndef RINGVPN_SRC_DATAPATH_H
#define RINGVPN_SRC_DATAPATH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "src/clock.h"

struct device;
struct epoch;
struct share_crew;

struct datapath {
	const char *ifname;	/* for log lines */
	/* Peers, keypairs, index table and AllowedIPs, read without locks:
	 * what the control thread unlinks waits for epoch (worker i is
	 * epoch->readers[i]). */
	struct device *dev;
	struct epoch *epoch;
	uint64_t clock_scale;	/* src/test_clock.h: 1 but in tests */
	unsigned int mtu;
	int sock_family;	/* of the UDP sockets: AF_INET6 or AF_INET */
	unsigned int allowed;	/* enum datapath_feature a worker may try */
	int control_event;	/* eventfd: workers -> control thread */
	/* Every worker's board of shared crypto (src/worker/share.h):
	 * worker i writes board i's jobs, any worker claims them. */
	struct share_crew *crew;
	_Atomic bool stopping;	/* workers leave their loop */
};

/* Engine time: monotonic nanoseconds, sped up by the test clock scale.
 * The clock the protocol and the timers are given as input. */
static inline uint64_t datapath_now(const struct datapath *dp)
{
	return monotonic_ns() * dp->clock_scale;
}

#endif
