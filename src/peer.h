/* A configured remote peer: its handshake, cookie and session state, its
 * timers and its endpoint. Owned by the device; the control thread is the
 * only writer of everything but the keypair slots' readers and the
 * counters. */
#ifndef RINGVPN_SRC_PEER_H
#define RINGVPN_SRC_PEER_H

#include <stdint.h>
#include <sys/socket.h>

#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/keypair.h"
#include "src/timers.h"

struct device;

struct peer {
	struct device *dev;
	struct handshake handshake;
	struct cookie_maker cookie;
	struct keypairs keypairs;
	struct peer_timers timers;
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len; /* 0: no endpoint known */
	uint64_t last_handshake_wall_ns; /* for wg show; 0 = never */
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	struct peer *table_next; /* peer_table chain */
};

static inline const uint8_t *peer_public_key(const struct peer *p)
{
	return p->handshake.remote_static;
}

#endif
