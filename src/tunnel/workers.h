/* The tunnel's workers, one per TUN queue: how many, and starting and
 * stopping them all (at bring-up, tear-down, and around a listen-port
 * change, since each worker owns its socket). Control thread only. */
#ifndef RINGVPN_SRC_TUNNEL_WORKERS_H
#define RINGVPN_SRC_TUNNEL_WORKERS_H

#include <stddef.h>

#include "src/config.h"
#include "src/tunnel/state.h"

/* Threads =, or one per online CPU, at most TUN_MAX_QUEUES. */
unsigned tunnel_worker_count(const struct config *cfg);
/* Sets up worker i on TUN queue i and UDP socket fds[i] (taken: fds[i]
 * becomes -1), then starts them all. On failure err says which. */
int tunnel_workers_start(struct tunnel *tn, int *fds, char *err,
			 size_t err_len);
/* Stops, joins and tears down every worker (dp.stopping stays set). */
void tunnel_workers_stop(struct tunnel *tn);

#endif
