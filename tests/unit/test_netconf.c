/* Applying a config to a real interface and undoing it from the journal.
 * Each test runs in a fresh network namespace with its own TUN device and
 * a journal directory of its own, and reads the kernel's state back
 * through libnl-route-3, never through netlink/. Crashes are simulated by
 * a child that applies a config and is killed with SIGKILL. Needs root
 * and exits 77 (skipped) without it or without network namespaces. */
#include "src/netconf.h"
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#define TUN_NAME "rvnc0"
#define TUN_OTHER "rvnc1"
#define TABLE_ID 1234u

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
}

static void teardown(void)
{
	unlink(fx.journal);
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
		    (q->dst && !route_dst_is(r, &d, q->plen)))
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

/* Everything netconf could have touched, to compare before and after.
 * The routes the kernel makes for addresses are left out: those come and
 * go with the addresses, and IPv6 adds some for a link-local address
 * asynchronously, when its duplicate address detection ends. */
struct snapshot {
	unsigned int mtu;
	bool up;
	int addrs4, addrs6;
	int routes4, routes6;	/* every table, any device */
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

static int up_text(const char *text)
{
	struct config c;
	int ret;

	parse_config(&c, text);
	ret = netconf_up(&fx.nl, TUN_NAME, fx.ifindex, &c, fx.journal,
			 &fx.opt, fx.err, sizeof(fx.err));
	config_free(&c);
	return ret;
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
	ck_assert_uint_eq(kernel_mtu(TUN_NAME), NETCONF_DEFAULT_MTU);
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

static void check_refused(const char *conf, const char *prefix)
{
	struct snapshot before = snapshot();
	char want[256];

	snprintf(want, sizeof(want),
		 "AllowedIPs `%s' with Table = auto needs full-tunnel policy "
		 "routing, which is not supported yet; use Table = off or a "
		 "table number", prefix);
	ck_assert_int_eq(up_text(conf), -EOPNOTSUPP);
	ck_assert_str_eq(fx.err, want);
	ck_assert(!journal_exists());
	check_unchanged(&before);
}

START_TEST(test_default_route_refused)
{
	/* After other prefixes and in the second peer: checked first. */
	check_refused(IFACE "Address = 10.40.0.1/24\nMTU = 1380\n"
		      "[Peer]\nPublicKey = " PEER1 "\n"
		      "AllowedIPs = 10.41.0.0/16\n"
		      "[Peer]\nPublicKey = " PEER2 "\n"
		      "AllowedIPs = 10.43.0.0/16, 0.0.0.0/0\n", "0.0.0.0/0");
	check_refused(IFACE "Address = fd00:40::1/64\n"
		      "[Peer]\nPublicKey = " PEER1 "\n"
		      "AllowedIPs = ::/0\n", "::/0");
}
END_TEST

static void write_sysctl(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(value, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* The second address fails: the MTU and the first address go back. */
START_TEST(test_failure_address)
{
	struct snapshot before;

	write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	before = snapshot();
	ck_assert_int_eq(up_text(IFACE "Address = 10.40.0.1/24, "
				 "fd00:40::1/64\nMTU = 1380\n"
				 "[Peer]\nPublicKey = " PEER1 "\n"
				 "AllowedIPs = 10.41.0.0/16\n"), -EACCES);
	ck_assert_str_eq(fx.err, "cannot add address fd00:40::1/64 to "
			 TUN_NAME ": Permission denied");
	ck_assert(!journal_exists());
	check_unchanged(&before);
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

/* ---- Crashes ---------------------------------------------------------- */

/* A child applies full_conf with a netlink socket of its own and dies by
 * SIGKILL, leaving only the journal and the kernel's state behind. */
static void crashed_up(void)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct netlink nl;
		struct config c;
		char err[512];

		if (netlink_open(&nl))
			_exit(1);
		if (config_parse(&c, "test.conf", full_conf, strlen(full_conf),
				 err, sizeof(err)) ||
		    netconf_up(&nl, TUN_NAME, fx.ifindex, &c, fx.journal,
			       &fx.opt, err, sizeof(err))) {
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
	tun_close(&fx.tun);
	ck_assert_int_eq(tun_create(&fx.tun, TUN_NAME, 1, 0), 0);
	fx.ifindex = fx.tun.ifindex;
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
	ck_assert_uint_eq(st.st_mode & 0777, 0755);
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
		"route wg0 7 inet6 ::/0 4294967295\n";
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
		"x", "route",
		"addr wg0 7 inet 10.0.0.1/24aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct netconf_journal j = parse(good, strlen(good), 0);
	char line[NETCONF_LINE_MAX + 2];
	size_t off = strlen("ringvpn-journal 1\n");

	ck_assert_uint_eq(j.n, 6);
	ck_assert_uint_eq(j.bad_lines, 0);
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
		"254\nup wg0 7\n";
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
	tcase_add_test(tc, test_default_route_refused);
	tcase_add_test(tc, test_failure_address);
	tcase_add_test(tc, test_failure_route);
	tcase_add_test(tc, test_existing_kept);
	tcase_add_test(tc, test_crash_device_kept);
	tcase_add_test(tc, test_crash_device_recreated);
	tcase_add_test(tc, test_crash_device_gone);
	tcase_add_test(tc, test_down_journal_files);
	tcase_add_test(tc, test_journal_path);
	suite_add_tcase(s, tc);

	tcase_set_timeout(tp, 60);
	tcase_add_test(tp, test_parse_lines);
	tcase_add_test(tp, test_parse_headers);
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
