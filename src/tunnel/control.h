/* The control thread's work on a running tunnel: handshakes and cookies
 * handed over by the workers (all public-key crypto happens here), the
 * timers, staged packets, and the datagrams it sends through a worker. */
#ifndef RINGVPN_SRC_CONTROL_H
#define RINGVPN_SRC_CONTROL_H

#include <stdint.h>

struct tunnel;

/* Log lines name a peer by the first SHORT_KEY_LEN characters of its
 * public key in base64. */
#define SHORT_KEY_LEN 8
void control_short_key(char out[SHORT_KEY_LEN + 1], const uint8_t *key);

/* Drains every worker's queue to the control thread. */
void control_drain(struct tunnel *tn, uint64_t now);
/* Folds the workers' facts into the timers and acts on expired ones;
 * returns the earliest deadline (engine ns), or 0 if none. */
uint64_t control_tick(struct tunnel *tn, uint64_t now);

#endif
