/* Socket addresses across the dual-stack UDP socket: peers are stored as
 * plain AF_INET or AF_INET6, and mapped to ::ffff:a.b.c.d only at the
 * socket. */
#ifndef RINGVPN_SRC_SOCKADDR_H
#define RINGVPN_SRC_SOCKADDR_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

/* For sending on a socket of `family`: AF_INET into v4-mapped for an
 * AF_INET6 socket. Returns the length, or 0 if it cannot be sent there. */
static inline socklen_t sockaddr_for_socket(int family,
					    const struct sockaddr_storage *in,
					    struct sockaddr_storage *out)
{
	const struct sockaddr_in *v4 = (const void *)in;
	struct sockaddr_in6 *v6 = (void *)out;

	if (in->ss_family == family) {
		*out = *in;
		return family == AF_INET ? sizeof(struct sockaddr_in) :
					   sizeof(struct sockaddr_in6);
	}
	if (family != AF_INET6 || in->ss_family != AF_INET)
		return 0;
	memset(v6, 0, sizeof(*v6));
	v6->sin6_family = AF_INET6;
	v6->sin6_port = v4->sin_port;
	v6->sin6_addr.s6_addr[10] = 0xff;
	v6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&v6->sin6_addr.s6_addr[12], &v4->sin_addr, 4);
	return sizeof(*v6);
}

/* A received source as the peer's endpoint: v4-mapped becomes AF_INET. */
static inline socklen_t sockaddr_normalize(struct sockaddr_storage *ss,
					   socklen_t len)
{
	struct sockaddr_in6 *v6 = (void *)ss;
	struct sockaddr_in v4 = { .sin_family = AF_INET };

	if (ss->ss_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
		return len;
	v4.sin_port = v6->sin6_port;
	memcpy(&v4.sin_addr, &v6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &v4, sizeof(v4));
	return sizeof(v4);
}

/* Longest text of sockaddr_to_text: "[v6%scope]:65535". */
#define SOCKADDR_TEXT_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 10)

/* "a.b.c.d:port", or "[v6]:port" with "%scope" when it has one: the form
 * wg prints and the UAPI's endpoint= takes. A v4-mapped address is shown
 * as IPv4. out has room for SOCKADDR_TEXT_MAX bytes. */
void sockaddr_to_text(const struct sockaddr_storage *ss,
		      char out[SOCKADDR_TEXT_MAX]);

#endif
