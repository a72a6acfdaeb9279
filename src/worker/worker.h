/* A data-path worker: one thread, one io_uring, one TUN queue, one UDP
 * socket (all owned here, touched by nothing else).
 *
 *   TUN read -> split (TSO/USO) -> AllowedIPs -> nonces, headers
 *            -> seal in place (shared) -> one UDP_SEGMENT sendmsg per run
 *                                                          (tx.c)
 *   UDP recv (GRO) -> session lookup -> open in place (shared)
 *            -> replay window, source check -> coalesce (GRO rules)
 *            -> TUN write                                  (rx.c)
 *
 * Packets of one flow are read from one TUN queue (the kernel steers by
 * flow hash) and arrive on one socket of the SO_REUSEPORT group (hash of
 * the 4-tuple), so they stay on one worker, the batch's owner; only the
 * seal and open steps are shared with the other workers (share.c), and
 * the owner sends and writes the batches in the order it read them.
 *
 * Handshake messages and packets that wait for a session go to the
 * control thread through `out`; the control thread's datagrams arrive
 * through `in`, announced on `event_fd`.
 *
 * A worker sees the interface only through its struct datapath
 * (src/worker/datapath.h): device, epoch, clock, MTU, wake-up and stop flag.
 *
 * The files, from the top: worker.c (the thread: its ring, the event
 * loop, start and stop), tx.c and rx.c (the two directions), core.c
 * (what both directions use: the intake, messages to the control
 * thread), share.c (the crypto shared between workers). struct worker is
 * in core.h; what the worker's files share is in core_internal.h. */
#ifndef RINGVPN_SRC_WORKER_H
#define RINGVPN_SRC_WORKER_H

#include "src/worker/core.h"

struct datapath;

/* Sets up the ring, buffers and queues with the features in dp->allowed
 * that the kernel has (w->features says which); the UDP socket is already
 * bound by the tunnel. The ring is enabled by the worker thread itself
 * (SINGLE_ISSUER binds it to its submitter). dp must outlive the worker. */
int worker_init(struct worker *w, const struct datapath *dp, unsigned int id,
		int tun_fd, int udp_fd);
int worker_start(struct worker *w);
/* Wakes the worker (after dp->stopping was set or a message was queued). */
void worker_wake(struct worker *w);
void worker_join(struct worker *w);
/* Whether the worker found its TUN device deleted (control thread). */
static inline bool worker_tun_gone(const struct worker *w)
{
	return atomic_load(&w->tun_gone);
}
void worker_destroy(struct worker *w);

#endif
