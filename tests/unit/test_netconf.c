/* Applying a config to a real interface and undoing it from the journal:
 * addresses and routes, wg-quick's full tunnel (policy rules, a table of
 * its own, src_valid_mark), a host without IPv6, DNS through a fake
 * resolvconf, and 10000 routes against the clock. Each test runs in a
 * fresh network namespace with its own TUN device and a journal directory
 * of its own, and reads the kernel's state back through libnl-route-3,
 * never through netlink/. Crashes are simulated by a child that applies a
 * config and is killed with SIGKILL. Needs root and exits 77 (skipped)
 * without it or without network namespaces. */
#include "src/netconf/netconf.h"
#include "crypto/keys.h"
#include "netlink/rtnl.h"
#include "src/config.h"
#include "tests/unit/check_main.h"
#include "tests/unit/netns_test.h"
#include "tun/tun.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#define TUN_NAME "rvnc0"
#define TUN_OTHER "rvnc1"
#define TABLE_ID 1234u
#define FULL_TABLE 51820u
#define SRC_VALID_MARK "/proc/sys/net/ipv4/conf/all/src_valid_mark"
#define DISABLE_IPV6 "/proc/sys/net/ipv6/conf/all/disable_ipv6"

/* RFC 7748 section 6.1 keys, and two more valid ones. */
#define PRIV "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define PEER1 "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define PEER2 "ERERERERERERERERERERERERERERERERERERERERERE="
#define IFACE "[Interface]\nPrivateKey = " PRIV "\n"

static const char full_conf[] =
	IFACE
	"Address = 10.40.0.1/24, fd00:40::1/64\n"
	"Address = 10.40.9.9/32\n"
	"MTU = 1380\n"
	"[Peer]\nPublicKey = " PEER1 "\n"
	"AllowedIPs = 10.41.0.0/16, 10.42.1.7/24, fd00:41::/48\n"
	"[Peer]\nPublicKey = " PEER2 "\n"
	"AllowedIPs = 10.43.0.1/32, fd00:42::5/128\n"
	/* The same prefix twice: one route, recorded once. */
	"AllowedIPs = 10.41.0.0/16\n";

/* full_conf's routes, masked. */
static const struct {
	const char *dst;
	int plen;
} full_routes[] = {
	{ "10.41.0.0", 16 }, { "10.42.1.0", 24 }, { "fd00:41::", 48 },
	{ "10.43.0.1", 32 }, { "fd00:42::5", 128 },
};

#define N_FULL_ROUTES (int)(sizeof(full_routes) / sizeof(full_routes[0]))

static struct {
	struct tun_device tun;
	int ifindex;
	struct netlink nl;
	struct nl_sock *sk;
	char dir[64];
	char journal[256];
	char err[512];
	struct netconf_options opt;
	const char *dns_prefix;	/* replaces the plan's when set */
	char bin[128];		/* the fake programs' directory */
	char record[192];	/* what it writes */
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

static void setup(void)
{
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_int_eq(tun_create(&fx.tun, TUN_NAME, 1, 0), 0);
	fx.ifindex = fx.tun.ifindex;
	ck_assert_int_eq(netlink_open(&fx.nl), 0);
	fx.sk = nl_socket_alloc();
	ck_assert_ptr_nonnull(fx.sk);
	ck_assert_int_eq(nl_connect(fx.sk, NETLINK_ROUTE), 0);
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/rvnc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx.dir));
	ck_assert_int_eq(setenv(NETCONF_RUNDIR_ENV, fx.dir, 1), 0);
	ck_assert_int_eq(netconf_journal_path(TUN_NAME, fx.journal,
					      sizeof(fx.journal)), 0);
	fx.opt.nodad = true;
	fx.err[0] = '\0';
	fx.dns_prefix = NULL;
	fx.bin[0] = '\0';
}

static void teardown(void)
{
	char path[256];

	unlink(fx.journal);
	if (fx.bin[0]) {
		snprintf(path, sizeof(path), "%s/resolvconf", fx.bin);
		unlink(path);
		snprintf(path, sizeof(path), "%s/resolvectl", fx.bin);
		unlink(path);
		rmdir(fx.bin);
		unlink(fx.record);
	}
	rmdir(fx.dir);
	nl_socket_free(fx.sk);
	netlink_close(&fx.nl);
	tun_close(&fx.tun);
}

/* ---- What the kernel says, through libnl ---------------------------- */

static bool libnl_addr_is(struct nl_addr *na, const struct ip *a)
{
	return na && nl_addr_get_len(na) == ip_len(a) &&
	       !memcmp(nl_addr_get_binary_addr(na), a->bytes, ip_len(a));
}

static struct rtnl_link *kernel_link(const char *name)
{
	struct rtnl_link *link = NULL;

	ck_assert_int_eq(rtnl_link_get_kernel(fx.sk, 0, name, &link), 0);
	return link;
}

static unsigned int kernel_mtu(const char *name)
{
	struct rtnl_link *link = kernel_link(name);
	unsigned int mtu = rtnl_link_get_mtu(link);

	rtnl_link_put(link);
	return mtu;
}

static bool kernel_up(const char *name)
{
	struct rtnl_link *link = kernel_link(name);
	bool up = rtnl_link_get_flags(link) & IFF_UP;

	rtnl_link_put(link);
	return up;
}

/* Addresses of the family on ifindex; with text, only text/plen. */
static int kernel_addrs(int family, int ifindex, const char *text, int plen)
{
	struct ip a = { 0 };
	struct nl_cache *cache;
	struct nl_object *o;
	int n = 0;

	if (text)
		a = parse_ip(text);
	ck_assert_int_eq(rtnl_addr_alloc_cache(fx.sk, &cache), 0);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)o;

		if (rtnl_addr_get_ifindex(ra) != ifindex ||
		    rtnl_addr_get_family(ra) != family)
			continue;
		if (text && (rtnl_addr_get_prefixlen(ra) != plen ||
			     !libnl_addr_is(rtnl_addr_get_local(ra), &a)))
			continue;
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

struct route_query {
	int family;
	int ifindex;		/* 0: any */
	int64_t table;		/* -1: any */
	int protocol;		/* -1: any */
	bool not_kernel;	/* leave out the kernel's own (RTPROT_KERNEL) */
	const char *dst;	/* NULL: any */
	int plen;
	int type;		/* RTN_UNSPEC (0): any */
	uint32_t priority;	/* 0: any */
};

static int kernel_routes(const struct route_query *q)
{
	struct nl_cache *cache;
	struct nl_object *o;
	struct ip d = { 0 };
	int n = 0;

	if (q->dst)
		d = parse_ip(q->dst);
	ck_assert_int_eq(rtnl_route_alloc_cache(fx.sk, q->family, 0, &cache),
			 0);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		int oif = rtnl_route_get_nnexthops(r) == 1 ?
			rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0)) :
			-1;

		if (rtnl_route_get_family(r) != q->family ||
		    (q->ifindex && oif != q->ifindex) ||
		    (q->table >= 0 && rtnl_route_get_table(r) != q->table) ||
		    (q->protocol >= 0 &&
		     rtnl_route_get_protocol(r) != q->protocol) ||
		    (q->not_kernel &&
		     rtnl_route_get_protocol(r) == RTPROT_KERNEL) ||
		    (q->dst && !route_dst_is(r, &d, q->plen)) ||
		    (q->type && rtnl_route_get_type(r) != q->type) ||
		    (q->priority && rtnl_route_get_priority(r) != q->priority))
			continue;
		n++;
	}
	nl_cache_free(cache);
	return n;
}

/* Our kind of route (static) to dst/plen through the TUN in table. */
static int our_route(const char *dst, int plen, uint32_t table)
{
	struct route_query q = {
		.family = strchr(dst, ':') ? AF_INET6 : AF_INET,
		.ifindex = fx.ifindex, .table = table,
		.protocol = RTPROT_STATIC, .dst = dst, .plen = plen,
	};

	return kernel_routes(&q);
}

/* Static routes through the TUN, in any table. */
static int our_routes(int family)
{
	struct route_query q = {
		.family = family, .ifindex = fx.ifindex, .table = -1,
		.protocol = RTPROT_STATIC,
	};

	return kernel_routes(&q);
}

/* libnl 3.7's rtnl_rule has no accessors for FIB_RULE_INVERT and
 * suppress_prefixlength: those two are read from a raw RTM_GETRULE dump,
 * still sent and parsed by libnl, and the rtnl_rule cache must agree on
 * the fields it does expose. */
struct krule {
	int family;
	uint32_t priority, table, mark, mask;
	bool invert;
	int suppress;		/* -1: none */
};

#define MAX_KRULES 32

struct krules {
	struct krule v[MAX_KRULES];
	int n;
};

static uint32_t nla_u32_or(struct nlattr *a, uint32_t absent)
{
	return a ? nla_get_u32(a) : absent;
}

static int krule_cb(struct nl_msg *msg, void *arg)
{
	struct krules *kr = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct fib_rule_hdr *frh = nlmsg_data(nlh);
	struct nlattr *tb[FRA_MAX + 1];

	if (nlh->nlmsg_type != RTM_NEWRULE || frh->action != FR_ACT_TO_TBL)
		return NL_SKIP;
	ck_assert_int_lt(kr->n, MAX_KRULES);
	ck_assert_int_eq(nlmsg_parse(nlh, sizeof(*frh), tb, FRA_MAX, NULL), 0);
	kr->v[kr->n++] = (struct krule){
		.family = frh->family,
		.priority = nla_u32_or(tb[FRA_PRIORITY], 0),
		.table = nla_u32_or(tb[FRA_TABLE], frh->table),
		.mark = nla_u32_or(tb[FRA_FWMARK], 0),
		.mask = nla_u32_or(tb[FRA_FWMASK], 0),
		.invert = frh->flags & FIB_RULE_INVERT,
		.suppress = (int32_t)nla_u32_or(tb[FRA_SUPPRESS_PREFIXLEN],
						UINT32_MAX),
	};
	return NL_OK;
}

static void krules_dump(int family, struct krules *kr)
{
	struct fib_rule_hdr frh = { .family = (uint8_t)family };
	struct nl_sock *sk = nl_socket_alloc();

	kr->n = 0;
	ck_assert_ptr_nonnull(sk);
	ck_assert_int_eq(nl_connect(sk, NETLINK_ROUTE), 0);
	ck_assert_int_eq(nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM,
					     krule_cb, kr), 0);
	ck_assert_int_ge(nl_send_simple(sk, RTM_GETRULE, NLM_F_DUMP, &frh,
					sizeof(frh)), 0);
	ck_assert_int_ge(nl_recvmsgs_default(sk), 0);
	nl_socket_free(sk);
}

/* Rules of the family in libnl's rtnl_rule cache; with table, only those
 * looking up table with that mark (0: none). */
static int libnl_rules(int family, uint32_t table, uint32_t mark)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int n = 0;

	ck_assert_int_eq(rtnl_rule_alloc_cache(fx.sk, family, &cache), 0);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_rule *k = (struct rtnl_rule *)o;

		if (rtnl_rule_get_family(k) != family)
			continue;
		if (table && (rtnl_rule_get_table(k) != table ||
			      rtnl_rule_get_mark(k) != mark ||
			      (mark && rtnl_rule_get_mask(k) != UINT32_MAX)))
			continue;
		n++;
	}
	nl_cache_free(cache);
	return n;
}

/* The rule "[not] [fwmark mark] lookup table [suppress_prefixlength
 * suppress]": how many, and the lowest priority among them. */
static int kernel_rule(int family, uint32_t table, uint32_t mark,
		       bool invert, int suppress, uint32_t *priority)
{
	struct krules kr;
	int n = 0;

	krules_dump(family, &kr);
	for (int i = 0; i < kr.n; i++) {
		const struct krule *k = &kr.v[i];

		if (k->family != family || k->table != table ||
		    k->mark != mark || (mark && k->mask != UINT32_MAX) ||
		    k->invert != invert || k->suppress != suppress)
			continue;
		if (priority && (!n || k->priority < *priority))
			*priority = k->priority;
		n++;
	}
	ck_assert_int_ge(libnl_rules(family, table, mark), n);
	return n;
}

static uint32_t read_sysctl(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned int v = 99;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%u", &v), 1);
	fclose(f);
	return v;
}

static void write_sysctl(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(value, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* Everything netconf could have touched, to compare before and after.
 * The routes the kernel makes for addresses are left out: those come and
 * go with the addresses, and IPv6 adds some for a link-local address
 * asynchronously, when its duplicate address detection ends. */
struct snapshot {
	unsigned int mtu;
	bool up;
	int addrs4, addrs6;
	int routes4, routes6;	/* every table, any device */
	int rules4, rules6;
	uint32_t src_valid_mark;
};

static struct snapshot snapshot(void)
{
	struct route_query q4 = { .family = AF_INET, .table = -1,
				  .protocol = -1, .not_kernel = true };
	struct route_query q6 = q4;

	q6.family = AF_INET6;
	return (struct snapshot){
		.mtu = kernel_mtu(TUN_NAME),
		.up = kernel_up(TUN_NAME),
		.addrs4 = kernel_addrs(AF_INET, fx.ifindex, NULL, 0),
		.addrs6 = kernel_addrs(AF_INET6, fx.ifindex, NULL, 0),
		.routes4 = kernel_routes(&q4),
		.routes6 = kernel_routes(&q6),
		.rules4 = libnl_rules(AF_INET, 0, 0),
		.rules6 = libnl_rules(AF_INET6, 0, 0),
		.src_valid_mark = read_sysctl(SRC_VALID_MARK),
	};
}

static void snapshot_eq(const struct snapshot *a, const struct snapshot *b)
{
	ck_assert_uint_eq(a->mtu, b->mtu);
	ck_assert_int_eq(a->up, b->up);
	ck_assert_int_eq(a->addrs4, b->addrs4);
	ck_assert_int_eq(a->addrs6, b->addrs6);
	ck_assert_int_eq(a->routes4, b->routes4);
	ck_assert_int_eq(a->routes6, b->routes6);
	ck_assert_int_eq(a->rules4, b->rules4);
	ck_assert_int_eq(a->rules6, b->rules6);
	ck_assert_uint_eq(a->src_valid_mark, b->src_valid_mark);
}

/* The state now is the state in *before. */
static void check_unchanged(const struct snapshot *before)
{
	struct snapshot now = snapshot();

	snapshot_eq(before, &now);
}

/* ---- Configs, the module, the journal -------------------------------- */

static void parse_config(struct config *c, const char *text)
{
	char err[256] = "";

	ck_assert_msg(!config_parse(c, "test.conf", text, strlen(text), err,
				    sizeof(err)), "%s", err);
}

/* Plans and applies text as the daemon does, through nl; the plan into
 * *out (its cfg pointer then dangles) when out is not NULL. */
static int plan_up(struct netlink *nl, const char *text,
		   struct netconf_plan *out, char *err, size_t err_len)
{
	struct netconf_plan plan;
	struct config c;
	int ret;

	parse_config(&c, text);
	ret = netconf_plan(nl, &c, &plan, err, err_len);
	if (!ret && fx.dns_prefix)
		snprintf(plan.dns_prefix, sizeof(plan.dns_prefix), "%s",
			 fx.dns_prefix);
	if (!ret)
		ret = netconf_up(nl, TUN_NAME, fx.ifindex, &plan, fx.journal,
				 &fx.opt, err, err_len);
	if (out)
		*out = plan;
	config_free(&c);
	return ret;
}

static int up_text(const char *text)
{
	return plan_up(&fx.nl, text, NULL, fx.err, sizeof(fx.err));
}

static struct netconf_plan up_plan_ok(const char *text)
{
	struct netconf_plan plan;
	int ret = plan_up(&fx.nl, text, &plan, fx.err, sizeof(fx.err));

	ck_assert_msg(ret == 0, "netconf_up: %d %s", ret, fx.err);
	return plan;
}

static void up_ok(const char *text)
{
	int ret = up_text(text);

	ck_assert_msg(ret == 0, "netconf_up: %d %s", ret, fx.err);
}

static void down_ok(void)
{
	int ret = netconf_down(&fx.nl, fx.journal, fx.err, sizeof(fx.err));

	ck_assert_msg(ret == 0, "netconf_down: %d %s", ret, fx.err);
	ck_assert_int_ne(access(fx.journal, F_OK), 0);
}

static bool journal_exists(void)
{
	return access(fx.journal, F_OK) == 0;
}

/* The journal's text (NUL-terminated; caller frees). */
static char *journal_text(void)
{
	FILE *f = fopen(fx.journal, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int count_lines(const char *text, const char *prefix)
{
	size_t len = strlen(prefix);
	int n = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');

		n += !strncmp(p, prefix, len);
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

static void write_journal(const char *text)
{
	FILE *f = fopen(fx.journal, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- Applying and undoing -------------------------------------------- */

static void check_full_applied(uint32_t table)
{
	ck_assert_uint_eq(kernel_mtu(TUN_NAME), 1380);
	ck_assert(kernel_up(TUN_NAME));
	ck_assert_int_eq(kernel_addrs(AF_INET, fx.ifindex, "10.40.0.1", 24), 1);
	ck_assert_int_eq(kernel_addrs(AF_INET, fx.ifindex, "10.40.9.9", 32), 1);
	ck_assert_int_eq(kernel_addrs(AF_INET6, fx.ifindex, "fd00:40::1", 64),
			 1);
	ck_assert_int_eq(kernel_addrs(AF_INET, fx.ifindex, NULL, 0), 2);
	for (int i = 0; i < N_FULL_ROUTES; i++)
		ck_assert_msg(our_route(full_routes[i].dst, full_routes[i].plen,
					table) == 1, "no route to %s/%d",
			      full_routes[i].dst, full_routes[i].plen);
	ck_assert_int_eq(our_routes(AF_INET), 3);
	ck_assert_int_eq(our_routes(AF_INET6), 2);
}

START_TEST(test_full)
{
	struct snapshot before = snapshot(), after;
	char *text, line[128];

	ck_assert_uint_ne(before.mtu, 1380);
	ck_assert(!before.up);
	up_ok(full_conf);
	check_full_applied(RT_TABLE_MAIN);

	/* One line per change, nothing for the duplicate route. */
	text = journal_text();
	ck_assert_int_eq(count_lines(text, "ringvpn-journal 1\n"), 1);
	ck_assert_int_eq(count_lines(text, "mtu " TUN_NAME " "), 1);
	ck_assert_int_eq(count_lines(text, "addr " TUN_NAME " "), 3);
	ck_assert_int_eq(count_lines(text, "up " TUN_NAME " "), 1);
	ck_assert_int_eq(count_lines(text, "route " TUN_NAME " "), 5);
	snprintf(line, sizeof(line), "\nroute %s %d inet 10.42.1.0/24 254\n",
		 TUN_NAME, fx.ifindex);
	ck_assert_ptr_nonnull(strstr(text, line));
	free(text);

	/* A second up with the journal there: refused, nothing touched. */
	after = snapshot();
	ck_assert_int_eq(up_text(full_conf), -EEXIST);
	ck_assert_ptr_nonnull(strstr(fx.err, "exists"));
	check_unchanged(&after);

	down_ok();
	after = snapshot();
	snapshot_eq(&before, &after);
	ck_assert_int_eq(our_routes(AF_INET) + our_routes(AF_INET6), 0);
	/* No journal: nothing to do. */
	down_ok();

	/* And the whole round again. */
	up_ok(full_conf);
	check_full_applied(RT_TABLE_MAIN);
	down_ok();
	check_unchanged(&before);
}
END_TEST

START_TEST(test_table_off)
{
	struct snapshot before = snapshot();

	/* With duplicate address detection, as `ringvpn up' does it. */
	fx.opt.nodad = false;
	up_ok(IFACE "Address = 10.40.0.1/24, fd00:40::1/64\nTable = off\n"
	      "[Peer]\nPublicKey = " PEER1 "\n"
	      "AllowedIPs = 10.41.0.0/16, fd00:41::/48, 0.0.0.0/0\n");
	/* No MTU in the config: the default. */
	ck_assert_uint_eq(kernel_mtu(TUN_NAME),
			  NETCONF_FALLBACK_PATH_MTU - NETCONF_MTU_OVERHEAD);
	ck_assert(kernel_up(TUN_NAME));
	ck_assert_int_eq(kernel_addrs(AF_INET, fx.ifindex, "10.40.0.1", 24), 1);
	ck_assert_int_eq(kernel_addrs(AF_INET6, fx.ifindex, "fd00:40::1", 64),
			 1);
	ck_assert_int_eq(our_routes(AF_INET), 0);
	ck_assert_int_eq(our_routes(AF_INET6), 0);
	down_ok();
	check_unchanged(&before);
}
END_TEST

START_TEST(test_table_id)
{
	struct snapshot before = snapshot();
	struct route_query in_table = { .family = AF_INET, .table = TABLE_ID,
					.protocol = -1 };

	up_ok(IFACE "Address = 10.40.0.1/24, fd00:40::1/64, 10.40.9.9/32\n"
	      "MTU = 1380\nTable = 1234\n"
	      "[Peer]\nPublicKey = " PEER1 "\n"
	      "AllowedIPs = 10.41.0.0/16, 10.42.1.7/24, fd00:41::/48\n"
	      "[Peer]\nPublicKey = " PEER2 "\n"
	      "AllowedIPs = 10.43.0.1/32, fd00:42::5/128\n");
	check_full_applied(TABLE_ID);
	ck_assert_int_eq(our_route("10.41.0.0", 16, RT_TABLE_MAIN), 0);
	ck_assert_int_eq(kernel_routes(&in_table), 3);
	down_ok();
	ck_assert_int_eq(kernel_routes(&in_table), 0);
	in_table.family = AF_INET6;
	ck_assert_int_eq(kernel_routes(&in_table), 0);
	check_unchanged(&before);
}
END_TEST

/* SessionTable's routes (as the daemon adds them) in table 4242. */
static int session_routes(int family)
{
	struct route_query q = {
		.family = family, .ifindex = fx.ifindex, .table = 4242,
		.protocol = NETCONF_SESSION_PROTOCOL,
	};

	return kernel_routes(&q);
}

static void add_session_route(const char *dst, int plen)
{
	struct ip a = parse_ip(dst);
	const struct netlink_proto_route r = {
		.ifindex = fx.ifindex, .family = a.family, .dst = a.bytes,
		.prefixlen = (uint8_t)plen, .table = 4242,
		.protocol = NETCONF_SESSION_PROTOCOL,
	};

	ck_assert_int_eq(netlink_proto_route_add(&fx.nl, &r, NULL), 0);
}

/* ServiceAddress: host addresses without a route but the local one;
 * SessionTable: one journal line, and down removes the daemon's routes
 * that are left there (protocol 82 through the device), nothing else. */
START_TEST(test_service_and_sessions)
{
	struct snapshot before = snapshot();
	struct route_query svc = { .family = AF_INET, .table = -1,
				   .protocol = -1, .dst = "198.18.9.1",
				   .plen = 32 };
	struct route_query svc6 = { .family = AF_INET6, .table = -1,
				    .protocol = -1, .dst = "2001:db8:9::1",
				    .plen = 128 };
	char *text, line[128];

	up_ok(IFACE "Address = 10.40.0.1/24\n"
	      "ServiceAddress = 198.18.9.1, 2001:db8:9::1/128\n"
	      "SessionTable = 4242\n"
	      "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.41.0.0/16\n");
	ck_assert_int_eq(kernel_addrs(AF_INET, fx.ifindex, "198.18.9.1", 32),
			 1);
	ck_assert_int_eq(kernel_addrs(AF_INET6, fx.ifindex, "2001:db8:9::1",
				      128), 1);
	/* the local table's route for each, and no other */
	svc.table = svc6.table = RT_TABLE_LOCAL;
	ck_assert_int_eq(kernel_routes(&svc), 1);
	/* IPv6 adds it from a work queue, a moment after the address */
	for (int i = 0; i < 100 && !kernel_routes(&svc6); i++)
		usleep(10000);
	ck_assert_int_eq(kernel_routes(&svc6), 1);
	svc.table = svc6.table = RT_TABLE_MAIN;
	ck_assert_int_eq(kernel_routes(&svc), 0);
	ck_assert_int_eq(kernel_routes(&svc6), 0);
	/* the ordinary routes stay where Table says */
	ck_assert_int_eq(our_route("10.41.0.0", 16, RT_TABLE_MAIN), 1);
	ck_assert_int_eq(session_routes(AF_INET), 0);
	text = journal_text();
	snprintf(line, sizeof(line), "\nsessions %s %d 4242\n", TUN_NAME,
		 fx.ifindex);
	ck_assert_ptr_nonnull(strstr(text, line));
	snprintf(line, sizeof(line), "\naddr %s %d inet6 2001:db8:9::1/128\n",
		 TUN_NAME, fx.ifindex);
	ck_assert_ptr_nonnull(strstr(text, line));
	free(text);

	add_session_route("10.41.0.0", 16);
	add_session_route("fd00:41::", 48);
	/* not ours: another protocol in the same table */
	ck_assert_int_eq(netlink_route_add(&fx.nl, fx.ifindex, AF_INET,
					   parse_ip("10.50.0.0").bytes, 16,
					   4242, NULL), 0);
	ck_assert_int_eq(session_routes(AF_INET), 1);
	ck_assert_int_eq(session_routes(AF_INET6), 1);
	/* what the "sessions" entry's undo does, alone */
	ck_assert_int_eq(netlink_route_flush(&fx.nl, fx.ifindex, 4242,
					     NETCONF_SESSION_PROTOCOL), 0);
	ck_assert_int_eq(session_routes(AF_INET), 0);
	ck_assert_int_eq(session_routes(AF_INET6), 0);
	ck_assert_int_eq(our_route("10.50.0.0", 16, 4242), 1);
	ck_assert_int_eq(netlink_route_flush(&fx.nl, fx.ifindex, 4242,
					     NETCONF_SESSION_PROTOCOL), 0);
	ck_assert_int_eq(netlink_route_del(&fx.nl, fx.ifindex, AF_INET,
					   parse_ip("10.50.0.0").bytes, 16,
					   4242), 0);
	/* and as part of down */
	add_session_route("10.41.0.0", 16);
	add_session_route("fd00:41::", 48);
	down_ok();
	ck_assert_int_eq(session_routes(AF_INET), 0);
	ck_assert_int_eq(session_routes(AF_INET6), 0);
	ck_assert_int_eq(kernel_addrs(AF_INET, fx.ifindex, "198.18.9.1", 32),
			 0);
	ck_assert_int_eq(kernel_addrs(AF_INET6, fx.ifindex, "2001:db8:9::1",
				      128), 0);
	check_unchanged(&before);
}
END_TEST

/* A default route in a table of its own is fine: that is what a table
 * number is for. */
START_TEST(test_default_route_in_table)
{
	struct snapshot before = snapshot();

	up_ok(IFACE "Table = 51820\n[Peer]\nPublicKey = " PEER1 "\n"
	      "AllowedIPs = 0.0.0.0/0, ::/0\n");
	ck_assert_int_eq(our_route("0.0.0.0", 0, 51820), 1);
	ck_assert_int_eq(our_route("::", 0, 51820), 1);
	down_ok();
	check_unchanged(&before);
}
END_TEST

/* The second address fails (the kernel allows one prefix length per
 * IPv6 address): the first goes back, and nothing else was touched yet,
 * as addresses come first. */
START_TEST(test_failure_address)
{
	struct ip a = parse_ip("fd00:40::1");
	struct snapshot before;

	ck_assert_int_eq(netlink_addr_add(&fx.nl, fx.ifindex, AF_INET6,
					  a.bytes, 48, true, NULL), 0);
	before = snapshot();
	ck_assert_int_eq(up_text(IFACE "Address = 10.40.0.1/24, "
				 "fd00:40::1/64\nMTU = 1380\n"
				 "[Peer]\nPublicKey = " PEER1 "\n"
				 "AllowedIPs = 10.41.0.0/16\n"), -EEXIST);
	ck_assert_str_eq(fx.err, "cannot add address fd00:40::1/64 to "
			 TUN_NAME ": File exists");
	ck_assert(!journal_exists());
	check_unchanged(&before);
	ck_assert_int_eq(kernel_addrs(AF_INET6, fx.ifindex, "fd00:40::1", 48),
			 1);
	ck_assert_uint_ne(kernel_mtu(TUN_NAME), 1380);
}
END_TEST

/* The second route clashes with another device's: everything goes back,
 * the link down included, and the other device's route stays. */
START_TEST(test_failure_route)
{
	struct tun_device other;
	struct ip d = parse_ip("10.45.0.0");
	struct route_query theirs = {
		.family = AF_INET, .table = RT_TABLE_MAIN, .protocol = -1,
		.dst = "10.45.0.0", .plen = 16,
	};
	struct snapshot before;

	ck_assert_int_eq(tun_create(&other, TUN_OTHER, 1, 0), 0);
	ck_assert_int_eq(netlink_link_set_up(&fx.nl, other.ifindex, true), 0);
	ck_assert_int_eq(netlink_route_add(&fx.nl, other.ifindex, AF_INET,
					   d.bytes, 16, RT_TABLE_MAIN, NULL),
			 0);
	theirs.ifindex = other.ifindex;
	before = snapshot();
	ck_assert_int_eq(up_text(IFACE "Address = 10.40.0.1/24, "
				 "fd00:40::1/64\n"
				 "[Peer]\nPublicKey = " PEER1 "\n"
				 "AllowedIPs = 10.46.0.0/16, 10.45.0.0/16\n"),
			 -EEXIST);
	ck_assert_str_eq(fx.err, "cannot add route 10.45.0.0/16 to " TUN_NAME
			 " in table 254: File exists");
	ck_assert(!journal_exists());
	check_unchanged(&before);
	ck_assert_int_eq(kernel_routes(&theirs), 1);
	ck_assert(kernel_up(TUN_OTHER));
	tun_close(&other);
}
END_TEST

/* What was there before up is not ours: down leaves it. */
START_TEST(test_existing_kept)
{
	struct ip a = parse_ip("10.47.0.1"), d = parse_ip("10.47.0.0");
	struct snapshot before;
	char *text;

	ck_assert_int_eq(netlink_link_set_mtu(&fx.nl, fx.ifindex, 1380), 0);
	ck_assert_int_eq(netlink_link_set_up(&fx.nl, fx.ifindex, true), 0);
	ck_assert_int_eq(netlink_addr_add(&fx.nl, fx.ifindex, AF_INET, a.bytes,
					  24, false, NULL), 0);
	ck_assert_int_eq(netlink_route_add(&fx.nl, fx.ifindex, AF_INET,
					   d.bytes, 16, RT_TABLE_MAIN, NULL),
			 0);
	before = snapshot();
	up_ok(IFACE "Address = 10.47.0.1/24, 10.40.0.1/24\nMTU = 1380\n"
	      "[Peer]\nPublicKey = " PEER1 "\n"
	      "AllowedIPs = 10.47.0.0/16, 10.48.0.0/16\n");
	ck_assert_int_eq(our_route("10.48.0.0", 16, RT_TABLE_MAIN), 1);
	text = journal_text();
	ck_assert_int_eq(count_lines(text, "mtu "), 0);
	ck_assert_int_eq(count_lines(text, "up "), 0);
	ck_assert_int_eq(count_lines(text, "addr "), 1);
	ck_assert_int_eq(count_lines(text, "route "), 1);
	ck_assert_ptr_nonnull(strstr(text, " 10.40.0.1/24\n"));
	ck_assert_ptr_nonnull(strstr(text, " 10.48.0.0/16 254\n"));
	free(text);
	down_ok();
	check_unchanged(&before);
	ck_assert_int_eq(our_route("10.47.0.0", 16, RT_TABLE_MAIN), 1);
	ck_assert_int_eq(our_route("10.48.0.0", 16, RT_TABLE_MAIN), 0);
	ck_assert_int_eq(kernel_addrs(AF_INET, fx.ifindex, "10.47.0.1", 24), 1);
	ck_assert(kernel_up(TUN_NAME));
	ck_assert_uint_eq(kernel_mtu(TUN_NAME), 1380);
}
END_TEST

/* ---- The full tunnel --------------------------------------------------- */

static void crashed_up_text(const char *conf);

/* The crashed run's TUN went with it; a new one comes, as the next up
 * makes it. */
static void new_tun(void)
{
	tun_close(&fx.tun);
	ck_assert_int_eq(tun_create(&fx.tun, TUN_NAME, 1, 0), 0);
	fx.ifindex = fx.tun.ifindex;
}

static const char tunnel_conf[] =
	IFACE
	"Address = 10.40.0.1/24, fd00:40::1/64\n"
	"[Peer]\nPublicKey = " PEER1 "\n"
	"AllowedIPs = 0.0.0.0/0, ::/0\n"
	"[Peer]\nPublicKey = " PEER2 "\n"
	"AllowedIPs = 10.43.0.0/16, fd00:43::/48\n";

static const char *any_addr(int family)
{
	return family == AF_INET ? "0.0.0.0" : "::";
}

/* A full tunnel of the family with table and mark is there (or not):
 * "not fwmark mark lookup table", a "lookup main suppress_prefixlength
 * 0" looked at before it, and the default route in table. Never a
 * default route in the main table. */
static void check_full(int family, uint32_t table, uint32_t mark,
		       bool present)
{
	uint32_t prio_not = 0, prio_main = 0;
	int n_main = kernel_rule(family, RT_TABLE_MAIN, 0, false, 0,
				 &prio_main);

	ck_assert_int_eq(kernel_rule(family, table, mark, true, -1,
				     &prio_not), present);
	ck_assert_int_eq(our_route(any_addr(family), 0, table), present);
	ck_assert_int_eq(our_route(any_addr(family), 0, RT_TABLE_MAIN), 0);
	if (!present)
		return;
	ck_assert_int_ge(n_main, 1);
	ck_assert_uint_lt(prio_main, prio_not);
}

/* The journal names the "not fwmark" rule at the kernel's priority. */
static void check_rule_line(int family, uint32_t table)
{
	uint32_t prio = 0;
	char line[128], *text;

	ck_assert_int_eq(kernel_rule(family, table, table, true, -1, &prio), 1);
	snprintf(line, sizeof(line), "\nrule %s %d %s %u %u %u not -\n",
		 TUN_NAME, fx.ifindex, family == AF_INET ? "inet" : "inet6",
		 prio, table, table);
	text = journal_text();
	ck_assert_msg(strstr(text, line), "no `%s' in\n%s", line + 1, text);
	free(text);
}

START_TEST(test_full_tunnel)
{
	struct netconf_plan plan;
	struct snapshot before;
	char *text, line[128];

	write_sysctl(SRC_VALID_MARK, "0");
	before = snapshot();
	plan = up_plan_ok(tunnel_conf);
	ck_assert(plan.full[0] && plan.full[1]);
	ck_assert_uint_eq(plan.table, FULL_TABLE);
	ck_assert_uint_eq(plan.fwmark, FULL_TABLE);
	ck_assert_uint_eq(plan.n_warnings, 0);
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, true);
	check_full(AF_INET6, FULL_TABLE, FULL_TABLE, true);
	ck_assert_uint_eq(read_sysctl(SRC_VALID_MARK), 1);
	/* The other prefixes go to the main table, as without /0. */
	ck_assert_int_eq(our_route("10.43.0.0", 16, RT_TABLE_MAIN), 1);
	ck_assert_int_eq(our_route("fd00:43::", 48, RT_TABLE_MAIN), 1);
	ck_assert_int_eq(kernel_addrs(AF_INET6, fx.ifindex, "fd00:40::1", 64),
			 1);
	check_rule_line(AF_INET, FULL_TABLE);
	check_rule_line(AF_INET6, FULL_TABLE);
	text = journal_text();
	ck_assert_int_eq(count_lines(text, "rule " TUN_NAME " "), 4);
	snprintf(line, sizeof(line), "\nsysctl %s %d "
		 "net.ipv4.conf.all.src_valid_mark 0\n", TUN_NAME, fx.ifindex);
	ck_assert_ptr_nonnull(strstr(text, line));
	snprintf(line, sizeof(line), "\nroute %s %d inet6 ::/0 %u\n",
		 TUN_NAME, fx.ifindex, FULL_TABLE);
	ck_assert_ptr_nonnull(strstr(text, line));
	free(text);

	down_ok();
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, false);
	check_full(AF_INET6, FULL_TABLE, FULL_TABLE, false);
	check_unchanged(&before);
	ck_assert_uint_eq(read_sysctl(SRC_VALID_MARK), 0);

	/* The table is free again: the same one, all over. */
	plan = up_plan_ok(tunnel_conf);
	ck_assert_uint_eq(plan.table, FULL_TABLE);
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, true);
	down_ok();
	check_unchanged(&before);
}
END_TEST

/* kill -9 with the journal left, and the crashed run's TUN gone with it
 * (a new one in its place, as the next `up` makes): the rules and the
 * sysctl, which outlive any device, are undone all the same, and the
 * next up and down work. */
START_TEST(test_full_tunnel_crash)
{
	struct netconf_plan plan;
	struct snapshot before;

	write_sysctl(SRC_VALID_MARK, "0");
	before = snapshot();
	crashed_up_text(tunnel_conf);
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, true);
	check_full(AF_INET6, FULL_TABLE, FULL_TABLE, true);
	ck_assert_int_eq(up_text(tunnel_conf), -EEXIST);

	new_tun();
	down_ok();
	check_unchanged(&before);
	ck_assert_int_eq(kernel_rule(AF_INET, FULL_TABLE, FULL_TABLE, true, -1,
				     NULL), 0);
	ck_assert_int_eq(kernel_rule(AF_INET6, FULL_TABLE, FULL_TABLE, true,
				     -1, NULL), 0);

	plan = up_plan_ok(tunnel_conf);
	ck_assert_uint_eq(plan.table, FULL_TABLE);
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, true);
	check_full(AF_INET6, FULL_TABLE, FULL_TABLE, true);
	down_ok();
	check_unchanged(&before);
}
END_TEST

static const char kill_switch_conf[] =
	IFACE
	"Address = 10.40.0.1/24, fd00:40::1/64\n"
	"KillSwitch = on\n"
	"[Peer]\nPublicKey = " PEER1 "\n"
	"AllowedIPs = 0.0.0.0/0, ::/0\n";

/* The kill switch's route of family in table (any device, or none). */
static int unreachable_routes(int family, uint32_t table)
{
	struct route_query q = {
		.family = family, .table = table, .protocol = RTPROT_STATIC,
		.type = RTN_UNREACHABLE, .priority = UINT32_MAX,
	};

	return kernel_routes(&q);
}

static void check_kill_switch(bool present)
{
	ck_assert_int_eq(unreachable_routes(AF_INET, FULL_TABLE), present);
	ck_assert_int_eq(unreachable_routes(AF_INET6, FULL_TABLE), present);
}

/* up with KillSwitch: the unreachable routes behind the device's, in
 * the journal; down removes them with the rest. */
START_TEST(test_kill_switch)
{
	struct snapshot before;
	char *text;

	write_sysctl(SRC_VALID_MARK, "0");
	before = snapshot();
	up_ok(kill_switch_conf);
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, true);
	check_full(AF_INET6, FULL_TABLE, FULL_TABLE, true);
	check_kill_switch(true);
	text = journal_text();
	ck_assert_int_eq(count_lines(text, "unreachable " TUN_NAME " "), 2);
	free(text);
	down_ok();
	check_kill_switch(false);
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, false);
	check_unchanged(&before);
}
END_TEST

/* kill -9: the device and its routes go, the kill switch and the rules
 * stay. The next up's recovery keeps them (and only them) in the
 * journal, the plan takes their table, and up continues that journal:
 * no moment without the kill switch, and down still removes it all. */
START_TEST(test_kill_switch_crash)
{
	struct netconf_plan plan;
	struct snapshot before;
	struct config c;
	uint32_t kept = 0;
	char *text;

	write_sysctl(SRC_VALID_MARK, "0");
	before = snapshot();
	crashed_up_text(kill_switch_conf);
	new_tun();
	check_kill_switch(true);
	ck_assert_int_eq(kernel_rule(AF_INET, FULL_TABLE, FULL_TABLE, true, -1,
				     NULL), 1);

	parse_config(&c, kill_switch_conf);
	ck_assert_msg(!netconf_recover(&fx.nl, fx.journal, &c, &kept, fx.err,
				       sizeof(fx.err)), "%s", fx.err);
	ck_assert_uint_eq(kept, FULL_TABLE);
	check_kill_switch(true);
	ck_assert_int_eq(kernel_rule(AF_INET, FULL_TABLE, FULL_TABLE, true, -1,
				     NULL), 1);
	ck_assert_int_eq(kernel_rule(AF_INET6, FULL_TABLE, FULL_TABLE, true,
				     -1, NULL), 1);
	/* src_valid_mark was undone; the journal holds the rest only. */
	ck_assert_uint_eq(read_sysctl(SRC_VALID_MARK), 0);
	text = journal_text();
	ck_assert_int_eq(count_lines(text, "unreachable "), 2);
	ck_assert_int_eq(count_lines(text, "rule "), 4);
	ck_assert_int_eq(count_lines(text, "sysctl "), 0);
	ck_assert_int_eq(count_lines(text, "addr "), 0);
	free(text);

	/* Another table is free, but the plan takes the kept one again. */
	ck_assert_int_eq(netconf_plan_after(&fx.nl, &c, kept, &plan, fx.err,
					    sizeof(fx.err)), 0);
	ck_assert_uint_eq(plan.table, FULL_TABLE);
	ck_assert_uint_eq(plan.fwmark, FULL_TABLE);
	ck_assert_msg(!netconf_up(&fx.nl, TUN_NAME, fx.ifindex, &plan,
				  fx.journal, &fx.opt, fx.err,
				  sizeof(fx.err)), "%s", fx.err);
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, true);
	check_full(AF_INET6, FULL_TABLE, FULL_TABLE, true);
	check_kill_switch(true);
	text = journal_text();
	ck_assert_int_eq(count_lines(text, "unreachable "), 2);
	ck_assert_int_eq(count_lines(text, "rule "), 4);
	ck_assert_int_eq(count_lines(text, "sysctl "), 1);
	free(text);
	config_free(&c);
	down_ok();
	check_kill_switch(false);
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, false);
	check_full(AF_INET6, FULL_TABLE, FULL_TABLE, false);
	check_unchanged(&before);
}
END_TEST

/* The up after the recovery fails (a route another device has): its own
 * changes are undone, the kill switch stays, with the journal that
 * holds it, until down. */
START_TEST(test_kill_switch_crash_failed_up)
{
	static const char conf[] =
		IFACE
		"Address = 10.40.0.1/24, fd00:40::1/64\n"
		"KillSwitch = on\n"
		"[Peer]\nPublicKey = " PEER1 "\n"
		"AllowedIPs = 0.0.0.0/0, ::/0, 10.45.0.0/16\n";
	struct ip d = parse_ip("10.45.0.0");
	struct netconf_plan plan;
	struct tun_device other;
	struct snapshot before;
	struct config c;
	uint32_t kept = 0;
	char *text;

	write_sysctl(SRC_VALID_MARK, "0");
	before = snapshot();
	crashed_up_text(conf);
	new_tun();
	ck_assert_int_eq(tun_create(&other, TUN_OTHER, 1, 0), 0);
	ck_assert_int_eq(netlink_link_set_up(&fx.nl, other.ifindex, true), 0);
	ck_assert_int_eq(netlink_route_add(&fx.nl, other.ifindex, AF_INET,
					   d.bytes, 16, RT_TABLE_MAIN, NULL),
			 0);
	parse_config(&c, conf);
	ck_assert_int_eq(netconf_recover(&fx.nl, fx.journal, &c, &kept, fx.err,
					 sizeof(fx.err)), 0);
	ck_assert_int_eq(netconf_plan_after(&fx.nl, &c, kept, &plan, fx.err,
					    sizeof(fx.err)), 0);
	ck_assert_int_eq(netconf_up(&fx.nl, TUN_NAME, fx.ifindex, &plan,
				    fx.journal, &fx.opt, fx.err,
				    sizeof(fx.err)), -EEXIST);
	config_free(&c);
	ck_assert_str_eq(fx.err, "cannot add route 10.45.0.0/16 to " TUN_NAME
			 " in table 254: File exists; the kill switch stays "
			 "until `ringvpn down " TUN_NAME "'");
	check_kill_switch(true);
	ck_assert_int_eq(kernel_addrs(AF_INET, fx.ifindex, NULL, 0), 0);
	text = journal_text();
	ck_assert_int_eq(count_lines(text, "unreachable "), 2);
	ck_assert_int_eq(count_lines(text, "rule "), 4);
	ck_assert_int_eq(count_lines(text, "addr "), 0);
	free(text);
	down_ok();
	check_kill_switch(false);
	tun_close(&other);
	check_unchanged(&before);
}
END_TEST

/* The next run without KillSwitch: recovery undoes it all, as down. */
START_TEST(test_kill_switch_crash_not_kept)
{
	struct snapshot before;
	struct config c;
	uint32_t kept = 1;

	write_sysctl(SRC_VALID_MARK, "0");
	before = snapshot();
	crashed_up_text(kill_switch_conf);
	new_tun();
	parse_config(&c, tunnel_conf);
	ck_assert_msg(!netconf_recover(&fx.nl, fx.journal, &c, &kept, fx.err,
				       sizeof(fx.err)), "%s", fx.err);
	config_free(&c);
	ck_assert_uint_eq(kept, 0);
	ck_assert(!journal_exists());
	check_kill_switch(false);
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, false);
	check_unchanged(&before);
}
END_TEST

/* 51820 holds another device's route and 51821 is named by a rule: the
 * plan takes 51822. A suppressing rule already there, but after ours
 * would be, does not serve: ours goes before it and theirs stays. */
START_TEST(test_full_table_in_use)
{
	const struct netlink_rule lookup = {
		.family = AF_INET6, .table = FULL_TABLE + 1,
		.suppress_prefixlen = -1,
	};
	const struct netlink_rule main_late = {
		.family = AF_INET, .table = RT_TABLE_MAIN,
		.suppress_prefixlen = 0,
	};
	struct route_query in_table = { .family = AF_INET, .table = FULL_TABLE,
					.protocol = -1 };
	struct ip d = parse_ip("10.45.0.0");
	struct netconf_plan plan;
	struct tun_device other;
	struct snapshot before;
	char *text;

	ck_assert_int_eq(tun_create(&other, TUN_OTHER, 1, 0), 0);
	ck_assert_int_eq(netlink_link_set_up(&fx.nl, other.ifindex, true), 0);
	ck_assert_int_eq(netlink_route_add(&fx.nl, other.ifindex, AF_INET,
					   d.bytes, 16, FULL_TABLE, NULL), 0);
	ck_assert_int_eq(netlink_rule_add(&fx.nl, &lookup, NULL), 0);
	ck_assert_int_eq(netlink_rule_add(&fx.nl, &main_late, NULL), 0);
	before = snapshot();
	plan = up_plan_ok(tunnel_conf);
	ck_assert_uint_eq(plan.table, FULL_TABLE + 2);
	ck_assert_uint_eq(plan.fwmark, FULL_TABLE + 2);
	check_full(AF_INET, FULL_TABLE + 2, FULL_TABLE + 2, true);
	check_full(AF_INET6, FULL_TABLE + 2, FULL_TABLE + 2, true);
	ck_assert_int_eq(kernel_rule(AF_INET, RT_TABLE_MAIN, 0, false, 0,
				     NULL), 2);
	text = journal_text();
	ck_assert_int_eq(count_lines(text, "rule " TUN_NAME " "), 4);
	free(text);
	down_ok();
	check_unchanged(&before);
	in_table.ifindex = other.ifindex;
	ck_assert_int_eq(kernel_routes(&in_table), 1);
	ck_assert_int_eq(kernel_rule(AF_INET6, FULL_TABLE + 1, 0, false, -1,
				     NULL), 1);
	ck_assert_int_eq(kernel_rule(AF_INET, RT_TABLE_MAIN, 0, false, 0,
				     NULL), 1);
	tun_close(&other);
}
END_TEST

/* FwMark set: it is the table too. What was there before is used and
 * left alone: the two rules as wg-quick adds them for that mark, and
 * src_valid_mark already 1. */
START_TEST(test_full_fwmark)
{
	const struct netlink_rule not_marked = {
		.family = AF_INET, .table = 0x1234, .fwmark = 0x1234,
		.has_fwmark = true, .invert = true, .suppress_prefixlen = -1,
	};
	const struct netlink_rule main_first = {
		.family = AF_INET, .table = RT_TABLE_MAIN,
		.suppress_prefixlen = 0,
	};
	struct netconf_plan plan;
	struct snapshot before;
	char *text;

	write_sysctl(SRC_VALID_MARK, "1");
	ck_assert_int_eq(netlink_rule_add(&fx.nl, &not_marked, NULL), 0);
	ck_assert_int_eq(netlink_rule_add(&fx.nl, &main_first, NULL), 0);
	before = snapshot();
	plan = up_plan_ok(IFACE "FwMark = 0x1234\nAddress = 10.40.0.1/24\n"
			  "[Peer]\nPublicKey = " PEER1 "\n"
			  "AllowedIPs = 0.0.0.0/0\n");
	ck_assert(plan.full[0] && !plan.full[1]);
	ck_assert_uint_eq(plan.table, 0x1234);
	ck_assert_uint_eq(plan.fwmark, 0x1234);
	check_full(AF_INET, 0x1234, 0x1234, true);
	ck_assert_int_eq(kernel_rule(AF_INET, RT_TABLE_MAIN, 0, false, 0,
				     NULL), 1);
	ck_assert_int_eq(libnl_rules(AF_INET6, 0, 0), before.rules6);
	text = journal_text();
	ck_assert_int_eq(count_lines(text, "rule "), 0);
	ck_assert_int_eq(count_lines(text, "sysctl "), 0);
	ck_assert_int_eq(count_lines(text, "route "), 1);
	free(text);
	down_ok();
	check_unchanged(&before);
	ck_assert_int_eq(kernel_rule(AF_INET, 0x1234, 0x1234, true, -1, NULL),
			 1);
	ck_assert_int_eq(kernel_rule(AF_INET, RT_TABLE_MAIN, 0, false, 0,
				     NULL), 1);

	/* A mark without a /0 is the sockets' alone. */
	plan = up_plan_ok(IFACE "FwMark = 4660\n[Peer]\nPublicKey = " PEER1
			  "\nAllowedIPs = 10.41.0.0/16\n");
	ck_assert(!plan.full[0] && !plan.full[1]);
	ck_assert_uint_eq(plan.table, 0);
	ck_assert_uint_eq(plan.fwmark, 4660);
	down_ok();
	/* A table number takes the /0 itself: no rules, no mark. */
	plan = up_plan_ok(IFACE "Table = 1234\n[Peer]\nPublicKey = " PEER1
			  "\nAllowedIPs = 0.0.0.0/0\n");
	ck_assert(!plan.full[0] && !plan.full[1]);
	ck_assert_uint_eq(plan.fwmark, 0);
	ck_assert_int_eq(our_route("0.0.0.0", 0, 1234), 1);
	ck_assert_int_eq(libnl_rules(AF_INET, 0, 0), before.rules4);
	down_ok();
	check_unchanged(&before);
}
END_TEST

/* A host (here: a namespace) with IPv6 disabled: everything IPv6 is
 * skipped, with one warning that says what; the IPv4 full tunnel works. */
START_TEST(test_ipv6_disabled)
{
	struct netconf_plan plan;
	struct snapshot before;

	write_sysctl(DISABLE_IPV6, "1");
	write_sysctl(SRC_VALID_MARK, "0");
	before = snapshot();
	plan = up_plan_ok(IFACE "Address = 10.40.0.1/24, fd00:40::1/64\n"
			  "[Peer]\nPublicKey = " PEER1 "\n"
			  "AllowedIPs = 0.0.0.0/0, ::/0, fd00:41::/48\n"
			  "[Peer]\nPublicKey = " PEER2 "\n"
			  "AllowedIPs = 10.43.0.0/16, fd00:42::5/128\n");
	ck_assert(plan.ipv6_off);
	ck_assert(plan.full[0] && !plan.full[1]);
	ck_assert_uint_eq(plan.n_warnings, 1);
	ck_assert_str_eq(plan.warnings[0], "IPv6 is disabled on this host: "
			 "skipping fd00:40::1/64, 2 routes and the IPv6 "
			 "full-tunnel rules");
	ck_assert_int_eq(kernel_addrs(AF_INET, fx.ifindex, "10.40.0.1", 24), 1);
	ck_assert_int_eq(kernel_addrs(AF_INET6, fx.ifindex, NULL, 0), 0);
	ck_assert_int_eq(our_routes(AF_INET6), 0);
	ck_assert_int_eq(libnl_rules(AF_INET6, 0, 0), before.rules6);
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, true);
	ck_assert_int_eq(our_route("10.43.0.0", 16, RT_TABLE_MAIN), 1);
	down_ok();
	check_unchanged(&before);

	/* IPv4 only: nothing to say. */
	plan = up_plan_ok(IFACE "Address = 10.40.0.1/24\n"
			  "[Peer]\nPublicKey = " PEER1 "\n"
			  "AllowedIPs = 10.43.0.0/16\n");
	ck_assert_uint_eq(plan.n_warnings, 0);
	ck_assert_int_eq(our_route("10.43.0.0", 16, RT_TABLE_MAIN), 1);
	down_ok();
	check_unchanged(&before);
}
END_TEST

/* A container's read-only /proc/sys (in a mount namespace of this test's
 * own): src_valid_mark stays, one warning says so, the rest works. */
START_TEST(test_sysctl_read_only)
{
	struct netconf_plan plan;
	struct snapshot before;
	char *text;

	write_sysctl(SRC_VALID_MARK, "0");
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	/* Private first: nothing of this may reach the host's mounts. */
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mount("/proc/sys", "/proc/sys", NULL, MS_BIND, NULL),
			 0);
	ck_assert_int_eq(mount(NULL, "/proc/sys", NULL,
			       MS_BIND | MS_REMOUNT | MS_RDONLY, NULL), 0);
	before = snapshot();
	plan = up_plan_ok(IFACE "Address = 10.40.0.1/24\n"
			  "[Peer]\nPublicKey = " PEER1 "\n"
			  "AllowedIPs = 0.0.0.0/0\n");
	ck_assert(plan.src_valid_mark_ro);
	ck_assert_uint_eq(plan.n_warnings, 1);
	ck_assert_str_eq(plan.warnings[0], "cannot set net.ipv4.conf.all."
			 "src_valid_mark to 1 (Read-only file system): left "
			 "at 0, so replies to the tunnel's own packets may "
			 "fail reverse-path filtering");
	check_full(AF_INET, FULL_TABLE, FULL_TABLE, true);
	ck_assert_uint_eq(read_sysctl(SRC_VALID_MARK), 0);
	text = journal_text();
	ck_assert_int_eq(count_lines(text, "sysctl "), 0);
	free(text);
	down_ok();
	check_unchanged(&before);
	ck_assert_int_eq(umount("/proc/sys"), 0);
}
END_TEST

/* ---- DNS through resolvconf ------------------------------------------- */

/* A program name first on PATH that records its argv, what it reads,
 * and for resolvconf the interface's state when adding (wg-quick's
 * order: addresses, MTU and link up before DNS, routes after); exits
 * $FAKE_RESOLVCONF_EXIT. */
static void fake_program(const char *name)
{
	static const char script[] =
		"#!/bin/sh\n"
		"rec='%s'\n"
		"echo \"argv: $*\" >>\"$rec\"\n"
		"if [ \"$1\" = -a ]; then\n"
		"  l=$(ip -o link show dev " TUN_NAME ")\n"
		"  case $l in *' mtu 1380 '*) echo 'state: mtu' >>\"$rec\";; "
		"esac\n"
		"  case $l in *[\\<,]UP[,\\>]*) echo 'state: up' >>\"$rec\";; "
		"esac\n"
		"  ip -o addr show dev " TUN_NAME
		" | grep -q ' 10.40.0.1/24 ' && echo 'state: addr' >>\"$rec\"\n"
		"  [ -z \"$(ip route show table all dev " TUN_NAME
		" proto static)\" ] && echo 'state: no routes' >>\"$rec\"\n"
		"fi\n"
		"sed 's/^/stdin: /' >>\"$rec\"\n"
		"exit ${FAKE_RESOLVCONF_EXIT:-0}\n";
	char path[256], env[4096];
	FILE *f;

	snprintf(fx.bin, sizeof(fx.bin), "%s/bin", fx.dir);
	snprintf(fx.record, sizeof(fx.record), "%s/record", fx.dir);
	ck_assert_int_eq(mkdir(fx.bin, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s", fx.bin, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, script, fx.record);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
	snprintf(env, sizeof(env), "%s:%s", fx.bin, getenv("PATH"));
	ck_assert_int_eq(setenv("PATH", env, 1), 0);
	ck_assert_int_eq(unsetenv("FAKE_RESOLVCONF_EXIT"), 0);
}

static void fake_resolvconf(void)
{
	fake_program("resolvconf");
}

/* What the fake recorded so far (caller frees). */
static char *record_text(void)
{
	FILE *f = fopen(fx.record, "r");
	char *buf = calloc(1, 4096);
	size_t n = 0;

	ck_assert_ptr_nonnull(buf);
	if (f) {
		n = fread(buf, 1, 4095, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static void check_record(const char *want)
{
	char *got = record_text();

	ck_assert_str_eq(got, want);
	free(got);
	unlink(fx.record);
}

static const char dns_conf[] =
	IFACE
	"Address = 10.40.0.1/24\nMTU = 1380\n"
	"DNS = 10.40.0.53, example.com, fd00:40::53\nDNS = corp.lan\n"
	"[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.41.0.0/16\n";

#define DNS_ADDED(record)						\
	"argv: -a " record " -m 0 -x\n"					\
	"state: mtu\nstate: up\nstate: addr\nstate: no routes\n"	\
	"stdin: nameserver 10.40.0.53\nstdin: nameserver fd00:40::53\n"	\
	"stdin: search example.com corp.lan\n"

START_TEST(test_dns)
{
	struct snapshot before = snapshot();
	char *text, line[128];

	fake_resolvconf();
	up_ok(dns_conf);
	check_record(DNS_ADDED(TUN_NAME));
	text = journal_text();
	snprintf(line, sizeof(line), "\ndns %s %d %s\n", TUN_NAME, fx.ifindex,
		 TUN_NAME);
	ck_assert_ptr_nonnull(strstr(text, line));
	free(text);
	down_ok();
	check_record("argv: -d " TUN_NAME " -f\n");
	check_unchanged(&before);

	/* With a tun* line in interface-order, the record is tun.NAME; a
	 * crash leaves it to the journal. */
	fx.dns_prefix = "tun.";
	crashed_up_text(dns_conf);
	check_record(DNS_ADDED("tun." TUN_NAME));
	new_tun();
	down_ok();
	check_record("argv: -d tun." TUN_NAME " -f\n");
}
END_TEST

/* resolvconf fails: everything goes back, and its status is in the
 * message. */
START_TEST(test_dns_failure)
{
	struct snapshot before = snapshot();

	fake_resolvconf();
	ck_assert_int_eq(setenv("FAKE_RESOLVCONF_EXIT", "3", 1), 0);
	ck_assert_int_eq(up_text(dns_conf), -EIO);
	ck_assert_str_eq(fx.err, "cannot set DNS: `resolvconf -a " TUN_NAME
			 " -m 0 -x' failed: exited with status 3");
	ck_assert(!journal_exists());
	check_unchanged(&before);
	ck_assert_uint_ne(kernel_mtu(TUN_NAME), 1380);
	/* Not added, so not removed either. */
	check_record(DNS_ADDED(TUN_NAME));
}
END_TEST

/* systemd-resolved's settings are undone by `resolvectl revert IFNAME`
 * (the set commands' lines are test_resolvectl_argv's); a revert that
 * fails says its exit status. */
START_TEST(test_resolved_revert)
{
	char text[128];

	fake_program("resolvectl");
	snprintf(text, sizeof(text), "ringvpn-journal 1\nresolved %s %d\n",
		 TUN_NAME, fx.ifindex);
	write_journal(text);
	down_ok();
	check_record("argv: revert " TUN_NAME "\n");
	write_journal(text);
	ck_assert_int_eq(setenv("FAKE_RESOLVCONF_EXIT", "3", 1), 0);
	ck_assert_int_eq(netconf_down(&fx.nl, fx.journal, fx.err,
				      sizeof(fx.err)), -EIO);
	ck_assert_str_eq(fx.err, "cannot revert the DNS of " TUN_NAME " with "
			 "`resolvectl revert " TUN_NAME "': exited with "
			 "status 3");
	check_record("argv: revert " TUN_NAME "\n");
}
END_TEST

/* No resolvconf on PATH: refused before anything changes. */
START_TEST(test_dns_no_resolvconf)
{
	struct snapshot before = snapshot();

	snprintf(fx.bin, sizeof(fx.bin), "%s/bin", fx.dir);
	ck_assert_int_eq(mkdir(fx.bin, 0755), 0);
	ck_assert_int_eq(setenv("PATH", fx.bin, 1), 0);
	ck_assert_int_eq(up_text(dns_conf), -ENOENT);
	/* No resolvectl on this PATH either. */
	ck_assert_str_eq(fx.err, "DNS is set but there is no resolvconf (no "
			 "`resolvconf' on PATH) and no running "
			 "systemd-resolved (resolvectl and "
			 "/run/systemd/resolve/io.systemd.Resolve): install "
			 "resolvconf or openresolv, start systemd-resolved, "
			 "or remove DNS from the config");
	ck_assert(!journal_exists());
	check_unchanged(&before);
	/* Search domains alone are not applied, as in wg-quick. */
	up_ok(IFACE "DNS = example.com\n");
	down_ok();
}
END_TEST

static void check_prefix(const char *text, int want, const char *prefix)
{
	char path[256], out[NETCONF_DNS_PREFIX_MAX] = "x";
	FILE *f;

	snprintf(path, sizeof(path), "%s/interface-order", fx.dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(netconf_resolvconf_prefix(path, out, sizeof(out)),
			 want);
	if (!want)
		ck_assert_str_eq(out, prefix);
	unlink(path);
}

START_TEST(test_resolvconf_prefix)
{
	char out[NETCONF_DNS_PREFIX_MAX] = "x";

	ck_assert_int_eq(netconf_resolvconf_prefix("/nonexistent/order", out,
						   sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	/* Debian's file: lo lines first, then tun*. */
	check_prefix("# interface-order(5)\nlo.inet6\nlo.inet\n"
		     "lo.@(dnsmasq|pdnsd)\nlo\ntun*\ntap*\nhso*\n"
		     "em+([0-9])?(_+([0-9]))*\n", 0, "tun.");
	check_prefix("  wg-x*\t\r\ntun*\n", 0, "wg-x.");
	check_prefix("lo\neth*0\n*\n-x*\ntun.*\n", 0, "");
	check_prefix("", 0, "");
	check_prefix("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*\n",
		     -ENAMETOOLONG, "");
}
END_TEST

/* ---- Speed --------------------------------------------------------- */

#define MANY_ROUTES 10000

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A gateway's 10000 peers, as 10000 /32 routes: up and down each well
 * under the 2 s a whole `ringvpn up' may take. */
START_TEST(test_many_routes)
{
	size_t cap = 64 + MANY_ROUTES * 40, len;
	struct route_query q = { .family = AF_INET, .ifindex = 0, .table = -1,
				 .protocol = RTPROT_STATIC };
	char *text = malloc(cap);
	struct timespec t0;
	double up, down;

	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, cap, IFACE "Address = 10.40.0.1/16\n"
			       "[Peer]\nPublicKey = " PEER1 "\n");
	for (int i = 0; i < MANY_ROUTES; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"AllowedIPs = 10.%d.%d.%d/32\n",
					100 + i / 65536, i / 256 % 256,
					i % 256);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	up_ok(text);
	up = seconds_since(&t0);
	q.ifindex = fx.ifindex;
	ck_assert_int_eq(kernel_routes(&q), MANY_ROUTES);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	down_ok();
	down = seconds_since(&t0);
	ck_assert_int_eq(kernel_routes(&q), 0);
	fprintf(stderr, "test_many_routes: %d routes: plan+up %.3f s, "
		"down %.3f s\n", MANY_ROUTES, up, down);
	ck_assert_msg(up < 1.0 && down < 1.0, "up %.3f s, down %.3f s", up,
		      down);
	free(text);
}
END_TEST

/* ---- Crashes ---------------------------------------------------------- */

/* A child applies conf with a netlink socket of its own and dies by
 * SIGKILL, leaving only the journal and the kernel's state behind. */
static void crashed_up_text(const char *conf)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct netlink nl;
		char err[512];

		if (netlink_open(&nl))
			_exit(1);
		if (plan_up(&nl, conf, NULL, err, sizeof(err))) {
			fprintf(stderr, "child: %s\n", err);
			_exit(1);
		}
		raise(SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGKILL);
	ck_assert(journal_exists());
}

static void crashed_up(void)
{
	crashed_up_text(full_conf);
}

/* The device outlived the crash (a persistent TUN would): the journal
 * alone, read by a fresh netlink context, undoes it all. */
START_TEST(test_crash_device_kept)
{
	struct snapshot before = snapshot();
	struct netlink nl;

	crashed_up();
	check_full_applied(RT_TABLE_MAIN);
	ck_assert_int_eq(netlink_open(&nl), 0);
	ck_assert_int_eq(netconf_down(&nl, fx.journal, fx.err,
				      sizeof(fx.err)), 0);
	netlink_close(&nl);
	ck_assert(!journal_exists());
	check_unchanged(&before);
	ck_assert_int_eq(our_routes(AF_INET) + our_routes(AF_INET6), 0);
}
END_TEST

/* The device went with the crashed process and one of the same name came
 * back (a new index): nothing of ours is left, and the new device, set
 * up by someone else, must not be touched. */
START_TEST(test_crash_device_recreated)
{
	struct ip d = parse_ip("10.41.0.0");
	struct snapshot fresh;
	int old = fx.ifindex;

	crashed_up();
	new_tun();
	ck_assert_int_ne(fx.ifindex, old);
	ck_assert_int_eq(netlink_link_set_mtu(&fx.nl, fx.ifindex, 1380), 0);
	ck_assert_int_eq(netlink_link_set_up(&fx.nl, fx.ifindex, true), 0);
	/* The same route as the journal's, on the new device. */
	ck_assert_int_eq(netlink_route_add(&fx.nl, fx.ifindex, AF_INET,
					   d.bytes, 16, RT_TABLE_MAIN, NULL),
			 0);
	fresh = snapshot();
	down_ok();
	check_unchanged(&fresh);
	ck_assert_int_eq(our_route("10.41.0.0", 16, RT_TABLE_MAIN), 1);
}
END_TEST

/* The device is gone and nothing replaced it. */
START_TEST(test_crash_device_gone)
{
	crashed_up();
	tun_close(&fx.tun);
	down_ok();
}
END_TEST

/* ---- The journal as a file ------------------------------------------- */

START_TEST(test_down_journal_files)
{
	struct snapshot before = snapshot();
	char text[512];

	/* Not a journal: nothing done, kept for a human. */
	write_journal("addr " TUN_NAME " 2 inet 10.0.0.1/24\n");
	ck_assert_int_eq(netconf_down(&fx.nl, fx.journal, fx.err,
				      sizeof(fx.err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(fx.err, "not a ringvpn journal"));
	ck_assert(journal_exists());

	/* Empty, and a header torn by a crash: nothing to do. */
	write_journal("");
	down_ok();
	write_journal("ringvpn-jou");
	down_ok();

	/* Garbage among good lines: the good ones are undone, the journal
	 * removed, and -EBADMSG names the first bad line. */
	up_ok(IFACE "Address = 10.40.0.1/24\n");
	ck_assert_int_eq(kernel_addrs(AF_INET, fx.ifindex, "10.40.0.1", 24), 1);
	snprintf(text, sizeof(text),
		 "ringvpn-journal 1\n"
		 "mtu " TUN_NAME " %d %u\n"
		 "bogus line\n"
		 "addr " TUN_NAME " %d inet 10.40.0.1/24\n"
		 "up " TUN_NAME " %d\n"
		 "route " TUN_NAME " %d inet 10.40.0.1/16 254\n"
		 "# a comment\n\n"
		 "route " TUN_NAME " %d inet 10.49.0.0/16 254\n"
		 "addr " TUN_NAME " %d inet 10.40.",
		 fx.ifindex, before.mtu, fx.ifindex, fx.ifindex, fx.ifindex,
		 fx.ifindex, fx.ifindex);
	write_journal(text);
	ck_assert_int_eq(netconf_down(&fx.nl, fx.journal, fx.err,
				      sizeof(fx.err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(fx.err, "2 line(s)"));
	ck_assert_ptr_nonnull(strstr(fx.err, "at line 3"));
	ck_assert(!journal_exists());
	check_unchanged(&before);
}
END_TEST

START_TEST(test_journal_path)
{
	char path[256], sub[128];
	struct stat st;

	ck_assert_str_eq(fx.journal + strlen(fx.dir), "/" TUN_NAME ".journal");
	ck_assert_int_eq(strncmp(fx.journal, fx.dir, strlen(fx.dir)), 0);
	umask(077);
	snprintf(sub, sizeof(sub), "%s/run", fx.dir);
	ck_assert_int_eq(setenv(NETCONF_RUNDIR_ENV, sub, 1), 0);
	ck_assert_int_eq(netconf_journal_path("wg0", path, sizeof(path)), 0);
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0700); /* the daemon's alone */
	ck_assert_str_eq(path + strlen(sub), "/wg0.journal");
	ck_assert_int_eq(netconf_journal_path("wg0", path, 10), -ENAMETOOLONG);
	ck_assert_int_eq(netconf_journal_path("", path, sizeof(path)), -EINVAL);
	ck_assert_int_eq(netconf_journal_path("../x", path, sizeof(path)),
			 -EINVAL);
	ck_assert_int_eq(netconf_journal_path("a b", path, sizeof(path)),
			 -EINVAL);
	ck_assert_int_eq(netconf_journal_path("sixteen-chars-xx", path,
					      sizeof(path)), -EINVAL);
	ck_assert_int_eq(rmdir(sub), 0);
}
END_TEST

/* ---- The parser alone ------------------------------------------------- */

static struct netconf_journal parse(const char *text, size_t len, int want)
{
	struct netconf_journal j;

	ck_assert_int_eq(netconf_journal_parse(&j, text, len), want);
	return j;
}

static void check_bad_line(const char *line)
{
	char text[512];
	struct netconf_journal j;

	snprintf(text, sizeof(text), "ringvpn-journal 1\n%s\n", line);
	j = parse(text, strlen(text), 0);
	ck_assert_msg(j.n == 0 && j.bad_lines == 1, "accepted `%s'", line);
	ck_assert_uint_eq(j.first_bad_line, 2);
	netconf_journal_free(&j);
}

START_TEST(test_parse_lines)
{
	static const char good[] =
		"ringvpn-journal 1\n"
		"mtu wg0 7 1500\n"
		"addr wg0 7 inet 10.0.0.1/24\n"
		"addr wg0 7 inet6 fd00::1/64\n"
		"up wg0 7\n"
		"route wg0 7 inet 10.1.0.0/16 254\n"
		"route wg0 7 inet6 ::/0 4294967295\n"
		"rule wg0 7 inet 32765 51820 51820 not -\n"
		"rule wg0 7 inet6 0 254 - - 0\n"
		"sysctl wg0 7 net.ipv4.conf.all.src_valid_mark 0\n"
		"dns wg0 7 tun.wg0\n"
		"dns wg0 7 wg0\n"
		"unreachable wg0 7 inet6 51820 4294967295\n"
		"nft wg0 7\n"
		"resolved wg0 7\n"
		"sessions wg0 7 4242\n";
	static const char *const bad[] = {
		"mtu wg0 7", "mtu wg0 7 0", "mtu wg0 7 4294967296",
		"mtu wg0 7 15x", "mtu wg0 7 -1", "mtu wg0 7 +1",
		"up wg0 0", "up wg0 2147483648", "up wg0", "up wg0 7 x",
		"up  wg0 7", "up wg0 7 ", " up wg0 7", "up wg0 7\r",
		"UP wg0 7", "down wg0 7", "up sixteen-chars-xx 7",
		"up a/b 7", "up .. 7", "up a:b 7",
		"addr wg0 7 inet 10.0.0.1/33", "addr wg0 7 inet 10.0.0.1",
		"addr wg0 7 inet 10.0.0.1/", "addr wg0 7 inet6 10.0.0.1/24",
		"addr wg0 7 inet fd00::1/64", "addr wg0 7 inet6 fd00::1/129",
		"addr wg0 7 ipx 10.0.0.1/24", "addr wg0 7 inet 10.0.0.1/24 1",
		"route wg0 7 inet 10.1.0.1/16 254",
		"route wg0 7 inet 10.1.0.0/16 0",
		"route wg0 7 inet 10.1.0.0/16",
		"route wg0 7 inet6 fd00::1/64 254",
		"route wg0 7 inet 10.1.0.0/16 254 1",
		"route wg0 7 inet 10.1.0.0/1/6 254",
		"rule wg0 7 inet 32765 51820 51820 not",
		"rule wg0 7 inet 32765 0 51820 not -",
		"rule wg0 7 inet 32765 51820 0 not -",
		"rule wg0 7 inet 32765 51820 x not -",
		"rule wg0 7 inet 32765 51820 - NOT -",
		"rule wg0 7 inet 32765 51820 - ! -",
		"rule wg0 7 inet 32765 51820 - - 33",
		"rule wg0 7 inet6 32765 51820 - - 129",
		"rule wg0 7 inet 32765 51820 - - -1",
		"rule wg0 7 inet 4294967296 51820 - - -",
		"rule wg0 7 ipx 1 51820 - - -",
		"rule wg0 7 inet 1 51820 - - - x",
		"rule wg0 7 inet -1 51820 - - -",
		"sysctl wg0 7 net.ipv4.conf.all.src_valid_mark",
		"sysctl wg0 7 net.ipv4.ip_forward 0",
		"sysctl wg0 7 net/ipv4/conf/all/src_valid_mark 0",
		"sysctl wg0 7 net.ipv4.conf.all.src_valid_mark -1",
		"sysctl wg0 7 net.ipv4.conf.all.src_valid_mark 1 2",
		"sysctl wg0 7 net.ipv4.conf.all.src_valid_mark 4294967296",
		"dns wg0 7 wg1", "dns wg0 7 tun.wg1", "dns wg0 7 -x.wg0",
		"dns wg0 7 tun.x.wg0", "dns wg0 7 .wg0", "dns wg0 7 tun_.wg0",
		"dns wg0 7 twg0", "dns wg0 7", "dns wg0 7 tun.wg0 x",
		"dns wg0 7 tun.wg0.", "dns wg0 7 ../../wg0",
		"dns wg0 7 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.wg0",
		"unreachable wg0 7 inet 0 5", "unreachable wg0 7 inet 51820",
		"unreachable wg0 7 inet4 51820 5",
		"unreachable wg0 7 inet 51820 4294967296",
		"unreachable wg0 7 inet 51820 5 x", "nft wg0 7 x", "nft wg0",
		"resolved wg0 7 x", "resolved wg0",
		"sessions wg0 7", "sessions wg0 7 0", "sessions wg0 7 1 2",
		"sessions wg0 7 4294967296", "sessions wg0 7 -1",
		"x", "route",
		"addr wg0 7 inet 10.0.0.1/24aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct netconf_journal j = parse(good, strlen(good), 0);
	char line[NETCONF_LINE_MAX + 2];
	size_t off = strlen("ringvpn-journal 1\n");

	ck_assert_uint_eq(j.n, 15);
	ck_assert_int_eq(j.v[12].kind, NETCONF_NFT);
	ck_assert_int_eq(j.v[13].kind, NETCONF_RESOLVED);
	ck_assert_int_eq(j.v[14].kind, NETCONF_SESSIONS);
	ck_assert_uint_eq(j.v[14].table, 4242);
	ck_assert_uint_eq(j.bad_lines, 0);
	ck_assert_int_eq(j.v[11].kind, NETCONF_UNREACHABLE);
	ck_assert_int_eq(j.v[11].family, AF_INET6);
	ck_assert_uint_eq(j.v[11].table, 51820);
	ck_assert_uint_eq(j.v[11].metric, UINT32_MAX);
	ck_assert_int_eq(j.v[6].kind, NETCONF_RULE);
	ck_assert_int_eq(j.v[6].rule.family, AF_INET);
	ck_assert_uint_eq(j.v[6].rule.priority, 32765);
	ck_assert_uint_eq(j.v[6].rule.table, 51820);
	ck_assert(j.v[6].rule.has_fwmark);
	ck_assert_uint_eq(j.v[6].rule.fwmark, 51820);
	ck_assert(j.v[6].rule.invert);
	ck_assert_int_eq(j.v[6].rule.suppress_prefixlen, -1);
	ck_assert_int_eq(j.v[7].rule.family, AF_INET6);
	ck_assert_uint_eq(j.v[7].rule.table, RT_TABLE_MAIN);
	ck_assert(!j.v[7].rule.has_fwmark && !j.v[7].rule.invert);
	ck_assert_int_eq(j.v[7].rule.suppress_prefixlen, 0);
	ck_assert_int_eq(j.v[8].kind, NETCONF_SYSCTL);
	ck_assert_int_eq(j.v[8].sysctl, NETCONF_SRC_VALID_MARK);
	ck_assert_uint_eq(j.v[8].value, 0);
	ck_assert_int_eq(j.v[9].kind, NETCONF_DNS);
	ck_assert_str_eq(j.v[9].record, "tun.wg0");
	ck_assert_str_eq(j.v[10].record, "wg0");
	ck_assert_int_eq(j.v[0].kind, NETCONF_MTU);
	ck_assert_uint_eq(j.v[0].mtu, 1500);
	ck_assert_str_eq(j.v[0].ifname, "wg0");
	ck_assert_int_eq(j.v[0].ifindex, 7);
	ck_assert_int_eq(j.v[2].family, AF_INET6);
	ck_assert_uint_eq(j.v[2].prefixlen, 64);
	ck_assert_int_eq(j.v[3].kind, NETCONF_UP);
	ck_assert_uint_eq(j.v[5].table, UINT32_MAX);
	ck_assert_uint_eq(j.v[5].prefixlen, 0);
	/* Every entry formats back to its own line. */
	for (size_t i = 0; i < j.n; i++) {
		int n = netconf_entry_format(&j.v[i], line, sizeof(line));

		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(strncmp(good + off, line, (size_t)n), 0);
		off += (size_t)n;
	}
	ck_assert_uint_eq(off, strlen(good));
	ck_assert_int_eq(netconf_entry_format(&j.v[0], line, 5), -ENOSPC);
	j.v[4].addr[3] = 1;	/* a host bit */
	ck_assert_int_eq(netconf_entry_format(&j.v[4], line, sizeof(line)),
			 -EINVAL);
	j.v[6].rule.fwmark = 0;	/* has_fwmark without a mark */
	ck_assert_int_eq(netconf_entry_format(&j.v[6], line, sizeof(line)),
			 -EINVAL);
	j.v[8].sysctl = (enum netconf_sysctl)1;	/* not one we write */
	ck_assert_int_eq(netconf_entry_format(&j.v[8], line, sizeof(line)),
			 -EINVAL);
	snprintf(j.v[9].record, sizeof(j.v[9].record), "tun.wg1");
	ck_assert_int_eq(netconf_entry_format(&j.v[9], line, sizeof(line)),
			 -EINVAL);
	netconf_journal_free(&j);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad_line(bad[i]);
	/* A NUL inside a line. */
	j = parse("ringvpn-journal 1\nup wg0\0 7\n", 28, 0);
	ck_assert_uint_eq(j.n, 0);
	ck_assert_uint_eq(j.bad_lines, 1);
	netconf_journal_free(&j);
}
END_TEST

/* wg-quick's rules, in one inet table per interface, for the full
 * families only. */
START_TEST(test_nft_script)
{
	static const char want[] =
		"add table inet ringvpn-wg_a_b\n"
		"delete table inet ringvpn-wg_a_b\n"
		"table inet ringvpn-wg_a_b {\n"
		"\tchain preraw {\n"
		"\t\ttype filter hook prerouting priority -300;\n"
		"\t\tiifname != \"wg+a=b\" ip daddr 10.40.0.1 fib saddr type "
		"!= local drop\n"
		"\t}\n"
		"\tchain premangle {\n"
		"\t\ttype filter hook prerouting priority -150;\n"
		"\t\tmeta nfproto ipv4 meta l4proto udp meta mark set ct mark\n"
		"\t}\n"
		"\tchain postmangle {\n"
		"\t\ttype filter hook postrouting priority -150;\n"
		"\t\tmeta nfproto ipv4 meta l4proto udp mark 51820 ct mark set "
		"mark\n"
		"\t}\n"
		"}\n";
	struct netconf_plan plan = { .full = { true, false }, .fwmark = 51820 };
	struct config c;
	char *script = NULL;
	size_t len = 0;

	parse_config(&c, tunnel_conf);
	plan.cfg = &c;
	ck_assert_int_eq(netconf_nft_script("wg+a=b", &plan, &script, &len),
			 0);
	ck_assert_str_eq(script, want);
	ck_assert_uint_eq(len, strlen(want));
	free(script);
	/* Both families: the IPv6 address and rules too. */
	plan.full[1] = true;
	ck_assert_int_eq(netconf_nft_script("wg0", &plan, &script, &len), 0);
	ck_assert_ptr_nonnull(strstr(script, "\t\tiifname != \"wg0\" ip6 daddr "
				     "fd00:40::1 fib saddr type != local "
				     "drop\n"));
	ck_assert_ptr_nonnull(strstr(script, "meta nfproto ipv6 meta l4proto "
				     "udp mark 51820 ct mark set mark\n"));
	free(script);
	config_free(&c);
}
END_TEST

/* argv as "a b c" (NULL as "-"), and freed. */
static void check_argv(char **argv, const char *want)
{
	char text[256] = "-";
	size_t used = 0;

	for (size_t i = 0; argv && argv[i]; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "%s%s", i ? " " : "", argv[i]);
	ck_assert_str_eq(text, want);
	free(argv);
}

/* The resolvectl command lines for systemd-resolved (which cannot run
 * in a test namespace: only the lines are checked). */
START_TEST(test_resolvectl_argv)
{
	static const char conf[] =
		IFACE "DNS = 10.0.0.53, fd00::53, corp.example, lan\n";
	struct config c, bare;
	char **argv;

	parse_config(&c, conf);
	parse_config(&bare, IFACE "DNS = 10.0.0.53\n");
	ck_assert_int_eq(netconf_resolvectl_argv(NETCONF_RESOLVECTL_DNS, "wg0",
						 &c, false, &argv), 0);
	check_argv(argv, "resolvectl dns wg0 10.0.0.53 fd00::53");
	ck_assert_int_eq(netconf_resolvectl_argv(NETCONF_RESOLVECTL_DOMAIN,
						 "wg0", &c, false, &argv), 0);
	check_argv(argv, "resolvectl domain wg0 corp.example lan");
	/* A full tunnel routes every name to the tunnel's servers. */
	ck_assert_int_eq(netconf_resolvectl_argv(NETCONF_RESOLVECTL_DOMAIN,
						 "wg0", &c, true, &argv), 0);
	check_argv(argv, "resolvectl domain wg0 corp.example lan ~.");
	ck_assert_int_eq(netconf_resolvectl_argv(NETCONF_RESOLVECTL_DOMAIN,
						 "wg0", &bare, true, &argv), 0);
	check_argv(argv, "resolvectl domain wg0 ~.");
	/* No search domain and no full tunnel: no domain command. */
	ck_assert_int_eq(netconf_resolvectl_argv(NETCONF_RESOLVECTL_DOMAIN,
						 "wg0", &bare, false, &argv),
			 0);
	check_argv(argv, "-");
	config_free(&c);
	config_free(&bare);
}
END_TEST

START_TEST(test_parse_headers)
{
	struct netconf_journal j;

	j = parse("", 0, 0);
	ck_assert_uint_eq(j.n, 0);
	j = parse("ringvpn-journal 1", 17, 0);	/* torn */
	ck_assert_uint_eq(j.n, 0);
	j = parse("ringvpn-journal 1\n", 18, 0);
	ck_assert_uint_eq(j.n, 0);
	parse("ringvpn-journal 2\n", 18, -EBADMSG);
	parse("ringvpn-journal 1 \n", 19, -EBADMSG);
	parse("ringvpn-journal 1x", 18, -EBADMSG);
	parse("\nringvpn-journal 1\n", 19, -EBADMSG);
	parse("up wg0 7\n", 9, -EBADMSG);
	parse("\0", 1, -EBADMSG);
	/* A torn last line is no error: the crash came mid-write. */
	j = parse("ringvpn-journal 1\nup wg0 7\nup wg0 8", 35, 0);
	ck_assert_uint_eq(j.n, 1);
	ck_assert_uint_eq(j.bad_lines, 0);
	netconf_journal_free(&j);
}
END_TEST

/* Seeded random bytes and mutations of a good journal: never a crash
 * (ASan watches), and every entry accepted formats cleanly. */
START_TEST(test_parse_garbage)
{
	static const char good[] =
		"ringvpn-journal 1\nmtu wg0 7 1500\n"
		"addr wg0 7 inet6 fd00::1/64\nroute wg0 7 inet 10.1.0.0/16 "
		"254\nup wg0 7\nrule wg0 7 inet 32765 51820 51820 not -\n"
		"dns wg0 7 tun.wg0\n"
		"sysctl wg0 7 net.ipv4.conf.all.src_valid_mark 0\n";
	uint32_t seed = 0x6e657463;
	char buf[256], line[NETCONF_LINE_MAX + 2];

	for (int round = 0; round < 20000; round++) {
		size_t len = sizeof(good) - 1, lines = 0;
		struct netconf_journal j;

		memcpy(buf, good, len);
		for (int k = 0; k < 1 + round % 8 && len; k++) {
			seed = seed * 1103515245u + 12345u;
			if (round % 4 == 0)
				buf[(seed >> 8) % len] = (char)(seed >> 16);
			else if (round % 4 == 1)
				buf[(seed >> 8) % len] = " \n/:0"[seed % 5];
			else if (round % 4 == 2)
				len = (seed >> 8) % len;
			else
				buf[(seed >> 8) % len] ^=
					(char)(1 << (seed % 8));
		}
		if (netconf_journal_parse(&j, buf, len))
			continue;
		for (size_t i = 0; i < len; i++)
			lines += buf[i] == '\n';
		ck_assert_uint_le(j.n + j.bad_lines, lines);
		for (size_t i = 0; i < j.n; i++)
			ck_assert_int_gt(netconf_entry_format(&j.v[i], line,
							     sizeof(line)), 0);
		netconf_journal_free(&j);
	}
}
END_TEST

static Suite *netconf_suite(void)
{
	Suite *s = suite_create("netconf");
	TCase *tc = tcase_create("netns");
	TCase *tp = tcase_create("parser");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_table_off);
	tcase_add_test(tc, test_table_id);
	tcase_add_test(tc, test_default_route_in_table);
	tcase_add_test(tc, test_service_and_sessions);
	tcase_add_test(tc, test_failure_address);
	tcase_add_test(tc, test_failure_route);
	tcase_add_test(tc, test_existing_kept);
	tcase_add_test(tc, test_crash_device_kept);
	tcase_add_test(tc, test_crash_device_recreated);
	tcase_add_test(tc, test_crash_device_gone);
	tcase_add_test(tc, test_down_journal_files);
	tcase_add_test(tc, test_journal_path);
	tcase_add_test(tc, test_full_tunnel);
	tcase_add_test(tc, test_full_tunnel_crash);
	tcase_add_test(tc, test_kill_switch);
	tcase_add_test(tc, test_kill_switch_crash);
	tcase_add_test(tc, test_kill_switch_crash_not_kept);
	tcase_add_test(tc, test_kill_switch_crash_failed_up);
	tcase_add_test(tc, test_full_table_in_use);
	tcase_add_test(tc, test_full_fwmark);
	tcase_add_test(tc, test_ipv6_disabled);
	tcase_add_test(tc, test_sysctl_read_only);
	tcase_add_test(tc, test_dns);
	tcase_add_test(tc, test_dns_failure);
	tcase_add_test(tc, test_resolved_revert);
	tcase_add_test(tc, test_dns_no_resolvconf);
	tcase_add_test(tc, test_resolvconf_prefix);
	tcase_add_test(tc, test_many_routes);
	suite_add_tcase(s, tc);

	tcase_set_timeout(tp, 60);
	tcase_add_test(tp, test_parse_lines);
	tcase_add_test(tp, test_parse_headers);
	tcase_add_test(tp, test_nft_script);
	tcase_add_test(tp, test_resolvectl_argv);
	tcase_add_test(tp, test_parse_garbage);
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	if (!netns_test_possible())
		return 77;
	if (crypto_init())
		return EXIT_FAILURE;
	return run_suite(netconf_suite());
}
