/* AllowedIPs: hand-written longest-prefix cases, a randomised comparison
 * with a naive flat-array reference, and a smoke test of lock-free readers
 * racing the writer. */
#include "src/allowedips.h"
#include "src/epoch.h"
#include "tests/unit/check_main.h"
#include "tests/unit/held_epoch.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Owners are only compared, never dereferenced: distinct addresses do. */
#define NOWNERS 20
static const char owner_ids[NOWNERS];
#define OWNER(i) ((void *)&owner_ids[(i)])

static void v4(uint8_t out[4], const char *text)
{
	ck_assert_int_eq(inet_pton(AF_INET, text, out), 1);
}

static void v6(uint8_t out[16], const char *text)
{
	ck_assert_int_eq(inet_pton(AF_INET6, text, out), 1);
}

static int ins4(struct allowedips *t, const char *text, uint8_t cidr,
		void *owner)
{
	uint8_t a[4];

	v4(a, text);
	return allowedips_insert(t, AF_INET, a, cidr, owner);
}

static int ins6(struct allowedips *t, const char *text, uint8_t cidr,
		void *owner)
{
	uint8_t a[16];

	v6(a, text);
	return allowedips_insert(t, AF_INET6, a, cidr, owner);
}

static int rm4(struct allowedips *t, const char *text, uint8_t cidr,
	       void *owner)
{
	uint8_t a[4];

	v4(a, text);
	return allowedips_remove(t, AF_INET, a, cidr, owner);
}

static int rm6(struct allowedips *t, const char *text, uint8_t cidr,
	       void *owner)
{
	uint8_t a[16];

	v6(a, text);
	return allowedips_remove(t, AF_INET6, a, cidr, owner);
}

static void *get4(const struct allowedips *t, const char *text)
{
	uint8_t a[4];

	v4(a, text);
	return allowedips_lookup(t, AF_INET, a);
}

static void *get6(const struct allowedips *t, const char *text)
{
	uint8_t a[16];

	v6(a, text);
	return allowedips_lookup(t, AF_INET6, a);
}

/* Every ownerless node is a branch point with two children. */
static void check_node_bound(const struct allowedips *t)
{
	size_t count = allowedips_count(t);

	if (!count)
		ck_assert_uint_eq(allowedips_node_count(t), 0);
	else
		ck_assert_uint_le(allowedips_node_count(t), 2 * count - 1);
}

START_TEST(test_v4_overlap)
{
	struct allowedips *t = allowedips_new(NULL);

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(get4(t, "10.1.2.3"));
	/* Inserted out of order so that later ones split earlier ones. */
	ck_assert_int_eq(ins4(t, "10.1.2.0", 24, OWNER(3)), 0);
	ck_assert_int_eq(ins4(t, "10.1.2.3", 32, OWNER(4)), 0);
	ck_assert_int_eq(ins4(t, "10.0.0.0", 8, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "0.0.0.0", 0, OWNER(0)), 0);
	ck_assert_int_eq(ins4(t, "10.1.0.0", 16, OWNER(2)), 0);
	ck_assert_uint_eq(allowedips_count(t), 5);
	check_node_bound(t);

	ck_assert_ptr_eq(get4(t, "10.1.2.3"), OWNER(4));
	ck_assert_ptr_eq(get4(t, "10.1.2.4"), OWNER(3));
	ck_assert_ptr_eq(get4(t, "10.1.2.255"), OWNER(3));
	ck_assert_ptr_eq(get4(t, "10.1.3.0"), OWNER(2));
	ck_assert_ptr_eq(get4(t, "10.1.255.255"), OWNER(2));
	ck_assert_ptr_eq(get4(t, "10.2.0.0"), OWNER(1));
	ck_assert_ptr_eq(get4(t, "10.0.255.255"), OWNER(1));
	ck_assert_ptr_eq(get4(t, "11.0.0.0"), OWNER(0));
	ck_assert_ptr_eq(get4(t, "9.255.255.255"), OWNER(0));
	ck_assert_ptr_eq(get4(t, "255.255.255.255"), OWNER(0));
	/* The families are separate tables. */
	ck_assert_ptr_null(get6(t, "::"));
	ck_assert_ptr_null(get6(t, "::ffff:10.1.2.3"));

	/* Without the default route, unrelated addresses match nothing. */
	ck_assert_int_eq(rm4(t, "0.0.0.0", 0, OWNER(0)), 0);
	ck_assert_ptr_null(get4(t, "11.0.0.0"));
	ck_assert_ptr_eq(get4(t, "10.1.2.3"), OWNER(4));
	ck_assert_uint_eq(allowedips_count(t), 4);
	check_node_bound(t);
	allowedips_free(t);
}
END_TEST

START_TEST(test_v6_overlap)
{
	struct allowedips *t = allowedips_new(NULL);

	ck_assert_int_eq(ins6(t, "2001:db8:1:2::1", 128, OWNER(4)), 0);
	ck_assert_int_eq(ins6(t, "2001:db8::", 32, OWNER(1)), 0);
	ck_assert_int_eq(ins6(t, "2001:db8:1:2::", 64, OWNER(3)), 0);
	ck_assert_int_eq(ins6(t, "::", 0, OWNER(0)), 0);
	ck_assert_int_eq(ins6(t, "2001:db8:1::", 48, OWNER(2)), 0);
	ck_assert_int_eq(ins6(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
			      128, OWNER(5)), 0);
	ck_assert_int_eq(ins6(t, "::", 128, OWNER(6)), 0);
	ck_assert_uint_eq(allowedips_count(t), 7);
	check_node_bound(t);

	ck_assert_ptr_eq(get6(t, "2001:db8:1:2::1"), OWNER(4));
	ck_assert_ptr_eq(get6(t, "2001:db8:1:2::2"), OWNER(3));
	ck_assert_ptr_eq(get6(t, "2001:db8:1:2:ffff::1"), OWNER(3));
	ck_assert_ptr_eq(get6(t, "2001:db8:1:3::1"), OWNER(2));
	ck_assert_ptr_eq(get6(t, "2001:db8:2::1"), OWNER(1));
	ck_assert_ptr_eq(get6(t, "2001:db9::"), OWNER(0));
	ck_assert_ptr_eq(get6(t, "fe80::1"), OWNER(0));
	ck_assert_ptr_eq(get6(t, "::"), OWNER(6));
	ck_assert_ptr_eq(get6(t, "::1"), OWNER(0));
	ck_assert_ptr_eq(get6(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
			 OWNER(5));
	ck_assert_ptr_eq(get6(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"),
			 OWNER(0));
	ck_assert_ptr_null(get4(t, "0.0.0.0"));
	allowedips_free(t);
}
END_TEST

struct collected {
	int family[16];
	uint8_t addr[16][16];
	uint8_t cidr[16];
	void *owner[16];
	int n;
	int stop_at;		/* return 7 from the nth call (1-based) */
};

static int collect_all(void *arg, int family, const uint8_t *addr,
		       uint8_t cidr, void *owner)
{
	struct collected *c = arg;

	ck_assert_int_lt(c->n, 16);
	c->family[c->n] = family;
	memcpy(c->addr[c->n], addr, family == AF_INET ? 4 : 16);
	c->cidr[c->n] = cidr;
	c->owner[c->n] = owner;
	return ++c->n == c->stop_at ? 7 : 0;
}

static int collect_owned(void *arg, int family, const uint8_t *addr,
			 uint8_t cidr)
{
	return collect_all(arg, family, addr, cidr, NULL);
}

START_TEST(test_host_bits_masked)
{
	struct allowedips *t = allowedips_new(NULL);
	struct collected c = { .n = 0 };
	uint8_t a[16];

	ck_assert_int_eq(ins4(t, "10.1.2.3", 8, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "192.168.77.200", 20, OWNER(1)), 0);
	ck_assert_int_eq(ins6(t, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65,
			      OWNER(1)), 0);
	ck_assert_int_eq(allowedips_walk_owner(t, OWNER(1), collect_owned, &c),
			 0);
	ck_assert_int_eq(c.n, 3);
	ck_assert_int_eq(c.family[0], AF_INET);
	v4(a, "10.0.0.0");
	ck_assert_mem_eq(c.addr[0], a, 4);
	ck_assert_uint_eq(c.cidr[0], 8);
	v4(a, "192.168.64.0");
	ck_assert_mem_eq(c.addr[1], a, 4);
	ck_assert_uint_eq(c.cidr[1], 20);
	ck_assert_int_eq(c.family[2], AF_INET6);
	v6(a, "2001:db8:ffff:ffff:8000::");
	ck_assert_mem_eq(c.addr[2], a, 16);
	ck_assert_uint_eq(c.cidr[2], 65);

	ck_assert_ptr_eq(get4(t, "10.200.0.1"), OWNER(1));
	ck_assert_ptr_eq(get4(t, "192.168.79.255"), OWNER(1));
	ck_assert_ptr_null(get4(t, "192.168.80.0"));
	ck_assert_ptr_eq(get6(t, "2001:db8:ffff:ffff:8000::1"), OWNER(1));
	ck_assert_ptr_null(get6(t, "2001:db8:ffff:ffff:7fff::1"));

	/* The same prefix spelled with other host bits is the same entry. */
	ck_assert_int_eq(ins4(t, "10.9.9.9", 8, OWNER(2)), 0);
	ck_assert_uint_eq(allowedips_count(t), 3);
	ck_assert_int_eq(rm4(t, "10.255.0.0", 8, OWNER(2)), 0);
	ck_assert_int_eq(rm6(t, "2001:db8:ffff:ffff:c000::", 65, OWNER(1)), 0);
	ck_assert_uint_eq(allowedips_count(t), 1);
	allowedips_free(t);
}
END_TEST

START_TEST(test_replace_owner)
{
	struct allowedips *t = allowedips_new(NULL);

	ck_assert_int_eq(ins4(t, "10.0.0.0", 24, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "10.0.0.0", 24, OWNER(2)), 0);
	ck_assert_uint_eq(allowedips_count(t), 1);
	ck_assert_uint_eq(allowedips_node_count(t), 1);
	ck_assert_ptr_eq(get4(t, "10.0.0.9"), OWNER(2));
	ck_assert_int_eq(rm4(t, "10.0.0.0", 24, OWNER(1)), -ENOENT);
	ck_assert_int_eq(rm4(t, "10.0.0.0", 24, OWNER(2)), 0);
	ck_assert_ptr_null(get4(t, "10.0.0.9"));
	ck_assert_uint_eq(allowedips_count(t), 0);
	ck_assert_uint_eq(allowedips_node_count(t), 0);

	ck_assert_int_eq(ins6(t, "fd00::", 8, OWNER(3)), 0);
	ck_assert_int_eq(ins6(t, "fd00::", 8, OWNER(3)), 0);
	ck_assert_int_eq(ins6(t, "fd00::", 8, OWNER(4)), 0);
	ck_assert_ptr_eq(get6(t, "fd12::1"), OWNER(4));
	ck_assert_uint_eq(allowedips_count(t), 1);
	allowedips_free(t);
}
END_TEST

START_TEST(test_remove_keeps_cover)
{
	struct allowedips *t = allowedips_new(NULL);

	ck_assert_int_eq(ins4(t, "10.0.0.0", 8, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "10.1.1.0", 24, OWNER(2)), 0);
	ck_assert_int_eq(ins4(t, "10.1.2.0", 24, OWNER(3)), 0);
	ck_assert_ptr_eq(get4(t, "10.1.1.1"), OWNER(2));
	ck_assert_int_eq(rm4(t, "10.1.1.0", 24, OWNER(2)), 0);
	ck_assert_ptr_eq(get4(t, "10.1.1.1"), OWNER(1));
	ck_assert_ptr_eq(get4(t, "10.1.2.1"), OWNER(3));
	check_node_bound(t);
	/* And the other way round: the more specific one outlives the
	 * cover. */
	ck_assert_int_eq(rm4(t, "10.0.0.0", 8, OWNER(1)), 0);
	ck_assert_ptr_null(get4(t, "10.1.1.1"));
	ck_assert_ptr_eq(get4(t, "10.1.2.1"), OWNER(3));
	ck_assert_uint_eq(allowedips_count(t), 1);
	ck_assert_uint_eq(allowedips_node_count(t), 1);

	ck_assert_int_eq(ins6(t, "::", 0, OWNER(1)), 0);
	ck_assert_int_eq(ins6(t, "fd00::1", 128, OWNER(2)), 0);
	ck_assert_int_eq(rm6(t, "fd00::1", 128, OWNER(2)), 0);
	ck_assert_ptr_eq(get6(t, "fd00::1"), OWNER(1));
	allowedips_free(t);
}
END_TEST

START_TEST(test_remove_by_owner)
{
	struct allowedips *t = allowedips_new(NULL);

	ck_assert_int_eq(ins4(t, "10.0.0.0", 8, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "10.1.0.0", 16, OWNER(2)), 0);
	ck_assert_int_eq(ins4(t, "10.1.1.0", 24, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "10.1.1.1", 32, OWNER(2)), 0);
	ck_assert_int_eq(ins4(t, "172.16.0.0", 12, OWNER(1)), 0);
	ck_assert_int_eq(ins6(t, "fd00::", 64, OWNER(1)), 0);
	ck_assert_int_eq(ins6(t, "fd00::", 80, OWNER(2)), 0);
	ck_assert_uint_eq(allowedips_count(t), 7);

	allowedips_remove_by_owner(t, OWNER(1));
	ck_assert_uint_eq(allowedips_count(t), 3);
	check_node_bound(t);
	ck_assert_ptr_null(get4(t, "10.2.0.0"));
	ck_assert_ptr_eq(get4(t, "10.1.2.0"), OWNER(2));
	ck_assert_ptr_eq(get4(t, "10.1.1.2"), OWNER(2));
	ck_assert_ptr_eq(get4(t, "10.1.1.1"), OWNER(2));
	ck_assert_ptr_null(get4(t, "172.16.0.1"));
	ck_assert_ptr_null(get6(t, "fd00::1:0:0:1"));
	ck_assert_ptr_eq(get6(t, "fd00::1"), OWNER(2));

	/* Unknown and NULL owners are no-ops. */
	allowedips_remove_by_owner(t, OWNER(9));
	allowedips_remove_by_owner(t, NULL);
	ck_assert_uint_eq(allowedips_count(t), 3);
	allowedips_remove_by_owner(t, OWNER(2));
	ck_assert_uint_eq(allowedips_count(t), 0);
	ck_assert_uint_eq(allowedips_node_count(t), 0);
	ck_assert_ptr_null(get4(t, "10.1.1.1"));
	allowedips_free(t);
}
END_TEST

START_TEST(test_remove_enoent)
{
	struct allowedips *t = allowedips_new(NULL);

	ck_assert_int_eq(rm4(t, "10.0.0.0", 8, OWNER(1)), -ENOENT);
	ck_assert_int_eq(rm6(t, "::", 0, OWNER(1)), -ENOENT);
	ck_assert_int_eq(ins4(t, "10.0.0.0", 24, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "10.0.1.0", 24, OWNER(1)), 0);
	/* 10.0.0.0/23 exists only as their branch point. */
	ck_assert_uint_eq(allowedips_node_count(t), 3);
	ck_assert_int_eq(rm4(t, "10.0.0.0", 23, OWNER(1)), -ENOENT);
	ck_assert_int_eq(rm4(t, "10.0.0.0", 23, NULL), -ENOENT);
	ck_assert_int_eq(rm4(t, "10.0.0.0", 22, OWNER(1)), -ENOENT);
	ck_assert_int_eq(rm4(t, "10.0.0.0", 25, OWNER(1)), -ENOENT);
	ck_assert_int_eq(rm4(t, "10.0.2.0", 24, OWNER(1)), -ENOENT);
	ck_assert_int_eq(rm4(t, "10.0.0.0", 24, OWNER(2)), -ENOENT);
	ck_assert_int_eq(rm4(t, "10.0.0.0", 24, NULL), -ENOENT);
	/* The same bytes in the other family are another prefix. */
	ck_assert_int_eq(rm6(t, "a00::", 24, OWNER(1)), -ENOENT);
	ck_assert_uint_eq(allowedips_count(t), 2);
	ck_assert_ptr_eq(get4(t, "10.0.0.1"), OWNER(1));

	/* Filling in the branch point makes it a real entry. */
	ck_assert_int_eq(ins4(t, "10.0.0.0", 23, OWNER(2)), 0);
	ck_assert_uint_eq(allowedips_node_count(t), 3);
	ck_assert_uint_eq(allowedips_count(t), 3);
	ck_assert_int_eq(rm4(t, "10.0.0.0", 24, OWNER(1)), 0);
	ck_assert_ptr_eq(get4(t, "10.0.0.1"), OWNER(2));
	ck_assert_int_eq(rm4(t, "10.0.0.0", 23, OWNER(2)), 0);
	ck_assert_ptr_null(get4(t, "10.0.0.1"));
	ck_assert_ptr_eq(get4(t, "10.0.1.1"), OWNER(1));
	ck_assert_uint_eq(allowedips_node_count(t), 1);
	allowedips_free(t);
}
END_TEST

START_TEST(test_einval)
{
	struct allowedips *t = allowedips_new(NULL);
	uint8_t a[16] = { 0 };

	ck_assert_int_eq(allowedips_insert(t, AF_INET, a, 33, OWNER(1)),
			 -EINVAL);
	ck_assert_int_eq(allowedips_insert(t, AF_INET, a, 255, OWNER(1)),
			 -EINVAL);
	ck_assert_int_eq(allowedips_insert(t, AF_INET6, a, 129, OWNER(1)),
			 -EINVAL);
	ck_assert_int_eq(allowedips_insert(t, AF_UNIX, a, 8, OWNER(1)),
			 -EINVAL);
	ck_assert_int_eq(allowedips_insert(t, AF_INET, a, 8, NULL), -EINVAL);
	ck_assert_int_eq(allowedips_remove(t, AF_INET, a, 33, OWNER(1)),
			 -EINVAL);
	ck_assert_int_eq(allowedips_remove(t, AF_INET6, a, 129, OWNER(1)),
			 -EINVAL);
	ck_assert_int_eq(allowedips_remove(t, AF_UNSPEC, a, 0, OWNER(1)),
			 -EINVAL);
	ck_assert_uint_eq(allowedips_count(t), 0);
	ck_assert_uint_eq(allowedips_node_count(t), 0);
	/* The bounds themselves are fine. */
	ck_assert_int_eq(allowedips_insert(t, AF_INET, a, 32, OWNER(1)), 0);
	ck_assert_int_eq(allowedips_insert(t, AF_INET6, a, 128, OWNER(1)), 0);
	ck_assert_ptr_null(allowedips_lookup(t, AF_UNIX, a));
	ck_assert(!allowedips_source_ok(t, AF_UNIX, a, OWNER(1)));
	allowedips_free(t);
}
END_TEST

START_TEST(test_source_ok)
{
	struct allowedips *t = allowedips_new(NULL);
	uint8_t a[16];

	ck_assert_int_eq(ins4(t, "10.0.0.0", 8, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "10.0.0.2", 32, OWNER(2)), 0);
	ck_assert_int_eq(ins6(t, "fd00::", 64, OWNER(2)), 0);

	v4(a, "10.0.0.1");
	ck_assert(allowedips_source_ok(t, AF_INET, a, OWNER(1)));
	ck_assert(!allowedips_source_ok(t, AF_INET, a, OWNER(2)));
	v4(a, "10.0.0.2");
	/* Covered by owner 1's /8, but the longest match routes to 2. */
	ck_assert(!allowedips_source_ok(t, AF_INET, a, OWNER(1)));
	ck_assert(allowedips_source_ok(t, AF_INET, a, OWNER(2)));
	v4(a, "192.168.0.1");
	ck_assert(!allowedips_source_ok(t, AF_INET, a, OWNER(1)));
	ck_assert(!allowedips_source_ok(t, AF_INET, a, NULL));
	v6(a, "fd00::7");
	ck_assert(allowedips_source_ok(t, AF_INET6, a, OWNER(2)));
	ck_assert(!allowedips_source_ok(t, AF_INET6, a, OWNER(1)));
	v6(a, "fd00:0:0:1::7");
	ck_assert(!allowedips_source_ok(t, AF_INET6, a, OWNER(2)));
	allowedips_free(t);
}
END_TEST

START_TEST(test_walk_order_and_stop)
{
	struct allowedips *t = allowedips_new(NULL);
	struct collected c = { .n = 0 };
	uint8_t a[16];

	ck_assert_int_eq(ins6(t, "fd00::", 8, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "192.168.0.0", 16, OWNER(2)), 0);
	ck_assert_int_eq(ins4(t, "10.0.0.0", 8, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "10.0.0.0", 16, OWNER(2)), 0);
	ck_assert_int_eq(ins4(t, "0.0.0.0", 0, OWNER(3)), 0);

	ck_assert_int_eq(allowedips_walk(t, collect_all, &c), 0);
	ck_assert_int_eq(c.n, 5);
	ck_assert_uint_eq(c.cidr[0], 0);
	ck_assert_ptr_eq(c.owner[0], OWNER(3));
	ck_assert_uint_eq(c.cidr[1], 8);
	ck_assert_ptr_eq(c.owner[1], OWNER(1));
	ck_assert_uint_eq(c.cidr[2], 16);
	v4(a, "10.0.0.0");
	ck_assert_mem_eq(c.addr[2], a, 4);
	ck_assert_ptr_eq(c.owner[2], OWNER(2));
	v4(a, "192.168.0.0");
	ck_assert_mem_eq(c.addr[3], a, 4);
	ck_assert_int_eq(c.family[4], AF_INET6);
	ck_assert_ptr_eq(c.owner[4], OWNER(1));

	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	ck_assert_int_eq(allowedips_walk(t, collect_all, &c), 7);
	ck_assert_int_eq(c.n, 2);
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	ck_assert_int_eq(allowedips_walk_owner(t, OWNER(1), collect_owned, &c),
			 7);
	ck_assert_int_eq(c.n, 1);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(allowedips_walk_owner(t, OWNER(1), collect_owned, &c),
			 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert_int_eq(c.family[1], AF_INET6);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(allowedips_walk_owner(t, OWNER(9), collect_owned, &c),
			 0);
	ck_assert_int_eq(c.n, 0);
	allowedips_free(t);
}
END_TEST

START_TEST(test_retire_hook)
{
	struct held_epoch h;
	struct allowedips *t;

	hold_epoch(&h);
	t = allowedips_new(&h.e);
	ck_assert_int_eq(ins4(t, "10.0.0.0", 24, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "10.0.1.0", 24, OWNER(2)), 0);
	ck_assert_uint_eq(allowedips_node_count(t), 3);
	/* Replacing an owner frees nothing. */
	ck_assert_int_eq(ins4(t, "10.0.1.0", 24, OWNER(3)), 0);
	ck_assert_uint_eq(epoch_pending(&h.e), 0);
	/* The leaf and the branch point above it both go. */
	ck_assert_int_eq(rm4(t, "10.0.0.0", 24, OWNER(1)), 0);
	ck_assert_uint_eq(epoch_pending(&h.e), 2);
	ck_assert_uint_eq(allowedips_node_count(t), 1);
	ck_assert_ptr_eq(get4(t, "10.0.1.1"), OWNER(3));
	/* Removing a prefix with children keeps the node as a branch. */
	ck_assert_int_eq(ins4(t, "10.0.0.0", 16, OWNER(1)), 0);
	ck_assert_int_eq(ins4(t, "10.0.128.0", 24, OWNER(2)), 0);
	ck_assert_int_eq(rm4(t, "10.0.0.0", 16, OWNER(1)), 0);
	ck_assert_uint_eq(epoch_pending(&h.e), 2);
	ck_assert_uint_eq(allowedips_node_count(t), 3);
	check_node_bound(t);
	ck_assert_int_eq(rm4(t, "10.0.128.0", 24, OWNER(2)), 0);
	ck_assert_uint_eq(epoch_pending(&h.e), 4);
	ck_assert_uint_eq(allowedips_node_count(t), 1);
	/* Once the reader has seen a later epoch, reclaim frees them. */
	epoch_reclaim(&h.e);
	ck_assert_uint_eq(epoch_pending(&h.e), 4);
	epoch_quiescent(&h.e, &h.reader);
	epoch_reclaim(&h.e);
	ck_assert_uint_eq(epoch_pending(&h.e), 0);
	allowedips_free(t);
	release_epoch(&h);
}
END_TEST

/* ---------------------------------------------------------------------
 * Random comparison with a naive reference. */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rng_below(uint64_t *s, unsigned int n)
{
	return (unsigned int)(rng_next(s) % n);
}

#define NBASES 8
#define NPREFIXES 2000		/* insert attempts per family */
#define NLOOKUPS 10000		/* per family and round */

struct ref_entry {
	uint8_t addr[16];
	uint8_t cidr;
	bool seen;
	void *owner;
};

struct ref {
	struct ref_entry e[2][NPREFIXES];
	size_t n[2];
	uint8_t bases[2][NBASES][16];
	unsigned int min_cidr;	/* above 0 so that some lookups miss */
};

static unsigned int fam_len(int fi)
{
	return fi ? 16 : 4;
}

static int fam_af(int fi)
{
	return fi ? AF_INET6 : AF_INET;
}

/* A base from the pool with every bit from a random position on replaced:
 * addresses share long prefixes often, so prefixes nest and collide. */
static void random_addr(uint64_t *s, const struct ref *ref, int fi,
			uint8_t *out)
{
	unsigned int len = fam_len(fi), from, i;

	memcpy(out, ref->bases[fi][rng_below(s, NBASES)], len);
	from = rng_below(s, len * 8 + 1);
	for (i = from; i < len * 8; i++) {
		out[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		if (rng_next(s) & 1)
			out[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
}

/* Written independently of the trie's helpers on purpose: the partial
 * byte is checked bit by bit. */
static bool ref_matches(const uint8_t *prefix, unsigned int cidr,
			const uint8_t *addr)
{
	unsigned int i, full = cidr / 8;

	if (memcmp(prefix, addr, full))
		return false;
	for (i = full * 8; i < cidr; i++)
		if (((prefix[i / 8] ^ addr[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static void ref_mask(uint8_t *addr, unsigned int len, unsigned int cidr)
{
	unsigned int i;

	for (i = cidr; i < len * 8; i++)
		addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static struct ref_entry *ref_find(struct ref *ref, int fi, const uint8_t *addr,
				  unsigned int cidr)
{
	size_t i;

	for (i = 0; i < ref->n[fi]; i++)
		if (ref->e[fi][i].cidr == cidr &&
		    !memcmp(ref->e[fi][i].addr, addr, fam_len(fi)))
			return &ref->e[fi][i];
	return NULL;
}

static void *ref_lookup(const struct ref *ref, int fi, const uint8_t *addr)
{
	const struct ref_entry *best = NULL, *e;
	size_t i;

	for (i = 0; i < ref->n[fi]; i++) {
		e = &ref->e[fi][i];
		if ((!best || e->cidr > best->cidr) &&
		    ref_matches(e->addr, e->cidr, addr))
			best = e;
	}
	return best ? best->owner : NULL;
}

static void ref_delete(struct ref *ref, int fi, struct ref_entry *e)
{
	*e = ref->e[fi][--ref->n[fi]];
}

static void compare_lookups(uint64_t *s, const struct allowedips *t,
			    const struct ref *ref)
{
	uint8_t addr[16];
	int fi, i;

	for (fi = 0; fi < 2; fi++) {
		for (i = 0; i < NLOOKUPS; i++) {
			random_addr(s, ref, fi, addr);
			ck_assert_ptr_eq(allowedips_lookup(t, fam_af(fi), addr),
					 ref_lookup(ref, fi, addr));
		}
		/* Every stored prefix's own first address, too. */
		for (i = 0; i < (int)ref->n[fi]; i++)
			ck_assert_ptr_eq(allowedips_lookup(t, fam_af(fi),
							   ref->e[fi][i].addr),
					 ref_lookup(ref, fi,
						    ref->e[fi][i].addr));
	}
}

struct walk_check {
	struct ref *ref;
	void *owner;
	size_t n;
};

static int walk_check_step(void *arg, int family, const uint8_t *addr,
			   uint8_t cidr)
{
	struct walk_check *w = arg;
	int fi = family == AF_INET6;
	struct ref_entry *e;

	ck_assert(family == AF_INET || family == AF_INET6);
	e = ref_find(w->ref, fi, addr, cidr);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_eq(e->owner, w->owner);
	ck_assert(!e->seen);
	e->seen = true;
	w->n++;
	return 0;
}

/* Each owner's walk yields exactly its reference entries, each once. */
static void compare_walks(const struct allowedips *t, struct ref *ref)
{
	struct walk_check w = { .ref = ref };
	size_t i, total = 0;
	int o, fi;

	for (o = 0; o < NOWNERS; o++) {
		w.owner = OWNER(o);
		w.n = 0;
		ck_assert_int_eq(allowedips_walk_owner(t, w.owner,
						       walk_check_step, &w), 0);
		total += w.n;
	}
	for (fi = 0; fi < 2; fi++)
		for (i = 0; i < ref->n[fi]; i++) {
			ck_assert(ref->e[fi][i].seen);
			ref->e[fi][i].seen = false;
		}
	ck_assert_uint_eq(total, ref->n[0] + ref->n[1]);
	ck_assert_uint_eq(allowedips_count(t), total);
	check_node_bound(t);
}

static void random_insert(uint64_t *s, struct allowedips *t, struct ref *ref,
			  int fi)
{
	unsigned int len = fam_len(fi), cidr = rng_below(s, len * 8 + 1);
	void *owner = OWNER(rng_below(s, NOWNERS));
	uint8_t addr[16], masked[16];
	struct ref_entry *e;

	if (cidr < ref->min_cidr)
		cidr = ref->min_cidr;
	random_addr(s, ref, fi, addr);
	ck_assert_int_eq(allowedips_insert(t, fam_af(fi), addr, (uint8_t)cidr,
					   owner), 0);
	memcpy(masked, addr, len);
	ref_mask(masked, len, cidr);
	e = ref_find(ref, fi, masked, cidr);
	if (!e) {
		ck_assert_uint_lt(ref->n[fi], NPREFIXES);
		e = &ref->e[fi][ref->n[fi]++];
		memset(e, 0, sizeof(*e));
		memcpy(e->addr, masked, len);
		e->cidr = (uint8_t)cidr;
	}
	e->owner = owner;
}

/* Removes about half of the entries one by one, sometimes first trying a
 * wrong owner, and spelling the prefix with random host bits. */
static void random_remove_half(uint64_t *s, struct allowedips *t,
			       struct ref *ref)
{
	uint8_t addr[16];
	struct ref_entry *e;
	unsigned int len, b;
	size_t i;
	void *wrong;
	int fi;

	for (fi = 0; fi < 2; fi++) {
		len = fam_len(fi);
		for (i = 0; i < ref->n[fi];) {
			e = &ref->e[fi][i];
			if (rng_next(s) & 1) {
				i++;
				continue;
			}
			memcpy(addr, e->addr, len);
			for (b = e->cidr; b < len * 8; b++)
				if (rng_next(s) & 1)
					addr[b / 8] |= 0x80 >> (b % 8);
			wrong = OWNER((e->owner == OWNER(0)) ? 1 : 0);
			if (rng_below(s, 4) == 0)
				ck_assert_int_eq(
					allowedips_remove(t, fam_af(fi), addr,
							  e->cidr, wrong),
					-ENOENT);
			ck_assert_int_eq(allowedips_remove(t, fam_af(fi), addr,
							   e->cidr, e->owner),
					 0);
			ck_assert_int_eq(allowedips_remove(t, fam_af(fi), addr,
							   e->cidr, e->owner),
					 -ENOENT);
			ref_delete(ref, fi, e);
		}
	}
}

static void ref_remove_owner(struct ref *ref, void *owner)
{
	size_t i;
	int fi;

	for (fi = 0; fi < 2; fi++)
		for (i = 0; i < ref->n[fi];) {
			if (ref->e[fi][i].owner == owner)
				ref_delete(ref, fi, &ref->e[fi][i]);
			else
				i++;
		}
}

START_TEST(test_random_vs_reference)
{
	struct allowedips *t = allowedips_new(NULL);
	struct ref *ref = calloc(1, sizeof(*ref));
	uint64_t s = 0x52494e4756504eULL + (uint64_t)_i;
	int fi, i, o;

	ck_assert_ptr_nonnull(ref);
	ref->min_cidr = _i ? 8 : 0;
	for (fi = 0; fi < 2; fi++)
		for (i = 0; i < NBASES; i++)
			for (unsigned int b = 0; b < 16; b++)
				ref->bases[fi][i][b] = (uint8_t)rng_next(&s);

	for (i = 0; i < NPREFIXES; i++) {
		random_insert(&s, t, ref, 0);
		random_insert(&s, t, ref, 1);
	}
	/* The pool makes duplicates common: owners were replaced. */
	ck_assert_uint_lt(ref->n[0], NPREFIXES);
	ck_assert_uint_gt(ref->n[0], NPREFIXES / 4);
	compare_walks(t, ref);
	compare_lookups(&s, t, ref);

	random_remove_half(&s, t, ref);
	for (o = 0; o < 3; o++) {
		void *owner = OWNER(rng_below(&s, NOWNERS));

		allowedips_remove_by_owner(t, owner);
		ref_remove_owner(ref, owner);
	}
	compare_walks(t, ref);
	compare_lookups(&s, t, ref);

	/* Inserting into the thinned trie, then emptying it. */
	for (i = 0; i < NPREFIXES / 4; i++) {
		random_insert(&s, t, ref, 0);
		random_insert(&s, t, ref, 1);
	}
	compare_walks(t, ref);
	compare_lookups(&s, t, ref);
	for (o = 0; o < NOWNERS; o++)
		allowedips_remove_by_owner(t, OWNER(o));
	ck_assert_uint_eq(allowedips_count(t), 0);
	ck_assert_uint_eq(allowedips_node_count(t), 0);
	allowedips_free(t);
	free(ref);
}
END_TEST

/* ---------------------------------------------------------------------
 * Readers racing one writer. The writer churns prefixes that never cover
 * 10.<even>.0.0/16, so lookups there must always give the /8's owner, while
 * branch points appear and vanish around them. Only meaningful with a
 * deferred retire (here: nothing is freed until the readers are gone). */

#define NREADERS 3
#define CHURN_OPS 60000
#define CHURN_LIVE 64

struct race {
	struct allowedips *t;
	atomic_bool stop;
	atomic_ulong errors;
	atomic_ulong lookups;
};

struct reader {
	struct race *r;
	pthread_t thread;
	uint64_t seed;
};

static bool is_owner(const void *p)
{
	uintptr_t x = (uintptr_t)p, lo = (uintptr_t)OWNER(0);

	return x >= lo && x < lo + NOWNERS;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct race *r = rd->r;
	uint64_t s = rd->seed;
	unsigned long errors = 0, n = 0;
	uint8_t a[4];
	void *got;

	while (!atomic_load(&r->stop)) {
		uint64_t x = rng_next(&s);

		a[0] = 10;
		a[1] = (uint8_t)(x & 0xfe);
		a[2] = (uint8_t)(x >> 8);
		a[3] = (uint8_t)(x >> 16);
		if (allowedips_lookup(r->t, AF_INET, a) != OWNER(0))
			errors++;
		a[1] |= 1;
		got = allowedips_lookup(r->t, AF_INET, a);
		if (!is_owner(got))
			errors++;
		a[0] = 11;
		if (allowedips_lookup(r->t, AF_INET, a))
			errors++;
		n++;
	}
	atomic_fetch_add(&r->errors, errors);
	atomic_fetch_add(&r->lookups, n);
	return NULL;
}

static void churn_prefix(uint64_t *s, uint8_t a[4], uint8_t *cidr)
{
	uint64_t x = rng_next(s);

	if (x & 1) {
		a[0] = 10;
		a[1] = (uint8_t)((x >> 8) | 1);
		*cidr = (uint8_t)(16 + (x >> 40) % 17);
	} else {
		/* From /4 on, these never cover 10/8 or 11/8. */
		a[0] = (x & 2) ? 20 : 200;
		a[1] = (uint8_t)(x >> 8);
		*cidr = (uint8_t)(4 + (x >> 40) % 29);
	}
	a[2] = (uint8_t)(x >> 16);
	a[3] = (uint8_t)(x >> 24);
}

START_TEST(test_concurrent_readers)
{
	struct epoch epoch;
	struct race r;
	uint8_t live[CHURN_LIVE][4], cidrs[CHURN_LIVE];
	void *owners[CHURN_LIVE];
	struct reader rd[NREADERS];
	uint64_t s = 12345;
	int nlive = 0, i, k;

	/* No reclaim while the readers run (they announce no quiescent
	 * states): everything unlinked waits until epoch_destroy. */
	epoch_init(&epoch, NULL, 0);
	memset(&r, 0, sizeof(r));
	r.t = allowedips_new(&epoch);
	ck_assert_int_eq(ins4(r.t, "10.0.0.0", 8, OWNER(0)), 0);
	for (i = 0; i < NREADERS; i++) {
		rd[i].r = &r;
		rd[i].seed = 1000 + (uint64_t)i;
		ck_assert_int_eq(pthread_create(&rd[i].thread, NULL,
						reader_main, &rd[i]), 0);
	}
	for (i = 0; i < CHURN_OPS; i++) {
		if (nlive == CHURN_LIVE || (nlive && rng_below(&s, 2))) {
			k = (int)rng_below(&s, (unsigned int)nlive);
			/* The slot may have been overwritten by a later
			 * insert of the same prefix: then it is gone. */
			allowedips_remove(r.t, AF_INET, live[k], cidrs[k],
					  owners[k]);
			nlive--;
			memcpy(live[k], live[nlive], 4);
			cidrs[k] = cidrs[nlive];
			owners[k] = owners[nlive];
			continue;
		}
		churn_prefix(&s, live[nlive], &cidrs[nlive]);
		owners[nlive] = OWNER(1 + rng_below(&s, NOWNERS - 1));
		ck_assert_int_eq(allowedips_insert(r.t, AF_INET, live[nlive],
						   cidrs[nlive],
						   owners[nlive]), 0);
		nlive++;
	}
	atomic_store(&r.stop, true);
	for (i = 0; i < NREADERS; i++)
		ck_assert_int_eq(pthread_join(rd[i].thread, NULL), 0);
	ck_assert_uint_eq(atomic_load(&r.errors), 0);
	ck_assert_uint_gt(atomic_load(&r.lookups), 0);
	ck_assert_uint_gt(epoch_pending(&epoch), 0);
	check_node_bound(r.t);
	allowedips_free(r.t);
	epoch_destroy(&epoch);
}
END_TEST

static Suite *allowedips_suite(void)
{
	Suite *s = suite_create("allowedips");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_v4_overlap);
	tcase_add_test(tc, test_v6_overlap);
	tcase_add_test(tc, test_host_bits_masked);
	tcase_add_test(tc, test_replace_owner);
	tcase_add_test(tc, test_remove_keeps_cover);
	tcase_add_test(tc, test_remove_by_owner);
	tcase_add_test(tc, test_remove_enoent);
	tcase_add_test(tc, test_einval);
	tcase_add_test(tc, test_source_ok);
	tcase_add_test(tc, test_walk_order_and_stop);
	tcase_add_test(tc, test_retire_hook);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_random_vs_reference, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrent");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_concurrent_readers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(allowedips_suite());
}
