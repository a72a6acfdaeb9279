/* Link events (RTMGRP_LINK) on a socket of their own, read without
 * blocking: a link that goes down and comes up again between two looks
 * is still seen, as a look once a second would not. */
#include "netlink/rtnl.h"
#include "netlink/internal.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

/* A datagram holds a few link messages; each one is smaller than this. */
#define MONITOR_RECV_SIZE 8192

struct monitor_ctx {
	void (*cb)(int ifindex, bool up, void *arg);
	void *arg;
};

static int link_event_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct monitor_ctx *m = data;
	const struct ifinfomsg *ifm;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return MNL_CB_OK; /* not ours to judge: skipped */
	ifm = mnl_nlmsg_get_payload(nlh);
	m->cb(ifm->ifi_index, nlh->nlmsg_type == RTM_NEWLINK &&
				      (ifm->ifi_flags & IFF_UP), m->arg);
	return MNL_CB_OK;
}

int netlink_link_monitor_open(struct netlink *nl)
{
	int ret;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		netlink_close(nl);
		return ret;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	return 0;
}

int netlink_link_monitor_read(struct netlink *nl,
			      void (*cb)(int ifindex, bool up, void *arg),
			      void *arg)
{
	struct monitor_ctx m = { cb, arg };
	char buf[MONITOR_RECV_SIZE];

	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));

		if (len < 0)
			return errno == EAGAIN ? 0 : -errno;
		/* Events carry no sequence number and port 0. */
		if (mnl_cb_run(buf, (size_t)len, 0, 0, link_event_cb, &m) ==
		    MNL_CB_ERROR)
			return -errno;
	}
}
