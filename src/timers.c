/* The five per-peer timers of WireGuard, after the whitepaper (section 6)
 * and the kernel's drivers/net/wireguard/timers.c. Each is a deadline; the
 * caller sleeps until timers_next_deadline() and calls timers_expire().
 *
 * retransmit_handshake
 *   armed:    handshake_initiated, at now + REKEY_TIMEOUT + jitter (always
 *             pushed out: it measures from the latest initiation).
 *   disarmed: handshake_complete (which also ends the attempt series).
 *   fires:    if MAX_TIMER_HANDSHAKES retries were already made, GIVE_UP:
 *             send_keepalive and new_handshake are disarmed and
 *             zero_key_material is armed at now + 3 * REJECT_AFTER_TIME
 *             unless already armed, so a half-done exchange is wiped later.
 *             Otherwise attempts++ and SEND_INITIATION; the caller's
 *             handshake_initiated then re-arms it as part of the same series.
 *
 * send_keepalive (passive keepalive)
 *   armed:    data_received, at now + KEEPALIVE_TIMEOUT unless already armed,
 *             in which case need_another_keepalive is set instead.
 *   disarmed: any_authenticated_packet_sent (anything we send acknowledges
 *             what we received), give-up.
 *   fires:    SEND_KEEPALIVE; if need_another_keepalive, clear it and re-arm
 *             at now + KEEPALIVE_TIMEOUT. As in the kernel, the keepalive
 *             itself, once sent, disarms that re-arm again: it only survives
 *             if the keepalive could not go out (e.g. no keypair).
 *
 * new_handshake (the peer went quiet)
 *   armed:    data_sent, at now + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter
 *             unless already armed: it measures from the oldest unanswered
 *             packet.
 *   disarmed: any_authenticated_packet_received, give-up.
 *   fires:    SEND_INITIATION, starting a fresh series of attempts, and
 *             PEER_QUIET, which says why (a fleet gateway lets go
 *             instead, src/tunnel/control.c).
 *
 * zero_key_material
 *   armed:    session_derived, at now + 3 * REJECT_AFTER_TIME (always pushed
 *             out); give-up and fleet_initiation_sent, at the same offset
 *             unless already armed (the fleet initiation's ephemeral
 *             secret must not outlive it, as a retransmit series' would
 *             not).
 *   disarmed: only by timers_stop.
 *   fires:    ZERO_KEYS: no session has been made for 9 minutes, so every
 *             keypair is long dead; wipe them and the handshake state.
 *
 * persistent_keepalive (keeps NAT and firewall mappings open)
 *   armed:    any_authenticated_packet_traversal, at now + interval, if the
 *             interval is non-zero (always pushed out); setting the interval
 *             from 0 to non-zero arms it at now.
 *   disarmed: setting the interval to 0.
 *   fires:    SEND_KEEPALIVE; sending it is a traversal, which re-arms.
 *
 * fleet_initiation_sent (FleetRecovery, src/fleet_recovery.h) is an event
 * apart: it arms no retransmit (the initiation went to a data source, not
 * to the endpoint) and does not count as one of the peer's own
 * initiations, so it neither delays nor stops them. Its own rate limit,
 * timers_may_send_fleet_initiation, allows one per REKEY_TIMEOUT, and
 * none while the peer's own initiation awaits its retransmit.
 *
 * Timers that fire together are all reported by one timers_expire(), except
 * that a give-up suppresses the keepalive and new-handshake timers it
 * disarms. Re-arms made while firing count from now, not from the missed
 * deadline, as a late-running kernel timer would.
 */
#include "src/timers.h"

#include <string.h>

#include "src/clock.h"

static uint64_t jitter_ns(unsigned jitter_ms)
{
	if (jitter_ms > REKEY_TIMEOUT_JITTER_MAX_MS)
		jitter_ms = REKEY_TIMEOUT_JITTER_MAX_MS;
	return jitter_ms * NS_PER_MS;
}

/* 0 means disarmed, so a deadline of exactly 0 (possible only with a
 * simulated clock starting at 0) becomes 1 ns, to stay armed. */
static void arm(uint64_t *timer, uint64_t deadline)
{
	*timer = deadline ? deadline : 1;
}

static void disarm(uint64_t *timer)
{
	*timer = 0;
}

static bool armed(uint64_t timer)
{
	return timer != 0;
}

static bool due(uint64_t timer, uint64_t now)
{
	return armed(timer) && timer <= now;
}

void timers_init(struct peer_timers *t, uint16_t persistent_keepalive_interval)
{
	memset(t, 0, sizeof(*t));
	t->persistent_keepalive_interval = persistent_keepalive_interval;
}

void timers_data_sent(struct peer_timers *t, uint64_t now, unsigned jitter_ms)
{
	if (armed(t->new_handshake))
		return;
	arm(&t->new_handshake,
	    now + (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT) * NS_PER_S +
		    jitter_ns(jitter_ms));
}

void timers_data_received(struct peer_timers *t, uint64_t now)
{
	if (armed(t->send_keepalive)) {
		t->need_another_keepalive = true;
		return;
	}
	arm(&t->send_keepalive, now + KEEPALIVE_TIMEOUT * NS_PER_S);
}

void timers_any_authenticated_packet_sent(struct peer_timers *t, uint64_t now)
{
	disarm(&t->send_keepalive);
}

void timers_any_authenticated_packet_received(struct peer_timers *t,
					      uint64_t now)
{
	disarm(&t->new_handshake);
}

void timers_any_authenticated_packet_traversal(struct peer_timers *t,
					       uint64_t now)
{
	if (!t->persistent_keepalive_interval)
		return;
	arm(&t->persistent_keepalive,
	    now + t->persistent_keepalive_interval * NS_PER_S);
}

void timers_handshake_initiated(struct peer_timers *t, uint64_t now,
				unsigned jitter_ms)
{
	/* Only an initiation answering a retransmit continues the series;
	 * any other one (new data, quiet peer, last-minute rekey) starts
	 * afresh, like the kernel's is_retry == false. */
	if (!t->retry_pending) {
		t->handshake_attempts = 0;
		t->handshake_first_attempt = now;
	}
	t->retry_pending = false;
	t->have_sent_initiation = true;
	t->last_initiation_sent = now;
	arm(&t->retransmit_handshake,
	    now + REKEY_TIMEOUT * NS_PER_S + jitter_ns(jitter_ms));
}

void timers_fleet_initiation_sent(struct peer_timers *t, uint64_t now)
{
	t->have_sent_fleet_initiation = true;
	t->last_fleet_initiation = now;
	if (!armed(t->zero_key_material))
		arm(&t->zero_key_material,
		    now + 3 * REJECT_AFTER_TIME * NS_PER_S);
}

void timers_handshake_complete(struct peer_timers *t, uint64_t now)
{
	disarm(&t->retransmit_handshake);
	t->handshake_attempts = 0;
	t->retry_pending = false;
	t->sent_lastminute_handshake = false;
}

void timers_session_derived(struct peer_timers *t, uint64_t now)
{
	arm(&t->zero_key_material, now + 3 * REJECT_AFTER_TIME * NS_PER_S);
}

void timers_set_persistent_keepalive(struct peer_timers *t, uint16_t interval,
				     uint64_t now)
{
	bool was_off = !t->persistent_keepalive_interval;

	t->persistent_keepalive_interval = interval;
	if (!interval)
		disarm(&t->persistent_keepalive);
	else if (was_off)
		arm(&t->persistent_keepalive, now);
	/* Between two non-zero intervals the pending deadline stands; the
	 * next traversal applies the new interval. */
}

static unsigned expire_retransmit_handshake(struct peer_timers *t,
					    uint64_t now)
{
	disarm(&t->retransmit_handshake);
	if (t->handshake_attempts < MAX_TIMER_HANDSHAKES) {
		t->handshake_attempts++;
		t->retry_pending = true;
		return TIMER_SEND_INITIATION;
	}
	/* Nothing more will be sent for staged packets, so keepalives and
	 * quiet-peer handshakes are pointless until the next real traffic
	 * starts a new series. */
	disarm(&t->send_keepalive);
	disarm(&t->new_handshake);
	t->need_another_keepalive = false;
	if (!armed(t->zero_key_material))
		arm(&t->zero_key_material,
		    now + 3 * REJECT_AFTER_TIME * NS_PER_S);
	return TIMER_GIVE_UP;
}

static unsigned expire_send_keepalive(struct peer_timers *t, uint64_t now)
{
	disarm(&t->send_keepalive);
	if (t->need_another_keepalive) {
		t->need_another_keepalive = false;
		arm(&t->send_keepalive, now + KEEPALIVE_TIMEOUT * NS_PER_S);
	}
	return TIMER_SEND_KEEPALIVE;
}

static unsigned expire_new_handshake(struct peer_timers *t, uint64_t now)
{
	disarm(&t->new_handshake);
	/* A fresh request, even if a retransmit fired in the same call. */
	t->retry_pending = false;
	return TIMER_SEND_INITIATION | TIMER_PEER_QUIET;
}

static unsigned expire_zero_key_material(struct peer_timers *t, uint64_t now)
{
	disarm(&t->zero_key_material);
	return TIMER_ZERO_KEYS;
}

static unsigned expire_persistent_keepalive(struct peer_timers *t,
					    uint64_t now)
{
	disarm(&t->persistent_keepalive);
	return TIMER_SEND_KEEPALIVE;
}

unsigned timers_expire(struct peer_timers *t, uint64_t now)
{
	unsigned actions = 0;

	/* Retransmit goes first: a give-up disarms two of the others. */
	if (due(t->retransmit_handshake, now))
		actions |= expire_retransmit_handshake(t, now);
	if (due(t->send_keepalive, now))
		actions |= expire_send_keepalive(t, now);
	if (due(t->new_handshake, now))
		actions |= expire_new_handshake(t, now);
	if (due(t->zero_key_material, now))
		actions |= expire_zero_key_material(t, now);
	if (due(t->persistent_keepalive, now))
		actions |= expire_persistent_keepalive(t, now);
	return actions;
}

static uint64_t earlier(uint64_t best, uint64_t timer)
{
	if (!armed(timer))
		return best;
	if (!armed(best) || timer < best)
		return timer;
	return best;
}

uint64_t timers_next_deadline(const struct peer_timers *t)
{
	uint64_t next = 0;

	next = earlier(next, t->retransmit_handshake);
	next = earlier(next, t->send_keepalive);
	next = earlier(next, t->new_handshake);
	next = earlier(next, t->zero_key_material);
	next = earlier(next, t->persistent_keepalive);
	return next;
}

void timers_stop(struct peer_timers *t)
{
	disarm(&t->retransmit_handshake);
	disarm(&t->send_keepalive);
	disarm(&t->new_handshake);
	disarm(&t->zero_key_material);
	disarm(&t->persistent_keepalive);
	t->handshake_attempts = 0;
	t->need_another_keepalive = false;
	t->retry_pending = false;
}

bool timers_may_send_initiation(const struct peer_timers *t, uint64_t now)
{
	if (!t->have_sent_initiation)
		return true;
	return now - t->last_initiation_sent >= REKEY_TIMEOUT * NS_PER_S;
}

bool timers_within_rekey_timeout(uint64_t then, uint64_t now)
{
	/* Signed: now - then wraps when then is later than now. */
	return then && (int64_t)(now - then) < (int64_t)(REKEY_TIMEOUT *
							 NS_PER_S);
}

bool timers_may_send_fleet_initiation(const struct peer_timers *t,
				      uint64_t now)
{
	if (armed(t->retransmit_handshake))
		return false;
	return !t->have_sent_fleet_initiation ||
	       !timers_within_rekey_timeout(t->last_fleet_initiation, now);
}

bool timers_claim_lastminute_handshake(struct peer_timers *t)
{
	if (t->sent_lastminute_handshake)
		return false;
	t->sent_lastminute_handshake = true;
	return true;
}

bool keypair_should_rekey_on_send(uint64_t age_ns, uint64_t send_counter,
				  bool i_am_initiator)
{
	if (send_counter >= REKEY_AFTER_MESSAGES)
		return true;
	return i_am_initiator && age_ns >= REKEY_AFTER_TIME * NS_PER_S;
}

bool keypair_should_rekey_on_receive(uint64_t age_ns, bool i_am_initiator)
{
	const uint64_t limit =
		(REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT) *
		NS_PER_S;

	return i_am_initiator && age_ns >= limit;
}

bool keypair_expired(uint64_t age_ns, uint64_t send_counter)
{
	return age_ns >= REJECT_AFTER_TIME * NS_PER_S ||
	       send_counter >= REJECT_AFTER_MESSAGES;
}
