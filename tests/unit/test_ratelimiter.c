/* The handshake ratelimiter on its own (bucket arithmetic, bursts, sources,
 * the table's bound and its garbage collection, all on a simulated clock),
 * then wired into the protocol: under load a flood gets cookies, a flood
 * that answers them is held to its rate, and an honest peer that answers
 * its cookie gets through. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/ratelimiter.h"
#include "tests/unit/check_main.h"
#include "tests/unit/engine_pair.h"

#define MS(x) ((uint64_t)(x) * 1000000ULL)
#define COST (NS(1) / RATELIMITER_PER_SECOND)

static struct sockaddr_in v4(const char *a)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = 1 };

	ck_assert_int_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6 v6(const char *a)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = 1 };

	ck_assert_int_eq(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return s;
}

static bool allow(struct ratelimiter *rl, const void *sa, uint64_t now)
{
	return ratelimiter_allow(rl, sa, now);
}

/* How many of n back-to-back messages at now get through. */
static unsigned burst(struct ratelimiter *rl, const void *sa, uint64_t now,
		      unsigned n)
{
	unsigned ok = 0;

	while (n--)
		ok += allow(rl, sa, now);
	return ok;
}

START_TEST(test_burst_then_refused)
{
	struct ratelimiter rl;
	struct sockaddr_in a = v4("198.18.0.1");

	ck_assert_int_eq(ratelimiter_init(&rl, 64), 0);
	ck_assert_uint_eq(burst(&rl, &a, NS(10), 20), RATELIMITER_BURST);
	ck_assert_uint_eq(ratelimiter_count(&rl), 1);
	ratelimiter_destroy(&rl);
}
END_TEST

/* Refill arithmetic, step by step; t is ms after the burst at 10 s. */
static const struct {
	unsigned t_ms;
	unsigned tries;
	unsigned allowed;
} refill_steps[] = {
	{ 0, 10, RATELIMITER_BURST },	/* a fresh bucket: the burst */
	{ 49, 1, 0 },			/* one token is 50 ms away */
	{ 50, 2, 1 },			/* ... and here it is, only one */
	{ 120, 3, 1 },			/* 70 ms more: one, 20 ms left over */
	{ 140, 1, 0 },			/* 20 + 20 ms: not yet */
	{ 150, 1, 1 },			/* 20 + 30 ms: one */
	{ 2000, 10, RATELIMITER_BURST }, /* long idle: full, not more */
	{ 2100, 3, 2 },			/* 100 ms: two tokens */
};

START_TEST(test_refill_arithmetic)
{
	struct ratelimiter rl;
	struct sockaddr_in a = v4("198.18.0.1");

	ck_assert_int_eq(ratelimiter_init(&rl, 64), 0);
	for (size_t i = 0; i < sizeof(refill_steps) / sizeof(refill_steps[0]);
	     i++) {
		uint64_t now = NS(10) + MS(refill_steps[i].t_ms);

		ck_assert_msg(burst(&rl, &a, now, refill_steps[i].tries) ==
			      refill_steps[i].allowed,
			      "step %zu (t=%u ms)", i, refill_steps[i].t_ms);
	}
	ratelimiter_destroy(&rl);
}
END_TEST

START_TEST(test_steady_rate)
{
	struct ratelimiter rl;
	struct sockaddr_in a = v4("198.18.0.1");
	unsigned ok = 0;

	ck_assert_int_eq(ratelimiter_init(&rl, 64), 0);
	/* 1000 tries a second for 10 s: the burst, then 20 a second. */
	for (uint64_t t = 0; t < 10000; t++)
		ok += allow(&rl, &a, NS(5) + MS(t));
	ck_assert_uint_eq(ok, RATELIMITER_BURST +
			  (10000 - 1) * RATELIMITER_PER_SECOND / 1000);
	ratelimiter_destroy(&rl);
}
END_TEST

START_TEST(test_sources_independent)
{
	struct ratelimiter rl;
	struct sockaddr_in a = v4("198.18.0.1"), b = v4("198.18.0.2");
	struct sockaddr_in a_port = a;

	ck_assert_int_eq(ratelimiter_init(&rl, 64), 0);
	ck_assert_uint_eq(burst(&rl, &a, NS(1), 10), RATELIMITER_BURST);
	ck_assert_uint_eq(burst(&rl, &b, NS(1), 10), RATELIMITER_BURST);
	/* The port is not part of the source. */
	a_port.sin_port = htons(4000);
	ck_assert(!allow(&rl, &a_port, NS(1)));
	ck_assert_uint_eq(ratelimiter_count(&rl), 2);
	ratelimiter_destroy(&rl);
}
END_TEST

START_TEST(test_ipv6_by_64)
{
	struct ratelimiter rl;
	struct sockaddr_in6 a = v6("2001:db8:1:2::1");
	struct sockaddr_in6 same64 = v6("2001:db8:1:2:ffff:ffff:ffff:ffff");
	struct sockaddr_in6 next64 = v6("2001:db8:1:3::1");
	struct sockaddr_in6 mapped = v6("::ffff:198.18.0.1");
	struct sockaddr_in6 mapped2 = v6("::ffff:198.18.0.2");
	struct sockaddr_in plain = v4("198.18.0.1");

	ck_assert_int_eq(ratelimiter_init(&rl, 64), 0);
	ck_assert_uint_eq(burst(&rl, &a, NS(1), 3), 3);
	ck_assert_uint_eq(burst(&rl, &same64, NS(1), 10),
			  RATELIMITER_BURST - 3);
	ck_assert_uint_eq(burst(&rl, &next64, NS(1), 10), RATELIMITER_BURST);
	/* v4-mapped is its IPv4 address, not one shared ::ffff:0:0/64. */
	ck_assert_uint_eq(burst(&rl, &mapped, NS(1), 10), RATELIMITER_BURST);
	ck_assert_uint_eq(burst(&rl, &mapped2, NS(1), 10), RATELIMITER_BURST);
	ck_assert(!allow(&rl, &plain, NS(1)));
	ck_assert_uint_eq(ratelimiter_count(&rl), 4);
	ratelimiter_destroy(&rl);
}
END_TEST

START_TEST(test_table_cap)
{
	struct ratelimiter rl;
	struct sockaddr_in s[5];
	char name[32];

	ck_assert_int_eq(ratelimiter_init(&rl, 4), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "198.18.1.%d", i + 1);
		s[i] = v4(name);
	}
	for (int i = 0; i < 4; i++)
		ck_assert(allow(&rl, &s[i], NS(1)));
	/* Full: a newcomer is refused, the known keep their buckets. */
	ck_assert(!allow(&rl, &s[4], NS(1)));
	ck_assert(allow(&rl, &s[0], NS(1)));
	ck_assert_uint_eq(ratelimiter_count(&rl), 4);
	/* A second later the idle ones are collected and room is made. */
	ck_assert(allow(&rl, &s[4], NS(2) + MS(1)));
	ck_assert_uint_eq(ratelimiter_count(&rl), 1);
	ratelimiter_destroy(&rl);
}
END_TEST

START_TEST(test_gc_idle_only)
{
	struct ratelimiter rl;
	struct sockaddr_in a = v4("198.18.0.1"), b = v4("198.18.0.2");

	ck_assert_int_eq(ratelimiter_init(&rl, 64), 0);
	ck_assert(allow(&rl, &a, NS(10)));
	ck_assert(allow(&rl, &b, NS(10)));
	ck_assert_uint_eq(burst(&rl, &b, NS(10) + MS(900), 10),
			  RATELIMITER_BURST);
	ratelimiter_gc(&rl, NS(11) - 1);
	ck_assert_uint_eq(ratelimiter_count(&rl), 2);
	ratelimiter_gc(&rl, NS(11));
	ck_assert_uint_eq(ratelimiter_count(&rl), 1); /* a went, b stays */
	/* b kept its empty bucket: 100 ms of refill, where a new entry
	 * would have had the whole burst. */
	ck_assert_uint_eq(burst(&rl, &b, NS(11), 10), 2);
	ratelimiter_gc(&rl, NS(13));
	ck_assert_uint_eq(ratelimiter_count(&rl), 0);
	/* A clock that went backwards collects nothing and refills
	 * nothing. */
	ck_assert(allow(&rl, &a, NS(20)));
	ratelimiter_gc(&rl, NS(5));
	ck_assert_uint_eq(ratelimiter_count(&rl), 1);
	ck_assert_uint_eq(burst(&rl, &a, NS(19), 10), RATELIMITER_BURST - 1);
	ratelimiter_destroy(&rl);
}
END_TEST

START_TEST(test_many_sources_and_reuse)
{
	struct ratelimiter rl;
	struct sockaddr_in a = v4("10.0.0.0");
	uint32_t base = ntohl(a.sin_addr.s_addr);

	ck_assert_int_eq(ratelimiter_init(&rl, 4096), 0);
	/* Fill it, let it go idle, fill it again from the free list. */
	for (int round = 0; round < 3; round++) {
		uint64_t now = NS(10 + 2 * round);

		for (uint32_t i = 0; i < 4096; i++) {
			a.sin_addr.s_addr = htonl(base + i +
						  (uint32_t)round * 4096);
			ck_assert(allow(&rl, &a, now));
		}
		a.sin_addr.s_addr = htonl(base + 999999);
		ck_assert(!allow(&rl, &a, now));
		ck_assert_uint_eq(ratelimiter_count(&rl), 4096);
	}
	ratelimiter_destroy(&rl);
}
END_TEST

START_TEST(test_bad_input)
{
	struct ratelimiter rl;
	struct sockaddr sa = { .sa_family = AF_UNIX };

	ck_assert_int_eq(ratelimiter_init(&rl, 0), -EINVAL);
	ck_assert_int_eq(ratelimiter_init(&rl, (1u << 24) + 1), -EINVAL);
	ck_assert_int_eq(ratelimiter_init(&rl, 1), 0);
	ck_assert(!allow(&rl, &sa, NS(1)));
	ck_assert_uint_eq(ratelimiter_count(&rl), 0);
	ratelimiter_destroy(&rl);
}
END_TEST

/* ---- In the protocol ---------------------------------------------- */

/* A host that knows the responder's public key (so its MAC1 is good) but
 * is not its peer: every initiation it sends costs the responder a DH
 * and ends in -ENOKEY, unless the gate stops it first. */
struct flooder {
	struct device dev;
	struct peer *peer;
	struct sockaddr_in addr;
};

static void flooder_init(struct flooder *f, struct engine_pair *p,
			 int target, const char *addr)
{
	uint8_t priv[32];

	ck_assert_int_eq(device_init(&f->dev, NULL), 0);
	randombytes_buf(priv, sizeof(priv));
	ck_assert_int_eq(device_set_private_key(&f->dev, priv), 0);
	ck_assert_int_eq(device_add_peer(&f->dev,
					 p->dev[target].identity.public_key,
					 NULL, &f->peer), 0);
	f->addr = v4(addr);
}

static int flood_one(struct flooder *f, struct engine_pair *p, int target,
		     bool under_load, struct handshake_outcome *out)
{
	struct message_handshake_initiation init;

	ck_assert_int_eq(protocol_create_initiation(&f->dev, f->peer, p->now,
						    &init), 0);
	return protocol_receive_handshake(&p->dev[target], (void *)&init,
					  sizeof(init), (void *)&f->addr,
					  under_load, p->now, out);
}

/* The flooder takes the cookie its last message earned. */
static void flooder_take_cookie(struct flooder *f, struct engine_pair *p,
				int target, struct handshake_outcome *reply)
{
	struct handshake_outcome none;

	ck_assert(reply->cookie_sent);
	ck_assert_int_eq(protocol_receive_handshake(&f->dev, reply->reply,
						    reply->reply_len,
						    (void *)&p->addr[target],
						    false, p->now, &none), 0);
	ck_assert(f->peer->cookie.have_cookie);
}

/* Side 0 initiates to side 1 under load; side 0 answers the cookie and
 * must then be served. */
static void honest_peer_gets_through(struct engine_pair *p)
{
	struct message_handshake_initiation init;
	struct handshake_outcome out, none;

	usleep(20 * 1000); /* a newer TAI64N timestamp */
	pair_initiation(p, 0, &init);
	ck_assert_int_eq(pair_deliver_handshake(p, 1, &init, sizeof(init),
						true, &out), 0);
	ck_assert(out.cookie_sent && !out.session_derived);
	ck_assert_int_eq(pair_deliver_handshake(p, 0, out.reply, out.reply_len,
						false, &none), 0);
	usleep(20 * 1000);
	pair_initiation(p, 0, &init);
	ck_assert_int_eq(pair_deliver_handshake(p, 1, &init, sizeof(init),
						true, &out), 0);
	ck_assert(!out.cookie_sent && out.session_derived);
	ck_assert_uint_eq(out.reply_len,
			  sizeof(struct message_handshake_response));
}

START_TEST(test_flood_gets_cookies_honest_peer_served)
{
	struct device_handshake_stats *st;
	struct engine_pair p;
	struct handshake_outcome out;
	struct flooder f;

	engine_pair_init(&p, false);
	flooder_init(&f, &p, 1, "198.18.7.7");
	st = &p.dev[1].hs_stats;
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(flood_one(&f, &p, 1, true, &out), 0);
		ck_assert(out.cookie_sent && !out.session_derived);
		ck_assert_uint_eq(out.reply_len,
				  sizeof(struct message_handshake_cookie));
	}
	ck_assert_uint_eq(st->cookies_sent, 100);
	ck_assert_uint_eq(st->processed, 0);
	honest_peer_gets_through(&p);
	ck_assert_uint_eq(st->cookies_sent, 101);
	ck_assert_uint_eq(st->processed, 1);
	ck_assert_uint_eq(st->ratelimited, 0);
	device_destroy(&f.dev);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_flood_with_cookie_is_ratelimited)
{
	struct device_handshake_stats *st;
	struct engine_pair p;
	struct handshake_outcome out;
	struct flooder f;
	int ratelimited = 0;

	engine_pair_init(&p, false);
	flooder_init(&f, &p, 1, "198.18.7.7");
	st = &p.dev[1].hs_stats;
	ck_assert_int_eq(flood_one(&f, &p, 1, true, &out), 0);
	flooder_take_cookie(&f, &p, 1, &out);
	/* With a good MAC2 the flood reaches the limiter: a burst gets DH
	 * work (and fails: not a peer), the rest is dropped unanswered. */
	for (int i = 0; i < 50; i++) {
		int ret = flood_one(&f, &p, 1, true, &out);

		ck_assert(!out.cookie_sent && !out.reply_len);
		ck_assert(ret == -ENOKEY || ret == -EAGAIN);
		ratelimited += ret == -EAGAIN;
	}
	ck_assert_int_eq(ratelimited, 50 - RATELIMITER_BURST);
	ck_assert_uint_eq(st->processed, RATELIMITER_BURST);
	ck_assert_uint_eq(st->ratelimited, 50 - RATELIMITER_BURST);
	/* A tick later the flooder has one more, and no more. */
	p.now += COST;
	ck_assert_int_eq(flood_one(&f, &p, 1, true, &out), -ENOKEY);
	ck_assert_int_eq(flood_one(&f, &p, 1, true, &out), -EAGAIN);
	/* Its limit is its own: the honest peer is not held to it. */
	honest_peer_gets_through(&p);
	device_destroy(&f.dev);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_not_under_load_no_gate)
{
	struct device_handshake_stats *st;
	struct engine_pair p;
	struct handshake_outcome out;
	struct flooder f;

	engine_pair_init(&p, false);
	flooder_init(&f, &p, 1, "198.18.7.7");
	st = &p.dev[1].hs_stats;
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(flood_one(&f, &p, 1, false, &out), -ENOKEY);
		ck_assert(!out.cookie_sent);
	}
	ck_assert_uint_eq(st->processed, 20);
	ck_assert_uint_eq(st->cookies_sent + st->ratelimited, 0);
	ck_assert_uint_eq(ratelimiter_count(&p.dev[1].ratelimiter), 0);
	pair_handshake(&p, 0);
	ck_assert_uint_eq(st->processed, 21);
	device_destroy(&f.dev);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_bad_mac1_counted)
{
	struct engine_pair p;
	struct message_handshake_initiation init;
	struct handshake_outcome out;

	engine_pair_init(&p, false);
	pair_initiation(&p, 0, &init);
	init.macs.mac1[0] ^= 1;
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &init, sizeof(init),
						true, &out), -EBADMSG);
	ck_assert_uint_eq(p.dev[1].hs_stats.bad_mac, 1);
	ck_assert_uint_eq(p.dev[1].hs_stats.cookies_sent, 0);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_under_load_lingers)
{
	struct device dev;

	ck_assert_int_eq(device_init(&dev, NULL), 0);
	ck_assert(!protocol_under_load(&dev, false, NS(100)));
	ck_assert(protocol_under_load(&dev, true, NS(100)));
	ck_assert(protocol_under_load(&dev, false, NS(100) + MS(999)));
	ck_assert(!protocol_under_load(&dev, false, NS(101)));
	/* Busy again restarts the second. */
	ck_assert(protocol_under_load(&dev, true, NS(102)));
	ck_assert(protocol_under_load(&dev, false, NS(102) + MS(500)));
	ck_assert(!protocol_under_load(&dev, false, NS(103) + MS(1)));
	device_destroy(&dev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ratelimiter");
	TCase *tc = tcase_create("buckets");
	TCase *tp = tcase_create("protocol");

	if (sodium_init() < 0)
		return EXIT_FAILURE;
	tcase_add_test(tc, test_burst_then_refused);
	tcase_add_test(tc, test_refill_arithmetic);
	tcase_add_test(tc, test_steady_rate);
	tcase_add_test(tc, test_sources_independent);
	tcase_add_test(tc, test_ipv6_by_64);
	tcase_add_test(tc, test_table_cap);
	tcase_add_test(tc, test_gc_idle_only);
	tcase_add_test(tc, test_many_sources_and_reuse);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	tcase_add_test(tp, test_flood_gets_cookies_honest_peer_served);
	tcase_add_test(tp, test_flood_with_cookie_is_ratelimited);
	tcase_add_test(tp, test_not_under_load_no_gate);
	tcase_add_test(tp, test_bad_mac1_counted);
	tcase_add_test(tp, test_under_load_lingers);
	tcase_set_timeout(tp, 60);
	suite_add_tcase(s, tp);
	return run_suite(s);
}
