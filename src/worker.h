/* A data-path worker: one thread, one io_uring, one TUN queue, one UDP
 * socket (all owned here, touched by nothing else).
 *
 *   TUN read -> split (TSO/USO) -> AllowedIPs -> encrypt in place
 *            -> one UDP_SEGMENT sendmsg per run            (worker_tx.c)
 *   UDP recv (GRO) -> decrypt in place -> source check
 *            -> coalesce (GRO rules) -> TUN write          (worker_rx.c)
 *
 * Packets of one flow are read from one TUN queue (the kernel steers by
 * flow hash) and arrive on one socket of the SO_REUSEPORT group (hash of
 * the 4-tuple), so they stay on one worker and leave in order.
 *
 * Handshake messages and packets that wait for a session go to the
 * control thread through `out`; the control thread's datagrams arrive
 * through `in`, announced on `event_fd`.
 *
 * A worker sees the interface only through its struct datapath
 * (src/datapath.h): device, epoch, clock, MTU, wake-up and stop flag. */
#ifndef RINGVPN_SRC_WORKER_H
#define RINGVPN_SRC_WORKER_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "src/buf_pool.h"
#include "src/index_stack.h"
#include "src/log.h"
#include "src/msg_ring.h"

struct datapath;
struct epoch_reader;
struct worker;
struct tx_area;
struct tw_area;
struct spare_buf;

/* One writer each (the worker); read by the control thread for `show`. */
struct worker_stats {
	_Atomic uint64_t tun_rx;	/* frames read (a super-packet is one) */
	_Atomic uint64_t tun_tx;	/* frames written */
	_Atomic uint64_t udp_rx;	/* datagrams received */
	_Atomic uint64_t udp_tx;	/* datagrams sent */
	_Atomic uint64_t sends;		/* sendmsg calls (GSO: many datagrams) */
	_Atomic uint64_t recvs;		/* recvmsg completions (GRO: many) */
	_Atomic uint64_t drops;
	/* Of the drops: datagrams that were no message for us (not
	 * WireGuard, unknown session, forged, replayed). */
	_Atomic uint64_t bad;
};

/* A FIFO of read buffers (and their results) that wait for an output
 * area. */
struct bid_fifo {
	uint32_t *bid;
	int32_t *res;
	unsigned int cap, head, tail;
};

/* Where an intake puts what one buffer becomes (encrypted datagrams, or
 * decrypted frames) while it is sent or written. */
struct intake_area {
	uint8_t *data;
	unsigned int pending;	/* sends or writes in flight */
};

/* A worker's intake, one for TUN reads and one for UDP receives:
 * the kernel fills bufs; each buffer read waits in `waiting`, in order,
 * for a free output area; process() turns it into that area's output,
 * or drops it, and the buffer goes back to the kernel. An area is free
 * again when the last of its sends or writes completes. */
struct intake {
	struct buf_pool bufs;
	struct bid_fifo waiting;	/* read, no free area yet */
	struct intake_area *areas;
	unsigned int n_areas;
	struct index_stack free_areas;	/* areas with nothing in flight */
	/* Set by the direction that owns the intake. */
	_Atomic uint64_t *read_count;	/* counts the buffers read */
	void (*process)(struct worker *w, unsigned int bid, int res);
};

struct worker {
	unsigned int id;
	const struct datapath *dp;
	struct epoch_reader *reader;
	struct io_uring ring;
	bool ring_ready;
	unsigned int features;	/* enum datapath_feature in use */
	int tun_fd;		/* owned by tun_device; used only here */
	int udp_fd;
	int event_fd;		/* control -> worker wake-up */
	uint64_t event_val;
	pthread_t thread;
	bool started;

	/* TUN -> UDP: TUN reads into tx areas */
	struct intake tx_in;
	struct tx_area *tx;

	/* UDP -> TUN: UDP receives into tw areas */
	struct intake rx_in;
	struct tw_area *tw;

	/* control -> network */
	struct spare_buf *spare;
	struct index_stack spare_free;

	struct msg_ring *in;	/* control -> worker */
	struct msg_ring *out;	/* worker -> control */
	bool out_pushed;	/* wake the control thread after this batch */
	struct worker_stats stats;
	struct log_ratelimit log_rx; /* datagrams dropped on receive */
};

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
void worker_destroy(struct worker *w);

#endif
