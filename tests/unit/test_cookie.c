/* MAC1/MAC2 and cookie replies between two engines: a responder under
 * load answers with a cookie; the initiator's retry carries MAC2 and is
 * served; cookies are bound to the source address and expire. */
#include <check.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/engine_pair.h"
#include "tests/unit/check_main.h"

/* A delivered initiation under load; returns the outcome's flags. */
static int initiate_under_load(struct engine_pair *p,
			       struct handshake_outcome *out)
{
	struct message_handshake_initiation init;

	pair_initiation(p, 0, &init);
	return pair_deliver_handshake(p, 1, &init, sizeof(init), true, out);
}

static void take_cookie(struct engine_pair *p)
{
	struct handshake_outcome reply, none;

	ck_assert_int_eq(initiate_under_load(p, &reply), 0);
	ck_assert(reply.cookie_sent && !reply.session_derived);
	ck_assert_uint_eq(reply.reply_len,
			  sizeof(struct message_handshake_cookie));
	ck_assert_int_eq(pair_deliver_handshake(p, 0, reply.reply,
						reply.reply_len, false, &none),
			 0);
	ck_assert(p->peer[0]->cookie.have_cookie);
}

START_TEST(test_cookie_then_mac2_retry_is_served)
{
	struct engine_pair p;
	struct handshake_outcome out;

	engine_pair_init(&p, false);
	take_cookie(&p);
	usleep(20 * 1000);
	ck_assert_int_eq(initiate_under_load(&p, &out), 0);
	ck_assert(!out.cookie_sent && out.session_derived);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_cookie_reply_replayed_or_tampered)
{
	struct engine_pair p;
	struct handshake_outcome reply, none;
	struct message_handshake_cookie c;

	engine_pair_init(&p, false);
	ck_assert_int_eq(initiate_under_load(&p, &reply), 0);
	memcpy(&c, reply.reply, sizeof(c));
	for (size_t bit = 32; bit < sizeof(c) * 8; bit++) {
		/* bits 0..31 are the header; past it, any flip breaks the
		 * AEAD or points at an unknown index */
		struct message_handshake_cookie bad = c;

		((uint8_t *)&bad)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(pair_deliver_handshake(&p, 0, &bad, sizeof(bad),
						     false, &none) != 0,
			      "cookie bit %zu flipped accepted", bit);
	}
	ck_assert_int_eq(pair_deliver_handshake(&p, 0, &c, sizeof(c), false,
						&none), 0);
	/* One reply per MAC1 sent. */
	ck_assert_int_eq(pair_deliver_handshake(&p, 0, &c, sizeof(c), false,
						&none), -EINVAL);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_cookie_bound_to_source_address)
{
	struct engine_pair p;
	struct handshake_outcome out;

	engine_pair_init(&p, false);
	take_cookie(&p);
	/* The same initiator, seen from another address or port. */
	p.addr[0].sin_port = htons(40000);
	usleep(20 * 1000);
	ck_assert_int_eq(initiate_under_load(&p, &out), 0);
	ck_assert(out.cookie_sent && !out.session_derived);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_cookie_secret_rotates)
{
	struct engine_pair p;
	struct handshake_outcome out;

	engine_pair_init(&p, false);
	take_cookie(&p);
	/* The responder's secret is older than two minutes; the initiator
	 * still thinks its cookie is fresh enough to use. */
	p.dev[1].cookie_checker.secret_birth -= NS(COOKIE_SECRET_MAX_AGE);
	usleep(20 * 1000);
	ck_assert_int_eq(initiate_under_load(&p, &out), 0);
	ck_assert(out.cookie_sent);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_initiator_drops_old_cookie)
{
	struct engine_pair p;
	struct message_handshake_initiation init;
	static const uint8_t zero[COOKIE_LEN];

	engine_pair_init(&p, false);
	take_cookie(&p);
	p.now += NS(COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY) - 1;
	pair_initiation(&p, 0, &init);
	ck_assert(memcmp(init.macs.mac2, zero, COOKIE_LEN) != 0);
	p.now += 1;
	pair_initiation(&p, 0, &init);
	ck_assert(memcmp(init.macs.mac2, zero, COOKIE_LEN) == 0);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_response_under_load_gets_cookie)
{
	struct engine_pair p;
	struct message_handshake_initiation init;
	struct handshake_outcome res, out;

	engine_pair_init(&p, false);
	pair_initiation(&p, 0, &init);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &init, sizeof(init),
						false, &res), 0);
	ck_assert_int_eq(pair_deliver_handshake(&p, 0, res.reply,
						res.reply_len, true, &out), 0);
	ck_assert(out.cookie_sent && !out.session_derived);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_wrong_mac1_dropped_without_reply)
{
	struct engine_pair p;
	struct message_handshake_initiation init;
	struct handshake_outcome out;

	engine_pair_init(&p, false);
	pair_initiation(&p, 0, &init);
	init.macs.mac1[3] ^= 1;
	/* Not even a cookie for a sender that cannot prove it knows our
	 * public key. */
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &init, sizeof(init),
						true, &out), -EBADMSG);
	ck_assert_uint_eq(out.reply_len, 0);
	engine_pair_destroy(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cookie");
	TCase *tc = tcase_create("cookie");

	tcase_add_test(tc, test_cookie_then_mac2_retry_is_served);
	tcase_add_test(tc, test_cookie_reply_replayed_or_tampered);
	tcase_add_test(tc, test_cookie_bound_to_source_address);
	tcase_add_test(tc, test_cookie_secret_rotates);
	tcase_add_test(tc, test_initiator_drops_old_cookie);
	tcase_add_test(tc, test_response_under_load_gets_cookie);
	tcase_add_test(tc, test_wrong_mac1_dropped_without_reply);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
