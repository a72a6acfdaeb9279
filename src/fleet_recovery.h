/* FleetRecovery's decision (ringvpn(8), MANY GATEWAYS): data came under
 * a session index this gateway does not hold, most likely from a client
 * whose gateway died. If the index is a fleet index (the check byte
 * holds), the peers of its slot may be that client: each that is not
 * busy with us gets one handshake initiation, sent to where the data
 * came from; a standard WireGuard peer answers it and has a session with
 * this gateway at once, instead of after its own timeout (about 15 s).
 *
 * Pure policy over the device, no I/O: the caller sends, and reports
 * each initiation to the peer's timers (timers_lone_initiation_sent),
 * which is what keeps the next message from picking the peer again.
 * Control thread only. */
#ifndef RINGVPN_SRC_FLEET_RECOVERY_H
#define RINGVPN_SRC_FLEET_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

struct device;
struct peer;

/* At most this many peers of one slot get an initiation per message. */
#define FLEET_RECOVERY_MAX_PEERS 8

/* The peers to send an initiation to (at most max, into out) for data
 * under index: those of its slot that had no initiation of ours, of any
 * kind, in the last REKEY_TIMEOUT, no response of ours still waiting
 * for their first packet, and no authenticated packet in that time
 * through a session with us (such a peer is talking to us: the index is
 * stale or forged). Returns how many. */
size_t fleet_recovery_pick(struct device *dev, uint32_t index, uint64_t now,
			   struct peer **out, size_t max);

#endif
