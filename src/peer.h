/* A configured remote peer: its handshake, cookie and session state, its
 * timers and its endpoint. Owned by the device.
 *
 * Who writes what: the control thread owns the handshake, cookie maker,
 * keypair slots, timers and staged packets. Workers read the keypair slots
 * and the endpoint, and report what they see through the atomics below
 * (facts for the timers, counters, a wish for a handshake), never by
 * calling into the timers.
 *
 * Memory: a gateway holds thousands of peers, most of them idle, so what
 * only a busy peer needs lives outside the struct and exists only while
 * needed: keypairs (about 4 KiB each, mostly the replay window) while a
 * session lives, staged packets while they wait. An idle peer is the
 * struct (about 700 bytes, mostly the handshake and cookie keys) plus its
 * AllowedIPs nodes; tests/unit/test_many_peers measures it. */
#ifndef RINGVPN_SRC_PEER_H
#define RINGVPN_SRC_PEER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/keypair.h"
#include "src/fleet_slots.h"
#include "src/source_addr.h"
#include "src/timers.h"

struct device;
struct session_entry;

/* What workers saw, in engine nanoseconds (0 = never). The control thread
 * turns each advance into the timer event of the same name. */
enum peer_fact {
	FACT_DATA_SENT,
	FACT_DATA_RECEIVED,
	FACT_AUTH_SENT,
	FACT_AUTH_RECEIVED,
	FACT_COUNT,
};

#define PEER_MAX_STAGED MAX_STAGED_PACKETS

/* A packet waiting for a session, in a list: an idle peer (most of a
 * gateway's) holds no queue at all. */
struct staged_packet {
	struct staged_packet *next;
	uint16_t len;
	uint8_t data[];
};

/* Room for either family without sockaddr_storage's 128 bytes per peer. */
union peer_endpoint {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

struct peer {
	struct device *dev;
	struct handshake handshake;
	struct cookie_maker cookie;
	struct keypairs keypairs;
	struct peer_timers timers;

	/* Seqlock: workers roam it, everyone reads it (peer.c). The
	 * endpoint and the local address it reached us at (source_addr.h)
	 * are one record: read and written together. */
	_Atomic uint32_t endpoint_seq;
	atomic_flag endpoint_lock;
	union peer_endpoint endpoint;
	socklen_t endpoint_len; /* 0: no endpoint known */
	struct source_addr source;
	/* Counts changes of the endpoint itself (not of the local address),
	 * for the control thread's "endpoint changed" lines. */
	_Atomic uint32_t endpoint_moves;

	_Atomic uint64_t fact[FACT_COUNT];
	uint64_t folded[FACT_COUNT]; /* control thread's copy */
	_Atomic bool want_handshake;
	_Atomic uint64_t rx_bytes;
	_Atomic uint64_t tx_bytes;

	/* Control thread only. */
	uint64_t handshakes;
	uint64_t last_handshake_ns; /* wall clock, unix ns; 0 = never */
	uint64_t handshake_at; /* engine ns of the same; 0 = never */
	/* The Endpoint as a config file wrote it (NULL when the peer's
	 * endpoint came from elsewhere: the UAPI, roaming only): a name is
	 * looked up again (src/tunnel/reresolve.h) and SaveConfig writes it
	 * back. A UAPI endpoint= ends it. name_tried_at: engine ns of the
	 * last lookup of it. */
	char *endpoint_host, *endpoint_port;
	uint64_t name_tried_at;
	/* Taken out of the device (UAPI remove, syncconf): its memory waits
	 * for the workers to pass an epoch, and messages about it that are
	 * still queued are ignored. */
	bool removed;
	uint32_t endpoint_moves_logged; /* for "endpoint changed" lines */
	uint16_t persistent_keepalive;
	/* SessionTable's state of the peer (src/tunnel/session_table.h);
	 * NULL without one. */
	struct session_entry *session_routes;
	/* FleetRecovery (src/device_fleet.h): the peer among its slot's. */
	struct fleet_member fleet;
	struct staged_packet *staged_first, *staged_last; /* oldest first */
	unsigned staged_count; /* at most PEER_MAX_STAGED */

	struct peer *table_next; /* peer_table chain */
};

static inline const uint8_t *peer_public_key(const struct peer *p)
{
	return p->handshake.remote_static;
}

/* Copies the endpoint out, and into *src (when not NULL) the local
 * address to send to it from; returns the endpoint's length (0 when
 * none). */
socklen_t peer_get_path(struct peer *p, struct sockaddr_storage *out,
			struct source_addr *src);
static inline socklen_t peer_get_endpoint(struct peer *p,
					  struct sockaddr_storage *out)
{
	return peer_get_path(p, out, NULL);
}
/* Sets the endpoint and the local address it reached us at (src NULL,
 * none, or not of the endpoint's family: none, the routing table
 * chooses) if either differs; true when something changed. Only AF_INET
 * and AF_INET6 addresses fit (a longer len is refused). */
bool peer_set_path(struct peer *p, const struct sockaddr *sa, socklen_t len,
		   const struct source_addr *src);
/* An endpoint set by configuration: the local address is forgotten. */
static inline bool peer_set_endpoint(struct peer *p, const struct sockaddr *sa,
				     socklen_t len)
{
	return peer_set_path(p, sa, len, NULL);
}
/* Control thread: the Endpoint as written (both NULL: none), copied
 * unless it is the one the peer has. A new one was resolved by whoever
 * gives it: name_tried_at becomes now. Returns 0, or -ENOMEM with the
 * old one kept. */
int peer_set_endpoint_name(struct peer *p, const char *host,
			   const char *port, uint64_t now);
/* Forgets the local address if it is still gone (the kernel refused to
 * send from it), keeping the endpoint; true when it did. */
bool peer_forget_source(struct peer *p, const struct source_addr *gone);

/* Records a fact at time now (relaxed: only its value matters, and the
 * control thread polls). */
static inline void peer_fact(struct peer *p, enum peer_fact f, uint64_t now)
{
	atomic_store_explicit(&p->fact[f], now, memory_order_relaxed);
}

/* Staged packets (control thread): the oldest goes when full. */
int peer_stage(struct peer *p, const uint8_t *pkt, uint16_t len);
struct staged_packet *peer_unstage(struct peer *p);
static inline struct staged_packet *peer_staged_oldest(struct peer *p)
{
	return p->staged_first;
}
void peer_drop_staged(struct peer *p);

#endif
