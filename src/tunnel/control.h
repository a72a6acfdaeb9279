/* The control thread's work on a running tunnel: handshakes and cookies
 * handed over by the workers (all public-key crypto happens here), the
 * timers, staged packets, and the datagrams it sends through a worker. */
#ifndef RINGVPN_SRC_CONTROL_H
#define RINGVPN_SRC_CONTROL_H

#include <stdint.h>

struct tunnel;

/* Drains every worker's queue to the control thread. */
void control_drain(struct tunnel *tn, uint64_t now);
/* Folds the workers' facts into the timers and acts on expired ones;
 * returns the earliest deadline (engine ns), or 0 if none. */
uint64_t control_tick(struct tunnel *tn, uint64_t now);

#endif
