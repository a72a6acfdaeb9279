/* What worker.c, tx.c, rx.c and core.c share: the
 * limits of the data path, the requests' codes, the layout of the output
 * areas, and the intake (core.c) both directions read through.
 * Nothing outside the worker includes this. */
#ifndef RINGVPN_SRC_WORKER_CORE_INTERNAL_H
#define RINGVPN_SRC_WORKER_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/data.h"
#include "crypto/messages.h"
#include "src/source_addr.h"
#include "src/worker/uring.h"
#include "src/worker/core.h"
#include "tun/offload.h"

struct peer;

#define RING_ENTRIES 256
#define CQ_ENTRIES 4096	 /* many sends complete per submission */
#define CQE_BATCH 128

#define BGID_TUN 1
#define BGID_UDP 2

/* TUN side: a read holds a whole frame (vnet header + 64 KiB). */
#define TUN_BUFS 16
#define TUN_BUF_SIZE (TUN_VNET_HDR_LEN + 65535)

/* Board slots (src/worker/share.h) of the two intakes' areas' jobs. */
#define SLOT_TX 0
#define SLOT_RX TX_AREAS

/* A tx area takes one frame's segments, each encrypted in place behind
 * its 16-byte header: up to TX_MAX_SEGMENTS of them (a TCP MSS below
 * ~128 bytes would need more; such a super-packet is dropped). */
#define TX_AREAS 8
#define TX_MAX_SEGMENTS 512
#define TX_AREA_SIZE (192 * 1024)

/* The kernel's limits for one UDP_SEGMENT send: 64 segments on older
 * kernels (this one takes 128: we stay at the older limit), and one IP
 * datagram's length. */
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES (65535 - 8 - 40)

/* UDP side: a GRO receive holds up to 64 KiB of datagrams. */
#define UDP_BUFS 32
#define UDP_PAYLOAD_MAX 65535

/* A tw area takes one receive's decrypted, coalesced frames. Every
 * datagram shrinks by at least 32 bytes when decrypted and grows by at
 * most a 10-byte vnet header, so one area always holds one receive. */
#define TW_AREAS 8
#define TW_AREA_SIZE (66 * 1024)
#define TW_MAX_FRAMES 128 /* a receive carries at most 128 datagrams */

/* Buffers for the control thread's datagrams. */
#define SPARE_BUFS 16

enum op {
	OP_TUN_READ = 1,
	OP_UDP_SEND,	 /* index: TX_SEND_ID(tx area, send) */
	OP_UDP_RECV,
	OP_TUN_WRITE,	 /* index: tw area */
	OP_SPARE_SEND,	 /* index: spare buffer */
	OP_EVENT_READ,
};

struct spare_buf {
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage addr;
	struct source_addr source;
	bool stripped;	/* sent again without the refused source */
	union {
		char buf[SOURCE_ADDR_CMSG_SPACE];
		struct cmsghdr align;
	} control;
	uint8_t data[MSG_DATA_MAX];
};

static inline uint64_t user_data(enum op op, unsigned int index)
{
	return (uint64_t)op << 32 | index;
}

/* An OP_UDP_SEND's index: its tx area and which of the area's sends it
 * is (a refused one is sent again: tx.c). */
#define TX_SEND_ID(area, k) ((unsigned int)(k) << 8 | (area))
#define TX_SEND_AREA(id) ((id) & 0xffu)
#define TX_SEND_NUMBER(id) ((id) >> 8)
_Static_assert(TX_AREAS <= 256, "TX_SEND_ID keeps an area in 8 bits");

static inline void stat_add(_Atomic uint64_t *c, uint64_t n)
{
	/* One writer per counter: no locked instruction needed. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
			      + n, memory_order_relaxed);
}

static inline void stat_inc(_Atomic uint64_t *c)
{
	stat_add(c, 1);
}

/* core.c */
struct msg *worker_to_control(struct worker *w, enum msg_kind kind,
			      struct peer *peer);
/* kind: CTL_WANT_HANDSHAKE or CTL_REKEY_RECEIVED. */
void worker_want_handshake(struct worker *w, struct peer *peer,
			   enum msg_kind kind);
/* The kernel refused a send from src (source_addr_refused): the control
 * thread makes the peers that have it forget it. */
void worker_source_gone(struct worker *w, const struct source_addr *src);

/* A send's completion (res), for the source address in its control data,
 * the same for the data path's sends and the control thread's: one
 * refused in a way a lost source would cause (source_addr_refused) goes
 * again as it is but for the source, submitted here under user_data
 * (true: the caller waits for that one); when the resend went through,
 * the source is reported gone (worker_source_gone) and src cleared, once.
 * stripped is the send's own flag, false when it is set up. */
bool worker_send_again(struct worker *w, struct msghdr *msg, bool *stripped,
		       struct source_addr *src, int res, uint64_t user_data);

/* The intake (core.c): bufs buffers filled as reads says, and
 * n_areas output areas of area_size bytes, whose jobs are the worker's
 * board slots from slot_base. in->read_count, in->process and
 * in->finish are set by the caller. */
int intake_init(struct intake *in, struct io_uring *ring, unsigned int bufs,
		const struct buf_pool_reads *reads, unsigned int n_areas,
		size_t area_size, unsigned int slot_base);
void intake_destroy(struct intake *in);

static inline void intake_start(struct intake *in)
{
	buf_pool_arm(&in->bufs);
}

/* A completion of one of the intake's reads. */
void intake_read_done(struct worker *w, struct intake *in,
		      const struct io_uring_cqe *cqe);

/* For process(): the free area that its output goes to. */
static inline unsigned int intake_free_area(const struct intake *in)
{
	return index_stack_peek(&in->free_areas);
}

static inline uint8_t *intake_area_data(const struct intake *in,
					unsigned int area)
{
	return in->areas[area].data;
}

/* For process(): area (intake_free_area's) holds n messages (bytes in
 * all) whose crypto is to run as its job on the worker's board, in
 * chunks (src/worker/share.h): shared with the crew when it is
 * SHARE_MIN_BYTES or more, else run now. (Sharing only when work waits
 * behind the batch was tried: a TUN queue hands over one frame at a time,
 * so a sending owner almost never has a backlog, and it kept 98% of the
 * work.) The area is taken, and finish() is called once its crypto is
 * done and every earlier area has been finished: outputs leave in the
 * order the buffers came. A buffer that process() keeps (returns true
 * for, passing it as held_bid) goes back to the kernel after that
 * finish(). */
void intake_share(struct worker *w, struct intake *in, unsigned int area,
		  unsigned int n, size_t bytes, int held_bid);

/* For finish(): area's output is n sends or writes, now in flight. */
static inline void intake_area_outputs(struct intake *in, unsigned int area,
				       unsigned int n)
{
	in->areas[area].pending += n;
}

/* Finishes the areas whose crypto is done, in order, and processes the
 * buffers that waited for an area. */
void intake_poll(struct worker *w, struct intake *in);

/* Whether an area's crypto is still running on another worker. */
static inline bool intake_sharing(const struct intake *in)
{
	return in->sharing.head != in->sharing.tail;
}

/* Whether the oldest such area's crypto is done (finish it now). */
bool intake_shared_done(const struct worker *w, const struct intake *in);

/* The epoch the oldest area whose crypto runs was read under, or
 * UINT64_MAX when none runs: the most its worker may announce
 * (epoch_quiescent_held), since other workers may still use what that
 * area's crypto points to. */
uint64_t intake_held_epoch(const struct intake *in);

/* Waits (yielding) until no crypto of in's areas runs on any worker:
 * for a worker that leaves its loop while the others go on. */
void intake_wait_shared(const struct worker *w, const struct intake *in);

/* One of area's sends or writes completed. */
void intake_output_done(struct worker *w, struct intake *in, unsigned int area);

/* tx.c */
int worker_tx_init(struct worker *w);
/* id: the completed OP_UDP_SEND's TX_SEND_ID. */
void worker_tx_send_done(struct worker *w, unsigned int id, int res);
void worker_tx_destroy(struct worker *w);

/* rx.c */
int worker_rx_init(struct worker *w);
void worker_rx_write_done(struct worker *w, unsigned int area, int res);
void worker_rx_destroy(struct worker *w);

#endif
