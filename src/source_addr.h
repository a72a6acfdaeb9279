/* The local end of a peer's path, kept as the kernel module keeps it: the
 * address (and interface) that the peer's last authenticated packet was
 * addressed to. What we send the peer leaves from that address (IP_PKTINFO
 * or IPV6_PKTINFO in sendmsg's control data, beside UDP_SEGMENT), so that
 * a host with several addresses answers from the one the peer contacted:
 * NATs and firewalls in front of the peer drop anything else, and the
 * peer would roam to an address it never configured.
 *
 * Learned from recvmsg's control data: the sockets ask for each
 * datagram's destination (source_addr_enable). When the address goes
 * away the kernel refuses sends from it (source_addr_refused): the send
 * goes again without it (source_addr_strip_cmsg), from the routing
 * table's choice, and the peer forgets it until its next packet.
 *
 * Plain data, no state: peer.h stores one beside the endpoint, under the
 * endpoint's seqlock, so the two are always read and written together. */
#ifndef RINGVPN_SRC_SOURCE_ADDR_H
#define RINGVPN_SRC_SOURCE_ADDR_H

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

struct source_addr {
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	int ifindex;	/* where it arrived; 0: unknown */
	sa_family_t family; /* AF_INET, AF_INET6, or 0: none, the routing
			     * table chooses */
};

/* Room for the one control message source_addr_put_cmsg writes. */
#define SOURCE_ADDR_CMSG_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

/* Asks the kernel to report every datagram's destination on fd, a UDP
 * socket of family (AF_INET6, dual stack: for IPv4 too; or AF_INET). */
int source_addr_enable(int fd, int family);

/* The destination that control message cm of msg (as CMSG_FIRSTHDR and
 * CMSG_NXTHDR walk it) names, if it is IP_PKTINFO or IPV6_PKTINFO (a
 * v4-mapped address becomes AF_INET): true and *out; false, *out
 * untouched, for any other message, one too short for its type or
 * reaching past msg_controllen, or the unspecified address. */
bool source_addr_from_cmsg(const struct msghdr *msg,
			   const struct cmsghdr *cm, struct source_addr *out);

/* Writes the control message that makes sendmsg send from src at buf
 * (room bytes, aligned for a struct cmsghdr): returns the bytes it
 * takes (CMSG_SPACE), or 0 when src is none or room is too small. The
 * interface goes with the address only for an IPv6 link-local one,
 * which means nothing without it: for any other, naming it would send
 * out of it whatever the routes say. */
size_t source_addr_put_cmsg(const struct source_addr *src, void *buf,
			    size_t room);

/* Removes the source message from msg's control data, where
 * source_addr_put_cmsg put it last; true when there was one. The other
 * messages (UDP_SEGMENT) stay: the same send, from the routing table's
 * choice. */
bool source_addr_strip_cmsg(struct msghdr *msg);

/* A send refused in a way a source address no longer ours (deleted, or
 * not usable to reach the peer) would cause: IPv6 says EINVAL, IPv4
 * ENETUNREACH (or EINVAL), an address not yet usable EADDRNOTAVAIL, a
 * link-local one whose interface went ENODEV. Other causes give the
 * same errors (a path MTU, no route): the resend without the source
 * tells them apart. err is -errno. */
static inline bool source_addr_refused(int err)
{
	return err == -EINVAL || err == -EADDRNOTAVAIL ||
	       err == -ENETUNREACH || err == -ENODEV;
}

static inline bool source_addr_equal(const struct source_addr *a,
				     const struct source_addr *b)
{
	if (a->family != b->family)
		return false;
	if (!a->family)
		return true;
	return a->ifindex == b->ifindex &&
	       !memcmp(&a->addr, &b->addr, a->family == AF_INET ?
		       sizeof(a->addr.v4) : sizeof(a->addr.v6));
}

#endif
