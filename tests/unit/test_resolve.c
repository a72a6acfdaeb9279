/* Endpoint names: WG_ENDPOINT_RESOLUTION_RETRIES read as wg reads it
 * (a number or "infinity"; anything else refused), the backoff between
 * retries (1 s, then 1.2 times longer, at most 20 s), resolve_wait
 * with literal endpoints (no wait, no retry line), and the answer it
 * keeps for the rest of `up`; the resolver thread:
 * answers in order with the asker's key, one question per key at a time,
 * a name that cannot be resolved answered with an error, and freeing it
 * with questions left (it returns at once; the thread cleans up). */
#include <check.h>
#include <errno.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/resolve_wait.h"
#include "src/resolver.h"
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

/* resolve_wait keeps each answer, and config_resolve_endpoint (which
 * config_change and the MTU's route lookup call) returns it without
 * asking again: a name server that answers once and then fails (here: a
 * host that no longer resolves) no longer defeats the retries at `up`.
 * A config loaded afresh (a reload's) has no answer. */
START_TEST(test_answer_kept)
{
	static const char text[] =
		"[Interface]\nPrivateKey = "
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
		"[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		"Endpoint = localhost:51820\n";
	struct sockaddr_storage ss, again;
	struct config c, fresh;
	char err[256] = "";
	socklen_t len, len2;

	ck_assert_int_eq(crypto_init(), 0);
	ck_assert_int_eq(config_parse(&c, "wg0.conf", text, strlen(text), err,
				      sizeof(err)), 0);
	ck_assert_int_eq(config_parse(&fresh, "wg0.conf", text, strlen(text),
				      err, sizeof(err)), 0);
	ck_assert_uint_eq(c.peers[0].endpoint_len, 0);
	ck_assert_int_eq(resolve_wait(&c, 0, count, err, sizeof(err)), 0);
	ck_assert_uint_ne(c.peers[0].endpoint_len, 0);
	ck_assert_int_eq(config_resolve_endpoint(&c.peers[0], &ss, &len, err,
						 sizeof(err)), 0);
	/* The name server fails from now on. */
	free(c.peers[0].endpoint_host);
	c.peers[0].endpoint_host = strdup("nothere.invalid");
	ck_assert_ptr_nonnull(c.peers[0].endpoint_host);
	ck_assert_int_eq(config_resolve_endpoint(&c.peers[0], &again, &len2,
						 err, sizeof(err)), 0);
	ck_assert_uint_eq(len2, len);
	ck_assert_mem_eq(&again, &ss, len);
	ck_assert_uint_eq(fresh.peers[0].endpoint_len, 0);
	config_free(&fresh);
	config_free(&c);
}
END_TEST

/* Up to 5 s for n answers. */
static size_t wait_answers(struct resolver *r, struct resolver_result *out,
			   size_t n)
{
	const struct timespec step = { 0, 10000000L };
	size_t got = 0;

	for (int i = 0; i < 500 && got < n; i++) {
		got += resolver_take(r, out + got, n - got);
		if (got < n)
			nanosleep(&step, NULL);
	}
	return got;
}

START_TEST(test_resolver_answers)
{
	struct resolver *r = resolver_new();
	struct resolver_result res[4];
	uint8_t k1[WG_KEY_LEN] = { 1 }, k2[WG_KEY_LEN] = { 2 };
	uint8_t k3[WG_KEY_LEN] = { 3 };
	struct sockaddr_in *in;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(resolver_ask(r, k1, "198.18.0.9", "51820"), 0);
	ck_assert_int_eq(resolver_ask(r, k2, "198.18.0.1", "port"), 0);
	ck_assert_int_eq(resolver_ask(r, k3, "2001:db8::7", "7"), 0);
	ck_assert_uint_eq(wait_answers(r, res, 3), 3);
	ck_assert_uint_eq(resolver_take(r, res + 3, 1), 0);
	ck_assert_mem_eq(res[0].key, k1, WG_KEY_LEN);
	ck_assert_int_eq(res[0].ret, 0);
	in = (struct sockaddr_in *)&res[0].addr;
	ck_assert_int_eq(in->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(in->sin_port), 51820);
	ck_assert_uint_eq(ntohl(in->sin_addr.s_addr), 0xc6120009);
	ck_assert_mem_eq(res[1].key, k2, WG_KEY_LEN);
	ck_assert_int_lt(res[1].ret, 0);
	ck_assert_mem_eq(res[2].key, k3, WG_KEY_LEN);
	ck_assert_int_eq(res[2].ret, 0);
	ck_assert_int_eq(res[2].addr.ss_family, AF_INET6);
	/* Answered: the same key may ask again. */
	ck_assert_int_eq(resolver_ask(r, k1, "198.18.0.10", "1"), 0);
	ck_assert_uint_eq(wait_answers(r, res, 1), 1);
	ck_assert_int_eq(res[0].ret, 0);
	resolver_free(r);
	resolver_free(NULL);
}
END_TEST

START_TEST(test_resolver_one_question_per_key)
{
	struct resolver *r = resolver_new();
	uint8_t k[WG_KEY_LEN] = { 9 };

	ck_assert_ptr_nonnull(r);
	/* k's question is queued, being resolved or answered (nothing
	 * takes the answers here) when asked again: refused, whichever it
	 * is by then. The 200 questions ahead of it are left when r is
	 * freed: it returns at once, and the thread ends on its own. */
	for (unsigned i = 0; i < 200; i++) {
		uint8_t key[WG_KEY_LEN] = { 0xaa, (uint8_t)i };

		ck_assert_int_eq(resolver_ask(r, key, "198.18.0.2", "2"), 0);
	}
	ck_assert_int_eq(resolver_ask(r, k, "198.18.0.1", "1"), 0);
	ck_assert_int_eq(resolver_ask(r, k, "198.18.0.1", "1"), -EBUSY);
	resolver_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("resolve");
	TCase *wait = tcase_create("wait");
	TCase *thread = tcase_create("resolver");

	tcase_add_loop_test(wait, test_retries, 0,
			    sizeof(retries_cases) / sizeof(retries_cases[0]));
	tcase_add_test(wait, test_backoff);
	tcase_add_test(wait, test_literals_need_no_wait);
	tcase_add_test(wait, test_answer_kept);
	tcase_add_test(thread, test_resolver_answers);
	tcase_add_test(thread, test_resolver_one_question_per_key);
	suite_add_tcase(s, wait);
	suite_add_tcase(s, thread);
	return run_suite(s);
}
