/* WireGuard's per-peer timers (whitepaper section 6) as a pure state machine.
 *
 * There is no clock and no I/O here: every call takes the current monotonic
 * time in nanoseconds, the caller reports events as they happen, and
 * timers_expire() says which actions are due. Randomness (the handshake
 * jitter) is passed in, so the whole thing is deterministic under test.
 *
 * Not thread-safe: the owner of the peer serialises all calls (the control
 * thread, or whoever holds the peer's lock).
 */
#ifndef RINGVPN_SRC_TIMERS_H
#define RINGVPN_SRC_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/messages.h"

/* Retries of one initiation before giving up: 90 s / 5 s = 18. */
#define MAX_TIMER_HANDSHAKES (REKEY_ATTEMPT_TIME / REKEY_TIMEOUT)

struct peer_timers {
	/* Absolute deadlines in ns; 0 means not armed. A deadline that
	 * would be 0 (a simulated clock at 0) is stored as 1 instead. */
	uint64_t retransmit_handshake;
	uint64_t send_keepalive;
	uint64_t new_handshake;
	uint64_t zero_key_material;
	uint64_t persistent_keepalive;
	uint16_t persistent_keepalive_interval; /* seconds, 0 = off */
	/* Retries done in the current series of initiations. */
	unsigned handshake_attempts;
	bool need_another_keepalive;
	/* The next timers_handshake_initiated() continues the current series
	 * (it answers a retransmit) rather than starting a new one. */
	bool retry_pending;
	/* The receive path already asked for its one "last minute" rekey of
	 * the current session (see timers_claim_lastminute_handshake). */
	bool sent_lastminute_handshake;
	bool have_sent_initiation;
	uint64_t last_initiation_sent;
	/* FleetRecovery's initiations have a rate limit of their own, so
	 * that they never hold back the peer's own ones. */
	bool have_sent_fleet_initiation;
	uint64_t last_fleet_initiation;
	/* When the current series of initiations started; meaningful only
	 * while one is in progress (retransmit_handshake armed). */
	uint64_t handshake_first_attempt;
};

/* Bit flags returned by timers_expire(). When several are set, act on them
 * in this order: GIVE_UP, ZERO_KEYS, SEND_INITIATION, SEND_KEEPALIVE. */
enum timer_action {
	TIMER_SEND_INITIATION = 1,	/* (re)send a handshake initiation */
	TIMER_SEND_KEEPALIVE = 2,	/* send an empty data packet */
	TIMER_ZERO_KEYS = 4,		/* wipe keypairs and handshake */
	TIMER_GIVE_UP = 8,		/* no more retries: drop staged */
	/* With SEND_INITIATION: new_handshake fired, the peer has not
	 * answered what we sent for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT. */
	TIMER_PEER_QUIET = 16,
};

/* All timers disarmed. Does not arm the persistent keepalive even if
 * interval > 0: use timers_init(t, 0) then timers_set_persistent_keepalive()
 * to get wg's "send one keepalive right away" behaviour. */
void timers_init(struct peer_timers *t, uint16_t persistent_keepalive_interval);

/* Events, named after facts as in the kernel's timers.c. jitter_ms is a
 * uniformly random value in [0, REKEY_TIMEOUT_JITTER_MAX_MS]; larger values
 * are clamped. */

/* A non-keepalive data packet was sent. */
void timers_data_sent(struct peer_timers *t, uint64_t now, unsigned jitter_ms);
/* A non-keepalive data packet was received. */
void timers_data_received(struct peer_timers *t, uint64_t now);
/* Any authenticated packet (handshake, data or keepalive) was sent. */
void timers_any_authenticated_packet_sent(struct peer_timers *t, uint64_t now);
/* Any authenticated packet (handshake, data or keepalive) was received. */
void timers_any_authenticated_packet_received(struct peer_timers *t,
					      uint64_t now);
/* Any authenticated packet is about to be sent or was received. */
void timers_any_authenticated_packet_traversal(struct peer_timers *t,
					       uint64_t now);
/* A handshake initiation was sent. */
void timers_handshake_initiated(struct peer_timers *t, uint64_t now,
				unsigned jitter_ms);
/* FleetRecovery sent an initiation, to an address that need not be the
 * endpoint: it counts only for timers_may_send_fleet_initiation, is not
 * retransmitted (a retransmit to the endpoint would only replace it),
 * and arms zero_key_material so that its ephemeral secret is wiped. */
void timers_fleet_initiation_sent(struct peer_timers *t, uint64_t now);
/* A handshake completed: response consumed (initiator), or first data on a
 * new responder keypair (key confirmation). */
void timers_handshake_complete(struct peer_timers *t, uint64_t now);
/* A new keypair was derived (before sending a response, or after consuming
 * one). */
void timers_session_derived(struct peer_timers *t, uint64_t now);
/* Change the persistent keepalive interval (seconds, 0 = off). Going from
 * off to on makes a keepalive due at once; going to off disarms it. */
void timers_set_persistent_keepalive(struct peer_timers *t, uint16_t interval,
				     uint64_t now);

/* Fires every timer whose deadline is <= now and returns the OR of their
 * actions. A timer that fired is disarmed unless its rule re-arms it. */
unsigned timers_expire(struct peer_timers *t, uint64_t now);
/* Earliest armed deadline, or 0 if none: sleep until then. */
uint64_t timers_next_deadline(const struct peer_timers *t);
/* Disarm everything and forget the attempt series, e.g. on peer removal. */
void timers_stop(struct peer_timers *t);

/* Rate limit for the peer's own initiations: at most one per
 * REKEY_TIMEOUT. */
bool timers_may_send_initiation(const struct peer_timers *t, uint64_t now);
/* Rate limit for FleetRecovery's: at most one per REKEY_TIMEOUT, and none
 * while an initiation of the peer's own awaits its retransmit (a fleet
 * one would replace its handshake state). */
bool timers_may_send_fleet_initiation(const struct peer_timers *t,
				      uint64_t now);
/* Whether the event at `then` (0: never) is less than REKEY_TIMEOUT
 * before now. One in the future counts as recent: a worker may stamp a
 * fact after the control thread read its clock. */
bool timers_within_rekey_timeout(uint64_t then, uint64_t now);
/* For the receive path when keypair_should_rekey_on_receive() holds: true
 * the first time only, until the next timers_handshake_complete(). */
bool timers_claim_lastminute_handshake(struct peer_timers *t);

/* Pure predicates on a keypair's age and counters. */

/* Initiator and age >= REKEY_AFTER_TIME, or counter >= REKEY_AFTER_MESSAGES. */
bool keypair_should_rekey_on_send(uint64_t age_ns, uint64_t send_counter,
				  bool i_am_initiator);
/* Initiator and age >= REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT:
 * the session is about to die and the responder can't rekey it. */
bool keypair_should_rekey_on_receive(uint64_t age_ns, bool i_am_initiator);
/* age >= REJECT_AFTER_TIME or counter >= REJECT_AFTER_MESSAGES. */
bool keypair_expired(uint64_t age_ns, uint64_t send_counter);

#endif
