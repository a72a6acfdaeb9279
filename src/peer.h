/* A configured remote peer: its handshake, cookie and session state, its
 * timers and its endpoint. Owned by the device.
 *
 * Who writes what: the control thread owns the handshake, cookie maker,
 * keypair slots, timers and staged packets. Workers read the keypair slots
 * and the endpoint, and report what they see through the atomics below
 * (facts for the timers, counters, a wish for a handshake), never by
 * calling into the timers. */
#ifndef RINGVPN_SRC_PEER_H
#define RINGVPN_SRC_PEER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/keypair.h"
#include "src/timers.h"

struct device;

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

struct staged_packet {
	uint16_t len;
	uint8_t data[];
};

struct peer {
	struct device *dev;
	struct handshake handshake;
	struct cookie_maker cookie;
	struct keypairs keypairs;
	struct peer_timers timers;

	/* Seqlock: workers roam it, everyone reads it (peer.c). */
	_Atomic uint32_t endpoint_seq;
	atomic_flag endpoint_lock;
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len; /* 0: no endpoint known */

	_Atomic uint64_t fact[FACT_COUNT];
	uint64_t folded[FACT_COUNT]; /* control thread's copy */
	_Atomic bool want_handshake;
	_Atomic uint64_t rx_bytes;
	_Atomic uint64_t tx_bytes;

	/* Control thread only. */
	uint64_t handshakes;
	uint64_t last_handshake_wall; /* unix seconds; 0 = never */
	uint16_t persistent_keepalive;
	struct staged_packet *staged[PEER_MAX_STAGED];
	unsigned staged_head, staged_count;

	struct peer *table_next; /* peer_table chain */
};

static inline const uint8_t *peer_public_key(const struct peer *p)
{
	return p->handshake.remote_static;
}

/* Copies the endpoint out; returns its length (0 when none). */
socklen_t peer_get_endpoint(struct peer *p, struct sockaddr_storage *out);
/* Sets it if it differs; true when it changed. */
bool peer_set_endpoint(struct peer *p, const struct sockaddr *sa,
		       socklen_t len);

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
	return p->staged_count ? p->staged[p->staged_head] : NULL;
}
void peer_drop_staged(struct peer *p);

#endif
