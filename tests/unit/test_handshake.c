/* Two engines in one process: handshakes both ways, data both ways, rekey
 * and keypair rotation, and rejection of every tampered or replayed
 * handshake message. */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/data.h"
#include "tests/unit/engine_pair.h"
#include "tests/unit/check_main.h"

START_TEST(test_handshake_and_data_both_ways)
{
	struct engine_pair p;

	engine_pair_init(&p, _i == 1);
	pair_handshake(&p, 0);
	/* The responder may not send before the initiator's first packet
	 * confirms the session. */
	{
		uint8_t buf[PAIR_BUF], x = 1;

		ck_assert_int_eq(pair_encrypt(&p, 1, buf, &x, 1), -ENOKEY);
	}
	pair_roundtrip(&p, 0, 100);
	for (size_t len = 0; len < 1500; len += 97) {
		pair_roundtrip(&p, 1, len);
		pair_roundtrip(&p, 0, len);
	}
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_first_data_confirms_responder)
{
	struct engine_pair p;
	uint8_t buf[PAIR_BUF], x = 7;
	struct data_outcome out;
	long len;

	engine_pair_init(&p, false);
	pair_handshake(&p, 0);
	ck_assert(atomic_load(&p.peer[1]->keypairs.next) != NULL);
	ck_assert(keypairs_current(&p.peer[1]->keypairs) == NULL);
	len = pair_encrypt(&p, 0, buf, &x, 0); /* a keepalive */
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(pair_decrypt(&p, 1, buf, (size_t)len, &out), 0);
	ck_assert(out.confirms_next && p.handshake_complete);
	ck_assert_uint_eq(out.plain_len, 0);
	ck_assert(atomic_load(&p.peer[1]->keypairs.next) == NULL);
	ck_assert(keypairs_current(&p.peer[1]->keypairs) != NULL);
	engine_pair_destroy(&p);
}
END_TEST

/* Rekeys alternate the initiator; a packet sent under the old session
 * and delivered after the new one is installed must still decrypt (the
 * previous keypair), and three generations back must not. */
START_TEST(test_rekey_and_rotation)
{
	struct engine_pair p;
	uint8_t old_msg[PAIR_BUF], data[64];
	struct data_outcome out;
	long len;

	engine_pair_init(&p, true);
	pair_handshake(&p, 0);
	pair_roundtrip(&p, 0, 10);
	memset(data, 0xab, sizeof(data));
	len = pair_encrypt(&p, 0, old_msg, data, sizeof(data));
	ck_assert_int_gt(len, 0);

	for (int round = 0; round < 6; round++) {
		p.now += NS(REKEY_AFTER_TIME);
		pair_handshake(&p, round % 2);
		pair_roundtrip(&p, round % 2, 200);
		pair_roundtrip(&p, !(round % 2), 200);
		if (round == 0) {
			ck_assert_int_eq(pair_decrypt(&p, 1, old_msg,
						      (size_t)len, &out), 0);
			ck_assert(memcmp(old_msg + MESSAGE_DATA_HEADER_LEN,
					 data, sizeof(data)) == 0);
		}
	}
	/* Keys from six handshakes ago are gone: the index is unknown. */
	len = pair_encrypt(&p, 0, old_msg, data, sizeof(data));
	ck_assert_int_gt(len, 0);
	ck_assert_uint_le(p.dev[0].indices.count, 3);
	ck_assert_uint_le(p.dev[1].indices.count, 3);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_simultaneous_initiations)
{
	struct engine_pair p;
	struct message_handshake_initiation ia, ib;
	struct handshake_outcome ra, rb, fa, fb;

	engine_pair_init(&p, false);
	pair_initiation(&p, 0, &ia);
	pair_initiation(&p, 1, &ib);
	/* Both sides answer the other's initiation ... */
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &ia, sizeof(ia), false, &rb), 0);
	p.now += NS(1);
	ck_assert_int_eq(pair_deliver_handshake(&p, 0, &ib, sizeof(ib), false, &ra), 0);
	/* ... which replaced their own pending initiations, so the crossing
	 * responses find no handshake waiting for them. */
	ck_assert_int_ne(pair_deliver_handshake(&p, 0, rb.reply, rb.reply_len, false, &fa), 0);
	ck_assert_int_ne(pair_deliver_handshake(&p, 1, ra.reply, ra.reply_len, false, &fb), 0);
	/* A fresh handshake then settles it. */
	p.now += NS(1);
	pair_handshake(&p, 0);
	pair_roundtrip(&p, 0, 50);
	pair_roundtrip(&p, 1, 50);
	engine_pair_destroy(&p);
}
END_TEST

static void flip(void *msg, size_t bit)
{
	((uint8_t *)msg)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

/* Every bit up to MAC2 is covered by MAC1 or the AEAD; MAC2 itself is
 * checked only under load (whitepaper 5.4.4), so its bits are flipped with
 * the responder under load and a cookie in hand. */
START_TEST(test_initiation_every_bit_flip_rejected)
{
	struct engine_pair p;
	struct message_handshake_initiation init;
	struct handshake_outcome out, cookie;
	const size_t mac2_bit = offsetof(struct message_handshake_initiation,
					 macs.mac2) * 8;
	int ret;

	engine_pair_init(&p, true);
	pair_initiation(&p, 0, &init);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &init, sizeof(init),
						true, &cookie), 0);
	ck_assert(cookie.cookie_sent);
	ck_assert_int_eq(pair_deliver_handshake(&p, 0, cookie.reply,
						cookie.reply_len, false, &out), 0);
	pair_initiation(&p, 0, &init); /* now with MAC2 */

	for (size_t bit = 0; bit < sizeof(init) * 8; bit++) {
		bool load = bit >= mac2_bit;

		flip(&init, bit);
		ret = pair_deliver_handshake(&p, 1, &init, sizeof(init), load,
					     &out);
		ck_assert_msg(ret != 0 || out.cookie_sent,
			      "initiation with bit %zu flipped accepted", bit);
		ck_assert(!out.session_derived);
		flip(&init, bit);
	}
	/* The untouched message still works, under load too. */
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &init, sizeof(init),
						true, &out), 0);
	ck_assert(out.session_derived);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_response_every_bit_flip_rejected)
{
	struct engine_pair p;
	struct message_handshake_initiation init;
	struct handshake_outcome res, out;
	uint8_t resp[sizeof(struct message_handshake_response)];
	const size_t mac2_bit = offsetof(struct message_handshake_response,
					 macs.mac2) * 8;

	engine_pair_init(&p, false);
	pair_initiation(&p, 0, &init);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &init, sizeof(init),
						false, &res), 0);
	memcpy(resp, res.reply, sizeof(resp));

	for (size_t bit = 0; bit < mac2_bit; bit++) {
		int ret;

		flip(resp, bit);
		ret = pair_deliver_handshake(&p, 0, resp, sizeof(resp), false,
					     &out);
		ck_assert_msg(ret != 0, "response bit %zu flipped accepted", bit);
		flip(resp, bit);
	}
	/* A forged response must not have cancelled the real handshake. */
	ck_assert_int_eq(pair_deliver_handshake(&p, 0, resp, sizeof(resp),
						false, &out), 0);
	ck_assert(out.handshake_complete);
	/* And the same response twice is refused. */
	ck_assert_int_ne(pair_deliver_handshake(&p, 0, resp, sizeof(resp),
						false, &out), 0);
	pair_roundtrip(&p, 0, 64);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_replayed_initiation_rejected)
{
	struct engine_pair p;
	struct message_handshake_initiation first, second;
	struct handshake_outcome out;

	engine_pair_init(&p, false);
	pair_initiation(&p, 0, &first);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &first, sizeof(first),
						false, &out), 0);
	p.now += NS(1);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &first, sizeof(first),
						false, &out), -EALREADY);
	/* A later initiation is fine; the first one stays dead after it. */
	usleep(40 * 1000); /* the TAI64N clock is coarsened to ~17 ms */
	pair_initiation(&p, 0, &second);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &second, sizeof(second),
						false, &out), 0);
	p.now += NS(1);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &first, sizeof(first),
						false, &out), -EALREADY);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_initiation_flood_from_one_peer)
{
	struct engine_pair p;
	struct message_handshake_initiation a, b;
	struct handshake_outcome out;

	engine_pair_init(&p, false);
	pair_initiation(&p, 0, &a);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &a, sizeof(a), false,
						&out), 0);
	usleep(40 * 1000);
	pair_initiation(&p, 0, &b);
	/* Newer, but less than 1/INITIATIONS_PER_SECOND later. */
	p.now += 1000000000ULL / INITIATIONS_PER_SECOND - 1;
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &b, sizeof(b), false,
						&out), -EBUSY);
	p.now += 1;
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &b, sizeof(b), false,
						&out), 0);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_unknown_peer_and_wrong_sizes)
{
	struct engine_pair p;
	struct device stranger;
	struct peer *sp;
	struct message_handshake_initiation init;
	struct handshake_outcome out;
	uint8_t priv[32], big[sizeof(init) + 1];

	engine_pair_init(&p, false);
	/* A third party that knows B's public key but is not B's peer: MAC1
	 * is fine, the static key is unknown. */
	ck_assert_int_eq(device_init(&stranger, NULL), 0);
	randombytes_buf(priv, sizeof(priv));
	ck_assert_int_eq(device_set_private_key(&stranger, priv), 0);
	ck_assert_int_eq(device_add_peer(&stranger,
					 p.dev[1].identity.public_key, NULL,
					 &sp), 0);
	ck_assert_int_eq(protocol_create_initiation(&stranger, sp, p.now,
						    &init), 0);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, &init, sizeof(init),
						false, &out), -ENOKEY);
	/* One byte short or long is not an initiation at all. */
	memcpy(big, &init, sizeof(init));
	big[sizeof(init)] = 0;
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, big, sizeof(init) - 1,
						false, &out), -EBADMSG);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, big, sizeof(big),
						false, &out), -EBADMSG);
	ck_assert_int_eq(pair_deliver_handshake(&p, 1, big, 0, false, &out),
			 -EBADMSG);
	device_destroy(&stranger);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_peer_config_errors)
{
	struct engine_pair p;
	struct peer *q;

	engine_pair_init(&p, false);
	ck_assert_int_eq(device_add_peer(&p.dev[0],
					 p.dev[1].identity.public_key, NULL,
					 &q), -EEXIST);
	ck_assert_int_eq(device_add_peer(&p.dev[0],
					 p.dev[0].identity.public_key, NULL,
					 &q), -EINVAL);
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_session_expires_and_keys_zeroed)
{
	struct engine_pair p;
	uint8_t buf[PAIR_BUF], x = 0;
	struct data_outcome out;
	long len;

	engine_pair_init(&p, false);
	pair_handshake(&p, 0);
	pair_roundtrip(&p, 0, 20);
	len = pair_encrypt(&p, 1, buf, &x, 1);
	ck_assert_int_gt(len, 0);
	p.now += NS(REJECT_AFTER_TIME);
	ck_assert_int_eq(pair_encrypt(&p, 0, buf, &x, 1), -ENOKEY);
	ck_assert_int_eq(pair_decrypt(&p, 0, buf, (size_t)len, &out), -ENOKEY);
	device_zero_peer_keys(&p.dev[0], p.peer[0]);
	ck_assert(keypairs_current(&p.peer[0]->keypairs) == NULL);
	ck_assert_uint_eq(p.dev[0].indices.count, 0);
	engine_pair_destroy(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("handshake");
	TCase *tc = tcase_create("engines");

	tcase_add_loop_test(tc, test_handshake_and_data_both_ways, 0, 2);
	tcase_add_test(tc, test_first_data_confirms_responder);
	tcase_add_test(tc, test_rekey_and_rotation);
	tcase_add_test(tc, test_simultaneous_initiations);
	tcase_add_test(tc, test_initiation_every_bit_flip_rejected);
	tcase_add_test(tc, test_response_every_bit_flip_rejected);
	tcase_add_test(tc, test_replayed_initiation_rejected);
	tcase_add_test(tc, test_initiation_flood_from_one_peer);
	tcase_add_test(tc, test_unknown_peer_and_wrong_sizes);
	tcase_add_test(tc, test_peer_config_errors);
	tcase_add_test(tc, test_session_expires_and_keys_zeroed);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
