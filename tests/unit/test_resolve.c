/* Endpoint names: WG_ENDPOINT_RESOLUTION_RETRIES read as wg reads it
 * (a number or "infinity"; anything else refused), the backoff between
 * retries (1 s, then 1.2 times longer, at most 20 s), and resolve_wait
 * with literal endpoints (no wait, no retry line). */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "src/resolve_wait.h"
#include "tests/unit/check_main.h"

struct retries_case {
	const char *value;
	int ret;
	long retries;
};

static const struct retries_case retries_cases[] = {
	{ NULL, 0, RESOLVE_RETRIES_DEFAULT },
	{ "0", 0, 0 },
	{ "3", 0, 3 },
	{ "1000000", 0, 1000000 },
	{ "infinity", 0, RESOLVE_RETRIES_INFINITE },
	{ "1000001", -EINVAL, 0 },
	{ "99999999999999999999999", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ " 1", -EINVAL, 0 },
	{ "1 ", -EINVAL, 0 },
	{ "0x10", -EINVAL, 0 },
	{ "Infinity", -EINVAL, 0 },
	{ "inf", -EINVAL, 0 },
};

START_TEST(test_retries)
{
	const struct retries_case *c = &retries_cases[_i];
	long got = 12345;

	ck_assert_int_eq(resolve_retries_parse(c->value, &got), c->ret);
	if (!c->ret)
		ck_assert_int_eq(got, c->retries);
}
END_TEST

START_TEST(test_backoff)
{
	unsigned total = 0;

	ck_assert_uint_eq(resolve_wait_ms(0), 1000);
	ck_assert_uint_eq(resolve_wait_ms(1), 1200);
	ck_assert_uint_eq(resolve_wait_ms(2), 1440);
	for (unsigned n = 0; n < RESOLVE_RETRIES_DEFAULT; n++)
		total += resolve_wait_ms(n);
	/* What the man page says the default amounts to. */
	ck_assert_uint_ge(total, 70000);
	ck_assert_uint_le(total, 75000);
	ck_assert_uint_eq(resolve_wait_ms(100), RESOLVE_MAX_WAIT_MS);
	ck_assert_uint_eq(resolve_wait_ms(4000000000u), RESOLVE_MAX_WAIT_MS);
}
END_TEST

static unsigned said;

static void count(const char *line)
{
	(void)line;
	said++;
}

START_TEST(test_literals_need_no_wait)
{
	struct config c;
	char err[256] = "";
	static const char text[] =
		"[Interface]\nPrivateKey = "
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
		"[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		"Endpoint = 198.18.0.1:1\n"
		"[Peer]\nPublicKey = TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=\n"
		"Endpoint = [2001:db8::1]:2\n"
		"[Peer]\nPublicKey = gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=\n";

	ck_assert_int_eq(crypto_init(), 0);
	ck_assert_int_eq(config_parse(&c, "wg0.conf", text, strlen(text), err,
				      sizeof(err)), 0);
	ck_assert_int_eq(resolve_wait(&c, 0, count, err, sizeof(err)), 0);
	ck_assert_int_eq(resolve_wait(&c, RESOLVE_RETRIES_INFINITE, count, err,
				      sizeof(err)), 0);
	ck_assert_uint_eq(said, 0);
	config_free(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("resolve");
	TCase *wait = tcase_create("wait");

	tcase_add_loop_test(wait, test_retries, 0,
			    sizeof(retries_cases) / sizeof(retries_cases[0]));
	tcase_add_test(wait, test_backoff);
	tcase_add_test(wait, test_literals_need_no_wait);
	suite_add_tcase(s, wait);
	return run_suite(s);
}
