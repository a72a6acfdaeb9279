/* Transport data messages: padding, classification, every flipped bit,
 * replays, and the replay window seen through whole packets. */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/data.h"
#include "tests/unit/engine_pair.h"
#include "tests/unit/check_main.h"

/* Table: plaintext length, MTU, expected padded length. */
static const struct {
	size_t plain, mtu, padded;
} padding_cases[] = {
	{ 0, 1420, 0 },      /* keepalive */
	{ 1, 1420, 16 },
	{ 15, 1420, 16 },
	{ 16, 1420, 16 },
	{ 17, 1420, 32 },
	{ 1419, 1420, 1420 },  /* padding would pass the MTU: stop at it */
	{ 1420, 1420, 1420 },
	{ 1405, 1420, 1408 },
	{ 1500, 1420, 1504 },  /* bigger than the MTU: pad normally */
	{ 1281, 1290, 1290 },
};

START_TEST(test_padding_table)
{
	size_t got = data_padded_len(padding_cases[_i].plain,
				     padding_cases[_i].mtu);

	ck_assert_msg(got == padding_cases[_i].padded,
		      "case %d: plain %zu mtu %zu: got %zu want %zu", _i,
		      padding_cases[_i].plain, padding_cases[_i].mtu, got,
		      padding_cases[_i].padded);
}
END_TEST

START_TEST(test_message_length_and_header)
{
	struct engine_pair p;
	uint8_t buf[PAIR_BUF], data[100] = { 0 };
	struct data_outcome out;
	long len;

	engine_pair_init(&p, false);
	pair_handshake(&p, 0);
	len = pair_encrypt(&p, 0, buf, data, 1);
	ck_assert_int_eq(len, 16 + 16 + 16);
	ck_assert_uint_eq(buf[0], MESSAGE_DATA);
	ck_assert(!buf[1] && !buf[2] && !buf[3]);
	ck_assert_uint_eq(le64toh(((struct message_data *)buf)->counter), 0);
	ck_assert_int_eq(pair_decrypt(&p, 1, buf, (size_t)len, &out), 0);
	ck_assert_uint_eq(out.plain_len, 16);
	/* Counters increase by one per message. */
	len = pair_encrypt(&p, 0, buf, data, 100);
	ck_assert_int_eq(len, 16 + 112 + 16);
	ck_assert_uint_eq(le64toh(((struct message_data *)buf)->counter), 1);
	engine_pair_destroy(&p);
}
END_TEST

/* Loop 0: 61 bytes (sealed as 64, by libsodium); loop 1: 200 bytes
 * (sealed as 208, by crypto/aead.c). */
START_TEST(test_every_bit_flip_rejected)
{
	struct engine_pair p;
	uint8_t buf[PAIR_BUF], copy[PAIR_BUF], data[200];
	size_t size = _i ? 200 : 61;
	struct data_outcome out;
	long len;

	engine_pair_init(&p, false);
	pair_handshake(&p, 0);
	pair_roundtrip(&p, 0, 1);
	randombytes_buf(data, sizeof(data));
	len = pair_encrypt(&p, 1, buf, data, size);
	ck_assert_int_gt(len, 0);
	for (size_t bit = 0; bit < (size_t)len * 8; bit++) {
		memcpy(copy, buf, (size_t)len);
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(pair_decrypt(&p, 0, copy, (size_t)len, &out) != 0,
			      "data bit %zu flipped accepted", bit);
	}
	/* Truncated and extended messages fail too. */
	memcpy(copy, buf, (size_t)len);
	ck_assert_int_ne(pair_decrypt(&p, 0, copy, (size_t)len - 1, &out), 0);
	copy[len] = 0;
	ck_assert_int_ne(pair_decrypt(&p, 0, copy, (size_t)len + 1, &out), 0);
	/* The genuine message once, then never again. */
	memcpy(copy, buf, (size_t)len);
	ck_assert_int_eq(pair_decrypt(&p, 0, copy, (size_t)len, &out), 0);
	ck_assert(memcmp(copy + 16, data, size) == 0);
	memcpy(copy, buf, (size_t)len);
	ck_assert_int_eq(pair_decrypt(&p, 0, copy, (size_t)len, &out),
			 -EALREADY);
	engine_pair_destroy(&p);
}
END_TEST

/* Side 0 seals and opens with libsodium, side 1 with OpenSSL (crypto/
 * aead.c): full-size messages both ways arrive intact, so either library
 * reads the other's bytes. Then side 1's sealing context is held busy, as
 * a second worker on the same session would hold it: the message is
 * sealed by libsodium instead, and still opens. */
START_TEST(test_evp_and_sodium_interoperate)
{
	static const size_t sizes[] = { 1, 20, 127, 128, 129, 700, 1400 };
	struct engine_pair p;
	uint8_t buf[PAIR_BUF], data[1400];
	struct data_outcome out;
	struct keypair *kp;
	long len;

	engine_pair_init(&p, true);
	p.dev[0].aead_evp = false;
	pair_handshake(&p, 0);
	randombytes_buf(data, sizeof(data));
	/* Sizes on both sides of EVP_MIN_LEN (128), and full size last. */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int from = 0; from < 2; from++) {
			len = pair_encrypt(&p, from, buf, data, sizes[i]);
			ck_assert_int_gt(len, 0);
			ck_assert_int_eq(pair_decrypt(&p, !from, buf,
						      (size_t)len, &out), 0);
			ck_assert_mem_eq(buf + 16, data, sizes[i]);
		}
	kp = keypairs_current(&p.peer[1]->keypairs);
	ck_assert(kp->use_evp && kp->seal[0].aead.stream &&
		  kp->open[0].aead.stream);
	/* The threshold, on the padded length: a fresh session's first
	 * 112-byte message makes no OpenSSL context, a 128-byte one does. */
	pair_handshake(&p, 1);
	kp = keypairs_current(&p.peer[1]->keypairs);
	ck_assert_int_gt(pair_encrypt(&p, 1, buf, data, 100), 0);
	ck_assert_ptr_null(kp->seal[0].aead.stream);
	ck_assert_int_gt(pair_encrypt(&p, 1, buf, data, 120), 0);
	ck_assert_ptr_nonnull(kp->seal[0].aead.stream);
	ck_assert(!keypairs_current(&p.peer[0]->keypairs)->seal[0].aead.stream);
	/* Lane 0 busy, as another worker sealing this session holds it:
	 * the next lane's context is made and used. */
	ck_assert(!atomic_flag_test_and_set(&kp->seal[0].busy));
	len = pair_encrypt(&p, 1, buf, data, sizeof(data));
	ck_assert_int_gt(len, 0);
	ck_assert_ptr_nonnull(kp->seal[1].aead.stream);
	ck_assert_int_eq(pair_decrypt(&p, 0, buf, (size_t)len, &out), 0);
	ck_assert_mem_eq(buf + 16, data, sizeof(data));
	/* Every lane busy: libsodium seals it, and it still opens. */
	for (int i = 1; i < KEYPAIR_AEAD_LANES; i++)
		ck_assert(!atomic_flag_test_and_set(&kp->seal[i].busy));
	len = pair_encrypt(&p, 1, buf, data, sizeof(data));
	for (int i = 0; i < KEYPAIR_AEAD_LANES; i++)
		atomic_flag_clear(&kp->seal[i].busy);
	ck_assert_int_gt(len, 0);
	ck_assert_ptr_null(kp->seal[2].aead.stream);
	ck_assert_int_eq(pair_decrypt(&p, 0, buf, (size_t)len, &out), 0);
	ck_assert_mem_eq(buf + 16, data, sizeof(data));
	engine_pair_destroy(&p);
}
END_TEST

#define BURST 5000

/* Out of order inside the window: each accepted exactly once. Behind the
 * window: never. */
START_TEST(test_reordering_and_window)
{
	struct engine_pair p;
	static uint8_t msgs[BURST][64];
	long lens[BURST];
	size_t order[BURST];
	uint8_t data[8] = { 0 }, tmp[64];
	struct data_outcome out;
	int accepted = 0;

	engine_pair_init(&p, false);
	pair_handshake(&p, 0);
	for (size_t i = 0; i < BURST; i++) {
		lens[i] = pair_encrypt(&p, 0, msgs[i], data, sizeof(data));
		ck_assert_int_gt(lens[i], 0);
		order[i] = i;
	}
	/* Shuffle within blocks of 1000 so reordering stays inside the
	 * window; deliver every message twice. */
	srand(7);
	for (size_t b = 0; b < BURST; b += 1000)
		for (size_t i = b + 999; i > b; i--) {
			size_t j = b + (size_t)rand() % (i - b + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < BURST; k++) {
			size_t i = order[k];

			memcpy(tmp, msgs[i], (size_t)lens[i]);
			if (!pair_decrypt(&p, 1, tmp, (size_t)lens[i], &out))
				accepted++;
		}
	ck_assert_int_eq(accepted, BURST);

	/* Far ahead, then one just inside and one just outside the window. */
	{
		uint8_t far[64], in[64], outside[64];
		long lf, li, lo;
		struct keypair *kp = keypairs_current(&p.peer[0]->keypairs);

		atomic_store(&kp->send_counter, 100000);
		lf = pair_encrypt(&p, 0, far, data, sizeof(data));
		atomic_store(&kp->send_counter, 100000 - REPLAY_WINDOW_SIZE + 1);
		li = pair_encrypt(&p, 0, in, data, sizeof(data));
		atomic_store(&kp->send_counter, 100000 - REPLAY_WINDOW_SIZE);
		lo = pair_encrypt(&p, 0, outside, data, sizeof(data));
		ck_assert_int_eq(pair_decrypt(&p, 1, far, (size_t)lf, &out), 0);
		ck_assert_int_eq(pair_decrypt(&p, 1, in, (size_t)li, &out), 0);
		ck_assert_int_eq(pair_decrypt(&p, 1, outside, (size_t)lo, &out),
				 -EALREADY);
	}
	engine_pair_destroy(&p);
}
END_TEST

START_TEST(test_classify)
{
	uint8_t msg[256] = { 0 };

	ck_assert_int_eq(protocol_classify(msg, 0), MESSAGE_INVALID);
	msg[0] = MESSAGE_HANDSHAKE_INITIATION;
	ck_assert_int_eq(protocol_classify(msg, 148), MESSAGE_HANDSHAKE_INITIATION);
	ck_assert_int_eq(protocol_classify(msg, 147), MESSAGE_INVALID);
	ck_assert_int_eq(protocol_classify(msg, 149), MESSAGE_INVALID);
	msg[0] = MESSAGE_HANDSHAKE_RESPONSE;
	ck_assert_int_eq(protocol_classify(msg, 92), MESSAGE_HANDSHAKE_RESPONSE);
	ck_assert_int_eq(protocol_classify(msg, 93), MESSAGE_INVALID);
	msg[0] = MESSAGE_HANDSHAKE_COOKIE;
	ck_assert_int_eq(protocol_classify(msg, 64), MESSAGE_HANDSHAKE_COOKIE);
	ck_assert_int_eq(protocol_classify(msg, 63), MESSAGE_INVALID);
	msg[0] = MESSAGE_DATA;
	ck_assert_int_eq(protocol_classify(msg, 32), MESSAGE_DATA);
	ck_assert_int_eq(protocol_classify(msg, 31), MESSAGE_INVALID);
	msg[2] = 1; /* reserved bytes must be zero */
	ck_assert_int_eq(protocol_classify(msg, 32), MESSAGE_INVALID);
	msg[2] = 0;
	msg[0] = 5;
	ck_assert_int_eq(protocol_classify(msg, 32), MESSAGE_INVALID);
}
END_TEST

START_TEST(test_garbage_never_decrypts)
{
	struct engine_pair p;
	uint8_t buf[256];
	struct data_outcome out;
	uint32_t seed = 1;

	engine_pair_init(&p, false);
	pair_handshake(&p, 0);
	pair_roundtrip(&p, 0, 1);
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(seed = seed * 1103515245 + 12345) % 200;

		randombytes_buf(buf, len);
		if (len >= 4 && i % 2)
			memcpy(buf, "\x04\0\0\0", 4);
		if (len >= 8 && i % 4 == 1) {
			uint32_t idx = htole32(p.peer[1]->keypairs.current->local_index);

			memcpy(buf + 4, &idx, 4);
		}
		ck_assert_int_ne(pair_decrypt(&p, 1, buf, len, &out), 0);
	}
	engine_pair_destroy(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("data");
	TCase *tc = tcase_create("transport");

	if (sodium_init() < 0)
		return EXIT_FAILURE;
	tcase_add_loop_test(tc, test_padding_table, 0,
			    sizeof(padding_cases) / sizeof(padding_cases[0]));
	tcase_add_test(tc, test_message_length_and_header);
	tcase_add_loop_test(tc, test_every_bit_flip_rejected, 0, 2);
	tcase_add_test(tc, test_evp_and_sodium_interoperate);
	tcase_add_test(tc, test_reordering_and_window);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_garbage_never_decrypts);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
