/* A worker's state: struct worker and the types it is made of. Public
 * only because the tunnel holds an array of workers and the control
 * thread reads their counters and queues; everything else about the
 * worker is in worker_core_internal.h, which nothing outside it reads.
 *
 * Ownership: everything in struct worker is its thread's, but for the
 * counters and tun_gone (one writer, read by the control thread) and the
 * two message rings (one producer, one consumer each). */
#ifndef RINGVPN_SRC_WORKER_CORE_H
#define RINGVPN_SRC_WORKER_CORE_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "src/worker/buf_pool.h"
#include "src/worker/index_stack.h"
#include "src/log.h"
#include "src/worker/msg_ring.h"

struct datapath;
struct epoch_reader;
struct spare_buf;
struct tw_area;
struct tx_area;
struct worker;

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
	/* Chunks of other workers' crypto this one ran (src/worker/share.h). */
	_Atomic uint64_t helped;
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
	unsigned int pending;	/* its crypto, sends or writes in flight */
	/* While its crypto runs: the epoch its worker had announced when it
	 * read the pointers (keypairs) the crypto uses. */
	uint64_t held_epoch;
};

/* A worker's intake, one for TUN reads and one for UDP receives:
 * the kernel fills bufs; each buffer read waits in `waiting`, in order,
 * for a free output area; process() prepares it in that area (or drops
 * it) and hands the area's crypto to the crew; the areas wait in
 * `sharing`, in order, until their crypto is done, and finish() then
 * sends or writes what each holds. An area is free again when the last
 * of its sends or writes completes. */
struct intake {
	struct buf_pool bufs;
	struct bid_fifo waiting;	/* read, no free area yet */
	struct intake_area *areas;
	unsigned int n_areas;
	struct index_stack free_areas;	/* areas with nothing in flight */
	/* Areas whose crypto runs, oldest first, each with the buffer it
	 * keeps (-1: none) in res. */
	struct bid_fifo sharing;
	unsigned int slot_base;		/* board slot of area 0's job */
	bool draining;			/* in drain(): no reentry */
	/* Set by the direction that owns the intake. */
	_Atomic uint64_t *read_count;	/* counts the buffers read */
	/* true: it keeps the buffer (intake_share's held_bid) */
	bool (*process)(struct worker *w, unsigned int bid, int res);
	void (*finish)(struct worker *w, unsigned int area);
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

	/* Set by the worker when its TUN reads fail with EBADFD: the device
	 * was deleted (wherever it lives now: a move to another namespace
	 * leaves the queues working). The worker leaves its loop then; the
	 * control thread reads this and tears the tunnel down. */
	_Atomic bool tun_gone;

	struct msg_ring *in;	/* control -> worker */
	struct msg_ring *out;	/* worker -> control */
	bool out_pushed;	/* wake the control thread after this batch */
	struct worker_stats stats;
	struct log_ratelimit log_rx; /* datagrams dropped on receive */
};

#endif
