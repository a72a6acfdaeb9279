/* What the data path's io_uring code needs on top of liburing 2.3
 * (PLATFORM.md): an opcode its headers lack, and a submission slot that
 * is always there. */
#ifndef RINGVPN_SRC_URING_H
#define RINGVPN_SRC_URING_H

#include <liburing.h>

/* io_uring's multishot read (Linux 6.7); liburing 2.3's headers lack it. */
#ifndef IORING_OP_READ_MULTISHOT
#define IORING_OP_READ_MULTISHOT 49
#endif

/* A free submission slot: when the queue is full, what it holds is
 * submitted first. */
static inline struct io_uring_sqe *uring_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

#endif
