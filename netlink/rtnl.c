/* The socket and the request/answer transport every other file of
 * netlink/ builds on.
 *
 * One request is in flight at a time. Its answer is read to the end (the
 * ACK, an error, or NLMSG_DONE) before the next request goes out, because
 * the kernel refuses a new dump with -EBUSY while an earlier one on the
 * same socket is unfinished. Should a request still be abandoned (a recv()
 * error), datagrams answering it are recognised by their sequence number
 * and dropped while waiting for the next answer. */
#include "netlink/rtnl.h"
#include "netlink/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/netlink.h>

/* libmnl's MNL_SOCKET_DUMP_SIZE (1.0.5): the kernel sizes dump datagrams
 * after the largest buffer recvmsg() was given, up to 32 KiB, and a
 * smaller buffer would truncate them. */
#define NL_RECV_SIZE 32768
/* A dump is retried this often when objects keep changing under it. */
#define NL_DUMP_TRIES 5

int netlink_open(struct netlink *nl)
{
	int one = 1, ret;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		netlink_close(nl);
		return ret;
	}
	/* With strict checking the kernel applies the filters our dump
	 * requests carry (RTA_TABLE, ifa_index). Kernels before 4.20 lack it
	 * and dump everything; every dump callback filters again anyway. */
	mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one,
			      sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void netlink_close(struct netlink *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

struct nlmsghdr *netlink_msg_start(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

/* What the callbacks of one answer share. */
struct answer {
	mnl_cb_t cb;
	void *data;
	int err;		/* cb's first failure; cb is not called after */
	bool interrupted;	/* some message carried NLM_F_DUMP_INTR */
};

static int answer_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct answer *a = data;
	int ret;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		a->interrupted = true;
	if (!a->cb || a->err)
		return MNL_CB_OK;
	errno = 0;
	ret = a->cb(nlh, a->data);
	if (ret < MNL_CB_STOP)
		a->err = errno ? -errno : -EPROTO;
	else if (ret == MNL_CB_STOP)
		a->cb = NULL;
	/* Keep reading: the rest of a dump must still be drained. */
	return MNL_CB_OK;
}

static int answer_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!err->error)
		return MNL_CB_STOP;
	errno = err->error < 0 ? -err->error : err->error;
	return MNL_CB_ERROR;
}

/* A dump that fails part-way (say, the table it was filtered on does not
 * exist) ends with NLMSG_DONE carrying the -errno. libmnl 1.0.4 ignores
 * that payload and would pass a failed dump off as an empty one. */
static int answer_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct answer *a = data;
	int32_t err;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		a->interrupted = true;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(err))
		return MNL_CB_STOP;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err >= 0)
		return MNL_CB_STOP;
	errno = -err;
	return MNL_CB_ERROR;
}

/* The kernel never mixes answers to different requests in one datagram,
 * so its first message tells whose it is. */
static bool is_answer(const void *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = buf;

	return mnl_nlmsg_ok(nlh, (int)len) && nlh->nlmsg_seq == seq;
}

static int send_request(struct netlink *nl, struct nlmsghdr *nlh)
{
	ssize_t n;

	do
		nlh->nlmsg_seq = ++nl->seq;
	while (!nlh->nlmsg_seq);
	do
		n = mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static int recv_answer(struct netlink *nl, struct answer *a)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = answer_error_cb,
		[NLMSG_DONE] = answer_done_cb,
	};
	char buf[NL_RECV_SIZE];
	ssize_t n;
	int ret;

	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!is_answer(buf, (size_t)n, nl->seq))
			continue;
		ret = mnl_cb_run2(buf, (size_t)n, nl->seq, nl->portid,
				  answer_data_cb, a, ctl, NLMSG_MIN_TYPE);
		if (ret < MNL_CB_STOP)
			return errno ? -errno : -EPROTO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

int netlink_request(struct netlink *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data)
{
	struct answer a = { .cb = cb, .data = data };
	int ret;

	if (!nl->sock)
		return -EBADF;
	ret = send_request(nl, nlh);
	if (!ret)
		ret = recv_answer(nl, &a);
	if (ret)
		return ret;
	if (a.err)
		return a.err;
	return a.interrupted ? -EAGAIN : 0;
}

int netlink_find(struct netlink *nl, struct nlmsghdr *req,
		 struct netlink_find *f)
{
	int ret = -EAGAIN;

	for (int i = 0; i < NL_DUMP_TRIES && ret == -EAGAIN; i++) {
		f->found = false;
		f->priority = 0;
		ret = netlink_request(nl, req, f->match, f);
	}
	if (ret == -ENOENT) {
		f->found = false;
		return 0;
	}
	return ret;
}

size_t netlink_addr_len(int family)
{
	switch (family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

int netlink_check_prefix(int family, uint8_t prefixlen)
{
	size_t len = netlink_addr_len(family);

	if (!len)
		return -EAFNOSUPPORT;
	return prefixlen <= len * 8 ? 0 : -EINVAL;
}

bool netlink_prefix_equal(const void *a, const void *b, uint8_t prefixlen)
{
	const uint8_t *x = a, *y = b;
	size_t whole = prefixlen / 8;
	unsigned int rest = prefixlen % 8;

	if (memcmp(x, y, whole))
		return false;
	if (!rest)
		return true;
	return !((x[whole] ^ y[whole]) & (uint8_t)(0xff << (8 - rest)));
}

bool netlink_host_bits_clear(const void *addr, size_t len, uint8_t prefixlen)
{
	const uint8_t *p = addr;
	uint8_t host;

	for (size_t i = 0; i < len; i++) {
		size_t bit = i * 8;

		if (bit >= prefixlen)
			host = 0xff;
		else if (bit + 8 <= prefixlen)
			host = 0;
		else
			host = (uint8_t)(0xff >> (prefixlen - bit));
		if (p[i] & host)
			return false;
	}
	return true;
}
