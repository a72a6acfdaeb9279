/* Shared by the files of netlink/ only: the request/answer transport and
 * the prefix checks. Nothing outside netlink/ includes this. */
#ifndef RINGVPN_NETLINK_INTERNAL_H
#define RINGVPN_NETLINK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#include "netlink/rtnl.h"

/* Requests are a few dozen bytes; this is MNL_SOCKET_BUFFER_SIZE's upper
 * bound as a constant, so that request buffers are not VLAs. */
#define NL_MSG_SIZE 8192

/* Starts a request in buf (NL_MSG_SIZE bytes): NLM_F_REQUEST | flags. */
struct nlmsghdr *netlink_msg_start(void *buf, uint16_t type, uint16_t flags);

/* Sends nlh under a fresh sequence number and feeds every message of the
 * answer to cb (NULL for none) until the ACK or NLMSG_DONE. Requests that
 * are not dumps must carry NLM_F_ACK, or there is no end to wait for. The
 * answer is always read to its end, even after cb fails, so that the
 * socket is clean for the next request. Returns the kernel's -errno, cb's
 * first failure, or -EAGAIN when the kernel marked a dump inconsistent
 * (NLM_F_DUMP_INTR: the objects changed while it was being dumped). */
int netlink_request(struct netlink *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data);

/* Every dump in this module asks "is there an object like this one?".
 * match gets each message with the struct netlink_find as its data, sets
 * found (and priority, for rules) and returns MNL_CB_OK, or MNL_CB_ERROR
 * with errno set for a malformed message. */
struct netlink_find {
	mnl_cb_t match;
	const void *want;
	bool found;
	uint32_t priority;
};

/* Runs the dump request req, again from the start when it came back
 * inconsistent. A dump the kernel ends with -ENOENT (a routing table that
 * does not exist) finds nothing. */
int netlink_find(struct netlink *nl, struct nlmsghdr *req,
		 struct netlink_find *f);

/* 4 or 16, or 0 for a family other than AF_INET and AF_INET6. */
size_t netlink_addr_len(int family);
/* -EAFNOSUPPORT or -EINVAL unless family and prefixlen fit together. */
int netlink_check_prefix(int family, uint8_t prefixlen);
/* Whether the first prefixlen bits of a and b agree. */
bool netlink_prefix_equal(const void *a, const void *b, uint8_t prefixlen);
/* Whether addr has no bit set past prefixlen. */
bool netlink_host_bits_clear(const void *addr, size_t len, uint8_t prefixlen);

/* The rules' half of netlink_table_in_use(). */
int netlink_rule_table_in_use(struct netlink *nl, uint32_t table,
			      bool *in_use);

#endif
