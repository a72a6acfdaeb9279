/* Index table: single-threaded behaviour (add, find, remove, growth, index
 * randomness), the retire hook, and lock-free readers racing a writer that
 * adds, removes, upgrades and grows, with a small QSBR scheme freeing the
 * retired memory during the run. */
#include "src/epoch.h"
#include "src/index_table.h"
#include "tests/unit/check_main.h"
#include "tests/unit/held_epoch.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Peers and keypairs are only compared, never dereferenced: distinct
 * addresses do. */
#define NTAGS 4096
static const char peer_tags[NTAGS];
static const char kp_tags[NTAGS];
#define PEER(i) ((struct peer *)&peer_tags[(i) % NTAGS])
#define KP(i) ((struct keypair *)&kp_tags[(i) % NTAGS])

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void add_checked(struct index_table *t, enum index_kind kind,
			struct peer *peer, struct keypair *kp, uint32_t *idx)
{
	ck_assert_int_eq(index_table_add(t, kind, peer, kp, idx), 0);
}

static void check_entry(const struct index_table *t, uint32_t idx,
			struct peer *peer)
{
	struct index_entry *e = index_table_find(t, idx);

	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->index, idx);
	ck_assert_ptr_eq(e->peer, peer);
}

START_TEST(test_add_find_remove)
{
	enum { N = 5000 };
	struct index_table t;
	uint32_t *idx = malloc(N * sizeof(*idx));
	size_t nb = 0;

	ck_assert_ptr_nonnull(idx);
	ck_assert_int_eq(index_table_init(&t, NULL), 0);
	ck_assert_uint_eq(index_table_nbuckets(&t), 64);
	for (int i = 0; i < N; i++) {
		add_checked(&t, i % 2 ? INDEX_KEYPAIR : INDEX_HANDSHAKE,
			    PEER(i), i % 2 ? KP(i) : NULL, &idx[i]);
		/* Growth keeps everything added so far findable. */
		if (index_table_nbuckets(&t) != nb) {
			nb = index_table_nbuckets(&t);
			for (int j = 0; j <= i; j++)
				check_entry(&t, idx[j], PEER(j));
		}
	}
	ck_assert_uint_eq(index_table_count(&t), N);
	ck_assert_uint_eq(index_table_nbuckets(&t), 8192);
	for (int i = 0; i < N; i++) {
		struct index_entry *e = index_table_find(&t, idx[i]);

		check_entry(&t, idx[i], PEER(i));
		ck_assert_int_eq(e->kind,
				 i % 2 ? INDEX_KEYPAIR : INDEX_HANDSHAKE);
		ck_assert_ptr_eq(e->keypair, i % 2 ? KP(i) : NULL);
	}
	/* Remove the even ones: they go, the odd ones stay. */
	for (int i = 0; i < N; i += 2)
		ck_assert_int_eq(index_table_remove(&t, idx[i]), 0);
	ck_assert_uint_eq(index_table_count(&t), N / 2);
	for (int i = 0; i < N; i++) {
		if (i % 2)
			check_entry(&t, idx[i], PEER(i));
		else
			ck_assert_ptr_null(index_table_find(&t, idx[i]));
	}
	ck_assert_int_eq(index_table_remove(&t, idx[0]), -ENOENT);
	for (int i = 1; i < N; i += 2)
		ck_assert_int_eq(index_table_remove(&t, idx[i]), 0);
	ck_assert_uint_eq(index_table_count(&t), 0);
	for (int i = 0; i < N; i++)
		ck_assert_ptr_null(index_table_find(&t, idx[i]));
	index_table_destroy(&t);
	free(idx);
}
END_TEST

START_TEST(test_set_keypair)
{
	struct index_table t;
	struct index_entry *e;
	uint32_t a, b;

	ck_assert_int_eq(index_table_init(&t, NULL), 0);
	add_checked(&t, INDEX_HANDSHAKE, PEER(1), NULL, &a);
	add_checked(&t, INDEX_HANDSHAKE, PEER(2), NULL, &b);
	ck_assert_int_eq(index_table_set_keypair(&t, a, KP(7)), 0);
	e = index_table_find(&t, a);
	ck_assert_int_eq(e->kind, INDEX_KEYPAIR);
	ck_assert_ptr_eq(e->keypair, KP(7));
	ck_assert_ptr_eq(e->peer, PEER(1));
	e = index_table_find(&t, b);
	ck_assert_int_eq(e->kind, INDEX_HANDSHAKE);
	ck_assert_ptr_null(e->keypair);
	ck_assert_int_eq(index_table_remove(&t, b), 0);
	ck_assert_int_eq(index_table_set_keypair(&t, b, KP(8)), -ENOENT);
	/* The upgrade survives growth, which copies entries. */
	for (int i = 0; i < 200; i++) {
		uint32_t x;

		add_checked(&t, INDEX_HANDSHAKE, PEER(i), NULL, &x);
	}
	ck_assert_uint_gt(index_table_nbuckets(&t), 64);
	e = index_table_find(&t, a);
	ck_assert_int_eq(e->kind, INDEX_KEYPAIR);
	ck_assert_ptr_eq(e->keypair, KP(7));
	index_table_destroy(&t);
}
END_TEST

START_TEST(test_indices_unique_and_random)
{
	enum { N = 20000 };
	struct index_table t;
	uint32_t *idx = malloc(N * sizeof(*idx));
	unsigned int ones[32] = { 0 };
	unsigned int ascending = 0;

	ck_assert_ptr_nonnull(idx);
	ck_assert_int_eq(index_table_init(&t, NULL), 0);
	for (int i = 0; i < N; i++) {
		add_checked(&t, INDEX_HANDSHAKE, PEER(i), NULL, &idx[i]);
		for (int bit = 0; bit < 32; bit++)
			ones[bit] += idx[i] >> bit & 1;
		ascending += i && idx[i] > idx[i - 1];
	}
	/* Every bit is a fair coin: 50% +- 5% is about 14 sigma wide. */
	for (int bit = 0; bit < 32; bit++) {
		ck_assert_uint_gt(ones[bit], N * 45 / 100);
		ck_assert_uint_lt(ones[bit], N * 55 / 100);
	}
	/* Not a counter: about half the steps go up. */
	ck_assert_uint_gt(ascending, N * 45 / 100);
	ck_assert_uint_lt(ascending, N * 55 / 100);
	qsort(idx, N, sizeof(*idx), cmp_u32);
	for (int i = 1; i < N; i++)
		ck_assert_uint_ne(idx[i], idx[i - 1]);
	index_table_destroy(&t);
	free(idx);
}
END_TEST

START_TEST(test_retire_hook)
{
	struct held_epoch h;
	struct index_table t;
	struct index_entry *e, *old;
	uint32_t idx[65];

	hold_epoch(&h);
	ck_assert_int_eq(index_table_init(&t, &h.e), 0);
	add_checked(&t, INDEX_HANDSHAKE, PEER(0), NULL, &idx[0]);
	e = index_table_find(&t, idx[0]);
	ck_assert_int_eq(index_table_remove(&t, idx[0]), 0);
	/* The removed entry goes to the epoch, still intact for readers. */
	ck_assert_uint_eq(epoch_pending(&h.e), 1);
	ck_assert(epoch_holds(&h.e, e));
	ck_assert_uint_eq(e->index, idx[0]);
	ck_assert_ptr_eq(e->peer, PEER(0));
	/* The 65th entry doubles the 64 buckets: the epoch gets the 65 old
	 * entries and the old array, still intact, and the table holds fresh
	 * copies of everything. */
	for (int i = 0; i < 64; i++)
		add_checked(&t, INDEX_HANDSHAKE, PEER(i), NULL, &idx[i]);
	ck_assert_uint_eq(epoch_pending(&h.e), 1);
	old = index_table_find(&t, idx[0]);
	add_checked(&t, INDEX_HANDSHAKE, PEER(64), NULL, &idx[64]);
	ck_assert_uint_eq(index_table_nbuckets(&t), 128);
	ck_assert_uint_eq(epoch_pending(&h.e), 1 + 66);
	ck_assert(epoch_holds(&h.e, old));
	ck_assert_uint_eq(old->index, idx[0]);
	ck_assert_ptr_eq(old->peer, PEER(0));
	for (int i = 0; i <= 64; i++) {
		e = index_table_find(&t, idx[i]);
		check_entry(&t, idx[i], PEER(i));
		ck_assert(!epoch_holds(&h.e, e));
	}
	index_table_destroy(&t);
	release_epoch(&h);
}
END_TEST

/* Lock-free readers against the writer, with the daemon's own epoch:
 * readers announce a quiescent state between passes (they hold no entry
 * across it), and the writer reclaims every SYNC_EVERY operations, so
 * memory is freed while readers run (ASan sees any use after that). */
#define NREADERS 3
#define NSTABLE 64
#define NRECENT 256
#define WRITER_OPS 40000
#define SYNC_EVERY 256

struct race {
	struct index_table t;
	uint32_t stable[NSTABLE];	/* set before the readers start */
	_Atomic uint32_t recent[NRECENT]; /* churn indices, maybe gone */
	struct epoch epoch;
	struct epoch_reader readers[NREADERS];
	_Atomic bool stop;
	_Atomic unsigned long failures;
	_Atomic unsigned long loops[NREADERS];
};

struct reader_arg {
	struct race *r;
	int id;
};

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Checks one found entry's consistency; kind is read before keypair. */
static bool entry_ok(const struct index_entry *e, uint32_t idx,
		     struct keypair *want_kp)
{
	enum index_kind kind = e->kind;
	struct keypair *kp = e->keypair;

	if (e->index != idx)
		return false;
	if (kind == INDEX_KEYPAIR && kp != want_kp)
		return false;
	return !kp || kp == want_kp;
}

static unsigned long read_pass(struct race *r, uint32_t *seed)
{
	unsigned long bad = 0;

	for (int i = 0; i < NSTABLE; i++) {
		struct index_entry *e = index_table_find(&r->t, r->stable[i]);

		if (!e || e->peer != PEER(i) ||
		    !entry_ok(e, r->stable[i], KP(i)))
			bad++;
	}
	for (int i = 0; i < 32; i++) {
		uint32_t idx = atomic_load_explicit(
			&r->recent[xorshift(seed) % NRECENT],
			memory_order_relaxed);
		struct index_entry *e = index_table_find(&r->t, idx);

		if (e && !entry_ok(e, idx, KP(idx)))
			bad++;
		idx = xorshift(seed);
		e = index_table_find(&r->t, idx);
		if (e && e->index != idx)
			bad++;
	}
	return bad;
}

static void *reader(void *p)
{
	struct reader_arg *a = p;
	struct race *r = a->r;
	uint32_t seed = 0x9e3779b9u + (uint32_t)a->id;
	struct epoch_reader *me = &r->readers[a->id];

	epoch_online(&r->epoch, me);
	while (!atomic_load_explicit(&r->stop, memory_order_acquire)) {
		unsigned long bad = read_pass(r, &seed);

		if (bad)
			atomic_fetch_add(&r->failures, bad);
		atomic_fetch_add_explicit(&r->loops[a->id], 1,
					  memory_order_relaxed);
		/* Quiescent: no entry pointer is held past here. */
		epoch_quiescent(&r->epoch, me);
	}
	epoch_offline(me);
	return NULL;
}

static void writer_op(struct race *r, uint32_t *live, size_t *nlive,
		      uint32_t *seed, int op)
{
	uint32_t x = xorshift(seed), idx;
	size_t k;

	if (*nlive == 0 || x % 3) {
		add_checked(&r->t, INDEX_HANDSHAKE, PEER(op), NULL, &idx);
		live[(*nlive)++] = idx;
		atomic_store_explicit(&r->recent[op % NRECENT], idx,
				      memory_order_relaxed);
		return;
	}
	k = xorshift(seed) % *nlive;
	if (x % 2) {
		ck_assert_int_eq(index_table_set_keypair(&r->t, live[k],
							 KP(live[k])), 0);
		return;
	}
	ck_assert_int_eq(index_table_remove(&r->t, live[k]), 0);
	live[k] = live[--*nlive];
}

START_TEST(test_concurrent_readers)
{
	static struct race r;
	struct reader_arg args[NREADERS];
	pthread_t th[NREADERS];
	uint32_t *live = malloc(WRITER_OPS * sizeof(*live));
	uint32_t seed = 12345;
	unsigned long failures;
	size_t nlive = 0;

	ck_assert_ptr_nonnull(live);
	memset(&r, 0, sizeof(r));
	epoch_init(&r.epoch, r.readers, NREADERS);
	ck_assert_int_eq(index_table_init(&r.t, &r.epoch), 0);
	for (int i = 0; i < NSTABLE; i++)
		add_checked(&r.t, INDEX_HANDSHAKE, PEER(i), NULL,
			    &r.stable[i]);
	for (int i = 0; i < NREADERS; i++) {
		args[i] = (struct reader_arg){ &r, i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, reader,
						&args[i]), 0);
	}
	for (int op = 0; op < WRITER_OPS; op++) {
		writer_op(&r, live, &nlive, &seed, op);
		/* Halfway, the stable handshakes become sessions. */
		if (op == WRITER_OPS / 2)
			for (int i = 0; i < NSTABLE; i += 2)
				ck_assert_int_eq(index_table_set_keypair(
					&r.t, r.stable[i], KP(i)), 0);
		if (op % SYNC_EVERY == SYNC_EVERY - 1)
			epoch_reclaim(&r.epoch);
	}
	atomic_store_explicit(&r.stop, true, memory_order_release);
	for (int i = 0; i < NREADERS; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	failures = atomic_load(&r.failures);
	ck_assert_uint_eq(failures, 0);
	/* Every reader took part throughout: a grace period needs each. */
	for (int i = 0; i < NREADERS; i++) {
		unsigned long loops = atomic_load(&r.loops[i]);

		ck_assert_uint_ge(loops, WRITER_OPS / SYNC_EVERY);
	}
	/* 64 buckets grew at least seven times. */
	ck_assert_uint_ge(index_table_nbuckets(&r.t), 64 << 7);
	for (int i = 0; i < NSTABLE; i++) {
		struct index_entry *e = index_table_find(&r.t, r.stable[i]);

		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(e->kind,
				 i % 2 ? INDEX_HANDSHAKE : INDEX_KEYPAIR);
	}
	ck_assert_uint_eq(index_table_count(&r.t), NSTABLE + nlive);
	for (size_t i = 0; i < nlive; i++)
		ck_assert_ptr_nonnull(index_table_find(&r.t, live[i]));
	/* The readers are offline: what is left goes now. */
	epoch_destroy(&r.epoch);
	index_table_destroy(&r.t);
	free(live);
}
END_TEST

static Suite *index_table_suite(void)
{
	Suite *s = suite_create("index_table");
	TCase *tc = tcase_create("single");
	TCase *mt = tcase_create("concurrent");

	tcase_add_test(tc, test_add_find_remove);
	tcase_add_test(tc, test_set_keypair);
	tcase_add_test(tc, test_indices_unique_and_random);
	tcase_add_test(tc, test_retire_hook);
	suite_add_tcase(s, tc);
	tcase_set_timeout(mt, 60);
	tcase_add_test(mt, test_concurrent_readers);
	suite_add_tcase(s, mt);
	return s;
}

int main(void)
{
	return run_suite(index_table_suite());
}
