/* A set of equal buffers that the kernel fills on a worker's behalf, and
 * the reads (read or recvmsg on one fd) that fill them.
 *
 * With a provided buffer ring (kernel 5.19+) the kernel picks a free
 * buffer for each completion of one multishot request, so one request
 * serves many packets; giving a buffer back is two stores, no system
 * call. Without one (the kernel refused it, or it is turned off) every
 * buffer gets a single-shot request of its own, at most `depth` at a
 * time. The caller never asks which: it arms the reads, takes each
 * completion's buffer (identified by its index, "bid"), and gives the
 * buffer back when the packet in it is done; buf_pool_is_ring() only
 * says which mode is in use.
 *
 * Ownership: one worker, on its own ring. A buffer is the caller's from
 * buf_pool_complete() until buf_pool_recycle(), the kernel's otherwise.
 * Nothing here logs; errors are -errno. */
#ifndef RINGVPN_SRC_BUF_POOL_H
#define RINGVPN_SRC_BUF_POOL_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "src/worker/index_stack.h"

enum buf_pool_kind {
	BUF_POOL_READ,		/* read(2): the buffer is the data */
	BUF_POOL_RECVMSG,	/* recvmsg(2): payload, source address, cmsgs */
};

/* How a pool's buffers are filled. */
struct buf_pool_reads {
	enum buf_pool_kind kind;
	int fd;
	size_t len;		/* most bytes one read returns (its payload) */
	int bgid;		/* buffer group for ring mode; -1: plain only */
	unsigned int depth;	/* plain mode: requests in flight at most */
	uint64_t user_data;	/* of each request; plain mode adds the bid */
};

struct buf_pool_msg;

struct buf_pool {
	struct io_uring *ring;
	struct buf_pool_reads reads;
	uint8_t *mem;		/* count * size bytes */
	size_t size;
	unsigned int count;	/* a power of two in ring mode */
	unsigned int in_flight;	/* requests the kernel holds */
	unsigned int held;	/* buffers the caller holds */
	/* Ring mode. */
	struct io_uring_buf_ring *br;
	size_t br_bytes;
	struct msghdr recv_layout; /* recvmsg: name and control room */
	/* Plain mode. */
	struct index_stack free;   /* buffers with no request */
	struct buf_pool_msg *msgs; /* recvmsg: one msghdr a buffer */
};

/* Allocates count buffers for reads->len bytes each. With reads->bgid >=
 * 0 tries ring mode (buffer group bgid of ring) and falls back to plain
 * mode if the kernel refuses; -ENOMEM if neither can be had. Arms
 * nothing yet. */
int buf_pool_init(struct buf_pool *p, struct io_uring *ring,
		  unsigned int count, const struct buf_pool_reads *reads);
void buf_pool_destroy(struct buf_pool *p);

static inline bool buf_pool_is_ring(const struct buf_pool *p)
{
	return p->br != NULL;
}

static inline uint8_t *buf_pool_buf(const struct buf_pool *p,
				    unsigned int bid)
{
	return p->mem + (size_t)bid * p->size;
}

/* Puts requests in flight up to what the mode keeps: one multishot
 * request while the kernel has a buffer to fill, or one request per free
 * buffer up to depth. */
void buf_pool_arm(struct buf_pool *p);

/* Takes a completion of one of p's requests. false: it carries no buffer
 * (-ENOBUFS and the like; the caller arms again). true: bid is now the
 * caller's, res says what it holds: the bytes read (a recvmsg: as
 * buf_pool_recv reads them), or < 0 when there is no packet in it. */
bool buf_pool_complete(struct buf_pool *p, const struct io_uring_cqe *cqe,
		       unsigned int *bid, int *res);

/* Gives bid back to the kernel and arms again as buf_pool_arm does. */
void buf_pool_recycle(struct buf_pool *p, unsigned int bid);

/* What a receive left in a buffer, wherever the mode put it. */
struct buf_pool_recv {
	uint8_t *payload;
	size_t len;
	const void *name;	/* the source address */
	socklen_t name_len;
	/* msg_control and msg_controllen only: walk it with CMSG_FIRSTHDR
	 * and CMSG_NXTHDR. */
	struct msghdr control;
};

/* A BUF_POOL_RECVMSG pool's buffer bid, completed with res >= 0: false
 * when the datagram was truncated or the result does not parse. */
bool buf_pool_recv(struct buf_pool *p, unsigned int bid, int res,
		   struct buf_pool_recv *r);

#endif
