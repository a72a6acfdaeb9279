/* A bounded single-producer single-consumer queue of fixed-size messages
 * between a worker and the control thread (one ring per direction per
 * worker). When full, the producer drops and counts: a flood of handshake
 * messages must not stall a worker. */
#ifndef RINGVPN_SRC_MSG_RING_H
#define RINGVPN_SRC_MSG_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "src/source_addr.h"

#define MSG_DATA_MAX 2048
#define MSG_RING_SLOTS 256 /* a power of two */

struct peer;
struct keypair;

enum msg_kind {
	CTL_HANDSHAKE,      /* worker -> control: a type 1-3 datagram */
	CTL_STAGE,          /* worker -> control: a packet waiting for a session */
	CTL_CONFIRM,        /* worker -> control: first data under peer's next kp */
	CTL_WANT_HANDSHAKE, /* worker -> control: sending wants a rekey */
	CTL_REKEY_RECEIVED, /* worker -> control: an old session's data came in */
	CTL_SOURCE_GONE,    /* worker -> control: a send from source was refused */
	CTL_UNKNOWN_INDEX,  /* worker -> control: data under an index we lack
			     * that may be another gateway's (FleetRecovery) */
	CTL_SEND,           /* control -> worker: send data to addr from source */
};

struct msg {
	enum msg_kind kind;
	uint16_t len;
	socklen_t addr_len;
	struct peer *peer;
	struct keypair *keypair;
	uint32_t index; /* CTL_UNKNOWN_INDEX: the receiver index */
	struct sockaddr_storage addr;
	/* The local address: a handshake message's destination, or where a
	 * CTL_SEND leaves from (family 0: the routing table's choice). */
	struct source_addr source;
	uint8_t data[MSG_DATA_MAX];
};

struct msg_ring {
	_Atomic uint32_t head; /* consumer */
	_Atomic uint32_t tail; /* producer */
	struct msg slot[MSG_RING_SLOTS];
};

/* Producer: a slot to fill, or NULL when full; then msg_ring_push. */
static inline struct msg *msg_ring_reserve(struct msg_ring *r)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	if (tail - head == MSG_RING_SLOTS)
		return NULL;
	return &r->slot[tail & (MSG_RING_SLOTS - 1)];
}

/* Release: the consumer that sees the new tail sees the slot's contents. */
static inline void msg_ring_push(struct msg_ring *r)
{
	atomic_fetch_add_explicit(&r->tail, 1, memory_order_release);
}

/* Consumer: the oldest message, or NULL; then msg_ring_pop. */
static inline struct msg *msg_ring_peek(struct msg_ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (head == tail)
		return NULL;
	return &r->slot[head & (MSG_RING_SLOTS - 1)];
}

static inline void msg_ring_pop(struct msg_ring *r)
{
	atomic_fetch_add_explicit(&r->head, 1, memory_order_release);
}

#endif
