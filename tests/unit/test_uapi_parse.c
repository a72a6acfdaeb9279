/* The UAPI set=1 parser: a full request as wg(8) sends it, every key with
 * its boundary values, a table of broken bodies with the return value and
 * message each must give, line limits, and the promises about failures
 * (nothing left behind, no secret in the message). Leaks on the error
 * paths are caught by running this under ASan/LSan. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "src/uapi/parse.h"
#include "tests/unit/check_main.h"
#include "tests/unit/hexutil.h"

/* A 64-digit key made of one repeated byte, e.g. KEY("11"). */
#define KEY4(x) x x x x
#define KEY(x) KEY4(KEY4(x)) KEY4(KEY4(x))
#define KEY_ZERO KEY("00")
/* The private key of the cross-platform UAPI page's example. */
#define SECRET "e84b5a6d2717c1003a13b431570353db" \
	"aca9146cf150c5f8575680feba52027a"
#define PEER "public_key=" KEY("22") "\n"

static const struct change empty_set;

static int parse(struct change *s, const char *text, char *err,
		 size_t err_len)
{
	/* Garbage first: the parser must overwrite all of it. */
	memset(s, 0xa5, sizeof(*s));
	return uapi_parse_set(s, text, strlen(text), err, err_len);
}

static void parse_ok(struct change *s, const char *text)
{
	char err[256];
	int ret = parse(s, text, err, sizeof(err));

	ck_assert_msg(ret == 0, "`%s': %d %s", text, ret, err);
	ck_assert_str_eq(err, "");
}

static void prefix_eq(const struct allowed_ip_change *a, bool remove,
		      const char *addr, unsigned cidr)
{
	char text[INET6_ADDRSTRLEN];

	ck_assert_int_eq(a->remove, remove);
	ck_assert_ptr_nonnull(inet_ntop(a->prefix.family, a->prefix.addr,
					text, sizeof(text)));
	ck_assert_str_eq(text, addr);
	ck_assert_uint_eq(a->prefix.cidr, cidr);
}

static void endpoint_eq(const struct peer_change *p, int family,
			const char *addr, unsigned port, uint32_t scope)
{
	const struct sockaddr_in *v4 = (const void *)&p->endpoint;
	const struct sockaddr_in6 *v6 = (const void *)&p->endpoint;
	char text[INET6_ADDRSTRLEN];

	ck_assert(p->set_endpoint);
	ck_assert_int_eq(p->endpoint.ss_family, family);
	if (family == AF_INET) {
		ck_assert_uint_eq(p->endpoint_len, sizeof(*v4));
		ck_assert_uint_eq(ntohs(v4->sin_port), port);
		inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
	} else {
		ck_assert_uint_eq(p->endpoint_len, sizeof(*v6));
		ck_assert_uint_eq(ntohs(v6->sin6_port), port);
		ck_assert_uint_eq(v6->sin6_scope_id, scope);
		inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
	}
	ck_assert_str_eq(text, addr);
}

/* The shape of the request on the cross-platform UAPI page. */
static const char full_request[] =
	"private_key=" SECRET "\n"					/* 1 */
	"listen_port=12912\n"						/* 2 */
	"fwmark=0\n"							/* 3 */
	"replace_peers=true\n"						/* 4 */
	"public_key=" KEY("b8") "\n"					/* 5 */
	"preshared_key=" KEY("1c") "\n"					/* 6 */
	"replace_allowed_ips=true\n"					/* 7 */
	"allowed_ip=192.168.4.4/32\n"					/* 8 */
	"public_key=" KEY("58") "\n"					/* 9 */
	"endpoint=[abcd:23::33%2]:51820\n"				/* 10 */
	"replace_allowed_ips=true\n"					/* 11 */
	"allowed_ip=192.168.4.6/32\n"					/* 12 */
	"public_key=" KEY("66") "\n"					/* 13 */
	"endpoint=182.122.22.19:3233\n"					/* 14 */
	"persistent_keepalive_interval=111\n"				/* 15 */
	"replace_allowed_ips=true\n"					/* 16 */
	"allowed_ip=192.168.4.10/32\n"					/* 17 */
	"allowed_ip=192.168.4.11/32\n"					/* 18 */
	"public_key=" KEY("e2") "\n"					/* 19 */
	"remove=true\n";						/* 20 */

START_TEST(test_full)
{
	struct change s;
	const struct peer_change *p;

	parse_ok(&s, full_request);
	ck_assert(s.set_private_key);
	assert_hex_eq(s.private_key, 32, SECRET); /* clamped already */
	ck_assert(s.set_listen_port);
	ck_assert_uint_eq(s.listen_port, 12912);
	ck_assert(s.set_fwmark);
	ck_assert_uint_eq(s.fwmark, 0);
	ck_assert(s.replace_peers);
	ck_assert_uint_eq(s.n_peers, 4);

	p = &s.peers[0];
	assert_hex_eq(p->public_key, 32, KEY("b8"));
	ck_assert(p->set_psk);
	assert_hex_eq(p->psk, 32, KEY("1c"));
	ck_assert(p->replace_allowed_ips);
	ck_assert(!p->set_endpoint && !p->set_keepalive && !p->remove &&
		  !p->update_only);
	ck_assert_uint_eq(p->n_allowed_ips, 1);
	prefix_eq(&p->allowed_ips[0], false, "192.168.4.4", 32);

	p = &s.peers[1];
	assert_hex_eq(p->public_key, 32, KEY("58"));
	ck_assert(!p->set_psk);
	endpoint_eq(p, AF_INET6, "abcd:23::33", 51820, 2);
	ck_assert_uint_eq(p->n_allowed_ips, 1);
	prefix_eq(&p->allowed_ips[0], false, "192.168.4.6", 32);

	p = &s.peers[2];
	endpoint_eq(p, AF_INET, "182.122.22.19", 3233, 0);
	ck_assert(p->set_keepalive);
	ck_assert_uint_eq(p->keepalive, 111);
	ck_assert_uint_eq(p->n_allowed_ips, 2);
	prefix_eq(&p->allowed_ips[0], false, "192.168.4.10", 32);
	prefix_eq(&p->allowed_ips[1], false, "192.168.4.11", 32);

	p = &s.peers[3];
	assert_hex_eq(p->public_key, 32, KEY("e2"));
	ck_assert(p->remove);
	ck_assert_uint_eq(p->n_allowed_ips, 0);
	change_free(&s);
	ck_assert_mem_eq(&s, &empty_set, sizeof(s));
}
END_TEST

START_TEST(test_empty)
{
	struct change s;
	char err[64] = "x";

	memset(&s, 0xa5, sizeof(s));
	ck_assert_int_eq(uapi_parse_set(&s, NULL, 0, err, sizeof(err)), 0);
	ck_assert_mem_eq(&s, &empty_set, sizeof(s));
	ck_assert_str_eq(err, "");
	change_free(&s);
}
END_TEST

START_TEST(test_device_values)
{
	struct change s;

	parse_ok(&s, "listen_port=0\nfwmark=4294967295\n");
	ck_assert(s.set_listen_port && s.set_fwmark);
	ck_assert_uint_eq(s.listen_port, 0);
	ck_assert_uint_eq(s.fwmark, 4294967295u);
	ck_assert(!s.set_private_key && !s.replace_peers && !s.n_peers);
	change_free(&s);

	/* strconv.ParseUint takes leading zeros; the last value wins. */
	parse_ok(&s, "listen_port=65535\nlisten_port=00080\nfwmark=00\n");
	ck_assert_uint_eq(s.listen_port, 80);
	ck_assert(s.set_fwmark);
	ck_assert_uint_eq(s.fwmark, 0);
	change_free(&s);
}
END_TEST

START_TEST(test_keys)
{
	struct change s;

	/* All zero removes the key: set, zero, not clamped into non-zero. */
	parse_ok(&s, "private_key=" KEY_ZERO "\n");
	ck_assert(s.set_private_key);
	assert_hex_eq(s.private_key, 32, KEY_ZERO);
	change_free(&s);

	/* Uppercase is taken (Go's hex decoder); the key is clamped. */
	parse_ok(&s, "private_key=" KEY("FF") "\n");
	ck_assert_uint_eq(s.private_key[0], 0xf8);
	ck_assert_uint_eq(s.private_key[1], 0xff);
	ck_assert_uint_eq(s.private_key[31], 0x7f);
	change_free(&s);

	parse_ok(&s, "public_key=" KEY("Ab") "\npreshared_key=" KEY_ZERO
		 "\n");
	assert_hex_eq(s.peers[0].public_key, 32, KEY("ab"));
	ck_assert(s.peers[0].set_psk);
	assert_hex_eq(s.peers[0].psk, 32, KEY_ZERO);
	change_free(&s);
}
END_TEST

START_TEST(test_peer_flags)
{
	struct change s;

	parse_ok(&s, "replace_peers=true\n"
		 "public_key=" KEY("11") "\n"
		 "protocol_version=1\n"
		 "update_only=true\n"
		 "protocol_version=1\n"
		 "persistent_keepalive_interval=65535\n"
		 "replace_allowed_ips=true\n"
		 "public_key=" KEY("22") "\n"
		 "persistent_keepalive_interval=0\n"
		 "remove=true\n"
		 "protocol_version=1\n");
	ck_assert(s.replace_peers);
	ck_assert_uint_eq(s.n_peers, 2);
	ck_assert(s.peers[0].update_only && !s.peers[0].remove);
	ck_assert(s.peers[0].set_keepalive);
	ck_assert_uint_eq(s.peers[0].keepalive, 65535);
	ck_assert(s.peers[0].replace_allowed_ips);
	ck_assert(s.peers[1].remove && !s.peers[1].update_only);
	ck_assert(s.peers[1].set_keepalive);
	ck_assert_uint_eq(s.peers[1].keepalive, 0);
	ck_assert(!s.peers[1].replace_allowed_ips);
	change_free(&s);
}
END_TEST

/* Two sections for one key stay two entries, in order: the applier must
 * remove and then re-add. */
START_TEST(test_same_key_twice)
{
	struct change s;

	parse_ok(&s, PEER "remove=true\n" PEER "allowed_ip=10.0.0.2/32\n");
	ck_assert_uint_eq(s.n_peers, 2);
	ck_assert(!memcmp(s.peers[0].public_key, s.peers[1].public_key, 32));
	ck_assert(s.peers[0].remove && !s.peers[1].remove);
	ck_assert_uint_eq(s.peers[0].n_allowed_ips, 0);
	ck_assert_uint_eq(s.peers[1].n_allowed_ips, 1);
	change_free(&s);
}
END_TEST

START_TEST(test_endpoints)
{
	struct change s;
	unsigned lo = if_nametoindex("lo");

	parse_ok(&s, PEER "endpoint=0.0.0.0:0\n"
		 PEER "endpoint=255.255.255.255:65535\n"
		 PEER "endpoint=[2001:db8::1]:51820\n"
		 PEER "endpoint=[fe80::1%4294967295]:1\n"
		 PEER "endpoint=[::ffff:192.0.2.1]:80\n"
		 PEER "endpoint=1.2.3.4:1\nendpoint=198.18.0.1:00443\n");
	ck_assert_uint_eq(s.n_peers, 6);
	endpoint_eq(&s.peers[0], AF_INET, "0.0.0.0", 0, 0);
	endpoint_eq(&s.peers[1], AF_INET, "255.255.255.255", 65535, 0);
	endpoint_eq(&s.peers[2], AF_INET6, "2001:db8::1", 51820, 0);
	endpoint_eq(&s.peers[3], AF_INET6, "fe80::1", 1, 4294967295u);
	/* Stored as plain IPv4, as src/sockaddr.h wants peers. */
	endpoint_eq(&s.peers[4], AF_INET, "192.0.2.1", 80, 0);
	endpoint_eq(&s.peers[5], AF_INET, "198.18.0.1", 443, 0);
	change_free(&s);

	/* A scope by name: "lo" is in every network namespace. */
	ck_assert_uint_ne(lo, 0);
	parse_ok(&s, PEER "endpoint=[fe80::2%lo]:51820\n");
	endpoint_eq(&s.peers[0], AF_INET6, "fe80::2", 51820, lo);
	change_free(&s);
}
END_TEST

START_TEST(test_allowed_ips)
{
	struct change s;
	const struct allowed_ip_change *a;

	parse_ok(&s, PEER "allowed_ip=0.0.0.0/0\n"
		 "allowed_ip=10.1.2.3/16\n"
		 "allowed_ip=-10.0.0.0/24\n"
		 "allowed_ip=::/0\n"
		 "allowed_ip=-2001:db8::1/128\n"
		 "allowed_ip=::ffff:1.2.3.4/128\n"
		 "allowed_ip=255.255.255.255/32\n");
	ck_assert_uint_eq(s.peers[0].n_allowed_ips, 7);
	a = s.peers[0].allowed_ips;
	prefix_eq(&a[0], false, "0.0.0.0", 0);
	prefix_eq(&a[1], false, "10.1.2.3", 16); /* host bits kept */
	prefix_eq(&a[2], true, "10.0.0.0", 24);
	prefix_eq(&a[3], false, "::", 0);
	ck_assert_int_eq(a[3].prefix.family, AF_INET6);
	prefix_eq(&a[4], true, "2001:db8::1", 128);
	prefix_eq(&a[5], false, "::ffff:1.2.3.4", 128);
	ck_assert_int_eq(a[5].prefix.family, AF_INET6);
	prefix_eq(&a[6], false, "255.255.255.255", 32);
	ck_assert_int_eq(a[6].prefix.family, AF_INET);
	change_free(&s);
}
END_TEST

/* Line endings: CRLF as Go's scanner takes it, and a last line without
 * its newline. */
START_TEST(test_line_endings)
{
	struct change s;

	parse_ok(&s, "listen_port=5\r\n" PEER "remove=true");
	ck_assert_uint_eq(s.listen_port, 5);
	ck_assert(s.peers[0].remove);
	change_free(&s);
	parse_ok(&s, "fwmark=7\r");
	ck_assert_uint_eq(s.fwmark, 7);
	change_free(&s);
}
END_TEST

struct bad_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int ret;
	const char *err;
};

static const struct bad_case bad[] = {
	/* Numbers. */
	{ "listen_port=65536\n", 0, -EINVAL,
	  "line 1: invalid listen_port `65536' (expected 0-65535)" },
	{ "listen_port=-1\n", 0, -EINVAL,
	  "line 1: invalid listen_port `-1' (expected 0-65535)" },
	{ "listen_port=\n", 0, -EINVAL,
	  "line 1: invalid listen_port `' (expected 0-65535)" },
	{ "listen_port= 1\n", 0, -EINVAL,
	  "line 1: invalid listen_port ` 1' (expected 0-65535)" },
	{ "listen_port=1 \n", 0, -EINVAL,
	  "line 1: invalid listen_port `1 ' (expected 0-65535)" },
	{ "listen_port=+1\n", 0, -EINVAL,
	  "line 1: invalid listen_port `+1' (expected 0-65535)" },
	{ "listen_port=0x10\n", 0, -EINVAL,
	  "line 1: invalid listen_port `0x10' (expected 0-65535)" },
	{ "fwmark=4294967296\n", 0, -EINVAL,
	  "line 1: invalid fwmark `4294967296' (expected 0-4294967295)" },
	{ "fwmark=0x1\n", 0, -EINVAL,
	  "line 1: invalid fwmark `0x1' (expected 0-4294967295)" },
	{ "fwmark=off\n", 0, -EINVAL,
	  "line 1: invalid fwmark `off' (expected 0-4294967295)" },
	{ PEER "persistent_keepalive_interval=65536\n", 0, -EINVAL,
	  "line 2: invalid persistent_keepalive_interval `65536' "
	  "(expected 0-65535)" },
	{ PEER "persistent_keepalive_interval=\n", 0, -EINVAL,
	  "line 2: invalid persistent_keepalive_interval `' "
	  "(expected 0-65535)" },
	/* Booleans: "true" only, as wireguard-go. */
	{ "replace_peers=false\n", 0, -EINVAL,
	  "line 1: invalid replace_peers `false' (expected true)" },
	{ "replace_peers=TRUE\n", 0, -EINVAL,
	  "line 1: invalid replace_peers `TRUE' (expected true)" },
	{ "replace_peers=1\n", 0, -EINVAL,
	  "line 1: invalid replace_peers `1' (expected true)" },
	{ PEER "remove=false\n", 0, -EINVAL,
	  "line 2: invalid remove `false' (expected true)" },
	{ PEER "update_only=\n", 0, -EINVAL,
	  "line 2: invalid update_only `' (expected true)" },
	{ PEER "replace_allowed_ips=yes\n", 0, -EINVAL,
	  "line 2: invalid replace_allowed_ips `yes' (expected true)" },
	/* Keys. */
	{ "private_key=" KEY("1") "\n", 0, -EINVAL,
	  "line 1: invalid private_key `(hidden)' (expected 64 hex digits)" },
	{ "private_key=\n", 0, -EINVAL,
	  "line 1: invalid private_key `(hidden)' (expected 64 hex digits)" },
	{ "public_key=" KEY("11") "1\n", 0, -EINVAL,
	  "line 1: invalid public_key `(hidden)' (expected 64 hex digits)" },
	{ "public_key=" KEY("g1") "\n", 0, -EINVAL,
	  "line 1: invalid public_key `(hidden)' (expected 64 hex digits)" },
	{ "public_key=abc\n", 0, -EINVAL,
	  "line 1: invalid public_key `abc' (expected 64 hex digits)" },
	{ PEER "preshared_key=" KEY(" 1") "\n", 0, -EINVAL,
	  "line 2: invalid preshared_key `(hidden)' "
	  "(expected 64 hex digits)" },
	/* Endpoints: numeric, brackets exactly for IPv6. */
	{ PEER "endpoint=1.2.3.4\n", 0, -EINVAL,
	  "line 2: invalid endpoint `1.2.3.4' "
	  "(expected a.b.c.d:port or [IPv6]:port)" },
	{ PEER "endpoint=1.2.3.4:\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=1.2.3.4:65536\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=1.2.3.4:-1\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=1.2.3.04:80\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=1.2.3:80\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=:80\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=host.example:80\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=::1:80\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=[::1]\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=[::1:80\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=[::1]80\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=[1.2.3.4]:80\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=[fe80::1%]:80\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=[fe80::1%4294967296]:80\n", 0, -EINVAL, NULL },
	{ PEER "endpoint=[fe80::1%nosuchif9]:80\n", 0, -EINVAL,
	  "line 2: invalid endpoint `[fe80::1%nosuchif9]:80' "
	  "(expected a.b.c.d:port or [IPv6]:port)" },
	{ PEER "endpoint=1.2.3.4%1:80\n", 0, -EINVAL, NULL },
	/* Allowed IPs: the cidr is required. */
	{ PEER "allowed_ip=10.0.0.0\n", 0, -EINVAL,
	  "line 2: invalid allowed_ip `10.0.0.0' "
	  "(expected [-]ADDRESS/CIDR)" },
	{ PEER "allowed_ip=10.0.0.0/33\n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=::/129\n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=10.0.0.0/08\n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=10.0.0.0/+8\n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=10.0.0.0/\n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=10.0.0.0/8/8\n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=10.0.0.0/8 \n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=--10.0.0.0/8\n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=-\n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=\n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=fe80::1%1/64\n", 0, -EINVAL, NULL },
	{ PEER "allowed_ip=10.0.0.0/8,10.1.0.0/16\n", 0, -EINVAL, NULL },
	/* protocol_version: its own error code. */
	{ PEER "protocol_version=2\n", 0, -EPROTO,
	  "line 2: unsupported protocol_version `2' (expected 1)" },
	{ PEER "protocol_version=01\n", 0, -EPROTO, NULL },
	{ PEER "protocol_version=\n", 0, -EPROTO, NULL },
	/* Where keys may be. */
	{ "protocol_version=1\n", 0, -EINVAL,
	  "line 1: peer key `protocol_version' before any public_key" },
	{ "endpoint=1.2.3.4:5\n", 0, -EINVAL,
	  "line 1: peer key `endpoint' before any public_key" },
	{ "listen_port=1\nallowed_ip=10.0.0.0/8\n", 0, -EINVAL,
	  "line 2: peer key `allowed_ip' before any public_key" },
	{ PEER "listen_port=1\n", 0, -EINVAL,
	  "line 2: device key `listen_port' after the first public_key" },
	{ PEER "remove=true\n" PEER "private_key=" KEY_ZERO "\n", 0, -EINVAL,
	  "line 4: device key `private_key' after the first public_key" },
	{ PEER "replace_peers=true\n", 0, -EINVAL,
	  "line 2: device key `replace_peers' after the first public_key" },
	/* Unknown and get-only keys, nothing trimmed, case matters. */
	{ "foo=bar\n", 0, -EINVAL, "line 1: unknown key `foo'" },
	{ "Listen_port=1\n", 0, -EINVAL, "line 1: unknown key `Listen_port'" },
	{ "listen_port =1\n", 0, -EINVAL,
	  "line 1: unknown key `listen_port '" },
	{ " listen_port=1\n", 0, -EINVAL,
	  "line 1: unknown key ` listen_port'" },
	{ "=1\n", 0, -EINVAL, "line 1: unknown key `'" },
	{ "set=1\n", 0, -EINVAL, "line 1: unknown key `set'" },
	{ "errno=0\n", 0, -EINVAL,
	  "line 1: `errno' is returned by get=1 and cannot be set" },
	{ PEER "rx_bytes=0\n", 0, -EINVAL,
	  "line 2: `rx_bytes' is returned by get=1 and cannot be set" },
	{ PEER "tx_bytes=0\n", 0, -EINVAL, NULL },
	{ PEER "last_handshake_time_sec=0\n", 0, -EINVAL, NULL },
	{ PEER "last_handshake_time_nsec=0\n", 0, -EINVAL, NULL },
	/* Line structure. */
	{ "listen_port\n", 0, -EINVAL, "line 1: no '=' in `listen_port'" },
	{ "listen_port=1\n\nfwmark=1\n", 0, -EINVAL,
	  "line 2: empty line inside the request" },
	{ "\n", 0, -EINVAL, "line 1: empty line inside the request" },
	{ "\r\n", 0, -EINVAL, "line 1: empty line inside the request" },
	{ "listen_port=1\0\n", 15, -EINVAL, "line 1: NUL byte" },
	{ "listen_port=1\nfwmark=1\0", 23, -EINVAL, "line 2: NUL byte" },
	{ "\0", 1, -EINVAL, "line 1: NUL byte" },
	{ "listen_port=1\r\r\n", 0, -EINVAL,
	  "line 1: invalid listen_port `1\\x0d' (expected 0-65535)" },
	{ "fwmark=\x01\xff\n", 0, -EINVAL,
	  "line 1: invalid fwmark `\\x01\\xff' (expected 0-4294967295)" },
	/* Escaping joins "x01" to the 13 characters after it. */
	{ "fwmark=\x01" "abcdef0123456\n", 0, -EINVAL,
	  "line 1: invalid fwmark `(hidden)' (expected 0-4294967295)" },
	/* Failing late, after peers and allowed IPs were allocated. */
	{ "private_key=" SECRET "\n" PEER "preshared_key=" SECRET "\n"
	  "allowed_ip=10.0.0.0/8\n" PEER "allowed_ip=::/0\n"
	  "endpoint=nowhere\n", 0, -EINVAL, NULL },
};

START_TEST(test_bad)
{
	const struct bad_case *b = &bad[_i];
	size_t len = b->len ? b->len : strlen(b->text);
	struct change s;
	char err[256];
	int ret;

	memset(&s, 0xa5, sizeof(s));
	ret = uapi_parse_set(&s, b->text, len, err, sizeof(err));
	ck_assert_msg(ret == b->ret, "case %d: got %d (%s), want %d", _i,
		      ret, err, b->ret);
	ck_assert_mem_eq(&s, &empty_set, sizeof(s));
	ck_assert_msg(!strncmp(err, "line ", 5), "case %d: %s", _i, err);
	if (b->err)
		ck_assert_str_eq(err, b->err);
	change_free(&s); /* harmless on an empty set */
}
END_TEST

/* No 16-character piece of secret appears in err. */
static void assert_no_secret(const char *err, const char *secret)
{
	char piece[17];

	for (size_t i = 0; i + 16 <= strlen(secret); i++) {
		memcpy(piece, secret + i, 16);
		piece[16] = '\0';
		ck_assert_msg(!strstr(err, piece), "`%s' quotes a secret", err);
	}
}

static const char *const leaky[] = {
	"private_key=" SECRET "\nbogus=1\n",
	"private_key=" SECRET "0\n",
	"private_key=" SECRET "\n" PEER "preshared_key=" SECRET "\n"
	"listen_port=1\n",
	PEER "preshared_key=" SECRET "x\n",
	PEER "preshared_key=" SECRET " \n",
	SECRET "\n",
	SECRET "=1\n",
	"listen_port=" SECRET "\n",
	"private_ke=" SECRET "\n",
	PEER "endpoint=" SECRET "\n",
	PEER "endpoint=[" SECRET "]:1\n",
	PEER "allowed_ip=" SECRET "/1\n",
	PEER "protocol_version=" SECRET "\n",
};

START_TEST(test_secrets_not_in_err)
{
	struct change s;
	char err[512];

	ck_assert_int_ne(parse(&s, leaky[_i], err, sizeof(err)), 0);
	ck_assert_mem_eq(&s, &empty_set, sizeof(s));
	assert_no_secret(err, SECRET);
}
END_TEST

START_TEST(test_error_buffers)
{
	struct change s;
	char err[12];

	memset(&s, 0xa5, sizeof(s));
	ck_assert_int_eq(uapi_parse_set(&s, "foo=1", 5, NULL, 0), -EINVAL);
	ck_assert_mem_eq(&s, &empty_set, sizeof(s));
	ck_assert_int_eq(parse(&s, "foo=1\n", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "line 1: unk");
	ck_assert_int_eq(parse(&s, "foo=1\n", err, 3), -EINVAL);
	ck_assert_str_eq(err, "li");
}
END_TEST

/* A line of "listen_port=000...0080" that is len bytes long. */
static char *port_line(size_t len, const char *end)
{
	char *t = malloc(len + strlen(end) + 1);
	size_t pre = strlen("listen_port=");

	ck_assert_ptr_nonnull(t);
	memcpy(t, "listen_port=", pre);
	memset(t + pre, '0', len - pre - 2);
	memcpy(t + len - 2, "80", 2);
	strcpy(t + len, end);
	return t;
}

START_TEST(test_long_lines)
{
	struct change s;
	char err[256];
	char *t;

	t = port_line(UAPI_MAX_LINE, "\n");
	parse_ok(&s, t);
	ck_assert_uint_eq(s.listen_port, 80);
	change_free(&s);
	free(t);

	t = port_line(UAPI_MAX_LINE, "");
	parse_ok(&s, t);
	change_free(&s);
	free(t);

	/* A '\r' counts: it is part of the line until the '\n'. */
	t = port_line(UAPI_MAX_LINE, "\r\n");
	ck_assert_int_eq(parse(&s, t, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "line 1: longer than 4096 bytes");
	free(t);

	t = port_line(UAPI_MAX_LINE + 1, "\nfwmark=1\n");
	ck_assert_int_eq(parse(&s, t, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "line 1: longer than 4096 bytes");
	ck_assert_mem_eq(&s, &empty_set, sizeof(s));
	free(t);
}
END_TEST

/* Enough peers and prefixes to grow every array many times. */
START_TEST(test_many_peers)
{
	enum { PEERS = 1000, IPS = 5 };
	char *text = NULL, hex[WG_KEY_HEX_LEN + 1];
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	struct change s;
	uint8_t key[32];

	ck_assert_ptr_nonnull(f);
	fprintf(f, "replace_peers=true\n");
	for (unsigned i = 0; i < PEERS; i++) {
		memset(key, 0, sizeof(key));
		memcpy(key, &i, sizeof(i));
		key_to_hex(hex, key);
		fprintf(f, "public_key=%s\npreshared_key=%s\n", hex, hex);
		for (unsigned j = 0; j < IPS; j++)
			fprintf(f, "allowed_ip=10.%u.%u.%u/32\n", i >> 8,
				i & 255, j);
	}
	ck_assert_int_eq(fclose(f), 0);

	parse_ok(&s, text);
	ck_assert_uint_eq(s.n_peers, PEERS);
	for (unsigned i = 0; i < PEERS; i++) {
		const struct peer_change *p = &s.peers[i];
		unsigned got;

		memcpy(&got, p->public_key, sizeof(got));
		ck_assert_uint_eq(got, i);
		ck_assert(!memcmp(p->psk, p->public_key, 32));
		ck_assert_uint_eq(p->n_allowed_ips, IPS);
		ck_assert_uint_eq(p->allowed_ips[IPS - 1].prefix.addr[3],
				  IPS - 1);
		ck_assert_uint_eq(p->allowed_ips[0].prefix.addr[2], i & 255);
	}
	change_free(&s);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uapi_parse");
	TCase *good = tcase_create("good");
	TCase *bad_tc = tcase_create("bad");

	if (crypto_init())
		return EXIT_FAILURE;
	tcase_add_test(good, test_full);
	tcase_add_test(good, test_empty);
	tcase_add_test(good, test_device_values);
	tcase_add_test(good, test_keys);
	tcase_add_test(good, test_peer_flags);
	tcase_add_test(good, test_same_key_twice);
	tcase_add_test(good, test_endpoints);
	tcase_add_test(good, test_allowed_ips);
	tcase_add_test(good, test_line_endings);
	tcase_add_test(good, test_many_peers);
	tcase_add_loop_test(bad_tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_loop_test(bad_tc, test_secrets_not_in_err, 0,
			    sizeof(leaky) / sizeof(leaky[0]));
	tcase_add_test(bad_tc, test_error_buffers);
	tcase_add_test(bad_tc, test_long_lines);
	suite_add_tcase(s, good);
	suite_add_tcase(s, bad_tc);
	return run_suite(s);
}
