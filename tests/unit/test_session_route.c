/* SessionTable's decisions for one peer, against a fake kernel: routes
 * appear with a handshake and only then, follow AllowedIPs changes
 * (removals first), go SESSION_ROUTE_LIFETIME after the last handshake,
 * and what the kernel refused is tried again by the next sync while
 * what it holds stays known. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "src/session_route.h"
#include "tests/unit/check_main.h"

#define S 1000000000ULL
/* The wall clock's seconds at engine time t. */
#define WALL(t) (1700000000ULL + (t) / S)
#define MAX_ROUTES 16

/* The kernel's table, as a list, and the faults to inject. */
struct fake_kernel {
	struct session_held v[MAX_ROUTES];
	size_t n;
	unsigned adds, dels;
	int fail_add, fail_del; /* returned instead of doing it */
	bool existed_ok; /* an add of a route it has: "existed", 0 */
	/* what the last change did: +1 add, -1 delete, and its metric */
	int last_op;
	uint32_t last_metric;
};

/* metric 0: any */
static int find(const struct fake_kernel *k, const struct prefix *p,
		uint32_t metric)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->v[i].p.family == p->family &&
		    k->v[i].p.cidr == p->cidr &&
		    !memcmp(k->v[i].p.addr, p->addr, sizeof(p->addr)) &&
		    (!metric || k->v[i].metric == metric))
			return (int)i;
	return -1;
}

static int fake_add(void *ctx, const struct prefix *p, uint32_t metric)
{
	struct fake_kernel *k = ctx;

	k->adds++;
	if (k->fail_add)
		return k->fail_add;
	if (k->existed_ok && find(k, p, metric) >= 0)
		return 0;
	ck_assert_msg(find(k, p, metric) < 0, "a route added twice");
	ck_assert_uint_lt(k->n, MAX_ROUTES);
	k->v[k->n++] = (struct session_held){ *p, metric };
	k->last_op = 1;
	k->last_metric = metric;
	return 0;
}

static int fake_del(void *ctx, const struct prefix *p, uint32_t metric)
{
	struct fake_kernel *k = ctx;
	int i = find(k, p, metric);

	k->dels++;
	if (k->fail_del)
		return k->fail_del;
	if (i < 0)
		return -ENOENT;
	k->v[i] = k->v[--k->n];
	k->last_op = -1;
	k->last_metric = metric;
	return 0;
}

static const struct session_route_ops ops = { fake_add, fake_del };

static struct prefix pfx(const char *text)
{
	struct prefix p;

	ck_assert_msg(prefix_parse(&p, text, 0, PREFIX_LEN_OPTIONAL), "%s",
		      text);
	return p;
}

static bool kernel_has(const struct fake_kernel *k, const char *text)
{
	struct prefix p = pfx(text);

	return find(k, &p, 0) >= 0;
}

static void want(struct session_route *r, const char *const *texts,
		 size_t n)
{
	struct prefix v[MAX_ROUTES];

	for (size_t i = 0; i < n; i++)
		v[i] = pfx(texts[i]);
	ck_assert_int_eq(session_route_want(r, v, n), 0);
}

static const char *const two[] = { "10.7.0.2/32", "fd07::2/128" };

START_TEST(test_nothing_before_handshake)
{
	struct session_route r = { 0 };
	struct fake_kernel k = { 0 };

	want(&r, two, 2);
	ck_assert(!session_route_live(&r, 5 * S));
	ck_assert_int_eq(session_route_sync(&r, 5 * S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 0);
	ck_assert_uint_eq(k.adds, 0);
	session_route_free(&r);
}
END_TEST

START_TEST(test_handshake_adds_lifetime_removes)
{
	struct session_route r = { 0 };
	struct fake_kernel k = { 0 };
	uint64_t t0 = 100 * S;

	want(&r, two, 2);
	session_route_established(&r, t0, WALL(t0));
	ck_assert_int_eq(session_route_sync(&r, t0, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 2);
	ck_assert(kernel_has(&k, "10.7.0.2/32") && kernel_has(&k, "fd07::2/128"));
	ck_assert_uint_eq(r.n_have, 2);
	/* a rekey two minutes on only moves them to a lower metric */
	session_route_established(&r, t0 + 120 * S, WALL(t0 + 120 * S));
	ck_assert_int_eq(session_route_sync(&r, t0 + 120 * S, &ops, &k), 0);
	ck_assert_uint_eq(k.adds, 4);
	ck_assert_uint_eq(k.n, 2);
	/* 540 s after the last handshake, not after the first */
	ck_assert_uint_eq(SESSION_ROUTE_LIFETIME_S, 540);
	ck_assert(session_route_live(&r, t0 + 659 * S));
	ck_assert_int_eq(session_route_sync(&r, t0 + 659 * S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 2);
	ck_assert(!session_route_live(&r, t0 + 660 * S));
	ck_assert_int_eq(session_route_sync(&r, t0 + 660 * S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 0);
	ck_assert_uint_eq(r.n_have, 0);
	session_route_free(&r);
}
END_TEST

START_TEST(test_allowed_ips_change)
{
	static const char *const before[] = { "10.7.0.2/32", "10.8.0.0/16",
					      "fd07::2/128" };
	/* host bits and a repeat: the same routes as written masked */
	static const char *const after[] = { "10.8.1.1/16", "10.9.0.0/24",
					     "10.9.0.0/24", "fd07::2/128" };
	struct session_route r = { 0 };
	struct fake_kernel k = { 0 };

	want(&r, before, 3);
	session_route_established(&r, S, WALL(S));
	ck_assert_int_eq(session_route_sync(&r, S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 3);
	want(&r, after, 4);
	ck_assert_uint_eq(r.n_want, 3);
	/* prune alone removes and adds nothing */
	ck_assert_int_eq(session_route_prune(&r, 2 * S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 2);
	ck_assert(!kernel_has(&k, "10.7.0.2/32"));
	ck_assert_uint_eq(k.adds, 3);
	ck_assert_int_eq(session_route_grow(&r, 2 * S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 3);
	ck_assert(kernel_has(&k, "10.8.0.0/16") && kernel_has(&k, "10.9.0.0/24") &&
		  kernel_has(&k, "fd07::2/128"));
	/* the routes that stayed were never touched */
	ck_assert_uint_eq(k.adds, 4);
	ck_assert_uint_eq(k.dels, 1);
	/* no AllowedIPs at all: nothing is routed though the session lives */
	want(&r, NULL, 0);
	ck_assert_int_eq(session_route_sync(&r, 3 * S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 0);
	session_route_free(&r);
}
END_TEST

START_TEST(test_refused_is_retried)
{
	struct session_route r = { 0 };
	struct fake_kernel k = { .fail_add = -EEXIST };

	want(&r, two, 2);
	session_route_established(&r, S, WALL(S));
	ck_assert_int_eq(session_route_sync(&r, S, &ops, &k), -EEXIST);
	ck_assert_uint_eq(r.n_have, 0);
	k.fail_add = 0;
	ck_assert_int_eq(session_route_sync(&r, 2 * S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 2);
	/* a removal the kernel refuses keeps the route held ... */
	k.fail_del = -EPERM;
	ck_assert_int_eq(session_route_sync(&r, 1000 * S, &ops, &k), -EPERM);
	ck_assert_uint_eq(r.n_have, 2);
	/* ... until it works; one that was gone already is fine */
	k.fail_del = 0;
	k.n = 1;
	ck_assert_int_eq(session_route_sync(&r, 1001 * S, &ops, &k), 0);
	ck_assert_uint_eq(r.n_have, 0);
	ck_assert_uint_eq(k.n, 0);
	session_route_free(&r);
}
END_TEST

/* A peer that is removed: its session ends at once (live_until 0). */
START_TEST(test_ended_now)
{
	struct session_route r = { 0 };
	struct fake_kernel k = { 0 };

	want(&r, two, 2);
	session_route_established(&r, S, WALL(S));
	ck_assert_int_eq(session_route_sync(&r, S, &ops, &k), 0);
	r.live_until = 0;
	ck_assert_int_eq(session_route_sync(&r, 2 * S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 0);
	session_route_free(&r);
	ck_assert_ptr_null(r.want);
	ck_assert_ptr_null(r.have);
}
END_TEST

/* The metric: lower the newer the handshake; moved by a handshake
 * SESSION_METRIC_STEP_S newer or more, the new route before the old
 * one goes; a forgotten route is added again. */
START_TEST(test_metric_follows_handshakes)
{
	struct session_route r = { 0 };
	struct fake_kernel k = { 0 };
	uint64_t t0 = 100 * S, t1 = t0 + 5 * S, t2 = t0 + 120 * S;
	uint32_t m0 = session_route_metric(WALL(t0));

	ck_assert_uint_eq(m0, SESSION_METRIC_BASE - WALL(t0));
	ck_assert_uint_lt(session_route_metric(WALL(t2)), m0);
	want(&r, two, 2);
	session_route_established(&r, t0, WALL(t0));
	ck_assert_int_eq(session_route_sync(&r, t0, &ops, &k), 0);
	ck_assert_uint_eq(k.v[0].metric, m0);
	ck_assert_uint_eq(k.v[1].metric, m0);
	/* 5 s on: the same metric, nothing done */
	session_route_established(&r, t1, WALL(t1));
	ck_assert_int_eq(session_route_sync(&r, t1, &ops, &k), 0);
	ck_assert_uint_eq(k.adds + k.dels, 2);
	/* the rekey: each route moved, the new one added first */
	session_route_established(&r, t2, WALL(t2));
	ck_assert_int_eq(session_route_sync(&r, t2, &ops, &k), 0);
	ck_assert_uint_eq(k.adds, 4);
	ck_assert_uint_eq(k.dels, 2);
	ck_assert_int_eq(k.last_op, -1);
	ck_assert_uint_eq(k.last_metric, m0);
	ck_assert_uint_eq(k.n, 2);
	ck_assert_uint_eq(k.v[0].metric, session_route_metric(WALL(t2)));
	ck_assert_uint_eq(k.v[1].metric, session_route_metric(WALL(t2)));
	/* the kernel lost one (a flush), then both (link down): what it
	 * still has stays held, the others are added again */
	k.n = 1;
	session_held_sort(k.v, k.n);
	ck_assert_uint_eq(session_route_lost(&r, k.v, k.n), 1);
	ck_assert_uint_eq(r.n_have, 1);
	ck_assert_int_eq(session_route_sync(&r, t2 + S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 2);
	k.n = 0;
	ck_assert_uint_eq(session_route_lost(&r, k.v, k.n), 2);
	ck_assert_int_eq(session_route_sync(&r, t2 + S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 2);
	ck_assert_uint_eq(r.n_have, 2);
	ck_assert_uint_eq(k.adds, 7);
	session_route_free(&r);
}
END_TEST

/* A move whose deletion fails keeps the old route held, and the next
 * sync finishes it. */
START_TEST(test_metric_move_retried)
{
	struct session_route r = { 0 };
	struct fake_kernel k = { 0 };
	static const char *const one[] = { "10.7.0.2/32" };

	want(&r, one, 1);
	session_route_established(&r, S, WALL(S));
	ck_assert_int_eq(session_route_sync(&r, S, &ops, &k), 0);
	session_route_established(&r, 200 * S, WALL(200 * S));
	k.fail_del = -EPERM;
	ck_assert_int_eq(session_route_sync(&r, 200 * S, &ops, &k), -EPERM);
	ck_assert_uint_eq(k.n, 2);
	ck_assert_uint_eq(r.have[0].metric, session_route_metric(WALL(S)));
	k.fail_del = 0;
	k.existed_ok = true;
	ck_assert_int_eq(session_route_sync(&r, 201 * S, &ops, &k), 0);
	ck_assert_uint_eq(k.n, 1);
	ck_assert_uint_eq(k.v[0].metric, session_route_metric(WALL(200 * S)));
	ck_assert_uint_eq(r.have[0].metric, session_route_metric(WALL(200 * S)));
	session_route_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("session_route");
	TCase *tc = tcase_create("decisions");

	tcase_add_test(tc, test_nothing_before_handshake);
	tcase_add_test(tc, test_handshake_adds_lifetime_removes);
	tcase_add_test(tc, test_allowed_ips_change);
	tcase_add_test(tc, test_refused_is_retried);
	tcase_add_test(tc, test_ended_now);
	tcase_add_test(tc, test_metric_follows_handshakes);
	tcase_add_test(tc, test_metric_move_retried);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
