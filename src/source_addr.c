#include "src/source_addr.h"

#include <stdint.h>

int source_addr_enable(int fd, int family)
{
	int one = 1, ret;

	/* On a dual-stack socket IPV6_RECVPKTINFO covers IPv4 as well: its
	 * datagrams report a v4-mapped destination. */
	if (family == AF_INET6)
		ret = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
				 sizeof(one));
	else
		ret = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	return ret ? -errno : 0;
}

/* Whether cm's data, len bytes, lies within the control data. */
static bool fits(const struct msghdr *msg, const struct cmsghdr *cm,
		 size_t len)
{
	size_t off = (size_t)((const uint8_t *)cm -
			      (const uint8_t *)msg->msg_control);

	return cm->cmsg_len >= CMSG_LEN(len) &&
	       off <= msg->msg_controllen &&
	       cm->cmsg_len <= msg->msg_controllen - off;
}

/* IPV6_PKTINFO: where an IPv6 datagram, or an IPv4 one on a dual-stack
 * socket (v4-mapped), was addressed to. */
static bool from_in6(const struct msghdr *msg, const struct cmsghdr *cm,
		     struct source_addr *s)
{
	struct in6_pktinfo p;

	if (!fits(msg, cm, sizeof(p)))
		return false;
	memcpy(&p, CMSG_DATA(cm), sizeof(p));
	s->ifindex = (int)p.ipi6_ifindex;
	if (IN6_IS_ADDR_V4MAPPED(&p.ipi6_addr)) {
		s->family = AF_INET;
		memcpy(&s->addr.v4, &p.ipi6_addr.s6_addr[12], 4);
		return true;
	}
	s->family = AF_INET6;
	s->addr.v6 = p.ipi6_addr;
	return !IN6_IS_ADDR_UNSPECIFIED(&p.ipi6_addr);
}

/* IP_PKTINFO: ipi_addr is the header's destination, the address the peer
 * contacted (ipi_spec_dst is the one a reply would take by the routes,
 * exactly what we do not want). */
static bool from_in4(const struct msghdr *msg, const struct cmsghdr *cm,
		     struct source_addr *s)
{
	struct in_pktinfo p;

	if (!fits(msg, cm, sizeof(p)))
		return false;
	memcpy(&p, CMSG_DATA(cm), sizeof(p));
	s->family = AF_INET;
	s->addr.v4 = p.ipi_addr;
	s->ifindex = p.ipi_ifindex;
	return true;
}

static bool is_in6(const struct cmsghdr *cm)
{
	return cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO;
}

static bool is_in4(const struct cmsghdr *cm)
{
	return cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO;
}

bool source_addr_from_cmsg(const struct msghdr *msg,
			   const struct cmsghdr *cm, struct source_addr *out)
{
	struct source_addr s;
	bool ok = false;

	memset(&s, 0, sizeof(s)); /* compared whole by peer.c */
	if (is_in6(cm))
		ok = from_in6(msg, cm, &s);
	else if (is_in4(cm))
		ok = from_in4(msg, cm, &s);
	/* Not ours to send from: unspecified, broadcast or multicast
	 * destinations (the kernel refuses them as a source every time). */
	if (!ok || (s.family == AF_INET &&
		    (s.addr.v4.s_addr == htonl(INADDR_ANY) ||
		     s.addr.v4.s_addr == htonl(INADDR_BROADCAST) ||
		     IN_MULTICAST(ntohl(s.addr.v4.s_addr)))) ||
	    (s.family == AF_INET6 && IN6_IS_ADDR_MULTICAST(&s.addr.v6)))
		return false;
	*out = s;
	return true;
}

size_t source_addr_put_cmsg(const struct source_addr *src, void *buf,
			    size_t room)
{
	struct cmsghdr *cm = buf;
	struct in6_pktinfo p6;
	struct in_pktinfo p4;
	size_t len;

	if (src->family == AF_INET)
		len = sizeof(p4);
	else if (src->family == AF_INET6)
		len = sizeof(p6);
	else
		return 0;
	if (room < CMSG_SPACE(len))
		return 0;
	memset(buf, 0, CMSG_SPACE(len));
	cm->cmsg_len = CMSG_LEN(len);
	if (src->family == AF_INET) {
		memset(&p4, 0, sizeof(p4));
		p4.ipi_spec_dst = src->addr.v4; /* the source to use */
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		memcpy(CMSG_DATA(cm), &p4, sizeof(p4));
	} else {
		memset(&p6, 0, sizeof(p6));
		p6.ipi6_addr = src->addr.v6;
		if (IN6_IS_ADDR_LINKLOCAL(&src->addr.v6))
			p6.ipi6_ifindex = (unsigned int)src->ifindex;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		memcpy(CMSG_DATA(cm), &p6, sizeof(p6));
	}
	return CMSG_SPACE(len);
}

bool source_addr_strip_cmsg(struct msghdr *msg)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (!is_in6(cm) && !is_in4(cm))
			continue;
		msg->msg_controllen = (size_t)((uint8_t *)cm -
					       (uint8_t *)msg->msg_control);
		if (!msg->msg_controllen)
			msg->msg_control = NULL;
		return true;
	}
	return false;
}
