/* The rtnetlink primitives against a real kernel. Each test runs in a
 * fresh network namespace with its own TUN device, and every effect is
 * read back through libnl-route-3, an independent implementation, never
 * through the module's own dumps. Needs root and exits 77 (skipped)
 * without it or without network namespaces. */
#include "netlink/rtnl.h"
#include "tests/unit/check_main.h"
#include "tests/unit/netns_test.h"
#include "tun/tun.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#define TUN_NAME "rvtest0"
#define TUN_NAME2 "rvtest1"
#define TABLE 51820u
#define FWMARK 0xca6cu
#define NO_SUCH_IFINDEX 99999

/* Set up afresh for each test, in the test's own namespace. */
static struct {
	struct tun_device tun;
	int ifindex;
	struct netlink nl;
	struct nl_sock *sk;	/* libnl, the independent reader */
} fx;

struct ip {
	int family;
	uint8_t bytes[16];
};

static struct ip parse_ip(const char *text)
{
	struct ip a = { .family = strchr(text, ':') ? AF_INET6 : AF_INET };

	ck_assert_int_eq(inet_pton(a.family, text, a.bytes), 1);
	return a;
}

static unsigned int ip_len(const struct ip *a)
{
	return a->family == AF_INET ? 4 : 16;
}

static bool libnl_addr_is(struct nl_addr *na, const struct ip *a)
{
	return na && nl_addr_get_len(na) == ip_len(a) &&
	       !memcmp(nl_addr_get_binary_addr(na), a->bytes, ip_len(a));
}

static void setup(void)
{
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_int_eq(tun_create(&fx.tun, TUN_NAME, 1, 0), 0);
	fx.ifindex = fx.tun.ifindex;
	ck_assert_int_gt(fx.ifindex, 0);
	ck_assert_int_eq(netlink_open(&fx.nl), 0);
	fx.sk = nl_socket_alloc();
	ck_assert_ptr_nonnull(fx.sk);
	ck_assert_int_eq(nl_connect(fx.sk, NETLINK_ROUTE), 0);
}

static void teardown(void)
{
	nl_socket_free(fx.sk);
	netlink_close(&fx.nl);
	tun_close(&fx.tun);
}

/* ---- What the kernel says, through libnl ---------------------------- */

static struct rtnl_link *kernel_link(int ifindex)
{
	struct rtnl_link *link = NULL;

	if (rtnl_link_get_kernel(fx.sk, ifindex, NULL, &link) < 0)
		return NULL;
	return link;
}

static unsigned int kernel_mtu(void)
{
	struct rtnl_link *link = kernel_link(fx.ifindex);
	unsigned int mtu;

	ck_assert_ptr_nonnull(link);
	mtu = rtnl_link_get_mtu(link);
	rtnl_link_put(link);
	return mtu;
}

static bool kernel_up(void)
{
	struct rtnl_link *link = kernel_link(fx.ifindex);
	bool up;

	ck_assert_ptr_nonnull(link);
	up = rtnl_link_get_flags(link) & IFF_UP;
	rtnl_link_put(link);
	return up;
}

/* Addresses of a's family on the TUN device; with plen >= 0 only a/plen,
 * whose flags then land in *flags. */
static int kernel_addrs(const struct ip *a, int plen, unsigned int *flags)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int n = 0;

	ck_assert_int_eq(rtnl_addr_alloc_cache(fx.sk, &cache), 0);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)o;

		if (rtnl_addr_get_ifindex(ra) != fx.ifindex ||
		    rtnl_addr_get_family(ra) != a->family)
			continue;
		if (plen >= 0 && (rtnl_addr_get_prefixlen(ra) != plen ||
				  !libnl_addr_is(rtnl_addr_get_local(ra), a)))
			continue;
		if (flags)
			*flags = rtnl_addr_get_flags(ra);
		n++;
	}
	nl_cache_free(cache);
	return n;
}

static bool route_dst_is(struct rtnl_route *r, const struct ip *d, int plen)
{
	struct nl_addr *dst = rtnl_route_get_dst(r);

	if (!dst || nl_addr_get_prefixlen(dst) != (unsigned int)plen)
		return false;
	/* libnl gives a default route a zero-length address. */
	return nl_addr_get_len(dst) ? libnl_addr_is(dst, d) : plen == 0;
}

/* A route of the family in table through ifindex alone. */
static bool route_in(struct rtnl_route *r, int family, uint32_t table,
		     int ifindex)
{
	return rtnl_route_get_family(r) == family &&
	       rtnl_route_get_table(r) == table &&
	       rtnl_route_get_nnexthops(r) == 1 &&
	       rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0)) ==
		       ifindex;
}

/* Routes of the family in table through ifindex; with plen >= 0 only
 * those to d/plen, which must also carry our protocol and scope. */
static int kernel_routes(int family, uint32_t table, int ifindex,
			 const struct ip *d, int plen)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int n = 0;

	ck_assert_int_eq(rtnl_route_alloc_cache(fx.sk, family, 0, &cache), 0);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;

		if (!route_in(r, family, table, ifindex))
			continue;
		if (plen >= 0 && !route_dst_is(r, d, plen))
			continue;
		if (plen >= 0) {
			ck_assert_uint_eq(rtnl_route_get_protocol(r),
					  RTPROT_STATIC);
			ck_assert_uint_eq(rtnl_route_get_type(r), RTN_UNICAST);
			if (family == AF_INET)
				ck_assert_uint_eq(rtnl_route_get_scope(r),
						  RT_SCOPE_LINK);
		}
		n++;
	}
	nl_cache_free(cache);
	return n;
}

/* libnl 3.7's rtnl_rule has no accessors for FIB_RULE_INVERT and
 * suppress_prefixlength, and two rules that differ only by "not" look
 * the same through it. So a specific rule is counted in a raw
 * RTM_GETRULE dump, still sent and parsed by libnl, and the rtnl_rule
 * cache must agree on the fields it does expose. */
#define MAX_RAW_RULES 64
struct raw_rules {
	struct netlink_rule r[MAX_RAW_RULES];
	int n;
};

static int raw_rule_cb(struct nl_msg *msg, void *arg)
{
	struct raw_rules *rr = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct fib_rule_hdr *frh = nlmsg_data(nlh);
	struct nlattr *tb[FRA_MAX + 1];
	struct netlink_rule *r;

	if (nlh->nlmsg_type != RTM_NEWRULE)
		return NL_SKIP;
	ck_assert_int_lt(rr->n, MAX_RAW_RULES);
	ck_assert_int_eq(nlmsg_parse(nlh, sizeof(*frh), tb, FRA_MAX, NULL), 0);
	r = &rr->r[rr->n++];
	*r = (struct netlink_rule){
		.family = frh->family,
		.invert = frh->flags & FIB_RULE_INVERT,
		.suppress_prefixlen = -1,
		/* Anything but "lookup": never equal to a wanted rule. */
		.table = frh->action == FR_ACT_TO_TBL ? frh->table : 0,
	};
	if (tb[FRA_TABLE] && r->table)
		r->table = nla_get_u32(tb[FRA_TABLE]);
	if (tb[FRA_PRIORITY])
		r->priority = nla_get_u32(tb[FRA_PRIORITY]);
	if (tb[FRA_FWMARK] && nla_get_u32(tb[FRA_FWMARK])) {
		r->has_fwmark = true;
		r->fwmark = nla_get_u32(tb[FRA_FWMARK]);
		ck_assert_ptr_nonnull(tb[FRA_FWMASK]);
		ck_assert_uint_eq(nla_get_u32(tb[FRA_FWMASK]), UINT32_MAX);
	}
	if (tb[FRA_SUPPRESS_PREFIXLEN])
		r->suppress_prefixlen =
			(int32_t)nla_get_u32(tb[FRA_SUPPRESS_PREFIXLEN]);
	return NL_OK;
}

static void raw_rules_dump(int family, struct raw_rules *rr)
{
	struct fib_rule_hdr frh = { .family = (uint8_t)family };
	struct nl_sock *sk = nl_socket_alloc();

	rr->n = 0;
	ck_assert_ptr_nonnull(sk);
	ck_assert_int_eq(nl_connect(sk, NETLINK_ROUTE), 0);
	ck_assert_int_eq(nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM,
					     raw_rule_cb, rr), 0);
	ck_assert_int_ge(nl_send_simple(sk, RTM_GETRULE, NLM_F_DUMP, &frh,
					sizeof(frh)), 0);
	ck_assert_int_ge(nl_recvmsgs_default(sk), 0);
	nl_socket_free(sk);
}

static bool rule_equal(const struct netlink_rule *got,
		       const struct netlink_rule *want)
{
	return got->family == want->family && got->table == want->table &&
	       (!want->priority || got->priority == want->priority) &&
	       got->has_fwmark == want->has_fwmark &&
	       got->fwmark == want->fwmark && got->invert == want->invert &&
	       got->suppress_prefixlen == want->suppress_prefixlen;
}

/* The fields rtnl_rule exposes. */
static bool libnl_rule_is(struct rtnl_rule *k, const struct netlink_rule *want)
{
	uint32_t mark = want->has_fwmark ? want->fwmark : 0;

	return rtnl_rule_get_family(k) == want->family &&
	       rtnl_rule_get_table(k) == want->table &&
	       rtnl_rule_get_action(k) == FR_ACT_TO_TBL &&
	       (!want->priority || rtnl_rule_get_prio(k) == want->priority) &&
	       rtnl_rule_get_mark(k) == mark &&
	       (!mark || rtnl_rule_get_mask(k) == UINT32_MAX);
}

/* Rules of the family in the rtnl_rule cache, or only those like want. */
static int kernel_rules_libnl(int family, const struct netlink_rule *want)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int n = 0;

	ck_assert_int_eq(rtnl_rule_alloc_cache(fx.sk, family, &cache), 0);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_rule *k = (struct rtnl_rule *)o;

		if (rtnl_rule_get_family(k) == family &&
		    (!want || libnl_rule_is(k, want)))
			n++;
	}
	nl_cache_free(cache);
	return n;
}

/* Rules of the family, or only those equal to want. */
static int kernel_rules(int family, const struct netlink_rule *want)
{
	struct raw_rules rr;
	int n = 0;

	if (!want)
		return kernel_rules_libnl(family, NULL);
	raw_rules_dump(family, &rr);
	for (int i = 0; i < rr.n; i++)
		n += rule_equal(&rr.r[i], want);
	ck_assert_int_ge(kernel_rules_libnl(family, want), n);
	return n;
}

/* ---- The module, called with the fixture's context -------------------- */

static int addr_add(int ifindex, const struct ip *a, uint8_t plen,
		    bool nodad, bool *existed)
{
	return netlink_addr_add(&fx.nl, ifindex, a->family, a->bytes, plen,
				nodad, existed);
}

static int addr_del(int ifindex, const struct ip *a, uint8_t plen)
{
	return netlink_addr_del(&fx.nl, ifindex, a->family, a->bytes, plen);
}

static int route_add(int ifindex, const struct ip *d, uint8_t plen,
		     uint32_t table, bool *existed)
{
	return netlink_route_add(&fx.nl, ifindex, d->family, d->bytes, plen,
				 table, existed);
}

static int route_del(int ifindex, const struct ip *d, uint8_t plen,
		     uint32_t table)
{
	return netlink_route_del(&fx.nl, ifindex, d->family, d->bytes, plen,
				 table);
}

static bool table_in_use(uint32_t table)
{
	bool in_use = false;

	ck_assert_int_eq(netlink_table_in_use(&fx.nl, table, &in_use), 0);
	return in_use;
}

static void link_up(int ifindex)
{
	ck_assert_int_eq(netlink_link_set_up(&fx.nl, ifindex, true), 0);
}

/* ---- Links ----------------------------------------------------------- */

START_TEST(test_link)
{
	int ifindex = 0;

	ck_assert_int_eq(netlink_link_index(&fx.nl, TUN_NAME, &ifindex), 0);
	ck_assert_int_eq(ifindex, fx.ifindex);
	ck_assert_int_eq(netlink_link_index(&fx.nl, "rvnosuch0", &ifindex),
			 -ENODEV);
	ck_assert_int_eq(netlink_link_index(&fx.nl, "", &ifindex), -EINVAL);
	ck_assert_int_eq(netlink_link_index(&fx.nl, "name-past-ifnamsiz",
					    &ifindex), -EINVAL);
	ck_assert_int_eq(ifindex, fx.ifindex);

	ck_assert_int_eq(netlink_link_set_mtu(&fx.nl, fx.ifindex, 1420), 0);
	ck_assert_uint_eq(kernel_mtu(), 1420);
	ck_assert_int_eq(netlink_link_set_mtu(&fx.nl, fx.ifindex, 1280), 0);
	ck_assert_uint_eq(kernel_mtu(), 1280);

	ck_assert(!kernel_up());
	for (int i = 0; i < 2; i++) {
		link_up(fx.ifindex);
		ck_assert(kernel_up());
	}
	ck_assert_int_eq(netlink_link_set_up(&fx.nl, fx.ifindex, false), 0);
	ck_assert(!kernel_up());
	ck_assert_uint_eq(kernel_mtu(), 1280);
}
END_TEST

START_TEST(test_link_delete)
{
	int ifindex;

	ck_assert_int_eq(netlink_link_delete(&fx.nl, fx.ifindex), 0);
	ck_assert_ptr_null(kernel_link(fx.ifindex));
	ck_assert_int_eq(netlink_link_index(&fx.nl, TUN_NAME, &ifindex),
			 -ENODEV);
	ck_assert_int_eq(netlink_link_delete(&fx.nl, fx.ifindex), -ENODEV);
	ck_assert_int_eq(netlink_link_set_up(&fx.nl, fx.ifindex, true),
			 -ENODEV);
}
END_TEST

/* ---- Addresses ------------------------------------------------------- */

static void check_addr(const char *text, uint8_t plen, bool nodad)
{
	struct ip a = parse_ip(text);
	int before = kernel_addrs(&a, -1, NULL);
	unsigned int flags = 0;
	bool existed = true;

	ck_assert_int_eq(kernel_addrs(&a, plen, NULL), 0);
	ck_assert_int_eq(addr_add(fx.ifindex, &a, plen, nodad, &existed), 0);
	ck_assert(!existed);
	ck_assert_int_eq(kernel_addrs(&a, plen, &flags), 1);
	ck_assert_int_eq(kernel_addrs(&a, -1, NULL), before + 1);
	if (a.family == AF_INET6)
		ck_assert_int_eq(!!(flags & IFA_F_NODAD), nodad);

	/* Again: success, reported as already there, and no duplicate. */
	ck_assert_int_eq(addr_add(fx.ifindex, &a, plen, nodad, &existed), 0);
	ck_assert(existed);
	ck_assert_int_eq(addr_add(fx.ifindex, &a, plen, nodad, NULL), 0);
	ck_assert_int_eq(kernel_addrs(&a, -1, NULL), before + 1);

	ck_assert_int_eq(addr_del(fx.ifindex, &a, plen), 0);
	ck_assert_int_eq(kernel_addrs(&a, plen, NULL), 0);
	ck_assert_int_eq(kernel_addrs(&a, -1, NULL), before);
	ck_assert_int_eq(addr_del(fx.ifindex, &a, plen), -ENOENT);
}

START_TEST(test_addresses)
{
	/* Down, then up. Coming up gives the link an IPv6 link-local
	 * address; the before/after counts absorb it. */
	check_addr("10.71.0.1", 24, false);
	check_addr("fd00:71::1", 64, true);
	link_up(fx.ifindex);
	check_addr("10.71.0.1", 24, false);
	check_addr("fd00:71::1", 64, true);
	check_addr("fd00:71::2", 128, false);
	check_addr("192.0.2.1", 32, true);
}
END_TEST

/* IPv6 holds one prefix length per address: the same address with another
 * is a clash, not something that already existed. */
START_TEST(test_address_clash)
{
	struct ip a = parse_ip("fd00:71::1");
	bool existed = true;

	ck_assert_int_eq(addr_add(fx.ifindex, &a, 64, true, &existed), 0);
	ck_assert(!existed);
	existed = true;
	ck_assert_int_eq(addr_add(fx.ifindex, &a, 80, true, &existed),
			 -EEXIST);
	ck_assert(!existed);
	ck_assert_int_eq(kernel_addrs(&a, 80, NULL), 0);
	ck_assert_int_eq(kernel_addrs(&a, 64, NULL), 1);
	ck_assert_int_eq(addr_del(fx.ifindex, &a, 80), -ENOENT);
	ck_assert_int_eq(kernel_addrs(&a, 64, NULL), 1);
}
END_TEST

/* ---- Routes ---------------------------------------------------------- */

static void check_route(const char *text, uint8_t plen, uint32_t table)
{
	struct ip d = parse_ip(text);
	int f = d.family;
	int before = kernel_routes(f, table, fx.ifindex, NULL, -1);
	bool existed = true;

	ck_assert_int_eq(kernel_routes(f, table, fx.ifindex, &d, plen), 0);
	ck_assert_int_eq(route_add(fx.ifindex, &d, plen, table, &existed), 0);
	ck_assert(!existed);
	ck_assert_int_eq(kernel_routes(f, table, fx.ifindex, &d, plen), 1);
	ck_assert_int_eq(kernel_routes(f, table, fx.ifindex, NULL, -1),
			 before + 1);
	ck_assert(table_in_use(table));

	ck_assert_int_eq(route_add(fx.ifindex, &d, plen, table, &existed), 0);
	ck_assert(existed);
	ck_assert_int_eq(kernel_routes(f, table, fx.ifindex, NULL, -1),
			 before + 1);

	ck_assert_int_eq(route_del(fx.ifindex, &d, plen, table), 0);
	ck_assert_int_eq(kernel_routes(f, table, fx.ifindex, &d, plen), 0);
	ck_assert_int_eq(kernel_routes(f, table, fx.ifindex, NULL, -1),
			 before);
	ck_assert_int_eq(route_del(fx.ifindex, &d, plen, table), -ENOENT);
}

START_TEST(test_routes)
{
	link_up(fx.ifindex);
	ck_assert(!table_in_use(TABLE));
	check_route("10.72.0.0", 16, RT_TABLE_MAIN);
	check_route("fd00:72::", 48, RT_TABLE_MAIN);
	check_route("0.0.0.0", 0, TABLE);
	check_route("::", 0, TABLE);
	check_route("10.73.1.0", 24, TABLE);
	check_route("fd00:73::1", 128, TABLE);
	check_route("10.74.0.0", 16, 200);
	ck_assert(!table_in_use(TABLE));
	ck_assert(!table_in_use(200));
}
END_TEST

/* The kill switch's route: added once (again: existing), coexisting
 * with the device's default route in the table, removed, then absent. */
START_TEST(test_unreachable)
{
	static const uint8_t any[16];
	bool existed = true;

	link_up(fx.ifindex);
	ck_assert_int_eq(netlink_route_add(&fx.nl, fx.ifindex, AF_INET, any, 0,
					   TABLE, NULL), 0);
	for (int family = AF_INET; family; family = family == AF_INET ?
	     AF_INET6 : 0) {
		ck_assert_int_eq(netlink_unreachable_add(&fx.nl, family, TABLE,
							 UINT32_MAX, &existed),
				 0);
		ck_assert(!existed);
		ck_assert_int_eq(netlink_unreachable_add(&fx.nl, family, TABLE,
							 UINT32_MAX, &existed),
				 0);
		ck_assert(existed);
		ck_assert(table_in_use(TABLE));
		ck_assert_int_eq(netlink_unreachable_del(&fx.nl, family, TABLE,
							 UINT32_MAX), 0);
		ck_assert_int_eq(netlink_unreachable_del(&fx.nl, family, TABLE,
							 UINT32_MAX), -ENOENT);
	}
	/* The device's default route was not touched. */
	ck_assert_int_eq(netlink_route_del(&fx.nl, fx.ifindex, AF_INET, any, 0,
					   TABLE), 0);
	ck_assert(!table_in_use(TABLE));
}
END_TEST

/* A route with an mtu metric, written through libnl: an independent
 * writer for the reader under test. */
static void libnl_route_with_mtu(const char *dst, int plen, unsigned mtu)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *a = NULL;

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(nh);
	ck_assert_int_eq(nl_addr_parse(dst, AF_INET, &a), 0);
	nl_addr_set_prefixlen(a, plen);
	ck_assert_int_eq(rtnl_route_set_dst(r, a), 0);
	rtnl_route_set_family(r, AF_INET);
	rtnl_route_set_scope(r, RT_SCOPE_LINK);
	rtnl_route_nh_set_ifindex(nh, fx.ifindex);
	rtnl_route_add_nexthop(r, nh);
	ck_assert_int_eq(rtnl_route_set_metric(r, RTAX_MTU, mtu), 0);
	ck_assert_int_eq(rtnl_route_add(fx.sk, r, NLM_F_CREATE), 0);
	nl_addr_put(a);
	rtnl_route_put(r);
}

/* The path MTU: the route's mtu metric, else its device's; the default
 * route's likewise; nothing where there is no route. */
START_TEST(test_path_mtu)
{
	static const uint8_t any[4];
	uint8_t dst[4];
	unsigned int mtu = 0;

	link_up(fx.ifindex);
	ck_assert_int_eq(netlink_link_set_mtu(&fx.nl, fx.ifindex, 1400), 0);
	ck_assert_int_eq(netlink_link_state(&fx.nl, fx.ifindex, &mtu, NULL), 0);
	ck_assert_uint_eq(mtu, 1400);
	inet_pton(AF_INET, "10.76.0.9", dst);
	ck_assert_int_eq(netlink_path_mtu(&fx.nl, AF_INET, dst, 0, &mtu),
			 -ENETUNREACH);
	ck_assert_int_eq(netlink_default_mtu(&fx.nl, AF_INET, &mtu), -ENOENT);
	ck_assert_int_eq(netlink_route_add(&fx.nl, fx.ifindex, AF_INET,
					   (const uint8_t[]){ 10, 76, 0, 0 },
					   16, RT_TABLE_MAIN, NULL), 0);
	ck_assert_int_eq(netlink_path_mtu(&fx.nl, AF_INET, dst, 0, &mtu), 0);
	ck_assert_uint_eq(mtu, 1400);
	libnl_route_with_mtu("10.76.0.0", 24, 1300);
	ck_assert_int_eq(netlink_path_mtu(&fx.nl, AF_INET, dst, FWMARK, &mtu),
			 0);
	ck_assert_uint_eq(mtu, 1300);
	ck_assert_int_eq(netlink_route_add(&fx.nl, fx.ifindex, AF_INET, any, 0,
					   RT_TABLE_MAIN, NULL), 0);
	ck_assert_int_eq(netlink_default_mtu(&fx.nl, AF_INET, &mtu), 0);
	ck_assert_uint_eq(mtu, 1400);
	ck_assert_int_eq(netlink_link_state(&fx.nl, NO_SUCH_IFINDEX, &mtu,
					    NULL), -ENODEV);
}
END_TEST

/* The same prefix in the same table through another device is the
 * kernel's -EEXIST, and not ours to call existing. */
START_TEST(test_route_clash)
{
	static const struct {
		const char *dst;
		uint8_t plen;
	} routes[] = { { "10.75.0.0", 16 }, { "fd00:75::", 32 } };
	struct tun_device tun2;
	int ifindex2;

	ck_assert_int_eq(tun_create(&tun2, TUN_NAME2, 1, 0), 0);
	ifindex2 = tun2.ifindex;

	link_up(fx.ifindex);
	link_up(ifindex2);
	for (int i = 0; i < 2; i++) {
		struct ip d = parse_ip(routes[i].dst);
		uint8_t plen = routes[i].plen;
		bool existed = true;

		ck_assert_int_eq(route_add(fx.ifindex, &d, plen, TABLE,
					   &existed), 0);
		ck_assert(!existed);
		existed = true;
		ck_assert_int_eq(route_add(ifindex2, &d, plen, TABLE,
					   &existed), -EEXIST);
		ck_assert(!existed);
		ck_assert_int_eq(kernel_routes(d.family, TABLE, ifindex2, &d,
					       plen), 0);
		/* Deleting through the wrong device leaves it alone. */
		ck_assert_int_eq(route_del(ifindex2, &d, plen, TABLE),
				 -ENOENT);
		ck_assert_int_eq(kernel_routes(d.family, TABLE, fx.ifindex,
					       &d, plen), 1);
	}
	tun_close(&tun2);
}
END_TEST

/* The routes in TABLE through the device of protocol 82 at metric. */
static int metric_routes(int family, uint32_t metric)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int n = 0;

	ck_assert_int_eq(rtnl_route_alloc_cache(fx.sk, family, 0, &cache), 0);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;

		n += route_in(r, family, TABLE, fx.ifindex) &&
		     rtnl_route_get_protocol(r) == 82 &&
		     rtnl_route_get_priority(r) == metric;
	}
	nl_cache_free(cache);
	return n;
}

/* A route of protocol 82: two metrics are two routes, each deleted on
 * its own; the same route again is "existed"; a static route of that
 * prefix through the device is not taken for it. */
static void check_proto_route(const char *dst, uint8_t plen)
{
	struct ip d = parse_ip(dst);
	struct netlink_proto_route r = {
		.ifindex = fx.ifindex, .family = d.family, .dst = d.bytes,
		.prefixlen = plen, .table = TABLE, .protocol = 82,
		.metric = 100,
	};
	bool existed = true;

	ck_assert_int_eq(netlink_proto_route_add(&fx.nl, &r, &existed), 0);
	ck_assert(!existed);
	ck_assert_int_eq(netlink_proto_route_add(&fx.nl, &r, &existed), 0);
	ck_assert(existed);
	r.metric = 200;
	ck_assert_int_eq(netlink_proto_route_add(&fx.nl, &r, &existed), 0);
	ck_assert(!existed);
	ck_assert_int_eq(metric_routes(d.family, 100), 1);
	ck_assert_int_eq(metric_routes(d.family, 200), 1);
	r.metric = 100;
	ck_assert_int_eq(netlink_proto_route_del(&fx.nl, &r), 0);
	ck_assert_int_eq(netlink_proto_route_del(&fx.nl, &r), -ENOENT);
	ck_assert_int_eq(metric_routes(d.family, 100), 0);
	ck_assert_int_eq(metric_routes(d.family, 200), 1);
	r.metric = 200;
	ck_assert_int_eq(netlink_proto_route_del(&fx.nl, &r), 0);
	/* another program's static route where ours would go */
	r.metric = 0;
	ck_assert_int_eq(route_add(fx.ifindex, &d, plen, TABLE, NULL), 0);
	ck_assert_int_eq(netlink_proto_route_add(&fx.nl, &r, &existed),
			 -EEXIST);
	ck_assert_int_eq(netlink_proto_route_del(&fx.nl, &r), -ENOENT);
	ck_assert_int_eq(route_del(fx.ifindex, &d, plen, TABLE), 0);
}

START_TEST(test_proto_routes)
{
	link_up(fx.ifindex);
	check_proto_route("10.77.0.0", 16);
	check_proto_route("fd00:77::", 48);
	ck_assert(!table_in_use(TABLE));
}
END_TEST

/* ---- Rules ----------------------------------------------------------- */

static void rule_add(const struct netlink_rule *r, bool want_existed)
{
	bool existed = !want_existed;

	ck_assert_int_eq(netlink_rule_add(&fx.nl, r, &existed), 0);
	ck_assert(existed == want_existed);
}

static bool rule_exists(const struct netlink_rule *r)
{
	bool exists = false;

	ck_assert_int_eq(netlink_rule_exists(&fx.nl, r, &exists), 0);
	return exists;
}

/* wg-quick's full tunnel: "not fwmark M lookup T" and "lookup main
 * suppress_prefixlength 0". */
static void check_rules(int family, uint32_t priority)
{
	const struct netlink_rule fw = {
		.family = family, .priority = priority, .table = TABLE,
		.fwmark = FWMARK, .has_fwmark = true, .invert = true,
		.suppress_prefixlen = -1,
	};
	const struct netlink_rule sup = {
		.family = family, .priority = priority ? priority + 1 : 0,
		.table = RT_TABLE_MAIN, .suppress_prefixlen = 0,
	};
	struct netlink_rule plain = fw;
	int before = kernel_rules(family, NULL);

	plain.invert = false;
	ck_assert(!rule_exists(&fw));
	ck_assert(!rule_exists(&sup));
	ck_assert(!table_in_use(TABLE));

	rule_add(&fw, false);
	rule_add(&sup, false);
	ck_assert_int_eq(kernel_rules(family, &fw), 1);
	ck_assert_int_eq(kernel_rules(family, &sup), 1);
	ck_assert_int_eq(kernel_rules(family, NULL), before + 2);
	ck_assert(rule_exists(&fw));
	ck_assert(rule_exists(&sup));
	/* Only a rule points to the table: no route is in it. */
	ck_assert(table_in_use(TABLE));

	rule_add(&fw, true);
	rule_add(&sup, true);
	ck_assert_int_eq(kernel_rules(family, NULL), before + 2);

	/* Without the "not" it is another rule. */
	ck_assert(!rule_exists(&plain));
	ck_assert_int_eq(netlink_rule_del(&fx.nl, &plain), -ENOENT);
	ck_assert_int_eq(kernel_rules(family, NULL), before + 2);

	ck_assert_int_eq(netlink_rule_del(&fx.nl, &fw), 0);
	ck_assert_int_eq(kernel_rules(family, &fw), 0);
	ck_assert_int_eq(kernel_rules(family, &sup), 1);
	ck_assert(!table_in_use(TABLE));
	ck_assert_int_eq(netlink_rule_del(&fx.nl, &sup), 0);
	ck_assert_int_eq(kernel_rules(family, NULL), before);
	ck_assert(!rule_exists(&fw));
	ck_assert_int_eq(netlink_rule_del(&fx.nl, &fw), -ENOENT);
	ck_assert_int_eq(netlink_rule_del(&fx.nl, &sup), -ENOENT);
}

START_TEST(test_rules)
{
	check_rules(AF_INET, 0);
	check_rules(AF_INET6, 0);
	check_rules(AF_INET, 100);
	check_rules(AF_INET6, 100);
}
END_TEST

/* "not fwmark M" and "fwmark M": the kernel ignores the "not" when it
 * compares rules, so at one priority the second is -EEXIST (deleting
 * either could otherwise remove the other); at two priorities both live
 * and each is deleted on its own. */
START_TEST(test_rules_invert_pair)
{
	struct netlink_rule inv = {
		.family = AF_INET, .priority = 300, .table = TABLE,
		.fwmark = FWMARK, .has_fwmark = true, .invert = true,
		.suppress_prefixlen = -1,
	};
	struct netlink_rule plain = inv;
	int before = kernel_rules(AF_INET, NULL);
	bool existed = true;

	plain.invert = false;
	rule_add(&inv, false);
	ck_assert_int_eq(netlink_rule_add(&fx.nl, &plain, &existed), -EEXIST);
	ck_assert(!existed);
	ck_assert_int_eq(kernel_rules(AF_INET, &plain), 0);

	plain.priority = 301;
	rule_add(&plain, false);
	rule_add(&plain, true);
	rule_add(&inv, true);
	ck_assert_int_eq(kernel_rules(AF_INET, NULL), before + 2);
	ck_assert_int_eq(kernel_rules(AF_INET, &inv), 1);
	ck_assert_int_eq(kernel_rules(AF_INET, &plain), 1);
	ck_assert_int_eq(netlink_rule_del(&fx.nl, &plain), 0);
	ck_assert_int_eq(kernel_rules(AF_INET, &inv), 1);
	ck_assert_int_eq(kernel_rules(AF_INET, &plain), 0);
	ck_assert_int_eq(netlink_rule_del(&fx.nl, &inv), 0);
	ck_assert_int_eq(kernel_rules(AF_INET, NULL), before);
}
END_TEST

/* ---- Errors ---------------------------------------------------------- */

START_TEST(test_errors_no_device)
{
	struct ip a4 = parse_ip("10.71.0.1"), a6 = parse_ip("fd00:71::1");
	struct ip n4 = parse_ip("10.72.0.0");
	bool b;

	ck_assert_int_eq(netlink_link_set_mtu(&fx.nl, NO_SUCH_IFINDEX, 1420),
			 -ENODEV);
	ck_assert_int_eq(netlink_link_set_up(&fx.nl, NO_SUCH_IFINDEX, true),
			 -ENODEV);
	ck_assert_int_eq(netlink_link_delete(&fx.nl, NO_SUCH_IFINDEX), -ENODEV);
	ck_assert_int_eq(addr_add(NO_SUCH_IFINDEX, &a4, 24, false, &b),
			 -ENODEV);
	ck_assert_int_eq(addr_add(NO_SUCH_IFINDEX, &a6, 64, false, &b),
			 -ENODEV);
	ck_assert_int_eq(addr_del(NO_SUCH_IFINDEX, &a4, 24), -ENODEV);
	ck_assert_int_eq(addr_del(NO_SUCH_IFINDEX, &a6, 64), -ENODEV);
	ck_assert_int_eq(route_add(NO_SUCH_IFINDEX, &n4, 16, TABLE, &b),
			 -ENODEV);
	ck_assert_int_eq(route_add(NO_SUCH_IFINDEX, &a6, 128, TABLE, &b),
			 -ENODEV);
	ck_assert_int_eq(addr_add(0, &a4, 24, false, &b), -ENODEV);
	ck_assert_int_eq(route_add(-1, &n4, 16, TABLE, &b), -ENODEV);
}
END_TEST

START_TEST(test_errors_invalid)
{
	struct ip a4 = parse_ip("10.71.0.1"), a6 = parse_ip("fd00:71::1");
	struct ip n4 = parse_ip("10.72.0.0"), h6 = parse_ip("fd00:72::1");
	struct ip bad = a4;
	bool b;

	/* Caught before the kernel sees them: it would have answered
	 * -ENODEV first. */
	ck_assert_int_eq(addr_add(NO_SUCH_IFINDEX, &a4, 33, false, &b),
			 -EINVAL);
	ck_assert_int_eq(addr_add(NO_SUCH_IFINDEX, &a6, 129, true, &b),
			 -EINVAL);
	ck_assert_int_eq(addr_del(NO_SUCH_IFINDEX, &a4, 255), -EINVAL);
	ck_assert_int_eq(route_add(NO_SUCH_IFINDEX, &n4, 33, TABLE, &b),
			 -EINVAL);
	ck_assert_int_eq(route_del(NO_SUCH_IFINDEX, &a6, 200, TABLE),
			 -EINVAL);
	/* Host bits past the prefix (IPv6 would clear them silently), and
	 * table 0. */
	link_up(fx.ifindex);
	ck_assert_int_eq(route_add(fx.ifindex, &a4, 16, TABLE, &b), -EINVAL);
	ck_assert_int_eq(route_add(fx.ifindex, &h6, 64, TABLE, &b), -EINVAL);
	ck_assert_int_eq(route_add(fx.ifindex, &n4, 16, 0, &b), -EINVAL);
	ck_assert_int_eq(netlink_table_in_use(&fx.nl, 0, &b), -EINVAL);
	ck_assert_int_eq(kernel_routes(AF_INET6, TABLE, fx.ifindex, NULL, -1),
			 0);
	/* Families. */
	bad.family = AF_PACKET;
	ck_assert_int_eq(addr_add(fx.ifindex, &bad, 24, false, &b),
			 -EAFNOSUPPORT);
	bad.family = AF_UNSPEC;
	ck_assert_int_eq(route_add(fx.ifindex, &bad, 24, TABLE, &b),
			 -EAFNOSUPPORT);
}
END_TEST

START_TEST(test_errors_rules)
{
	struct netlink_rule r = {
		.family = AF_INET, .table = TABLE, .suppress_prefixlen = -1,
	};
	int before = kernel_rules(AF_INET, NULL);
	bool b = true;

	r.suppress_prefixlen = 33;
	ck_assert_int_eq(netlink_rule_add(&fx.nl, &r, &b), -EINVAL);
	ck_assert(!b);
	r.suppress_prefixlen = -2;
	ck_assert_int_eq(netlink_rule_add(&fx.nl, &r, &b), -EINVAL);
	r.suppress_prefixlen = -1;
	r.has_fwmark = true;	/* with fwmark 0 */
	ck_assert_int_eq(netlink_rule_add(&fx.nl, &r, &b), -EINVAL);
	r.has_fwmark = false;
	r.table = 0;
	ck_assert_int_eq(netlink_rule_exists(&fx.nl, &r, &b), -EINVAL);
	r.table = TABLE;
	r.family = AF_UNSPEC;
	ck_assert_int_eq(netlink_rule_del(&fx.nl, &r), -EAFNOSUPPORT);
	ck_assert_int_eq(kernel_rules(AF_INET, NULL), before);
	r.family = AF_INET6;
	ck_assert_int_eq(netlink_rule_del(&fx.nl, &r), -ENOENT);
}
END_TEST

START_TEST(test_errors_absent)
{
	struct ip a4 = parse_ip("10.71.0.1"), a6 = parse_ip("fd00:71::1");
	struct ip n4 = parse_ip("10.72.0.0");
	struct netlink closed = { 0 };

	link_up(fx.ifindex);
	ck_assert_int_eq(addr_del(fx.ifindex, &a4, 24), -ENOENT);
	ck_assert_int_eq(addr_del(fx.ifindex, &a6, 64), -ENOENT);
	ck_assert_int_eq(route_del(fx.ifindex, &n4, 16, RT_TABLE_MAIN),
			 -ENOENT);
	ck_assert_int_eq(route_del(fx.ifindex, &n4, 16, TABLE), -ENOENT);
	ck_assert_int_eq(route_del(fx.ifindex, &a6, 128, TABLE), -ENOENT);
	/* A context that is not open. */
	ck_assert_int_eq(netlink_link_set_up(&closed, fx.ifindex, true),
			 -EBADF);
	netlink_close(&closed);
}
END_TEST

/* ---- Dumps longer than one recv() ------------------------------------ */

static struct ip nth_ip(int family, uint32_t i)
{
	struct ip a = { .family = family };
	uint32_t be;

	if (family == AF_INET) {
		be = htonl(0x0ac80000u + i);	/* 10.200.0.0 + i */
		memcpy(a.bytes, &be, 4);
	} else {
		a.bytes[0] = 0xfd;		/* fd20::i */
		a.bytes[1] = 0x20;
		be = htonl(i);
		memcpy(a.bytes + 12, &be, 4);
	}
	return a;
}

/* A dumped route is 60 to 100 bytes and a rule about 80, against a
 * 32 KiB receive buffer: these dumps take several recv() calls, and the
 * entries sought are spread over all of them. */
enum { NROUTES = 2000, NRULES = 800 };

static void add_many_routes(int family)
{
	static const uint32_t probes[] = { 0, NROUTES / 2, NROUTES - 1 };
	bool existed;

	for (uint32_t i = 0; i < NROUTES; i++) {
		struct ip d = nth_ip(family, i);

		ck_assert_int_eq(route_add(fx.ifindex, &d, ip_len(&d) * 8,
					   TABLE, &existed), 0);
		ck_assert(!existed);
	}
	ck_assert_int_eq(kernel_routes(family, TABLE, fx.ifindex, NULL, -1),
			 NROUTES);
	for (int p = 0; p < 3; p++) {
		struct ip d = nth_ip(family, probes[p]);

		ck_assert_int_eq(route_add(fx.ifindex, &d, ip_len(&d) * 8,
					   TABLE, &existed), 0);
		ck_assert(existed);
	}
	ck_assert_int_eq(kernel_routes(family, TABLE, fx.ifindex, NULL, -1),
			 NROUTES);
}

static void del_many_routes(int family)
{
	for (uint32_t i = 0; i < NROUTES; i++) {
		struct ip d = nth_ip(family, i);

		ck_assert_int_eq(route_del(fx.ifindex, &d, ip_len(&d) * 8,
					   TABLE), 0);
	}
	ck_assert_int_eq(kernel_routes(family, TABLE, fx.ifindex, NULL, -1),
			 0);
}

START_TEST(test_long_route_dumps)
{
	link_up(fx.ifindex);
	add_many_routes(AF_INET);
	add_many_routes(AF_INET6);
	ck_assert(table_in_use(TABLE));
	del_many_routes(AF_INET);
	ck_assert(table_in_use(TABLE));
	del_many_routes(AF_INET6);
	ck_assert(!table_in_use(TABLE));
}
END_TEST

START_TEST(test_long_rule_dumps)
{
	struct netlink_rule r = {
		.family = AF_INET, .table = TABLE, .has_fwmark = true,
		.suppress_prefixlen = -1,
	};
	int before = kernel_rules(AF_INET, NULL);

	for (uint32_t i = 1; i <= NRULES; i++) {
		r.fwmark = i;
		r.priority = 1000 + i;
		rule_add(&r, false);
	}
	ck_assert_int_eq(kernel_rules(AF_INET, NULL), before + NRULES);
	/* Priority 0 matches any: found by the dump alone. */
	r.priority = 0;
	for (uint32_t i = 1; i <= NRULES; i += NRULES / 4 - 1) {
		r.fwmark = i;
		ck_assert(rule_exists(&r));
		rule_add(&r, true);
	}
	ck_assert_int_eq(kernel_rules(AF_INET, NULL), before + NRULES);
	for (uint32_t i = 1; i <= NRULES; i++) {
		r.fwmark = i;
		ck_assert_int_eq(netlink_rule_del(&fx.nl, &r), 0);
	}
	ck_assert_int_eq(kernel_rules(AF_INET, NULL), before);
}
END_TEST

static Suite *netlink_suite(void)
{
	Suite *s = suite_create("netlink");
	TCase *tc = tcase_create("rtnetlink");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_link);
	tcase_add_test(tc, test_link_delete);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_address_clash);
	tcase_add_test(tc, test_routes);
	tcase_add_test(tc, test_route_clash);
	tcase_add_test(tc, test_proto_routes);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_path_mtu);
	tcase_add_test(tc, test_rules);
	tcase_add_test(tc, test_rules_invert_pair);
	tcase_add_test(tc, test_errors_no_device);
	tcase_add_test(tc, test_errors_invalid);
	tcase_add_test(tc, test_errors_rules);
	tcase_add_test(tc, test_errors_absent);
	tcase_add_test(tc, test_long_route_dumps);
	tcase_add_test(tc, test_long_rule_dumps);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!netns_test_possible())
		return 77;
	return run_suite(netlink_suite());
}
