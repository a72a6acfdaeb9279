/* A data-path worker: one thread, one io_uring, one TUN queue, one UDP
 * socket (all owned here, touched by nothing else).
 *
 *   TUN read -> AllowedIPs -> encrypt in place -> UDP send -> TUN read
 *   UDP recv -> decrypt in place -> source check -> TUN write -> UDP recv
 *
 * Every buffer has a home operation and returns to it when its packet is
 * done, so a fixed number of reads stays in flight and nothing is
 * allocated per packet. Handshake messages and packets that wait for a
 * session go to the control thread through `out`; the control thread's
 * datagrams arrive through `in`, announced on `event_fd`. */
#ifndef RINGVPN_SRC_WORKER_H
#define RINGVPN_SRC_WORKER_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "src/msg_ring.h"

struct tunnel;
struct epoch_reader;
struct worker_buf;

struct worker_stats {
	_Atomic uint64_t tun_rx, tun_tx, udp_rx, udp_tx, drops;
};

struct worker {
	unsigned id;
	struct tunnel *tn;
	struct epoch_reader *reader;
	struct io_uring ring;
	int tun_fd;     /* owned by tun_device; used only here */
	int udp_fd;
	int event_fd;   /* control -> worker wake-up */
	uint64_t event_val;
	pthread_t thread;
	bool started;
	struct worker_buf *bufs;
	unsigned n_bufs;
	unsigned *spare;  /* free list of buffers for control's sends */
	unsigned n_spare;
	struct msg_ring *in;  /* control -> worker */
	struct msg_ring *out; /* worker -> control */
	bool out_pushed;      /* wake the control thread after this batch */
	struct worker_stats stats;
};

/* Sets up the ring, socket buffers and queues; the UDP socket is already
 * bound by the tunnel. */
int worker_init(struct worker *w, struct tunnel *tn, unsigned id,
		int tun_fd, int udp_fd);
int worker_start(struct worker *w);
/* Wakes the worker (after tn->stopping was set or a message was queued). */
void worker_wake(struct worker *w);
void worker_join(struct worker *w);
void worker_destroy(struct worker *w);

#endif
