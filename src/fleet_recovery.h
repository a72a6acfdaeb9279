/* FleetRecovery's decision (ringvpn(8), MANY GATEWAYS): data came under
 * a session index this gateway does not hold, most likely from a client
 * whose gateway died. If the index is a fleet index (the check byte
 * holds), the peers of its slot may be that client: each that is not
 * busy with us gets one handshake initiation, sent to where the data
 * came from; a standard WireGuard peer answers it and has a session with
 * this gateway at once, instead of after its own timeout (about 15 s).
 *
 * Pure policy over the device, no I/O: the caller sends, and reports
 * each initiation to the peer's timers (timers_fleet_initiation_sent),
 * which is what keeps the next message from picking the peer again.
 * Control thread only. */
#ifndef RINGVPN_SRC_FLEET_RECOVERY_H
#define RINGVPN_SRC_FLEET_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct device;
struct peer;

/* At most this many peers of one slot get an initiation per message. */
#define FLEET_RECOVERY_MAX_PEERS 8
/* Fleet recovery's initiations in all, whatever their sources: each
 * costs a Diffie-Hellman or two (~100 us) and sends 148 bytes to an
 * address a datagram named, which may be forged. 100 a second is 1% of
 * a core and 15 KB/s, and still recovers 100 clients a second after a
 * gateway dies (the rest recover over the next seconds, or by their own
 * timeout); a burst as large lets a small fleet recover at once. */
#define FLEET_RECOVERY_PER_SECOND 100
#define FLEET_RECOVERY_BURST 100

/* The peers to send an initiation to (at most max, into out) for data
 * under index: those of its slot that timers_may_send_fleet_initiation
 * allows (no fleet initiation in the last REKEY_TIMEOUT, no initiation
 * of the peer's own awaiting its retransmit), no response of ours waiting
 * for their first packet, and no authenticated packet in that time
 * through a session with us (such a peer is talking to us: the index is
 * stale or forged). Returns how many. */
size_t fleet_recovery_pick(struct device *dev, uint32_t index, uint64_t now,
			   struct peer **out, size_t max);

/* Whether one more initiation may go to `to` at now: within
 * FLEET_RECOVERY_PER_SECOND in all and within the device's ratelimiter
 * (src/ratelimiter.h) for that source; takes from both if so. The caller
 * asks only when not under load (protocol_under_load): then handshake
 * work is for sources that proved their address. */
bool fleet_recovery_may_send(struct device *dev, const struct sockaddr *to,
			     uint64_t now);

#endif
