/* FleetRecovery's pieces: the keyed permutation of indexes (a bijection
 * that decodes what it encodes), the check byte (about 1 in 256 indexes
 * made without the key pass it), the fleet key and slots (the same from
 * the same private key), the slot map, the device's fleet indexes (their
 * slot survives a change of private key; a crowded slot falls back to
 * random indexes) and the choice of peers for an unknown index. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/fleet_index.h"
#include "crypto/keys.h"
#include "src/device.h"
#include "src/fleet_recovery.h"
#include "src/fleet_slots.h"
#include "tests/unit/check_main.h"

#define NS_PER_SEC 1000000000ULL

static void random_key(struct fleet_key *k)
{
	uint8_t priv[WG_KEY_LEN];

	key_generate_private(priv);
	fleet_key_derive(k, priv, 493000);
	sodium_memzero(priv, sizeof(priv));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* 2^20 inputs: each comes back through the inverse, no two outputs are
 * alike, and few stay where they were (a random permutation keeps
 * about one). */
START_TEST(test_permutation)
{
	enum { N = 1 << 20 };
	uint32_t *out = malloc(N * sizeof(*out));
	struct fleet_key k;
	unsigned fixed = 0;

	ck_assert_ptr_nonnull(out);
	random_key(&k);
	for (uint32_t x = 0; x < N; x++) {
		out[x] = fleet_permute(&k, x);
		ck_assert_uint_eq(fleet_unpermute(&k, out[x]), x);
		fixed += out[x] == x;
	}
	ck_assert_uint_lt(fixed, 8);
	qsort(out, N, sizeof(*out), cmp_u32);
	for (uint32_t i = 1; i < N; i++)
		ck_assert_uint_ne(out[i - 1], out[i]);
	free(out);
}
END_TEST

/* Every slot with a few random bytes decodes to itself. */
START_TEST(test_encode_decode)
{
	struct fleet_key k;
	uint16_t slot;

	random_key(&k);
	for (uint32_t s = 0; s < FLEET_SLOTS; s++) {
		for (unsigned r = 0; r < 256; r += 85) {
			uint32_t idx = fleet_index_encode(&k, (uint16_t)s,
							  (uint8_t)r);

			slot = (uint16_t)~s;
			ck_assert(fleet_index_decode(&k, idx, &slot));
			ck_assert_uint_eq(slot, s);
		}
	}
}
END_TEST

/* About 1 in 256 of the indexes another key made, or random ones, pass
 * the check byte: 390.6 of 100,000 expected, with a standard deviation
 * of about 20; the bounds are 8 of them away. */
START_TEST(test_wrong_key)
{
	enum { N = 100000 };
	struct fleet_key a, b;
	unsigned other = 0, random = 0;
	uint16_t slot;

	random_key(&a);
	random_key(&b);
	for (unsigned i = 0; i < N; i++) {
		uint32_t idx = fleet_index_encode(&a,
				(uint16_t)randombytes_uniform(FLEET_SLOTS),
				(uint8_t)randombytes_uniform(256));

		other += fleet_index_decode(&b, idx, &slot);
		random += fleet_index_decode(&a, randombytes_random(), &slot);
	}
	ck_assert_uint_ge(other, 230);
	ck_assert_uint_le(other, 550);
	ck_assert_uint_ge(random, 230);
	ck_assert_uint_le(random, 550);
}
END_TEST

/* The same private key gives the same key (and so the same slots) on
 * every gateway; another private key gives another. */
START_TEST(test_key_stable)
{
	uint8_t priv[WG_KEY_LEN], other[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct fleet_key k1, k2, k3;
	unsigned same_slot = 0;

	key_generate_private(priv);
	key_generate_private(other);
	fleet_key_derive(&k1, priv, 7);
	fleet_key_derive(&k2, priv, 7);
	fleet_key_derive(&k3, other, 7);
	ck_assert_mem_eq(&k1, &k2, sizeof(k1));
	ck_assert(memcmp(&k1, &k3, sizeof(k1)));
	/* Another period: another permutation, the same slots. */
	fleet_key_derive(&k2, priv, 8);
	ck_assert(memcmp(k1.round, k2.round, sizeof(k1.round)));
	ck_assert_mem_eq(k1.slot, k2.slot, sizeof(k1.slot));
	fleet_key_derive(&k2, priv, 7);
	for (unsigned i = 0; i < 1000; i++) {
		randombytes_buf(pub, sizeof(pub));
		ck_assert_uint_eq(fleet_slot(&k1, pub), fleet_slot(&k2, pub));
		same_slot += fleet_slot(&k1, pub) == fleet_slot(&k3, pub);
	}
	ck_assert_uint_lt(same_slot, 5);
	fleet_key_clear(&k1);
	ck_assert(sodium_is_zero((const uint8_t *)&k1, sizeof(k1)));
}
END_TEST

/* Members of one slot, and of another slot in the same bucket. */
START_TEST(test_slots_map)
{
	struct fleet_member m[5];
	struct fleet_slots s;
	const uint16_t a = 7, b = 7 + FLEET_SLOTS_BUCKETS;
	struct fleet_member *it;
	unsigned n;

	memset(m, 0, sizeof(m));
	ck_assert_int_eq(fleet_slots_init(&s), 0);
	ck_assert_ptr_null(fleet_slots_first(&s, a));
	fleet_slots_add(&s, &m[0], a);
	fleet_slots_add(&s, &m[1], b);
	fleet_slots_add(&s, &m[2], a);
	fleet_slots_add(&s, &m[3], a);
	fleet_slots_add(&s, &m[4], 9);
	ck_assert_uint_eq(s.count, 5);
	n = 0;
	for (it = fleet_slots_first(&s, a); it; it = fleet_slots_next(it)) {
		ck_assert(it == &m[0] || it == &m[2] || it == &m[3]);
		n++;
	}
	ck_assert_uint_eq(n, 3);
	ck_assert_ptr_eq(fleet_slots_first(&s, b), &m[1]);
	ck_assert_ptr_null(fleet_slots_next(&m[1]));
	/* the middle, the head, then the last of slot a */
	fleet_slots_remove(&s, &m[2]);
	fleet_slots_remove(&s, &m[3]);
	ck_assert(!fleet_slots_has(&m[3]));
	fleet_slots_remove(&s, &m[3]); /* harmless */
	ck_assert_ptr_eq(fleet_slots_first(&s, a), &m[0]);
	ck_assert_ptr_null(fleet_slots_next(&m[0]));
	fleet_slots_remove(&s, &m[0]);
	ck_assert_ptr_null(fleet_slots_first(&s, a));
	ck_assert_ptr_eq(fleet_slots_first(&s, b), &m[1]);
	ck_assert_ptr_eq(fleet_slots_first(&s, 9), &m[4]);
	ck_assert_uint_eq(s.count, 2);
	fleet_slots_destroy(&s);
}
END_TEST

static struct peer *add_peer(struct device *dev)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct peer *peer;

	key_generate_private(priv);
	ck_assert_int_eq(key_public_from_private(pub, priv), 0);
	ck_assert_int_eq(device_add_peer(dev, pub, NULL, &peer), 0);
	return peer;
}

static void fleet_device(struct device *dev, bool fleet)
{
	uint8_t priv[WG_KEY_LEN];

	ck_assert_int_eq(device_init(dev, NULL), 0);
	if (fleet)
		ck_assert_int_eq(device_fleet_enable(dev), 0);
	key_generate_private(priv);
	ck_assert_int_eq(device_set_private_key(dev, priv), 0);
}

static const struct fleet_key *dev_key(const struct device *dev)
{
	return &atomic_load(&dev->fleet->keys)->cur;
}

static uint64_t dev_period(const struct device *dev)
{
	return atomic_load(&dev->fleet->keys)->period;
}

/* The index a peer's handshake gets decodes to the peer's slot. */
static void check_index(struct device *dev, struct peer *peer)
{
	const struct fleet_key *k = dev_key(dev);
	uint32_t idx;
	uint16_t slot;

	ck_assert_uint_eq(peer->fleet.slot,
			  fleet_slot(k, peer_public_key(peer)));
	ck_assert_int_eq(device_new_handshake_index(dev, peer, &idx), 0);
	peer->handshake.state = HANDSHAKE_CREATED_INITIATION;
	peer->handshake.local_index = idx;
	ck_assert(fleet_index_decode(k, idx, &slot));
	ck_assert_uint_eq(slot, peer->fleet.slot);
	ck_assert(device_fleet_may_know(dev, idx));
}

/* Peers join their slots as they come, before or after the key, follow
 * a new private key, and leave with their removal. */
START_TEST(test_device_indexes)
{
	struct peer *early, *peers[100];
	uint8_t priv[WG_KEY_LEN];
	struct device dev;

	ck_assert_int_eq(device_init(&dev, NULL), 0);
	ck_assert_int_eq(device_fleet_enable(&dev), 0);
	early = add_peer(&dev); /* no key yet: no slot */
	ck_assert(!fleet_slots_has(&early->fleet));
	ck_assert(!device_fleet_may_know(&dev, 1234));
	key_generate_private(priv);
	ck_assert_int_eq(device_set_private_key(&dev, priv), 0);
	ck_assert(fleet_slots_has(&early->fleet));
	for (unsigned i = 0; i < 100; i++)
		peers[i] = add_peer(&dev);
	ck_assert_uint_eq(dev.fleet->slots.count, 101);
	check_index(&dev, early);
	for (unsigned i = 0; i < 100; i++)
		check_index(&dev, peers[i]);
	key_generate_private(priv);
	ck_assert_int_eq(device_set_private_key(&dev, priv), 0);
	ck_assert_uint_eq(dev.fleet->slots.count, 101);
	for (unsigned i = 0; i < 100; i++)
		check_index(&dev, peers[i]);
	device_remove_peer(&dev, early);
	ck_assert_uint_eq(dev.fleet->slots.count, 100);
	device_destroy(&dev);
}
END_TEST

/* Off, the device has no fleet and no index is another gateway's. */
START_TEST(test_device_off)
{
	struct device dev;
	struct peer *peer;
	uint32_t idx;

	fleet_device(&dev, false);
	peer = add_peer(&dev);
	ck_assert_ptr_null(dev.fleet);
	ck_assert_int_eq(device_new_handshake_index(&dev, peer, &idx), 0);
	ck_assert(!device_fleet_may_know(&dev, idx));
	ck_assert_uint_eq(fleet_recovery_pick(&dev, idx, NS_PER_SEC, &peer,
					      1), 0);
	device_destroy(&dev);
}
END_TEST

/* A slot has 256 fleet indexes: one peer holding 2000 gets them all but
 * a few (the last free ones are hard to hit), and random ones beyond. */
START_TEST(test_crowded_slot)
{
	enum { N = 2000 };
	struct device dev;
	struct peer *peer;
	unsigned in_slot = 0;
	uint32_t idx[N];
	uint16_t slot;

	fleet_device(&dev, true);
	peer = add_peer(&dev);
	for (unsigned i = 0; i < N; i++) {
		ck_assert_int_eq(device_fleet_add_index(&dev, peer, &idx[i]),
				 0);
		in_slot += fleet_index_decode(dev_key(&dev), idx[i], &slot) &&
			   slot == peer->fleet.slot;
	}
	ck_assert_uint_ge(in_slot, 200);
	ck_assert_uint_le(in_slot, 256);
	/* The random ones are no fleet index: none poses as another slot's. */
	for (unsigned i = 0; i < N; i++)
		ck_assert(!device_fleet_slot_of(&dev, idx[i], &slot) ||
			  slot == peer->fleet.slot);
	qsort(idx, N, sizeof(idx[0]), cmp_u32);
	for (unsigned i = 1; i < N; i++)
		ck_assert_uint_ne(idx[i - 1], idx[i]);
	device_destroy(&dev);
}
END_TEST

/* An index of the peer's slot picks it, once per REKEY_TIMEOUT; one
 * that fails the check byte picks nobody; a peer whose session with us
 * is alive is left alone. */
START_TEST(test_recovery_pick)
{
	const uint64_t t0 = 100 * NS_PER_SEC;
	struct peer *out[FLEET_RECOVERY_MAX_PEERS], *peer;
	struct keypair *kp;
	struct device dev;
	uint32_t idx, bad;
	uint16_t slot;

	fleet_device(&dev, true);
	peer = add_peer(&dev);
	idx = fleet_index_encode(dev_key(&dev), peer->fleet.slot, 42);
	do
		bad = randombytes_random();
	while (fleet_keys_decode(atomic_load(&dev.fleet->keys), bad, &slot));
	ck_assert_uint_eq(fleet_recovery_pick(&dev, bad, t0, out, 8), 0);
	ck_assert_uint_eq(fleet_recovery_pick(&dev, idx, t0, out, 8), 1);
	ck_assert_ptr_eq(out[0], peer);
	timers_fleet_initiation_sent(&peer->timers, t0);
	ck_assert_uint_eq(fleet_recovery_pick(&dev, idx, t0 + NS_PER_SEC, out,
					      8), 0);
	ck_assert_uint_eq(fleet_recovery_pick(&dev, idx,
			  t0 + REKEY_TIMEOUT * NS_PER_SEC, out, 8), 1);
	/* A session that carried a packet a second ago. */
	kp = keypair_new();
	ck_assert_ptr_nonnull(kp);
	kp->birth = t0;
	atomic_store(&peer->keypairs.current, kp);
	peer_fact(peer, FACT_AUTH_RECEIVED, t0 + 9 * NS_PER_SEC);
	ck_assert_uint_eq(fleet_recovery_pick(&dev, idx, t0 + 10 * NS_PER_SEC,
					      out, 8), 0);
	ck_assert_uint_eq(fleet_recovery_pick(&dev, idx, t0 + 15 * NS_PER_SEC,
					      out, 8), 1);
	/* A worker stamped a packet 1 us after the control thread read its
	 * clock: the peer is talking to us. */
	peer_fact(peer, FACT_AUTH_RECEIVED, t0 + 20 * NS_PER_SEC + 1000);
	ck_assert_uint_eq(fleet_recovery_pick(&dev, idx, t0 + 20 * NS_PER_SEC,
					      out, 8), 0);
	atomic_store(&peer->keypairs.current, NULL);
	/* A response of ours a second old, waiting for the peer's first
	 * packet; then one older than REKEY_TIMEOUT. */
	kp->birth = t0 + 29 * NS_PER_SEC;
	atomic_store(&peer->keypairs.next, kp);
	ck_assert_uint_eq(fleet_recovery_pick(&dev, idx, t0 + 30 * NS_PER_SEC,
					      out, 8), 0);
	ck_assert_uint_eq(fleet_recovery_pick(&dev, idx, t0 + 34 * NS_PER_SEC,
					      out, 8), 1);
	atomic_store(&peer->keypairs.next, NULL);
	keypair_free(kp);
	/* Our own initiation awaits its retransmit: a fleet one would
	 * replace its handshake. */
	timers_handshake_initiated(&peer->timers, t0 + 40 * NS_PER_SEC, 0);
	ck_assert_uint_eq(fleet_recovery_pick(&dev, idx, t0 + 41 * NS_PER_SEC,
					      out, 8), 0);
	device_destroy(&dev);
}
END_TEST

/* The keys follow the period of the wall clock: an index of one period
 * is read in the next, no longer in the one after, and the index a
 * session gets in another period is another, while the peer keeps its
 * slot. */
START_TEST(test_rotation)
{
	struct device dev;
	struct peer *peer;
	uint32_t idx, later;
	uint64_t p;
	uint16_t slot;

	fleet_device(&dev, true);
	peer = add_peer(&dev);
	slot = peer->fleet.slot;
	p = dev_period(&dev);
	ck_assert_uint_eq(p, fleet_period((uint64_t)time(NULL)));
	idx = fleet_index_encode(dev_key(&dev), slot, 9);
	ck_assert_int_eq(device_fleet_rotate(&dev, p * FLEET_PERIOD_S), 0);
	ck_assert_uint_eq(dev_period(&dev), p); /* the same period */
	ck_assert_int_eq(device_fleet_rotate(&dev, (p + 1) * FLEET_PERIOD_S),
			 0);
	ck_assert_uint_eq(dev_period(&dev), p + 1);
	ck_assert_uint_eq(peer->fleet.slot, slot);
	ck_assert(device_fleet_slot_of(&dev, idx, &slot));
	ck_assert_uint_eq(slot, peer->fleet.slot);
	later = fleet_index_encode(dev_key(&dev), slot, 9);
	ck_assert_uint_ne(later, idx);
	ck_assert_int_eq(device_fleet_rotate(&dev, (p + 2) * FLEET_PERIOD_S),
			 0);
	ck_assert(!device_fleet_slot_of(&dev, idx, &slot) ||
		  slot != peer->fleet.slot);
	ck_assert(device_fleet_slot_of(&dev, later, &slot));
	ck_assert_uint_eq(slot, peer->fleet.slot);
	device_destroy(&dev);
}
END_TEST

/* An index that fails the check byte is nobody's, with a key set. */
START_TEST(test_may_know)
{
	struct device dev;
	uint32_t bad;
	uint16_t slot;

	fleet_device(&dev, true);
	ck_assert(device_fleet_may_know(&dev,
			fleet_index_encode(dev_key(&dev), 7, 1)));
	do
		bad = randombytes_random();
	while (fleet_keys_decode(atomic_load(&dev.fleet->keys), bad, &slot));
	ck_assert(!device_fleet_may_know(&dev, bad));
	ck_assert(!device_fleet_report(&dev, bad, NS_PER_SEC));
	device_destroy(&dev);
}
END_TEST

/* A slot is reported once per FLEET_REPORT_INTERVAL_MS, whatever else
 * comes; other slots are not held back. */
START_TEST(test_reports)
{
	struct fleet_reports *r = calloc(1, sizeof(*r));
	const uint64_t ms = 1000000, t0 = 3600000 * ms;

	ck_assert_ptr_nonnull(r);
	ck_assert(fleet_reports_claim(r, 9, t0));
	ck_assert(!fleet_reports_claim(r, 9, t0));
	ck_assert(!fleet_reports_claim(r, 9, t0 + 4999 * ms));
	ck_assert(fleet_reports_claim(r, 10, t0 + 1 * ms));
	ck_assert(fleet_reports_claim(r, 9, t0 + 5000 * ms));
	ck_assert(!fleet_reports_claim(r, 9, t0 + 5001 * ms));
	/* the first moment of the clock is not "never" */
	ck_assert(fleet_reports_claim(r, 11, 0));
	ck_assert(!fleet_reports_claim(r, 11, 1));
	free(r);
}
END_TEST

/* A flood of one valid index reaches the control thread once per
 * interval: the device's gate. */
START_TEST(test_device_report)
{
	const uint64_t t0 = 100 * NS_PER_SEC;
	struct device dev;
	unsigned passed = 0;
	uint32_t idx;

	fleet_device(&dev, true);
	idx = fleet_index_encode(dev_key(&dev), 1234, 5);
	for (unsigned i = 0; i < 10000; i++)
		passed += device_fleet_report(&dev, idx, t0 + i * 1000000ULL);
	ck_assert_uint_eq(passed, 2); /* at 0 and 5 s of 10 s */
	device_destroy(&dev);
}
END_TEST

/* The initiations in all and per source: FLEET_RECOVERY_BURST at once
 * then FLEET_RECOVERY_PER_SECOND a second; one source no more than the
 * ratelimiter's burst, and its refusals cost the others nothing. */
START_TEST(test_may_send)
{
	const uint64_t t0 = 100 * NS_PER_SEC;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct device dev;
	unsigned sent = 0;

	fleet_device(&dev, true);
	to.sin_addr.s_addr = htonl(0xc6120001);
	for (unsigned i = 0; i < 100; i++)
		sent += fleet_recovery_may_send(&dev, (struct sockaddr *)&to,
						t0);
	ck_assert_uint_eq(sent, RATELIMITER_BURST);
	sent = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		to.sin_addr.s_addr = htonl(0xc6130000 + i);
		sent += fleet_recovery_may_send(&dev, (struct sockaddr *)&to,
						t0);
	}
	ck_assert_uint_eq(sent, FLEET_RECOVERY_BURST - RATELIMITER_BURST);
	to.sin_addr.s_addr = htonl(0xc6140000);
	ck_assert(!fleet_recovery_may_send(&dev, (struct sockaddr *)&to,
					   t0 + NS_PER_SEC / 200));
	ck_assert(fleet_recovery_may_send(&dev, (struct sockaddr *)&to,
					  t0 + NS_PER_SEC / 100));
	device_destroy(&dev);
}
END_TEST

static Suite *fleet_suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *index = tcase_create("index");
	TCase *device = tcase_create("device");

	tcase_set_timeout(index, 60);
	tcase_add_test(index, test_permutation);
	tcase_add_test(index, test_encode_decode);
	tcase_add_test(index, test_wrong_key);
	tcase_add_test(index, test_key_stable);
	tcase_add_test(device, test_slots_map);
	tcase_add_test(device, test_device_indexes);
	tcase_add_test(device, test_device_off);
	tcase_add_test(device, test_crowded_slot);
	tcase_add_test(device, test_recovery_pick);
	tcase_add_test(device, test_rotation);
	tcase_add_test(device, test_may_know);
	tcase_add_test(device, test_reports);
	tcase_add_test(device, test_device_report);
	tcase_add_test(device, test_may_send);
	suite_add_tcase(s, index);
	suite_add_tcase(s, device);
	return s;
}

int main(void)
{
	if (crypto_init())
		return EXIT_FAILURE;
	return run_suite(fleet_suite());
}
