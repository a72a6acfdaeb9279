/* Per-peer timers under simulated time. Most scenarios are tables of steps
 * {time, event, argument, expectation}; the 18-retry give-up is a loop
 * because its deadlines depend on every jitter before them. */
#include "src/timers.h"
#include "tests/unit/check_main.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#define S(x) ((uint64_t)(x) * 1000000000ULL)
#define MS(x) ((uint64_t)(x) * 1000000ULL)

enum op {
	OP_END = 0,
	OP_EXPIRE,		/* want = action bits */
	OP_NEXT,		/* want = timers_next_deadline() */
	OP_ATTEMPTS,		/* want = handshake_attempts */
	OP_DATA_SENT,		/* arg = jitter ms */
	OP_DATA_RECEIVED,
	OP_AUTH_SENT,
	OP_AUTH_RECEIVED,
	OP_TRAVERSAL,
	OP_INITIATED,		/* arg = jitter ms */
	OP_COMPLETE,
	OP_SESSION,
	OP_SET_PKA,		/* arg = interval s */
	OP_STOP,
	OP_FLEET_SENT,		/* timers_fleet_initiation_sent */
};

struct step {
	uint64_t at;
	enum op op;
	unsigned arg;
	uint64_t want;
};

struct scenario {
	const char *name;
	uint16_t pka;
	struct step steps[24];
};

#define INIT TIMER_SEND_INITIATION
#define KEEP TIMER_SEND_KEEPALIVE
#define ZERO TIMER_ZERO_KEYS
#define QUIET TIMER_PEER_QUIET

static const struct scenario scenarios[] = {
{ "a fleet initiation arms only the wipe of its ephemeral secret", 0, {
	{ S(1), OP_FLEET_SENT, 0, 0 },
	{ S(1), OP_NEXT, 0, S(1) + S(3 * REJECT_AFTER_TIME) },
	{ S(6), OP_EXPIRE, 0, 0 },
	{ S(1) + S(3 * REJECT_AFTER_TIME), OP_EXPIRE, 0, ZERO },
	{ S(1) + S(3 * REJECT_AFTER_TIME), OP_NEXT, 0, 0 },
	{ 0, OP_END, 0, 0 } } },
{ "a fleet initiation leaves our own series and an armed wipe alone", 0, {
	{ S(1), OP_SESSION, 0, 0 },
	{ S(2), OP_INITIATED, 0, 0 },
	{ S(3), OP_FLEET_SENT, 0, 0 },
	{ S(3), OP_NEXT, 0, S(7) },
	{ S(7), OP_EXPIRE, 0, INIT },
	{ S(7), OP_INITIATED, 0, 0 },
	{ S(7), OP_ATTEMPTS, 0, 1 },
	{ S(12), OP_EXPIRE, 0, INIT },
	{ S(12), OP_COMPLETE, 0, 0 },
	{ S(1) + S(3 * REJECT_AFTER_TIME), OP_EXPIRE, 0, ZERO },
	{ 0, OP_END, 0, 0 } } },
{ "retransmit with jitter fires exactly at its deadline", 0, {
	{ S(1), OP_INITIATED, 250, 0 },
	{ S(1), OP_NEXT, 0, S(6) + MS(250) },
	{ S(6) + MS(250) - 1, OP_EXPIRE, 0, 0 },
	{ S(6) + MS(250), OP_EXPIRE, 0, INIT },
	{ S(6) + MS(250), OP_ATTEMPTS, 0, 1 },
	{ S(6) + MS(250), OP_NEXT, 0, 0 },
	/* The retry continues the series; jitter over 333 is clamped. */
	{ S(6) + MS(250), OP_INITIATED, 1000, 0 },
	{ S(6) + MS(250), OP_ATTEMPTS, 0, 1 },
	{ S(6) + MS(250), OP_NEXT, 0, S(11) + MS(583) },
	{ S(11) + MS(583) - 1, OP_EXPIRE, 0, 0 },
	{ S(11) + MS(583), OP_EXPIRE, 0, INIT },
	{ S(11) + MS(583), OP_ATTEMPTS, 0, 2 },
} },
{ "a later initiation pushes the retransmit out", 0, {
	{ S(1), OP_INITIATED, 0, 0 },
	{ S(3), OP_INITIATED, 0, 0 },
	{ S(3), OP_NEXT, 0, S(8) },
	{ S(6), OP_EXPIRE, 0, 0 },
	{ S(8), OP_EXPIRE, 0, INIT },
} },
{ "handshake_complete stops retransmits", 0, {
	{ S(1), OP_INITIATED, 0, 0 },
	{ S(6), OP_EXPIRE, 0, INIT },
	{ S(6), OP_INITIATED, 100, 0 },
	{ S(6), OP_ATTEMPTS, 0, 1 },
	{ S(8), OP_COMPLETE, 0, 0 },
	{ S(8), OP_ATTEMPTS, 0, 0 },
	{ S(8), OP_NEXT, 0, 0 },
	{ S(11) + MS(100), OP_EXPIRE, 0, 0 },
	{ S(60), OP_EXPIRE, 0, 0 },
} },
{ "keepalive after data received with no reply", 0, {
	{ S(1), OP_DATA_RECEIVED, 0, 0 },
	{ S(1), OP_NEXT, 0, S(11) },
	{ S(11) - 1, OP_EXPIRE, 0, 0 },
	{ S(11), OP_EXPIRE, 0, KEEP },
	{ S(11), OP_NEXT, 0, 0 },
	{ S(11), OP_AUTH_SENT, 0, 0 },
	{ S(30), OP_EXPIRE, 0, 0 },
} },
{ "no keepalive when we sent data in time", 0, {
	{ S(1), OP_DATA_RECEIVED, 0, 0 },
	{ S(5), OP_DATA_SENT, 0, 0 },
	{ S(5), OP_AUTH_SENT, 0, 0 },
	{ S(5), OP_NEXT, 0, S(20) },	/* only new_handshake is left */
	{ S(6), OP_AUTH_RECEIVED, 0, 0 },
	{ S(6), OP_NEXT, 0, 0 },
	{ S(11), OP_EXPIRE, 0, 0 },
	{ S(20), OP_EXPIRE, 0, 0 },
} },
{ "need_another_keepalive re-arms when the keepalive did not go out", 0, {
	{ S(1), OP_DATA_RECEIVED, 0, 0 },
	{ S(4), OP_DATA_RECEIVED, 0, 0 },
	{ S(4), OP_NEXT, 0, S(11) },	/* not pushed out */
	{ S(11), OP_EXPIRE, 0, KEEP },
	{ S(11), OP_NEXT, 0, S(21) },
	{ S(21) - 1, OP_EXPIRE, 0, 0 },
	{ S(21), OP_EXPIRE, 0, KEEP },
	{ S(21), OP_NEXT, 0, 0 },
	{ S(40), OP_EXPIRE, 0, 0 },
} },
{ "need_another_keepalive: the sent keepalive cancels the re-arm", 0, {
	{ S(1), OP_DATA_RECEIVED, 0, 0 },
	{ S(4), OP_DATA_RECEIVED, 0, 0 },
	{ S(11), OP_EXPIRE, 0, KEEP },
	{ S(11), OP_AUTH_SENT, 0, 0 },
	{ S(11), OP_NEXT, 0, 0 },
	{ S(21), OP_EXPIRE, 0, 0 },
	/* The flag was consumed: one keepalive only this time. */
	{ S(30), OP_DATA_RECEIVED, 0, 0 },
	{ S(40), OP_EXPIRE, 0, KEEP },
	{ S(40), OP_NEXT, 0, 0 },
} },
{ "late expire re-arms the keepalive from now", 0, {
	{ S(1), OP_DATA_RECEIVED, 0, 0 },
	{ S(2), OP_DATA_RECEIVED, 0, 0 },
	{ S(50), OP_EXPIRE, 0, KEEP },
	{ S(50), OP_NEXT, 0, S(60) },
} },
{ "new handshake after data sent with no reply", 0, {
	{ S(1), OP_DATA_SENT, 100, 0 },
	{ S(1), OP_NEXT, 0, S(16) + MS(100) },
	{ S(5), OP_DATA_SENT, 300, 0 },
	{ S(5), OP_NEXT, 0, S(16) + MS(100) },	/* not pushed out */
	{ S(16) + MS(100) - 1, OP_EXPIRE, 0, 0 },
	{ S(16) + MS(100), OP_EXPIRE, 0, INIT | QUIET },
	{ S(16) + MS(100), OP_NEXT, 0, 0 },
	/* A fresh series, not a retry. */
	{ S(16) + MS(100), OP_INITIATED, 0, 0 },
	{ S(16) + MS(100), OP_ATTEMPTS, 0, 0 },
	{ S(16) + MS(100), OP_NEXT, 0, S(21) + MS(100) },
} },
{ "a reply cancels the new handshake", 0, {
	{ S(1), OP_DATA_SENT, 0, 0 },
	{ S(10), OP_AUTH_RECEIVED, 0, 0 },
	{ S(10), OP_NEXT, 0, 0 },
	{ S(16), OP_EXPIRE, 0, 0 },
	{ S(20), OP_DATA_SENT, 0, 0 },
	{ S(20), OP_NEXT, 0, S(35) },
} },
{ "persistent keepalive with interval 25", 25, {
	{ S(1), OP_NEXT, 0, 0 },	/* init does not arm it */
	{ S(1), OP_TRAVERSAL, 0, 0 },
	{ S(1), OP_NEXT, 0, S(26) },
	{ S(10), OP_TRAVERSAL, 0, 0 },
	{ S(10), OP_NEXT, 0, S(35) },
	{ S(35) - 1, OP_EXPIRE, 0, 0 },
	{ S(35), OP_EXPIRE, 0, KEEP },
	{ S(35), OP_NEXT, 0, 0 },
	{ S(35), OP_TRAVERSAL, 0, 0 },	/* the keepalive went out */
	{ S(35), OP_NEXT, 0, S(60) },
	{ S(60), OP_EXPIRE, 0, KEEP },
} },
{ "no persistent keepalive with interval 0", 0, {
	{ S(1), OP_TRAVERSAL, 0, 0 },
	{ S(1), OP_NEXT, 0, 0 },
	{ S(100), OP_EXPIRE, 0, 0 },
} },
{ "persistent keepalive interval 0 -> 25 -> 40 -> 0", 0, {
	{ S(1), OP_TRAVERSAL, 0, 0 },
	{ S(1), OP_NEXT, 0, 0 },
	{ S(3), OP_SET_PKA, 25, 0 },
	{ S(3), OP_NEXT, 0, S(3) },	/* due at once */
	{ S(3), OP_EXPIRE, 0, KEEP },
	{ S(3), OP_TRAVERSAL, 0, 0 },
	{ S(3), OP_NEXT, 0, S(28) },
	{ S(4), OP_SET_PKA, 40, 0 },
	{ S(4), OP_NEXT, 0, S(28) },	/* pending deadline stands */
	{ S(28), OP_EXPIRE, 0, KEEP },
	{ S(28), OP_TRAVERSAL, 0, 0 },
	{ S(28), OP_NEXT, 0, S(68) },
	{ S(30), OP_SET_PKA, 0, 0 },
	{ S(30), OP_NEXT, 0, 0 },
	{ S(30), OP_TRAVERSAL, 0, 0 },
	{ S(30), OP_NEXT, 0, 0 },
	{ S(100), OP_EXPIRE, 0, 0 },
} },
{ "persistent keepalive enabled at time 0 stays armed", 0, {
	{ 0, OP_SET_PKA, 25, 0 },
	{ 0, OP_NEXT, 0, 1 },
	{ 0, OP_EXPIRE, 0, 0 },
	{ 1, OP_EXPIRE, 0, KEEP },
	{ 1, OP_NEXT, 0, 0 },
} },
{ "zero_key_material pushed out by a new session", 0, {
	{ S(1), OP_SESSION, 0, 0 },
	{ S(1), OP_NEXT, 0, S(541) },
	{ S(100), OP_SESSION, 0, 0 },
	{ S(100), OP_NEXT, 0, S(640) },
	{ S(541), OP_EXPIRE, 0, 0 },
	{ S(640) - 1, OP_EXPIRE, 0, 0 },
	{ S(640), OP_EXPIRE, 0, ZERO },
	{ S(640), OP_NEXT, 0, 0 },
	{ S(2000), OP_EXPIRE, 0, 0 },
} },
/* Events are reported selectively here so that four deadlines meet. */
{ "timers due together fire in one call; next_deadline", 10, {
	{ S(1), OP_SESSION, 0, 0 },
	{ S(1), OP_NEXT, 0, S(541) },
	{ S(1), OP_DATA_SENT, 0, 0 },
	{ S(1), OP_NEXT, 0, S(16) },
	{ S(6), OP_DATA_RECEIVED, 0, 0 },
	{ S(6), OP_TRAVERSAL, 0, 0 },
	{ S(11), OP_INITIATED, 0, 0 },
	{ S(11), OP_NEXT, 0, S(16) },
	{ S(16) - 1, OP_EXPIRE, 0, 0 },
	{ S(16), OP_EXPIRE, 0, INIT | KEEP | QUIET },
	{ S(16), OP_NEXT, 0, S(541) },
	/* new_handshake fired too, so the next initiation is fresh. */
	{ S(16), OP_INITIATED, 0, 0 },
	{ S(16), OP_ATTEMPTS, 0, 0 },
	{ S(16), OP_NEXT, 0, S(21) },
	{ S(21), OP_EXPIRE, 0, INIT },
	{ S(21), OP_ATTEMPTS, 0, 1 },
	{ S(21), OP_NEXT, 0, S(541) },
} },
{ "timers_stop disarms everything", 25, {
	{ S(1), OP_TRAVERSAL, 0, 0 },
	{ S(1), OP_DATA_SENT, 0, 0 },
	{ S(1), OP_DATA_RECEIVED, 0, 0 },
	{ S(1), OP_SESSION, 0, 0 },
	{ S(1), OP_INITIATED, 0, 0 },
	{ S(6), OP_EXPIRE, 0, INIT },
	{ S(6), OP_NEXT, 0, S(11) },
	{ S(7), OP_STOP, 0, 0 },
	{ S(7), OP_NEXT, 0, 0 },
	{ S(7), OP_ATTEMPTS, 0, 0 },
	{ S(10000), OP_EXPIRE, 0, 0 },
} },
};

#define N_SCENARIOS ((int)(sizeof(scenarios) / sizeof(scenarios[0])))

static void run_step(struct peer_timers *t, const struct step *s,
		     const char *name, int idx)
{
	uint64_t got = 0;

	switch (s->op) {
	case OP_EXPIRE:
		got = timers_expire(t, s->at);
		break;
	case OP_NEXT:
		got = timers_next_deadline(t);
		break;
	case OP_ATTEMPTS:
		got = t->handshake_attempts;
		break;
	case OP_DATA_SENT:
		timers_data_sent(t, s->at, s->arg);
		return;
	case OP_DATA_RECEIVED:
		timers_data_received(t, s->at);
		return;
	case OP_AUTH_SENT:
		timers_any_authenticated_packet_sent(t, s->at);
		return;
	case OP_AUTH_RECEIVED:
		timers_any_authenticated_packet_received(t, s->at);
		return;
	case OP_TRAVERSAL:
		timers_any_authenticated_packet_traversal(t, s->at);
		return;
	case OP_INITIATED:
		timers_handshake_initiated(t, s->at, s->arg);
		return;
	case OP_COMPLETE:
		timers_handshake_complete(t, s->at);
		return;
	case OP_SESSION:
		timers_session_derived(t, s->at);
		return;
	case OP_SET_PKA:
		timers_set_persistent_keepalive(t, (uint16_t)s->arg, s->at);
		return;
	case OP_STOP:
		timers_stop(t);
		return;
	case OP_FLEET_SENT:
		timers_fleet_initiation_sent(t, s->at);
		return;
	case OP_END:
		return;
	}
	ck_assert_msg(got == s->want,
		      "%s: step %d (op %d at %llu ns): got %llu, want %llu",
		      name, idx, (int)s->op, (unsigned long long)s->at,
		      (unsigned long long)got, (unsigned long long)s->want);
}

START_TEST(test_scenario)
{
	const struct scenario *sc = &scenarios[_i];
	struct peer_timers t;
	int n;

	timers_init(&t, sc->pka);
	for (n = 0; sc->steps[n].op != OP_END; n++)
		run_step(&t, &sc->steps[n], sc->name, n);
	/* Guard against a table that silently lost its steps. */
	ck_assert_int_gt(n, 2);
}
END_TEST

/* Deterministic, uneven jitter for initiation k of the series. */
static unsigned jitter_for(unsigned k)
{
	return (k * 97u + 13u) % (REKEY_TIMEOUT_JITTER_MAX_MS + 1);
}

/* _i selects a variant:
 * 0: plain 18 retries, give-up, zero keys 3 * REJECT_AFTER_TIME later;
 * 1: a session existed, so give-up must not pull zero_key_material in;
 * 2: a keepalive and a new handshake fall due exactly at give-up time and
 *    must be suppressed by it. */
START_TEST(test_give_up)
{
	struct peer_timers t;
	uint64_t sent[MAX_TIMER_HANDSHAKES + 1];
	uint64_t dl[MAX_TIMER_HANDSHAKES + 1];
	uint64_t zero_at = 0, giveup;
	unsigned k;

	sent[0] = S(1);
	for (k = 0; k <= MAX_TIMER_HANDSHAKES; k++) {
		dl[k] = sent[k] + S(REKEY_TIMEOUT) + MS(jitter_for(k));
		if (k < MAX_TIMER_HANDSHAKES)
			sent[k + 1] = dl[k];
	}
	giveup = dl[MAX_TIMER_HANDSHAKES];
	ck_assert_uint_eq(MAX_TIMER_HANDSHAKES, 18);

	timers_init(&t, 0);
	if (_i == 1) {
		timers_session_derived(&t, S(1));
		zero_at = S(1) + S(3 * REJECT_AFTER_TIME);
	}
	timers_handshake_initiated(&t, sent[0], jitter_for(0));
	ck_assert_uint_eq(t.handshake_first_attempt, sent[0]);

	for (k = 0; k < MAX_TIMER_HANDSHAKES; k++) {
		ck_assert_uint_eq(timers_next_deadline(&t), dl[k]);
		ck_assert_uint_eq(timers_expire(&t, dl[k] - 1), 0);
		ck_assert_uint_eq(timers_expire(&t, dl[k]), INIT);
		ck_assert_uint_eq(t.handshake_attempts, k + 1);
		timers_handshake_initiated(&t, sent[k + 1], jitter_for(k + 1));
		ck_assert_uint_eq(t.handshake_attempts, k + 1);
		ck_assert_uint_eq(t.handshake_first_attempt, sent[0]);
		/* Arm both at the one instant that lands them on giveup:
		 * giveup - 15 s lies in [sent[16], dl[16]) and giveup - 10 s
		 * in [sent[17], dl[17]), as jitters sum to under 5 s. */
		if (_i == 2 && k + 1 == 16)
			timers_data_sent(&t, giveup - S(15), 0);
		if (_i == 2 && k + 1 == 17) {
			timers_data_received(&t, giveup - S(10));
			timers_data_received(&t, giveup - S(10));
		}
	}
	ck_assert_uint_eq(timers_next_deadline(&t), giveup);
	ck_assert_uint_eq(timers_expire(&t, giveup - 1), 0);
	ck_assert_uint_eq(timers_expire(&t, giveup), TIMER_GIVE_UP);
	ck_assert(!t.need_another_keepalive);
	ck_assert_uint_eq(timers_expire(&t, giveup), 0);

	if (_i != 1)
		zero_at = giveup + S(3 * REJECT_AFTER_TIME);
	ck_assert_uint_eq(timers_next_deadline(&t), zero_at);
	ck_assert_uint_eq(timers_expire(&t, zero_at - 1), 0);
	ck_assert_uint_eq(timers_expire(&t, zero_at), ZERO);
	ck_assert_uint_eq(timers_next_deadline(&t), 0);

	/* New traffic later starts a new series from scratch. */
	timers_handshake_initiated(&t, zero_at + S(1), 0);
	ck_assert_uint_eq(t.handshake_attempts, 0);
	ck_assert_uint_eq(t.handshake_first_attempt, zero_at + S(1));
}
END_TEST

START_TEST(test_may_send_initiation)
{
	struct peer_timers t;

	timers_init(&t, 0);
	ck_assert(timers_may_send_initiation(&t, 0));
	ck_assert(timers_may_send_initiation(&t, S(3)));
	timers_handshake_initiated(&t, S(10), 0);
	ck_assert(!timers_may_send_initiation(&t, S(10)));
	ck_assert(!timers_may_send_initiation(&t, S(15) - 1));
	ck_assert(timers_may_send_initiation(&t, S(15)));
	ck_assert(timers_may_send_initiation(&t, S(15) + 1));
}
END_TEST

/* The fleet's limit is its own: it holds back neither the peer's own
 * initiations nor is held back by them, but waits while our own awaits
 * its retransmit. */
START_TEST(test_may_send_fleet_initiation)
{
	struct peer_timers t;

	timers_init(&t, 0);
	ck_assert(timers_may_send_fleet_initiation(&t, S(1)));
	timers_fleet_initiation_sent(&t, S(10));
	ck_assert(timers_may_send_initiation(&t, S(10)));
	ck_assert(!timers_may_send_fleet_initiation(&t, S(15) - 1));
	ck_assert(timers_may_send_fleet_initiation(&t, S(15)));
	timers_handshake_initiated(&t, S(20), 0);
	ck_assert(!timers_may_send_fleet_initiation(&t, S(30)));
	timers_handshake_complete(&t, S(21));
	ck_assert(timers_may_send_fleet_initiation(&t, S(21)));
	ck_assert(!timers_may_send_initiation(&t, S(21)));
}
END_TEST

/* Numbered rows: then, now, whether then is within REKEY_TIMEOUT. */
static const struct {
	uint64_t then, now;
	bool want;
} within_rows[] = {
	/* 0 */ { 0, S(100), false },
	/* 1 */ { S(100), S(100), true },
	/* 2 */ { S(95) + 1, S(100), true },
	/* 3 */ { S(95), S(100), false },
	/* 4 */ { S(100) + 1000, S(100), true }, /* a fact 1 us ahead */
	/* 5 */ { UINT64_MAX, 1, true },
	/* 6 */ { 1, S(100), false },
};

START_TEST(test_within_rekey_timeout)
{
	ck_assert_msg(timers_within_rekey_timeout(within_rows[_i].then,
						  within_rows[_i].now) ==
			      within_rows[_i].want,
		      "row %d", _i);
}
END_TEST

START_TEST(test_lastminute_handshake)
{
	struct peer_timers t;

	timers_init(&t, 0);
	ck_assert(timers_claim_lastminute_handshake(&t));
	ck_assert(!timers_claim_lastminute_handshake(&t));
	ck_assert(!timers_claim_lastminute_handshake(&t));
	timers_handshake_complete(&t, S(1));
	ck_assert(timers_claim_lastminute_handshake(&t));
	ck_assert(!timers_claim_lastminute_handshake(&t));
}
END_TEST

#define REKEY_ON_RECV_AGE \
	S(REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT)

static const struct {
	uint64_t age;
	uint64_t counter;
	bool initiator;
	bool want;
} rekey_on_send[] = {
	{ S(REKEY_AFTER_TIME) - 1, 0, true, false },
	{ S(REKEY_AFTER_TIME), 0, true, true },
	{ S(REKEY_AFTER_TIME) + 1, 0, true, true },
	{ S(REKEY_AFTER_TIME), 0, false, false },
	{ S(REJECT_AFTER_TIME) * 10, 0, false, false },
	{ 0, REKEY_AFTER_MESSAGES - 1, true, false },
	{ 0, REKEY_AFTER_MESSAGES - 1, false, false },
	{ 0, REKEY_AFTER_MESSAGES, true, true },
	{ 0, REKEY_AFTER_MESSAGES, false, true },
	{ 0, REKEY_AFTER_MESSAGES + 1, false, true },
	{ 0, 0, true, false },
};

START_TEST(test_rekey_on_send)
{
	ck_assert_msg(keypair_should_rekey_on_send(rekey_on_send[_i].age,
						   rekey_on_send[_i].counter,
						   rekey_on_send[_i].initiator)
			      == rekey_on_send[_i].want,
		      "row %d", _i);
}
END_TEST

static const struct {
	uint64_t age;
	bool initiator;
	bool want;
} rekey_on_recv[] = {
	{ REKEY_ON_RECV_AGE - 1, true, false },
	{ REKEY_ON_RECV_AGE, true, true },
	{ REKEY_ON_RECV_AGE + 1, true, true },
	{ REKEY_ON_RECV_AGE, false, false },
	{ S(REJECT_AFTER_TIME), false, false },
	{ 0, true, false },
};

START_TEST(test_rekey_on_receive)
{
	ck_assert_uint_eq(REKEY_ON_RECV_AGE, S(165));
	ck_assert_msg(keypair_should_rekey_on_receive(
			      rekey_on_recv[_i].age,
			      rekey_on_recv[_i].initiator) ==
			      rekey_on_recv[_i].want,
		      "row %d", _i);
}
END_TEST

static const struct {
	uint64_t age;
	uint64_t counter;
	bool want;
} expired[] = {
	{ S(REJECT_AFTER_TIME) - 1, 0, false },
	{ S(REJECT_AFTER_TIME), 0, true },
	{ S(REJECT_AFTER_TIME) + 1, 0, true },
	{ 0, REJECT_AFTER_MESSAGES - 1, false },
	{ 0, REJECT_AFTER_MESSAGES, true },
	{ 0, REJECT_AFTER_MESSAGES + 1, true },
	{ 0, UINT64_MAX, true },
	{ S(REJECT_AFTER_TIME) - 1, REJECT_AFTER_MESSAGES - 1, false },
	{ 0, 0, false },
};

START_TEST(test_expired)
{
	ck_assert_msg(keypair_expired(expired[_i].age, expired[_i].counter) ==
			      expired[_i].want,
		      "row %d", _i);
}
END_TEST

#define ROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *timers_suite(void)
{
	Suite *s = suite_create("timers");
	TCase *tc;

	tc = tcase_create("scenarios");
	tcase_add_loop_test(tc, test_scenario, 0, N_SCENARIOS);
	tcase_add_loop_test(tc, test_give_up, 0, 3);
	tcase_add_test(tc, test_may_send_initiation);
	tcase_add_test(tc, test_may_send_fleet_initiation);
	tcase_add_loop_test(tc, test_within_rekey_timeout, 0,
			    ROWS(within_rows));
	tcase_add_test(tc, test_lastminute_handshake);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("keypair predicates");
	tcase_add_loop_test(tc, test_rekey_on_send, 0, ROWS(rekey_on_send));
	tcase_add_loop_test(tc, test_rekey_on_receive, 0, ROWS(rekey_on_recv));
	tcase_add_loop_test(tc, test_expired, 0, ROWS(expired));
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(timers_suite());
}
