/* The few facts the data path reads from an inner IP packet, each after
 * checking the packet is long enough to hold it. */
#ifndef RINGVPN_SRC_IP_PACKET_H
#define RINGVPN_SRC_IP_PACKET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define IPV4_HEADER_LEN 20
#define IPV6_HEADER_LEN 40

/* AF_INET or AF_INET6 from the version nibble, 0 if the packet is too
 * short for its header or of another version. */
static inline int ip_family(const uint8_t *pkt, size_t len)
{
	if (len >= IPV4_HEADER_LEN && pkt[0] >> 4 == 4)
		return AF_INET;
	if (len >= IPV6_HEADER_LEN && pkt[0] >> 4 == 6)
		return AF_INET6;
	return 0;
}

/* Offsets of the source; the destination follows it directly. */
static inline const uint8_t *ip_src(const uint8_t *pkt, int family)
{
	return pkt + (family == AF_INET ? 12 : 8);
}

static inline const uint8_t *ip_dst(const uint8_t *pkt, int family)
{
	return pkt + (family == AF_INET ? 16 : 24);
}

/* The length the header claims, or 0 if it is shorter than the header or
 * longer than the len bytes we have (padding after it is fine). */
static inline size_t ip_total_len(const uint8_t *pkt, size_t len, int family)
{
	size_t total = family == AF_INET ?
		(size_t)(pkt[2] << 8 | pkt[3]) :
		IPV6_HEADER_LEN + (size_t)(pkt[4] << 8 | pkt[5]);
	size_t min = family == AF_INET ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;

	return total < min || total > len ? 0 : total;
}

#endif
