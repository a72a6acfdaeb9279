/* buf_pool (src/worker/buf_pool.h) against the real kernel, in both of its
 * modes: reads from a pipe and receives on a loopback UDP socket, with a
 * provided buffer ring and multishot requests where the kernel has them,
 * and with one single-shot request per buffer as the fallback. The
 * caller's side is the same in every test: arm, complete, recycle.
 * Also the index stack every pool and worker area list uses. Exits 77
 * (skipped) when io_uring is not available. */
#include "src/worker/buf_pool.h"
#include "src/worker/index_stack.h"
#include "src/worker/uring.h"
#include "tests/unit/check_main.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TAG ((uint64_t)7 << 32)
#define BGID 5

static struct io_uring ring;

static void ring_setup(void)
{
	ck_assert_int_eq(io_uring_queue_init(64, &ring, 0), 0);
}

static void ring_teardown(void)
{
	io_uring_queue_exit(&ring);
}

/* Whether the kernel has the multishot request the pool would use. */
static bool kernel_has(int opcode)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&ring);
	bool ok = probe && io_uring_opcode_supported(probe, opcode);

	if (probe)
		io_uring_free_probe(probe);
	return ok;
}

/* The next completion of the pool's requests (all carry TAG). */
static void next_cqe(struct io_uring_cqe *out)
{
	struct io_uring_cqe *cqe;

	ck_assert_int_ge(io_uring_submit(&ring), 0);
	ck_assert_int_eq(io_uring_wait_cqe(&ring, &cqe), 0);
	ck_assert_uint_eq(cqe->user_data >> 32, TAG >> 32);
	*out = *cqe;
	io_uring_cqe_seen(&ring, cqe);
}

/* Completes one request that must carry a buffer with len bytes. */
static unsigned int complete_one(struct buf_pool *p, int len)
{
	struct io_uring_cqe cqe;
	unsigned int bid;
	int res;

	next_cqe(&cqe);
	ck_assert(buf_pool_complete(p, &cqe, &bid, &res));
	ck_assert_uint_lt(bid, p->count);
	ck_assert_int_eq(res, len);
	return bid;
}

static void pipe_pool(struct buf_pool *p, int fd, unsigned int count,
		      int bgid)
{
	struct buf_pool_reads reads = {
		.kind = BUF_POOL_READ, .fd = fd, .len = 256, .bgid = bgid,
		.depth = 1, .user_data = TAG,
	};

	ck_assert_int_eq(buf_pool_init(p, &ring, count, &reads), 0);
}

static int udp_socket(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)addr, len), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	return fd;
}

static void udp_pool(struct buf_pool *p, int fd, unsigned int count,
		     int bgid)
{
	struct buf_pool_reads reads = {
		.kind = BUF_POOL_RECVMSG, .fd = fd, .len = 2048, .bgid = bgid,
		.depth = count, .user_data = TAG,
	};

	ck_assert_int_eq(buf_pool_init(p, &ring, count, &reads), 0);
}

/* One datagram's payload and source, as buf_pool_recv reads them. */
static void check_datagram(struct buf_pool *p, unsigned int bid, int res,
			   const char *text,
			   const struct sockaddr_in *from)
{
	struct buf_pool_recv r;
	struct sockaddr_in src;

	ck_assert(buf_pool_recv(p, bid, res, &r));
	ck_assert_uint_eq(r.len, strlen(text));
	ck_assert(!memcmp(r.payload, text, r.len));
	ck_assert_uint_eq(r.name_len, sizeof(src));
	memcpy(&src, r.name, sizeof(src));
	ck_assert_uint_eq(src.sin_port, from->sin_port);
	ck_assert_uint_eq(src.sin_addr.s_addr, from->sin_addr.s_addr);
}

static void send_text(int fd, const struct sockaddr_in *to, const char *t)
{
	ck_assert_int_eq(sendto(fd, t, strlen(t), 0,
				(const struct sockaddr *)to, sizeof(*to)),
			 (ssize_t)strlen(t));
}

START_TEST(index_stack_order)
{
	struct index_stack s;

	ck_assert_int_eq(index_stack_init(&s, 3), 0);
	ck_assert_uint_eq(index_stack_peek(&s), 0);
	ck_assert_uint_eq(index_stack_pop(&s), 0);
	ck_assert_uint_eq(index_stack_pop(&s), 1);
	index_stack_push(&s, 0);
	ck_assert_uint_eq(index_stack_pop(&s), 0);
	ck_assert_uint_eq(index_stack_pop(&s), 2);
	ck_assert(index_stack_empty(&s));
	index_stack_push(&s, 2);
	ck_assert(!index_stack_empty(&s));
	index_stack_destroy(&s);
	ck_assert_ptr_null(s.slot);
}
END_TEST

/* Plain mode, depth 1: one read at a time, whatever the buffer count
 * (the TUN queue's case). */
START_TEST(plain_read_one_at_a_time)
{
	struct buf_pool p;
	unsigned int bid;
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	pipe_pool(&p, fds[0], 4, -1);
	ck_assert(!buf_pool_is_ring(&p));
	buf_pool_arm(&p);
	buf_pool_arm(&p);
	ck_assert_uint_eq(p.in_flight, 1);
	ck_assert_int_eq(write(fds[1], "abc", 3), 3);
	bid = complete_one(&p, 3);
	ck_assert(!memcmp(buf_pool_buf(&p, bid), "abc", 3));
	ck_assert_uint_eq(p.in_flight, 0);
	buf_pool_recycle(&p, bid);
	ck_assert_uint_eq(p.in_flight, 1);
	buf_pool_destroy(&p);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* A read of nothing (end of file) holds no packet. */
START_TEST(plain_read_of_nothing)
{
	struct io_uring_cqe cqe;
	struct buf_pool p;
	unsigned int bid;
	int fds[2], res;

	ck_assert_int_eq(pipe(fds), 0);
	pipe_pool(&p, fds[0], 2, -1);
	buf_pool_arm(&p);
	close(fds[1]);
	next_cqe(&cqe);
	ck_assert(buf_pool_complete(&p, &cqe, &bid, &res));
	ck_assert_int_lt(res, 0);
	buf_pool_recycle(&p, bid);
	buf_pool_destroy(&p);
	close(fds[0]);
}
END_TEST

/* Ring mode: one multishot read serves several reads, each in a buffer
 * of the kernel's choosing. */
START_TEST(ring_read_multishot)
{
	struct buf_pool p;
	unsigned int a, b;
	int fds[2];

	if (!kernel_has(IORING_OP_READ_MULTISHOT))
		return; /* the plain tests cover this kernel */
	ck_assert_int_eq(pipe(fds), 0);
	pipe_pool(&p, fds[0], 4, BGID);
	ck_assert(buf_pool_is_ring(&p));
	buf_pool_arm(&p);
	ck_assert_int_eq(write(fds[1], "first", 5), 5);
	a = complete_one(&p, 5);
	ck_assert_int_eq(write(fds[1], "second", 6), 6);
	b = complete_one(&p, 6);
	ck_assert_uint_ne(a, b);
	ck_assert(!memcmp(buf_pool_buf(&p, a), "first", 5));
	ck_assert(!memcmp(buf_pool_buf(&p, b), "second", 6));
	ck_assert_uint_eq(p.in_flight, 1);
	buf_pool_recycle(&p, a);
	buf_pool_recycle(&p, b);
	buf_pool_destroy(&p);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* A buffer ring the kernel refuses (its size is no power of two) falls
 * back to plain mode, which works. */
START_TEST(refused_ring_falls_back)
{
	struct buf_pool p;
	unsigned int bid;
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	pipe_pool(&p, fds[0], 3, BGID);
	ck_assert(!buf_pool_is_ring(&p));
	buf_pool_arm(&p);
	ck_assert_int_eq(write(fds[1], "xy", 2), 2);
	bid = complete_one(&p, 2);
	buf_pool_recycle(&p, bid);
	buf_pool_destroy(&p);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* Plain mode: a recvmsg on every buffer; payload and source address
 * come back through buf_pool_recv. */
START_TEST(plain_recv)
{
	struct sockaddr_in a_addr, b_addr;
	int a = udp_socket(&a_addr), b = udp_socket(&b_addr);
	struct buf_pool p;
	unsigned int bid;

	udp_pool(&p, a, 4, -1);
	ck_assert(!buf_pool_is_ring(&p));
	buf_pool_arm(&p);
	ck_assert_uint_eq(p.in_flight, 4);
	send_text(b, &a_addr, "hello");
	bid = complete_one(&p, 5);
	check_datagram(&p, bid, 5, "hello", &b_addr);
	buf_pool_recycle(&p, bid);
	ck_assert_uint_eq(p.in_flight, 4);
	buf_pool_destroy(&p);
	close(a);
	close(b);
}
END_TEST

/* An empty datagram is a packet (of 0 bytes) in plain mode. */
START_TEST(plain_recv_empty)
{
	struct sockaddr_in a_addr, b_addr;
	int a = udp_socket(&a_addr), b = udp_socket(&b_addr);
	struct buf_pool p;
	unsigned int bid;

	udp_pool(&p, a, 2, -1);
	buf_pool_arm(&p);
	send_text(b, &a_addr, "");
	bid = complete_one(&p, 0);
	check_datagram(&p, bid, 0, "", &b_addr);
	buf_pool_recycle(&p, bid);
	buf_pool_destroy(&p);
	close(a);
	close(b);
}
END_TEST

/* A datagram larger than the buffer is truncated, and refused. */
START_TEST(plain_recv_truncated)
{
	struct sockaddr_in a_addr, b_addr;
	int a = udp_socket(&a_addr), b = udp_socket(&b_addr);
	static char big[4096];
	struct io_uring_cqe cqe;
	struct buf_pool_recv r;
	struct buf_pool p;
	unsigned int bid;
	int res;

	udp_pool(&p, a, 2, -1);
	buf_pool_arm(&p);
	memset(big, 'x', sizeof(big) - 1);
	send_text(b, &a_addr, big);
	next_cqe(&cqe);
	ck_assert(buf_pool_complete(&p, &cqe, &bid, &res));
	ck_assert(!buf_pool_recv(&p, bid, res, &r));
	buf_pool_recycle(&p, bid);
	buf_pool_destroy(&p);
	close(a);
	close(b);
}
END_TEST

/* Ring mode: one multishot receive. When every buffer is the caller's,
 * the request ends (-ENOBUFS, no buffer) and is not armed again until a
 * buffer comes back; then the waiting datagram arrives. */
START_TEST(ring_recv_until_buffers_run_out)
{
	struct sockaddr_in a_addr, b_addr;
	int a = udp_socket(&a_addr), b = udp_socket(&b_addr);
	struct io_uring_cqe cqe;
	struct buf_pool p;
	unsigned int x, y, z;
	int res, res_x;

	/* Multishot recvmsg came with Linux 6.0, as did SEND_ZC. */
	if (!kernel_has(IORING_OP_SEND_ZC))
		return;
	udp_pool(&p, a, 2, BGID);
	ck_assert(buf_pool_is_ring(&p));
	buf_pool_arm(&p);
	send_text(b, &a_addr, "one");
	next_cqe(&cqe);
	ck_assert(cqe.flags & IORING_CQE_F_MORE);
	ck_assert(buf_pool_complete(&p, &cqe, &x, &res_x));
	send_text(b, &a_addr, "two");
	next_cqe(&cqe);
	ck_assert(buf_pool_complete(&p, &cqe, &y, &res));
	ck_assert_uint_ne(x, y);
	check_datagram(&p, x, res_x, "one", &b_addr);
	check_datagram(&p, y, res, "two", &b_addr);
	send_text(b, &a_addr, "three");
	next_cqe(&cqe);
	ck_assert(!buf_pool_complete(&p, &cqe, &z, &res));
	ck_assert_int_eq(cqe.res, -ENOBUFS);
	buf_pool_arm(&p);
	ck_assert_uint_eq(p.in_flight, 0);
	buf_pool_recycle(&p, x);
	ck_assert_uint_eq(p.in_flight, 1);
	next_cqe(&cqe);
	ck_assert(buf_pool_complete(&p, &cqe, &z, &res));
	check_datagram(&p, z, res, "three", &b_addr);
	buf_pool_recycle(&p, y);
	buf_pool_recycle(&p, z);
	buf_pool_destroy(&p);
	close(a);
	close(b);
}
END_TEST

static Suite *buf_pool_suite(void)
{
	Suite *s = suite_create("buf_pool");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, ring_setup, ring_teardown);
	tcase_add_test(tc, index_stack_order);
	tcase_add_test(tc, plain_read_one_at_a_time);
	tcase_add_test(tc, plain_read_of_nothing);
	tcase_add_test(tc, ring_read_multishot);
	tcase_add_test(tc, refused_ring_falls_back);
	tcase_add_test(tc, plain_recv);
	tcase_add_test(tc, plain_recv_empty);
	tcase_add_test(tc, plain_recv_truncated);
	tcase_add_test(tc, ring_recv_until_buffers_run_out);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	struct io_uring probe_ring;

	if (io_uring_queue_init(4, &probe_ring, 0))
		return 77;
	io_uring_queue_exit(&probe_ring);
	return run_suite(buf_pool_suite());
}
