#include "src/worker/buf_pool.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "src/worker/uring.h"

/* The kernel fills our buffers through io_uring, where memcheck cannot
 * see it write: completions say how much is now defined. Free (a few
 * instructions that do nothing) outside valgrind. */
#ifdef HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#define mark_defined(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define mark_defined(p, n) ((void)(p), (void)(n))
#endif

/* Room for a receive's source address, rounded up so that the control
 * messages after it in a ring buffer stay 8-byte aligned, and for its
 * control messages (UDP_GRO's segment size, 24 bytes, and the
 * destination, IPV6_PKTINFO's 40 or IP_PKTINFO's 32), with room to
 * spare. */
#define NAME_LEN ((socklen_t)((sizeof(struct sockaddr_in6) + 7) & ~7ul))
#define CONTROL_LEN 128

/* A plain-mode recvmsg's own header, address and control room. */
struct buf_pool_msg {
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage addr;
	union {
		char buf[CONTROL_LEN];
		struct cmsghdr align;
	} control;
};

/* Ring-mode receive buffers start with the kernel's header, the address
 * and the control messages (struct io_uring_recvmsg_out's layout). */
static size_t buffer_size(const struct buf_pool_reads *reads, bool ring)
{
	size_t size = reads->len;

	if (ring && reads->kind == BUF_POOL_RECVMSG)
		size += sizeof(struct io_uring_recvmsg_out) + NAME_LEN +
			CONTROL_LEN;
	return (size + 63) & ~(size_t)63;
}

static int register_ring(struct buf_pool *p)
{
	struct io_uring_buf_reg reg;
	int ret;

	/* The ring must be page aligned: mmap gives exactly that. */
	p->br_bytes = p->count * sizeof(struct io_uring_buf);
	p->br = mmap(NULL, p->br_bytes, PROT_READ | PROT_WRITE,
		     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (p->br == MAP_FAILED) {
		p->br = NULL;
		return -ENOMEM;
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)p->br;
	reg.ring_entries = p->count;
	reg.bgid = (uint16_t)p->reads.bgid;
	ret = io_uring_register_buf_ring(p->ring, &reg, 0);
	if (ret) {
		munmap(p->br, p->br_bytes);
		p->br = NULL;
		return ret;
	}
	io_uring_buf_ring_init(p->br);
	for (unsigned int i = 0; i < p->count; i++)
		io_uring_buf_ring_add(p->br, buf_pool_buf(p, i),
				      (unsigned int)p->size, (uint16_t)i,
				      io_uring_buf_ring_mask(p->count),
				      (int)i);
	io_uring_buf_ring_advance(p->br, (int)p->count);
	p->recv_layout.msg_namelen = NAME_LEN;
	p->recv_layout.msg_controllen = CONTROL_LEN;
	return 0;
}

static int setup(struct buf_pool *p, struct io_uring *ring,
		 unsigned int count, const struct buf_pool_reads *reads,
		 bool ring_mode)
{
	memset(p, 0, sizeof(*p));
	p->ring = ring;
	p->reads = *reads;
	p->count = count;
	p->size = buffer_size(reads, ring_mode);
	p->mem = aligned_alloc(4096, ((size_t)count * p->size + 4095) &
				     ~(size_t)4095);
	if (!p->mem)
		return -ENOMEM;
	if (ring_mode)
		return register_ring(p);
	if (reads->kind == BUF_POOL_RECVMSG &&
	    !(p->msgs = calloc(count, sizeof(*p->msgs))))
		return -ENOMEM;
	return index_stack_init(&p->free, count);
}

int buf_pool_init(struct buf_pool *p, struct io_uring *ring,
		  unsigned int count, const struct buf_pool_reads *reads)
{
	if (reads->bgid >= 0) {
		if (!setup(p, ring, count, reads, true))
			return 0;
		buf_pool_destroy(p);
	}
	return setup(p, ring, count, reads, false);
}

void buf_pool_destroy(struct buf_pool *p)
{
	if (p->br) {
		if (p->ring && p->ring->ring_fd > 0)
			io_uring_unregister_buf_ring(p->ring, p->reads.bgid);
		munmap(p->br, p->br_bytes);
	}
	free(p->mem);
	free(p->msgs);
	index_stack_destroy(&p->free);
	memset(p, 0, sizeof(*p));
}

/* One multishot request while the kernel has a buffer to fill: with
 * every buffer ours it would end at once (-ENOBUFS); it is armed again
 * when one comes back. */
static void arm_ring(struct buf_pool *p)
{
	struct io_uring_sqe *sqe;

	if (p->in_flight || p->held >= p->count)
		return;
	sqe = uring_sqe(p->ring);
	if (p->reads.kind == BUF_POOL_READ)
		io_uring_prep_rw(IORING_OP_READ_MULTISHOT, sqe, p->reads.fd,
				 NULL, 0, 0);
	else
		io_uring_prep_recvmsg_multishot(sqe, p->reads.fd,
						&p->recv_layout, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = (uint16_t)p->reads.bgid;
	io_uring_sqe_set_data64(sqe, p->reads.user_data);
	p->in_flight = 1;
}

static void arm_plain(struct buf_pool *p, unsigned int bid)
{
	struct io_uring_sqe *sqe = uring_sqe(p->ring);
	struct buf_pool_msg *m;

	if (p->reads.kind == BUF_POOL_READ) {
		io_uring_prep_read(sqe, p->reads.fd, buf_pool_buf(p, bid),
				   (unsigned int)p->reads.len, 0);
	} else {
		m = &p->msgs[bid];
		memset(&m->msg, 0, sizeof(m->msg));
		m->iov.iov_base = buf_pool_buf(p, bid);
		m->iov.iov_len = p->reads.len;
		m->msg.msg_name = &m->addr;
		m->msg.msg_namelen = sizeof(m->addr);
		m->msg.msg_iov = &m->iov;
		m->msg.msg_iovlen = 1;
		m->msg.msg_control = m->control.buf;
		m->msg.msg_controllen = sizeof(m->control.buf);
		io_uring_prep_recvmsg(sqe, p->reads.fd, &m->msg, 0);
	}
	io_uring_sqe_set_data64(sqe, p->reads.user_data | bid);
	p->in_flight++;
}

void buf_pool_arm(struct buf_pool *p)
{
	if (p->br) {
		arm_ring(p);
		return;
	}
	while (p->in_flight < p->reads.depth && !index_stack_empty(&p->free))
		arm_plain(p, index_stack_pop(&p->free));
}

/* The kernel wrote what res says (a plain recvmsg also its header and
 * the address); a result of 0 that holds no packet (a read of nothing,
 * a multishot receive without even its header) becomes -ENODATA, while
 * a plain receive of 0 bytes is an empty datagram. */
static int result(struct buf_pool *p, unsigned int bid, int res)
{
	if (res < 0)
		return res;
	if (!res && (p->br || p->reads.kind == BUF_POOL_READ))
		return -ENODATA;
	mark_defined(buf_pool_buf(p, bid), res);
	if (p->msgs)
		mark_defined(&p->msgs[bid], sizeof(p->msgs[bid]));
	return res;
}

bool buf_pool_complete(struct buf_pool *p, const struct io_uring_cqe *cqe,
		       unsigned int *bid, int *res)
{
	bool ring = p->br;

	if (!ring || !(cqe->flags & IORING_CQE_F_MORE))
		p->in_flight--;
	if (ring && !(cqe->flags & IORING_CQE_F_BUFFER))
		return false;
	*bid = ring ? cqe->flags >> IORING_CQE_BUFFER_SHIFT :
		      (unsigned int)cqe->user_data;
	p->held++;
	*res = result(p, *bid, cqe->res);
	return true;
}

void buf_pool_recycle(struct buf_pool *p, unsigned int bid)
{
	p->held--;
	if (!p->br) {
		index_stack_push(&p->free, bid);
	} else {
		io_uring_buf_ring_add(p->br, buf_pool_buf(p, bid),
				      (unsigned int)p->size, (uint16_t)bid,
				      io_uring_buf_ring_mask(p->count), 0);
		/* Publishes the entry: a release store of the ring's tail. */
		io_uring_buf_ring_advance(p->br, 1);
	}
	buf_pool_arm(p);
}

static bool recv_ring(struct buf_pool *p, uint8_t *buf, int res,
		      struct buf_pool_recv *r)
{
	struct msghdr *t = &p->recv_layout;
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, res, t);

	if (!o || (o->flags & MSG_TRUNC))
		return false;
	r->payload = io_uring_recvmsg_payload(o, t);
	r->len = io_uring_recvmsg_payload_length(o, res, t);
	r->name = io_uring_recvmsg_name(o);
	r->name_len = o->namelen < t->msg_namelen ? o->namelen :
						    t->msg_namelen;
	r->control.msg_control = (uint8_t *)r->name + t->msg_namelen;
	r->control.msg_controllen = o->controllen;
	return true;
}

bool buf_pool_recv(struct buf_pool *p, unsigned int bid, int res,
		   struct buf_pool_recv *r)
{
	struct buf_pool_msg *m;

	memset(&r->control, 0, sizeof(r->control));
	if (p->br)
		return recv_ring(p, buf_pool_buf(p, bid), res, r);
	m = &p->msgs[bid];
	if (m->msg.msg_flags & MSG_TRUNC)
		return false;
	r->payload = buf_pool_buf(p, bid);
	r->len = (size_t)res;
	r->name = &m->addr;
	r->name_len = m->msg.msg_namelen;
	r->control.msg_control = m->msg.msg_control;
	r->control.msg_controllen = m->msg.msg_controllen;
	return true;
}
