/* QSBR epochs and the worker<->control message rings. */
#include <check.h>
#include <stdlib.h>

#include "src/epoch.h"
#include "src/worker/msg_ring.h"
#include "tests/unit/check_main.h"

static int freed;

static void count_free(void *mem)
{
	freed++;
	free(mem);
}

START_TEST(test_online_reader_holds_back_free)
{
	struct epoch_reader readers[2];
	struct epoch e;

	freed = 0;
	epoch_init(&e, readers, 2);
	epoch_online(&e, &readers[0]);    /* reader 0 may hold a pointer */
	ck_assert_int_eq(epoch_retire(&e, malloc(8), count_free), 0);
	epoch_reclaim(&e);
	ck_assert_int_eq(freed, 0);
	epoch_quiescent(&e, &readers[0]); /* it let go */
	epoch_reclaim(&e);
	ck_assert_int_eq(freed, 1);
	epoch_destroy(&e);
}
END_TEST

START_TEST(test_offline_readers_do_not_block)
{
	struct epoch_reader readers[3];
	struct epoch e;

	freed = 0;
	epoch_init(&e, readers, 3);
	for (int i = 0; i < 5; i++)
		epoch_retire(&e, malloc(8), count_free);
	epoch_reclaim(&e);
	ck_assert_int_eq(freed, 5);
	epoch_destroy(&e);
}
END_TEST

START_TEST(test_only_older_items_are_freed)
{
	struct epoch_reader r;
	struct epoch e;

	freed = 0;
	epoch_init(&e, &r, 1);
	epoch_online(&e, &r);
	epoch_retire(&e, malloc(8), count_free); /* before the reader's mark */
	epoch_reclaim(&e);
	epoch_quiescent(&e, &r);
	epoch_retire(&e, malloc(8), count_free); /* after it */
	epoch_reclaim(&e);
	ck_assert_int_eq(freed, 1);
	epoch_quiescent(&e, &r);
	epoch_reclaim(&e);
	ck_assert_int_eq(freed, 2);
	epoch_offline(&r);
	epoch_retire(&e, malloc(8), count_free);
	epoch_destroy(&e);  /* frees what is left */
	ck_assert_int_eq(freed, 3);
}
END_TEST

START_TEST(test_msg_ring_order_and_bound)
{
	struct msg_ring *r = calloc(1, sizeof(*r));
	struct msg *m;

	ck_assert_ptr_null(msg_ring_peek(r));
	for (unsigned i = 0; i < MSG_RING_SLOTS; i++) {
		m = msg_ring_reserve(r);
		ck_assert_ptr_nonnull(m);
		m->len = (uint16_t)i;
		msg_ring_push(r);
	}
	ck_assert_ptr_null(msg_ring_reserve(r)); /* full: producer drops */
	for (unsigned i = 0; i < MSG_RING_SLOTS; i++) {
		m = msg_ring_peek(r);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(m->len, i);
		msg_ring_pop(r);
	}
	ck_assert_ptr_null(msg_ring_peek(r));
	ck_assert_ptr_nonnull(msg_ring_reserve(r));
	free(r);
}
END_TEST

static Suite *epoch_suite(void)
{
	Suite *s = suite_create("epoch");
	TCase *tc = tcase_create("epoch");

	tcase_add_test(tc, test_online_reader_holds_back_free);
	tcase_add_test(tc, test_offline_readers_do_not_block);
	tcase_add_test(tc, test_only_older_items_are_freed);
	tcase_add_test(tc, test_msg_ring_order_and_bound);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(epoch_suite());
}
