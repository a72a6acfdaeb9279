/* What the tools that speak WireGuard to a daemon over UDP share
 * (tests/interop/engine_peer, tests/interop/hs_flood and
 * contrib/bench/rx_load): the clock, a key file, an endpoint's text, an
 * engine with our key and the daemon as its one peer, and a receive with
 * a deadline. Header only: each tool is one program of its
 * own, and none of this belongs in the daemon's library.
 *
 * Functions return 0 (or a length) or -errno and print nothing: the
 * caller says what failed, naming its option. */
#ifndef RINGVPN_TESTS_INTEROP_TOOL_UTIL_H
#define RINGVPN_TESTS_INTEROP_TOOL_UTIL_H

#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "crypto/keys.h"
#include "src/device.h"

#define NSEC_PER_SEC 1000000000ULL

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* A base64 key, alone in the file but for trailing white space: 0,
 * -errno when the file cannot be read, -EINVAL when it holds no key. */
static inline int read_key_file(uint8_t key[WG_KEY_LEN], const char *path)
{
	char text[128];
	size_t len;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
		       text[len - 1] == ' ' || text[len - 1] == '\t'))
		text[--len] = '\0';
	return key_from_base64(key, text);
}

/* IPV4:PORT or [IPV6]:PORT (an unbracketed IPv6 address takes the last
 * colon as the port's), numeric only: 0 or -EINVAL. */
static inline int parse_endpoint(const char *text, struct sockaddr_storage *ss,
				 socklen_t *len)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	/* An IPv6 address with a scope: fe80::1%eth0. */
	char host[INET6_ADDRSTRLEN + 1 + IF_NAMESIZE];
	const char *colon, *port;
	struct addrinfo *res;
	size_t hlen;

	if (text[0] == '[') {
		colon = strstr(text, "]:");
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - text - 1);
		port = colon + 2;
		text++;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - text);
		port = colon + 1;
	}
	if (!hlen || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (getaddrinfo(host, port, &hints, &res))
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* dev (device_init'ed) gets the private key in key_file and peer_b64 as
 * its one peer (*peer). On failure *what names the input at fault
 * ("key file", "peer key") or "engine". */
static inline int engine_with_peer(struct device *dev, const char *key_file,
				   const char *peer_b64, struct peer **peer,
				   const char **what)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	int ret;

	*what = "peer key";
	if (key_from_base64(pub, peer_b64))
		return -EINVAL;
	*what = "key file";
	ret = read_key_file(priv, key_file);
	if (ret)
		return ret;
	*what = "engine";
	ret = device_set_private_key(dev, priv);
	memset(priv, 0, sizeof(priv));
	return ret ? ret : device_add_peer(dev, pub, NULL, peer);
}

/* Waits until a datagram arrives on fd or `until` (now_ns) passes, and
 * reads it into buf: its length, 0 when the time is up or for a
 * transient error (EINTR, EAGAIN; ECONNREFUSED, which only a connected
 * socket sees: the daemon is not up yet), or -errno. A zero-length
 * datagram is not a timeout: it counts as 1 byte of nothing, which
 * classifies as invalid and is dropped. */
static inline long receive_until(int fd, void *buf, size_t size,
				 uint64_t until, struct sockaddr_storage *src,
				 socklen_t *src_len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t now = now_ns();
	ssize_t n;
	int ret;

	if (now >= until)
		return 0;
	ret = poll(&pfd, 1, (int)((until - now + 999999) / 1000000));
	if (ret <= 0)
		return ret < 0 && errno != EINTR ? -errno : 0;
	*src_len = sizeof(*src);
	n = recvfrom(fd, buf, size, 0, (struct sockaddr *)src, src_len);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ||
		       errno == ECONNREFUSED ? 0 : -errno;
	return n ? (long)n : 1;
}

#endif
