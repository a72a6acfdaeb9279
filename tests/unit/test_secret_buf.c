/* The buffers the UAPI server keeps requests and builds replies in: a
 * FILE writing into one gives exactly what was printed, across many
 * growths; reserve keeps the content; free leaves an empty, reusable
 * buffer. (That growth and free wipe the old block cannot be observed
 * without reading freed memory; secret_buf.c is short enough to read.) */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/secret_buf.h"
#include "tests/unit/check_main.h"

/* 10,000 formatted lines: the stream's text is the same as snprintf's. */
START_TEST(stream_many_lines)
{
	struct secret_buf b = { 0 };
	size_t want_len = 0, cap = 1 << 20;
	char *want = malloc(cap);
	FILE *f = secret_buf_stream(&b);

	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 10000; i++) {
		fprintf(f, "private_key=%064x\n", i);
		want_len += (size_t)snprintf(want + want_len, cap - want_len,
					     "private_key=%064x\n", i);
	}
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(b.len, want_len);
	ck_assert_uint_ge(b.cap, b.len);
	ck_assert_int_eq(memcmp(b.data, want, want_len), 0);
	secret_buf_free(&b);
	free(want);
}
END_TEST

/* One write larger than any growth step, after a small one. */
START_TEST(stream_one_big_write)
{
	struct secret_buf b = { 0 };
	size_t big = 3u << 20;
	char *p = malloc(big);
	FILE *f = secret_buf_stream(&b);

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(f);
	memset(p, 'k', big);
	fputs("errno=0\n", f);
	ck_assert_uint_eq(fwrite(p, 1, big, f), big);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(b.len, big + 8);
	ck_assert_int_eq(memcmp(b.data, "errno=0\n", 8), 0);
	ck_assert_int_eq(memcmp(b.data + 8, p, big), 0);
	secret_buf_free(&b);
	free(p);
}
END_TEST

START_TEST(reserve_keeps_content)
{
	struct secret_buf b = { 0 };
	char *before;

	ck_assert_int_eq(secret_buf_reserve(&b, 16), 0);
	memcpy(b.data, "0123456789", 10);
	b.len = 10;
	before = b.data;
	ck_assert_int_eq(secret_buf_reserve(&b, 8), 0); /* no shrinking */
	ck_assert_ptr_eq(b.data, before);
	ck_assert_uint_eq(b.cap, 16);
	ck_assert_int_eq(secret_buf_reserve(&b, 100000), 0);
	ck_assert_uint_ge(b.cap, 100000);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(memcmp(b.data, "0123456789", 10), 0);
	secret_buf_free(&b);
}
END_TEST

START_TEST(free_empties_and_reuses)
{
	struct secret_buf b = { 0 };
	FILE *f;

	secret_buf_free(&b); /* an empty one: nothing to do */
	ck_assert_int_eq(secret_buf_reserve(&b, 64), 0);
	secret_buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	f = secret_buf_stream(&b);
	ck_assert_ptr_nonnull(f);
	fprintf(f, "errno=%d\n\n", -22);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(b.len, 11);
	ck_assert_int_eq(memcmp(b.data, "errno=-22\n\n", 11), 0);
	secret_buf_free(&b);
}
END_TEST

/* A write that fails (here: one that would pass SIZE_MAX / 2) leaves
 * only the stream's error flag set, and fclose says nothing of it; the
 * close helper must. */
START_TEST(stream_close_reports_failed_write)
{
	struct secret_buf b = { 0 };
	FILE *f = secret_buf_stream(&b);

	ck_assert_ptr_nonnull(f);
	fputs("private_key=", f);
	ck_assert_int_eq(secret_buf_stream_close(f), 0);
	ck_assert_uint_eq(b.len, 12);
	secret_buf_free(&b);

	f = secret_buf_stream(&b);
	ck_assert_ptr_nonnull(f);
	b.len = SIZE_MAX / 2; /* no room for any more */
	fputs("private_key=", f);
	ck_assert_int_eq(secret_buf_stream_close(f), -ENOMEM);
	ck_assert_ptr_null(b.data);
}
END_TEST

static Suite *secret_buf_suite(void)
{
	Suite *s = suite_create("secret_buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, stream_many_lines);
	tcase_add_test(tc, stream_one_big_write);
	tcase_add_test(tc, reserve_keeps_content);
	tcase_add_test(tc, free_empties_and_reuses);
	tcase_add_test(tc, stream_close_reports_failed_write);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(secret_buf_suite());
}
