/* The configuration parser: every key and its value forms, the wg-quick
 * syntax rules (case, comments, lists), a table of broken files with the
 * line and message each must give, file loading and its warnings, and the
 * helpers (interface name, masked prefixes, numeric endpoint resolution).
 * Leaks on the error paths are caught by running this under ASan/LSan. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "src/config.h"
#include "tests/unit/check_main.h"

/* RFC 7748 section 6.1: Alice's key pair and Bob's public key. */
#define ALICE_PRIV "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define ALICE_PUB "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define BOB_PUB "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define KEY_11 "ERERERERERERERERERERERERERERERERERERERERERE="
#define KEY_22 "IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI="
#define KEY_31_BYTES "EREREREREREREREREREREREREREREREREREREREREQ=="
#define KEY_ZERO "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* Lines 1-2 and the first lines of a peer. */
#define IFACE "[Interface]\nPrivateKey = " ALICE_PRIV "\n"
#define PEER "[Peer]\nPublicKey = " BOB_PUB "\n"

static const char full_conf[] =
	"# ringvpn test configuration\n"				/* 1 */
	"[Interface]\n"							/* 2 */
	"PrivateKey = " ALICE_PRIV "\n"					/* 3 */
	"ListenPort = 51820\n"						/* 4 */
	"FwMark = 0x1234\n"						/* 5 */
	"Address = 10.0.0.1/24, fd00::1/64\n"				/* 6 */
	"Address = 10.0.1.1\n"						/* 7 */
	"MTU = 1420\n"							/* 8 */
	"Table = 1234\n"						/* 9 */
	"DNS = 1.1.1.1, 2606:4700:4700::1111, example.com\n"		/* 10 */
	"DNS = corp.example\n"						/* 11 */
	"PreUp = echo pre-up 1\n"					/* 12 */
	"PreUp = echo pre, up, 2\n"					/* 13 */
	"PostUp = iptables -A FORWARD -i %i -j ACCEPT\n"		/* 14 */
	"PreDown = echo pre-down\n"					/* 15 */
	"PostDown = echo post-down # this part is a comment\n"		/* 16 */
	"SaveConfig = true\n"						/* 17 */
	"Threads = 8\n"							/* 18 */
	"\n"								/* 19 */
	"[Peer]\n"							/* 20 */
	"PublicKey = " BOB_PUB "\n"					/* 21 */
	"PresharedKey = " KEY_11 "\n"					/* 22 */
	"AllowedIPs = 10.0.0.2/32, 10.1.2.3/16\n"			/* 23 */
	"AllowedIPs = fd00::2/128\n"					/* 24 */
	"Endpoint = vpn.example.com:51820\n"				/* 25 */
	"PersistentKeepalive = 25\n"					/* 26 */
	"\n"								/* 27 */
	"[Peer]\n"							/* 28 */
	"PublicKey = " KEY_22 "\n"					/* 29 */
	"AllowedIPs = 0.0.0.0/0, ::/0\n"				/* 30 */
	"Endpoint = [2001:db8::1]:443\n";				/* 31 */

static void key_eq(const uint8_t *key, const char *b64)
{
	char text[WG_KEY_B64_LEN + 1];

	key_to_base64(text, key);
	ck_assert_str_eq(text, b64);
}

static void prefix_eq(const struct prefix *p, const char *addr,
		      unsigned cidr)
{
	char text[INET6_ADDRSTRLEN];

	ck_assert_ptr_nonnull(inet_ntop(p->family, p->addr, text,
					sizeof(text)));
	ck_assert_str_eq(text, addr);
	ck_assert_uint_eq(p->cidr, cidr);
}

static int parse(struct config *c, const char *text, char *err,
		 size_t err_len)
{
	return config_parse(c, "wg0.conf", text, strlen(text), err, err_len);
}

START_TEST(test_full)
{
	struct config c;
	char err[256];
	const struct config_peer *p;

	ck_assert_int_eq(parse(&c, full_conf, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	key_eq(c.private_key, ALICE_PRIV);
	key_eq(c.public_key, ALICE_PUB);
	ck_assert(c.has_listen_port);
	ck_assert_uint_eq(c.listen_port, 51820);
	ck_assert_uint_eq(c.fwmark, 0x1234);
	ck_assert_uint_eq(c.n_addresses, 3);
	prefix_eq(&c.addresses[0], "10.0.0.1", 24);
	ck_assert_int_eq(c.addresses[0].family, AF_INET);
	prefix_eq(&c.addresses[1], "fd00::1", 64);
	ck_assert_int_eq(c.addresses[1].family, AF_INET6);
	prefix_eq(&c.addresses[2], "10.0.1.1", 32);
	ck_assert_uint_eq(c.mtu, 1420);
	ck_assert_int_eq(c.table, CONFIG_TABLE_ID);
	ck_assert_uint_eq(c.table_id, 1234);
	ck_assert_uint_eq(c.dns.n, 2);
	ck_assert_str_eq(c.dns.v[0], "1.1.1.1");
	ck_assert_str_eq(c.dns.v[1], "2606:4700:4700::1111");
	ck_assert_uint_eq(c.dns_search.n, 2);
	ck_assert_str_eq(c.dns_search.v[0], "example.com");
	ck_assert_str_eq(c.dns_search.v[1], "corp.example");
	ck_assert_uint_eq(c.pre_up.n, 2);
	ck_assert_str_eq(c.pre_up.v[0], "echo pre-up 1");
	ck_assert_str_eq(c.pre_up.v[1], "echo pre, up, 2");
	ck_assert_uint_eq(c.post_up.n, 1);
	ck_assert_str_eq(c.post_up.v[0],
			 "iptables -A FORWARD -i %i -j ACCEPT");
	ck_assert_uint_eq(c.pre_down.n, 1);
	ck_assert_str_eq(c.pre_down.v[0], "echo pre-down");
	ck_assert_uint_eq(c.post_down.n, 1);
	ck_assert_str_eq(c.post_down.v[0], "echo post-down");
	ck_assert(c.save_config);
	ck_assert_uint_eq(c.threads, 8);
	ck_assert_uint_eq(c.warnings.n, 0);
	/* Where SaveConfig rewrites: the blank line 19 is the gap. */
	ck_assert_uint_eq(c.layout.interface_line, 2);
	ck_assert_uint_eq(c.layout.interface_end, 19);
	ck_assert_uint_eq(c.layout.device_lines[0], 3);
	ck_assert_uint_eq(c.layout.device_lines[1], 4);
	ck_assert_uint_eq(c.layout.device_lines[2], 5);
	ck_assert_uint_eq(c.n_peers, 2);

	p = &c.peers[0];
	ck_assert_uint_eq(p->line, 20);
	key_eq(p->public_key, BOB_PUB);
	ck_assert(p->has_psk);
	key_eq(p->psk, KEY_11);
	ck_assert_uint_eq(p->n_allowed_ips, 3);
	prefix_eq(&p->allowed_ips[0], "10.0.0.2", 32);
	/* kept as written: host bits included */
	prefix_eq(&p->allowed_ips[1], "10.1.2.3", 16);
	prefix_eq(&p->allowed_ips[2], "fd00::2", 128);
	ck_assert_str_eq(p->endpoint_host, "vpn.example.com");
	ck_assert_str_eq(p->endpoint_port, "51820");
	ck_assert_uint_eq(p->persistent_keepalive, 25);

	p = &c.peers[1];
	ck_assert_uint_eq(p->line, 28);
	key_eq(p->public_key, KEY_22);
	ck_assert(!p->has_psk);
	ck_assert_uint_eq(p->n_allowed_ips, 2);
	prefix_eq(&p->allowed_ips[0], "0.0.0.0", 0);
	prefix_eq(&p->allowed_ips[1], "::", 0);
	ck_assert_str_eq(p->endpoint_host, "2001:db8::1");
	ck_assert_str_eq(p->endpoint_port, "443");
	ck_assert_uint_eq(p->persistent_keepalive, 0);

	config_free(&c);
	ck_assert_ptr_null(c.peers);
	ck_assert_uint_eq(c.n_peers, 0);
	ck_assert(key_is_zero(c.private_key));
	/* twice is harmless */
	config_free(&c);
}
END_TEST

START_TEST(test_defaults)
{
	struct config c;
	char err[256];

	ck_assert_int_eq(parse(&c, IFACE, err, sizeof(err)), 0);
	ck_assert(!c.has_listen_port);
	ck_assert_uint_eq(c.fwmark, 0);
	ck_assert_uint_eq(c.n_addresses, 0);
	ck_assert_uint_eq(c.mtu, 0);
	ck_assert_int_eq(c.table, CONFIG_TABLE_AUTO);
	ck_assert_uint_eq(c.dns.n + c.dns_search.n, 0);
	ck_assert(!c.save_config);
	ck_assert_uint_eq(c.threads, 0);
	ck_assert(!c.kill_switch);
	ck_assert_uint_eq(c.n_peers, 0);
	config_free(&c);
	ck_assert_int_eq(parse(&c, IFACE "killswitch = On\n", err,
			       sizeof(err)), 0);
	ck_assert(c.kill_switch);
	config_free(&c);
	ck_assert_int_eq(parse(&c, IFACE "KillSwitch = off\n", err,
			       sizeof(err)), 0);
	ck_assert(!c.kill_switch);
	config_free(&c);
}
END_TEST

START_TEST(test_case_insensitive)
{
	static const char text[] =
		"[iNtErFaCe]\n"
		"privatekey = " ALICE_PRIV "\n"
		"LISTENPORT=1\n"
		"fwmark = OFF\n"
		"table = OFF\n"
		"saveconfig = False\n"
		"[ peer ]\n"
		"PUBLICKEY =" BOB_PUB "\n"
		"allowedips=10.0.0.0/8\n"
		"persistentkeepalive = Off\n";
	struct config c;
	char err[256];

	ck_assert_int_eq(parse(&c, text, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.listen_port, 1);
	ck_assert_uint_eq(c.fwmark, 0);
	ck_assert_int_eq(c.table, CONFIG_TABLE_OFF);
	ck_assert(!c.save_config);
	ck_assert_uint_eq(c.n_peers, 1);
	key_eq(c.peers[0].public_key, BOB_PUB);
	ck_assert_uint_eq(c.peers[0].n_allowed_ips, 1);
	ck_assert_uint_eq(c.peers[0].persistent_keepalive, 0);
	config_free(&c);
}
END_TEST

START_TEST(test_comments_and_blanks)
{
	static const char text[] =
		"\xef\xbb\xbf# byte order mark, then a comment\r\n"
		"   \t\r\n"
		"[Interface] # the interface\r\n"
		"  PrivateKey\t=\t" ALICE_PRIV "   # our key\r\n"
		"#ListenPort = 1\r\n"
		"ListenPort = 2#no space before the comment\r\n"
		"\r\n"
		"[Peer]#peer\r\n"
		"PublicKey = " BOB_PUB "\r\n"
		"AllowedIPs = # nothing yet\r\n"
		"# last line without a newline";
	struct config c;
	char err[256];

	ck_assert_int_eq(parse(&c, text, err, sizeof(err)), 0);
	key_eq(c.private_key, ALICE_PRIV);
	ck_assert_uint_eq(c.listen_port, 2);
	ck_assert_uint_eq(c.n_peers, 1);
	ck_assert_uint_eq(c.peers[0].line, 8);
	ck_assert_uint_eq(c.peers[0].n_allowed_ips, 0);
	config_free(&c);
}
END_TEST

START_TEST(test_lists)
{
	static const char text[] =
		IFACE
		"Address = 10.0.0.1/8 ,fd00::1 , 192.168.1.1/32\n"
		"Address=10.9.9.9/0\n"
		"Address =\n"
		"DNS = 10.0.0.53,fd00::53\n"
		"DNS = a.example, b-c.example_d\n"
		PEER
		"AllowedIPs = 10.0.0.0/24\n"
		"AllowedIPs = 10.0.1.0/24 , 10.0.2.0/24\n"
		"AllowedIPs=fd00::/64,fd01::/64\n";
	struct config c;
	char err[256];
	const struct config_peer *p;

	ck_assert_int_eq(parse(&c, text, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n_addresses, 4);
	prefix_eq(&c.addresses[0], "10.0.0.1", 8);
	prefix_eq(&c.addresses[1], "fd00::1", 128);
	prefix_eq(&c.addresses[2], "192.168.1.1", 32);
	prefix_eq(&c.addresses[3], "10.9.9.9", 0);
	ck_assert_uint_eq(c.dns.n, 2);
	ck_assert_str_eq(c.dns.v[0], "10.0.0.53");
	ck_assert_str_eq(c.dns.v[1], "fd00::53");
	ck_assert_uint_eq(c.dns_search.n, 2);
	ck_assert_str_eq(c.dns_search.v[0], "a.example");
	ck_assert_str_eq(c.dns_search.v[1], "b-c.example_d");
	p = &c.peers[0];
	ck_assert_uint_eq(p->n_allowed_ips, 5);
	prefix_eq(&p->allowed_ips[0], "10.0.0.0", 24);
	prefix_eq(&p->allowed_ips[1], "10.0.1.0", 24);
	prefix_eq(&p->allowed_ips[2], "10.0.2.0", 24);
	prefix_eq(&p->allowed_ips[3], "fd00::", 64);
	prefix_eq(&p->allowed_ips[4], "fd01::", 64);
	config_free(&c);
}
END_TEST

static const struct {
	const char *endpoint;
	const char *host;
	const char *port;
} good_endpoints[] = {
	{ "1.2.3.4:51820", "1.2.3.4", "51820" },
	{ "[::1]:1", "::1", "1" },
	{ "[2001:db8::1:2]:65535", "2001:db8::1:2", "65535" },
	{ "[fe80::1%eth0]:51820", "fe80::1%eth0", "51820" },
	{ "[::ffff:1.2.3.4]:53", "::ffff:1.2.3.4", "53" },
	{ "vpn.example.com:443", "vpn.example.com", "443" },
	{ "localhost:7", "localhost", "7" },
	{ "h:0051820", "h", "51820" },
};

START_TEST(test_endpoints)
{
	char text[512], err[256];
	struct config c;

	snprintf(text, sizeof(text), IFACE PEER "Endpoint = %s\n",
		 good_endpoints[_i].endpoint);
	ck_assert_msg(parse(&c, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.peers[0].endpoint_host, good_endpoints[_i].host);
	ck_assert_str_eq(c.peers[0].endpoint_port, good_endpoints[_i].port);
	config_free(&c);
}
END_TEST

static const struct {
	const char *value;
	uint32_t fwmark;
} fwmarks[] = {
	{ "0", 0 }, { "off", 0 }, { "1", 1 }, { "0x0", 0 },
	{ "0xff", 255 }, { "0XaBc", 0xabc }, { "4294967295", 0xffffffff },
	{ "0xffffffff", 0xffffffff }, { "051820", 51820 },
};

START_TEST(test_fwmark)
{
	char text[512], err[256];
	struct config c;

	snprintf(text, sizeof(text), IFACE "FwMark = %s\n",
		 fwmarks[_i].value);
	ck_assert_msg(parse(&c, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.fwmark, fwmarks[_i].fwmark);
	config_free(&c);
}
END_TEST

static const struct {
	const char *value;
	enum config_table table;
	uint32_t id;
} tables[] = {
	{ "auto", CONFIG_TABLE_AUTO, 0 },
	{ "Auto", CONFIG_TABLE_AUTO, 0 },
	{ "off", CONFIG_TABLE_OFF, 0 },
	{ "main", CONFIG_TABLE_ID, 254 },
	{ "MAIN", CONFIG_TABLE_ID, 254 },
	{ "local", CONFIG_TABLE_ID, 255 },
	{ "default", CONFIG_TABLE_ID, 253 },
	{ "1", CONFIG_TABLE_ID, 1 },
	{ "51820", CONFIG_TABLE_ID, 51820 },
	{ "4294967295", CONFIG_TABLE_ID, 4294967295u },
};

START_TEST(test_table)
{
	char text[512], err[256];
	struct config c;

	snprintf(text, sizeof(text), IFACE "Table = %s\n", tables[_i].value);
	ck_assert_msg(parse(&c, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.table, tables[_i].table);
	ck_assert_uint_eq(c.table_id, tables[_i].id);
	config_free(&c);
}
END_TEST

START_TEST(test_value_limits)
{
	static const char text[] =
		IFACE
		"ListenPort = 0\n"
		"MTU = 576\n"
		"Threads = 256\n"
		PEER
		"PresharedKey = " KEY_ZERO "\n"
		"PersistentKeepalive = 65535\n"
		"[Peer]\n"
		"PublicKey = " KEY_22 "\n"
		"PersistentKeepalive = 0\n"
		"Endpoint = h:65535\n";
	struct config c;
	char err[256];

	ck_assert_msg(parse(&c, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert(c.has_listen_port);
	ck_assert_uint_eq(c.listen_port, 0);
	ck_assert_uint_eq(c.mtu, 576);
	ck_assert_uint_eq(c.threads, 256);
	/* an all-zero preshared key is no preshared key, as in wg */
	ck_assert(!c.peers[0].has_psk);
	ck_assert_uint_eq(c.peers[0].persistent_keepalive, 65535);
	ck_assert_uint_eq(c.peers[1].persistent_keepalive, 0);
	config_free(&c);
}
END_TEST

/* ServiceAddress: host addresses of both families, /32 and /128
 * written or not, listed and repeated; SessionTable: its limits around
 * the reserved 253-255; FleetRecovery on, in any case. */
START_TEST(test_fleet_keys)
{
	static const char text[] =
		IFACE
		"ServiceAddress = 198.18.7.1, 2001:db8:7::1/128\n"
		"serviceaddress = 198.18.7.2/32\n"
		"SessionTable = 252\n"
		"fleetrecovery = On\n";
	struct config c;
	char err[256];

	ck_assert_msg(parse(&c, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.n_service_addresses, 3);
	ck_assert_int_eq(c.service_addresses[0].family, AF_INET);
	prefix_eq(&c.service_addresses[0], "198.18.7.1", 32);
	ck_assert_int_eq(c.service_addresses[1].family, AF_INET6);
	prefix_eq(&c.service_addresses[1], "2001:db8:7::1", 128);
	prefix_eq(&c.service_addresses[2], "198.18.7.2", 32);
	ck_assert_uint_eq(c.session_table, 252);
	ck_assert(c.fleet_recovery);
	/* neither is an Address: nothing else routes or names them */
	ck_assert_uint_eq(c.n_addresses, 0);
	ck_assert_int_eq(c.table, CONFIG_TABLE_AUTO);
	config_free(&c);
}
END_TEST

static const struct {
	const char *value;
	uint32_t table;
} session_tables[] = {
	{ "1", 1 }, { "252", 252 }, { "256", 256 }, { "51821", 51821 },
	{ "4294967295", 4294967295u },
};

START_TEST(test_session_table)
{
	char text[512], err[256];
	struct config c;

	snprintf(text, sizeof(text), IFACE "SessionTable = %s\n",
		 session_tables[_i].value);
	ck_assert_msg(parse(&c, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.session_table, session_tables[_i].table);
	ck_assert_uint_eq(c.n_service_addresses, 0);
	config_free(&c);
}
END_TEST

START_TEST(test_fleet_defaults)
{
	struct config c;
	char err[256];

	ck_assert_msg(parse(&c, IFACE, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.session_table, 0);
	ck_assert_uint_eq(c.n_service_addresses, 0);
	ck_assert_ptr_null(c.service_addresses);
	ck_assert(!c.fleet_recovery);
	config_free(&c);
	ck_assert_msg(parse(&c, IFACE "FleetRecovery = off\n", err,
			    sizeof(err)) == 0, "%s", err);
	ck_assert(!c.fleet_recovery);
	config_free(&c);
}
END_TEST

/* A broken file: the line the error must name and part of its message. */
struct bad_conf {
	const char *text;
	size_t len; /* 0: strlen(text) */
	unsigned line;
	const char *msg;
};

static const struct bad_conf bad[] = {
	{ IFACE "Foo = 1\n", 0, 3, "unknown key `Foo' (expected one of" },
	{ "[Interface]\nPrivateKey = abc\n", 0, 2,
	  "invalid PrivateKey `(hidden)'" },
	{ IFACE "[Peer]\nPublicKey = " KEY_31_BYTES "\n", 0, 4,
	  "invalid PublicKey `" KEY_31_BYTES "'" },
	{ IFACE "ListenPort = 70000\n", 0, 3,
	  "invalid ListenPort `70000' (expected 0-65535)" },
	{ IFACE "ListenPort = -1\n", 0, 3, "invalid ListenPort `-1'" },
	{ IFACE "ListenPort = 1 2\n", 0, 3, "invalid ListenPort `1 2'" },
	{ IFACE "FwMark = junk\n", 0, 3, "invalid FwMark `junk'" },
	{ IFACE "FwMark = 0x\n", 0, 3, "invalid FwMark `0x'" },
	{ IFACE "FwMark = 0x100000000\n", 0, 3, "invalid FwMark" },
	{ IFACE "Address = 10.0.0.1/33\n", 0, 3,
	  "invalid Address `10.0.0.1/33'" },
	{ IFACE "Address = ::1/129\n", 0, 3, "invalid Address `::1/129'" },
	{ IFACE "Address = junk\n", 0, 3, "invalid Address `junk'" },
	{ IFACE "Address = 10.0.0.1/\n", 0, 3, "invalid Address `10.0.0.1/'" },
	{ IFACE "Address = 10.0.0.1,,10.0.0.2\n", 0, 3,
	  "invalid Address `'" },
	{ IFACE "Address = 10.0.0.256\n", 0, 3, "invalid Address" },
	{ IFACE "MTU = 0\n", 0, 3, "invalid MTU `0' (expected 576-65535)" },
	{ IFACE "MTU = abc\n", 0, 3, "invalid MTU `abc'" },
	{ IFACE "MTU = 65536\n", 0, 3, "invalid MTU `65536'" },
	{ IFACE "MTU = 575\n", 0, 3, "invalid MTU `575'" },
	{ IFACE "ListenPort = 65536\n", 0, 3, "invalid ListenPort `65536'" },
	{ IFACE "Threads = 257\n", 0, 3, "invalid Threads `257'" },
	{ IFACE "Table = junk\n", 0, 3, "invalid Table `junk'" },
	{ IFACE "Table = 0\n", 0, 3, "invalid Table `0'" },
	{ IFACE "Table = 4294967296\n", 0, 3, "invalid Table" },
	{ IFACE "DNS = 1.2.3\n", 0, 3, "invalid DNS `1.2.3'" },
	{ IFACE "DNS = fd00::1::2\n", 0, 3, "invalid DNS `fd00::1::2'" },
	{ IFACE "DNS = bad domain\n", 0, 3, "invalid DNS `bad domain'" },
	{ IFACE "SaveConfig = yes\n", 0, 3, "invalid SaveConfig `yes'" },
	{ IFACE "Threads = 0\n", 0, 3, "invalid Threads `0' (expected 1-256)" },
	{ IFACE "KillSwitch = yes\n", 0, 3,
	  "invalid KillSwitch `yes' (expected on or off)" },
	{ IFACE "KillSwitch = on\nKillSwitch = off\n", 0, 4, "KillSwitch" },
	{ IFACE "Threads = 1000\n", 0, 3, "invalid Threads `1000'" },
	{ IFACE "ServiceAddress = 10.0.0.0/24\n", 0, 3,
	  "invalid ServiceAddress `10.0.0.0/24' (expected IPv4 host "
	  "addresses (optional /32) or IPv6 (optional /128))" },
	{ IFACE "ServiceAddress = 198.18.7.1/31\n", 0, 3,
	  "invalid ServiceAddress `198.18.7.1/31'" },
	{ IFACE "ServiceAddress = 2001:db8::1/64\n", 0, 3,
	  "invalid ServiceAddress `2001:db8::1/64'" },
	{ IFACE "ServiceAddress = 2001:db8::1/129\n", 0, 3,
	  "invalid ServiceAddress `2001:db8::1/129'" },
	{ IFACE "ServiceAddress = 198.18.7.1, vpn.example\n", 0, 3,
	  "invalid ServiceAddress `vpn.example'" },
	{ IFACE "ServiceAddress = 198.18.7.1/0\n", 0, 3,
	  "invalid ServiceAddress `198.18.7.1/0'" },
	{ IFACE PEER "ServiceAddress = 198.18.7.1\n", 0, 5,
	  "misplaced key `ServiceAddress'" },
	{ IFACE "SessionTable = 254\n", 0, 3,
	  "invalid SessionTable `254' (expected a routing table number "
	  "1-4294967295 but 253-255 (default, main, local))" },
	{ IFACE "SessionTable = 253\n", 0, 3, "invalid SessionTable `253'" },
	{ IFACE "SessionTable = 255\n", 0, 3, "invalid SessionTable `255'" },
	{ IFACE "SessionTable = 0\n", 0, 3, "invalid SessionTable `0'" },
	{ IFACE "SessionTable = main\n", 0, 3,
	  "invalid SessionTable `main'" },
	{ IFACE "SessionTable = 4294967296\n", 0, 3,
	  "invalid SessionTable `4294967296'" },
	{ IFACE "SessionTable = -5\n", 0, 3, "invalid SessionTable `-5'" },
	{ IFACE "SessionTable = 7\nSessionTable = 8\n", 0, 4,
	  "duplicate SessionTable `8'" },
	{ IFACE "Address = 198.18.7.1/24\nServiceAddress = 198.18.7.1\n",
	  0, 4, "invalid ServiceAddress `198.18.7.1' (expected an address "
	  "not in Address)" },
	{ IFACE "ServiceAddress = 2001:db8::1\nAddress = 2001:db8::1/64\n",
	  0, 4, "invalid Address `2001:db8::1/64' (expected an address not "
	  "in ServiceAddress)" },
	{ IFACE "Table = 100\nSessionTable = 100\n", 0, 4,
	  "invalid SessionTable `100' (expected another table than "
	  "Table's)" },
	{ IFACE "SessionTable = 100\nTable = 100\n", 0, 4,
	  "invalid Table `100' (expected another table than "
	  "SessionTable's)" },
	{ IFACE "FleetRecovery = yes\n", 0, 3,
	  "invalid FleetRecovery `yes' (expected on or off)" },
	{ IFACE "FleetRecovery = \n", 0, 3, "FleetRecovery" },
	{ IFACE "FleetRecovery = on\nFleetRecovery = on\n", 0, 4,
	  "FleetRecovery" },
	{ IFACE PEER "FleetRecovery = on\n", 0, 5,
	  "misplaced key `FleetRecovery'" },
	{ IFACE PEER "AllowedIPs = 10.0.0.0/40\n", 0, 5,
	  "invalid AllowedIPs `10.0.0.0/40'" },
	{ IFACE PEER "AllowedIPs = 10.0.0.0/8 10.1.0.0/16\n", 0, 5,
	  "invalid AllowedIPs" },
	{ IFACE PEER "Endpoint = 1.2.3.4\n", 0, 5,
	  "invalid Endpoint `1.2.3.4' (expected host:port" },
	{ IFACE PEER "Endpoint = vpn.example.com:\n", 0, 5,
	  "invalid Endpoint `vpn.example.com:'" },
	{ IFACE PEER "Endpoint = [::1:51820\n", 0, 5,
	  "invalid Endpoint `[::1:51820'" },
	{ IFACE PEER "Endpoint = [::1]51820\n", 0, 5, "invalid Endpoint" },
	{ IFACE PEER "Endpoint = [1.2.3.4]:1\n", 0, 5, "invalid Endpoint" },
	{ IFACE PEER "Endpoint = ::1:51820\n", 0, 5,
	  "invalid Endpoint `::1:51820'" },
	{ IFACE PEER "Endpoint = 1.2.3.4:0\n", 0, 5,
	  "invalid Endpoint `1.2.3.4:0'" },
	{ IFACE PEER "Endpoint = 1.2.3.4:99999\n", 0, 5,
	  "invalid Endpoint `1.2.3.4:99999'" },
	{ IFACE PEER "Endpoint = :51820\n", 0, 5, "invalid Endpoint" },
	{ IFACE PEER "Endpoint = bad host:1\n", 0, 5, "invalid Endpoint" },
	{ IFACE PEER "PersistentKeepalive = 70000\n", 0, 5,
	  "invalid PersistentKeepalive `70000' (expected off or 0-65535" },
	{ IFACE PEER "PersistentKeepalive = 65536\n", 0, 5,
	  "invalid PersistentKeepalive `65536'" },
	{ IFACE PEER "Endpoint = h:65536\n", 0, 5,
	  "invalid Endpoint `h:65536'" },
	{ IFACE PEER "PresharedKey = " KEY_31_BYTES "\n", 0, 5,
	  "invalid PresharedKey `(hidden)'" },
	{ IFACE PEER "\n" PEER, 0, 6, "duplicate peer `" BOB_PUB
	  "' (expected each PublicKey once; it is already on line 3)" },
	{ "[Interface]\nListenPort = 1\n", 0, 1,
	  "missing PrivateKey in `[Interface]'" },
	{ IFACE "[Peer]\nAllowedIPs = 10.0.0.0/8\n" PEER, 0, 3,
	  "missing PublicKey in `[Peer]'" },
	{ IFACE "[Peer]\n", 0, 3, "missing PublicKey" },
	{ "ListenPort = 1\n" IFACE, 0, 1,
	  "key outside any section `ListenPort'" },
	{ IFACE "[Foo]\n", 0, 3, "unknown section `[Foo]'" },
	{ IFACE "[ Foo\t]\n", 0, 3, "unknown section `[ Foo\\x09]'" },
	{ IFACE "[]\n", 0, 3, "unknown section `[]'" },
	{ IFACE "[Inter face]\n", 0, 3, "unknown section" },
	{ IFACE "[Peer] junk\n", 0, 3, "malformed section header" },
	{ IFACE "[Peer\n", 0, 3, "malformed section header `[Peer'" },
	{ IFACE "[Interface]\n", 0, 3,
	  "second section `[Interface]' (expected only one; the first is on "
	  "line 1)" },
	{ IFACE "ListenPort 1\n", 0, 3, "malformed line `ListenPort 1'" },
	{ IFACE " = 1\n", 0, 3, "malformed line" },
	{ IFACE "ListenPort = 1\0\n", sizeof(IFACE "ListenPort = 1\0\n") - 1,
	  3, "stray NUL byte" },
	{ IFACE "[Peer]\nPublicKey = " ALICE_PUB "\n", 0, 3,
	  "peer with our own key `" ALICE_PUB "'" },
	{ IFACE "ListenPort = 1\nListenPort = 2\n", 0, 4,
	  "duplicate ListenPort `2' (expected it once per section; it is "
	  "already on line 3)" },
	{ IFACE "privatekey = " KEY_11 "\n", 0, 3,
	  "duplicate PrivateKey `(hidden)'" },
	{ IFACE PEER "Endpoint = a:1\nEndpoint = b:2\n", 0, 6,
	  "duplicate Endpoint `b:2'" },
	{ IFACE "Endpoint = 1.2.3.4:1\n", 0, 3,
	  "misplaced key `Endpoint' (expected it in [Peer], not in "
	  "[Interface])" },
	{ IFACE PEER "MTU = 1420\n", 0, 5, "misplaced key `MTU'" },
	{ "[Peer]\nPublicKey = " BOB_PUB "\n", 0, 2,
	  "missing section `[Interface]'" },
	{ "", 0, 1, "missing section `[Interface]'" },
	{ "[Interface]\nPrivateKey = " KEY_ZERO "\n", 0, 2,
	  "invalid PrivateKey `(hidden)' (expected a key that is not all "
	  "zero" },
	{ IFACE PEER "[Peer]\nPublicKey = " KEY_ZERO "\n", 0, 6,
	  "invalid PublicKey" },
	/* a key pasted on a line of its own must not be echoed */
	{ IFACE KEY_11 "\n", 0, 3, "unknown key `(hidden)'" },
	{ IFACE "PrivateKey " ALICE_PRIV "\n", 0, 3, "unknown key `(hidden)'" },
	{ IFACE "PostUp = echo " KEY_11 "\n[Foo]\n", 0, 4,
	  "unknown section `[Foo]'" },
	/* odd bytes are escaped in the message */
	{ IFACE "K\x01\xff = 1\n", 0, 3, "unknown key `K\\x01\\xff'" },
};

START_TEST(test_bad)
{
	const struct bad_conf *b = &bad[_i];
	size_t len = b->len ? b->len : strlen(b->text);
	char err[512], want[64];
	struct config c;
	int ret;

	memset(&c, 0xa5, sizeof(c));
	ret = config_parse(&c, "wg0.conf", b->text, len, err, sizeof(err));
	ck_assert_msg(ret == -EINVAL, "case %d: returned %d", _i, ret);
	snprintf(want, sizeof(want), "wg0.conf:%u: ", b->line);
	ck_assert_msg(!strncmp(err, want, strlen(want)),
		      "case %d: wanted line %u: %s", _i, b->line, err);
	ck_assert_msg(strstr(err, b->msg), "case %d: wanted \"%s\" in \"%s\"",
		      _i, b->msg, err);
	/* secrets never reach a message */
	ck_assert_msg(!strstr(err, ALICE_PRIV) && !strstr(err, KEY_11),
		      "case %d: %s", _i, err);
	/* a failed parse leaves nothing behind */
	ck_assert(key_is_zero(c.private_key));
	ck_assert_ptr_null(c.peers);
	ck_assert_ptr_null(c.addresses);
	ck_assert_ptr_null(c.service_addresses);
	ck_assert_ptr_null(c.dns.v);
	ck_assert_uint_eq(c.n_peers, 0);
	config_free(&c);
}
END_TEST

START_TEST(test_error_buffers)
{
	struct config c;
	char small[16];

	/* no buffer at all, and a buffer too small for the message */
	ck_assert_int_eq(config_parse(&c, "x", "junk", 4, NULL, 0), -EINVAL);
	ck_assert_int_eq(config_parse(&c, "wg0.conf", "junk", 4, small,
				      sizeof(small)), -EINVAL);
	ck_assert_str_eq(small, "wg0.conf:1: mal");
}
END_TEST

/* A config whose line 3 is a PostUp of line_len characters (a command
 * with blanks, so that no run of it looks like a key). */
static char *long_line_conf(size_t line_len)
{
	static const char hook[] = "PostUp = ";
	size_t head = strlen(IFACE), n = line_len - strlen(hook);
	char *text = malloc(head + line_len + 2), *cmd;

	ck_assert_ptr_nonnull(text);
	memcpy(text, IFACE, head);
	memcpy(text + head, hook, strlen(hook));
	cmd = text + head + strlen(hook);
	for (size_t i = 0; i < n; i++)
		cmd[i] = "echo "[i % 5];
	cmd[n - 1] = 'x';
	cmd[n] = '\n';
	cmd[n + 1] = '\0';
	return text;
}

START_TEST(test_long_lines)
{
	char *text, err[256];
	struct config c;

	/* exactly CONFIG_MAX_LINE characters: accepted */
	text = long_line_conf(CONFIG_MAX_LINE);
	ck_assert_msg(parse(&c, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.post_up.n, 1);
	ck_assert_uint_eq(strlen(c.post_up.v[0]),
			  CONFIG_MAX_LINE - strlen("PostUp = "));
	config_free(&c);
	free(text);

	/* one more: refused, and quoted only in part */
	text = long_line_conf(CONFIG_MAX_LINE + 1);
	ck_assert_int_eq(parse(&c, text, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "wg0.conf:3: line too long `PostUp = echo "
				  "echo "), "%s", err);
	ck_assert_msg(strstr(err, "...' (expected at most 4096 characters)"),
		      "%s", err);
	ck_assert_uint_lt(strlen(err), 200);
	free(text);
}
END_TEST

/* Enough peers to grow every array several times; the duplicate is found
 * among them by line. */
START_TEST(test_many_peers)
{
	enum { N = 1000 };
	size_t cap = N * 200 + 256, len;
	char *text = malloc(cap), err[256];
	uint8_t key[WG_KEY_LEN] = { 0 };
	char b64[WG_KEY_B64_LEN + 1];
	struct config c;

	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, cap, IFACE);
	for (unsigned i = 0; i < N; i++) {
		key[0] = (uint8_t)(i + 1);
		key[1] = (uint8_t)((i + 1) >> 8);
		key_to_base64(b64, key);
		len += (size_t)snprintf(text + len, cap - len,
			"[Peer]\nPublicKey = %s\n"
			"AllowedIPs = 10.%u.%u.0/24, fd00::%x/128\n",
			b64, i >> 8, i & 255, i);
	}
	ck_assert_int_eq(config_parse(&c, "big.conf", text, len, err,
				      sizeof(err)), 0);
	ck_assert_uint_eq(c.n_peers, N);
	ck_assert_uint_eq(c.peers[N - 1].line, 3 + 3 * (N - 1));
	ck_assert_uint_eq(c.peers[N - 1].n_allowed_ips, 2);
	prefix_eq(&c.peers[N - 1].allowed_ips[0], "10.3.231.0", 24);
	config_free(&c);

	/* peer 700 repeats peer 300's key, peer 900 repeats peer 10's */
	len = (size_t)snprintf(text, cap, IFACE);
	for (unsigned i = 0; i < N; i++) {
		key[0] = (uint8_t)(i + 1);
		key[1] = (uint8_t)((i + 1) >> 8);
		if (i == 700)
			key[0] = 301 & 255, key[1] = 301 >> 8;
		if (i == 900)
			key[0] = 11, key[1] = 0;
		key_to_base64(b64, key);
		len += (size_t)snprintf(text + len, cap - len,
					"[Peer]\nPublicKey = %s\n", b64);
	}
	ck_assert_int_eq(config_parse(&c, "big.conf", text, len, err,
				      sizeof(err)), -EINVAL);
	/* the first repeat in file order wins: peer 700, after 300 */
	ck_assert_msg(strstr(err, "big.conf:1403: duplicate peer"), "%s", err);
	ck_assert_msg(strstr(err, "already on line 603)"), "%s", err);
	free(text);
}
END_TEST

START_TEST(test_masked)
{
	static const struct {
		const char *in;
		const char *out;
		unsigned cidr;
	} cases[] = {
		{ "10.1.2.3/16", "10.1.0.0", 16 },
		{ "10.1.2.3/0", "0.0.0.0", 0 },
		{ "10.1.2.3/32", "10.1.2.3", 32 },
		{ "10.1.2.255/25", "10.1.2.128", 25 },
		{ "fd00::1234/120", "fd00::1200", 120 },
		{ "ffff:ffff:ffff::/1", "8000::", 1 },
		{ "fd00::1/128", "fd00::1", 128 },
	};
	char text[256], err[256];
	struct config c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prefix m;

		snprintf(text, sizeof(text), IFACE PEER "AllowedIPs = %s\n",
			 cases[i].in);
		ck_assert_int_eq(parse(&c, text, err, sizeof(err)), 0);
		m = prefix_masked(&c.peers[0].allowed_ips[0]);
		prefix_eq(&m, cases[i].out, cases[i].cidr);
		ck_assert_int_eq(m.family, c.peers[0].allowed_ips[0].family);
		config_free(&c);
	}
}
END_TEST

START_TEST(test_ifname)
{
	static const struct {
		const char *path;
		const char *ifname; /* NULL: -EINVAL */
	} cases[] = {
		{ "wg0.conf", "wg0" },
		{ "/etc/wireguard/wg0.conf", "wg0" },
		{ "./a.b-c_d=e+f.conf", "a.b-c_d=e+f" },
		{ "/x/123456789012345.conf", "123456789012345" },
		{ "/x/1234567890123456.conf", NULL },
		{ "/x/.conf", NULL },
		{ "/x/..conf", NULL },
		{ "/x/...conf", NULL },
		{ "/x/...conf", NULL },
		{ "wg0", NULL },
		{ "wg0.conf.bak", NULL },
		{ "wg 0.conf", NULL },
		{ "wg/0.conf", "0" },
		{ "/etc/wireguard/", NULL },
		{ "", NULL },
		{ "wg0.CONF", NULL },
		{ "wg:0.conf", NULL },
	};
	char ifname[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = config_ifname_from_path(cases[i].path, ifname);

		if (!cases[i].ifname) {
			ck_assert_msg(ret == -EINVAL, "%s", cases[i].path);
			continue;
		}
		ck_assert_msg(ret == 0, "%s", cases[i].path);
		ck_assert_str_eq(ifname, cases[i].ifname);
	}
}
END_TEST

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) < 0, 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(test_load)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[128], err[512];
	char want[256];
	struct config c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/wg7.conf", dir);

	write_file(path, full_conf, 0600);
	ck_assert_msg(config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.n_peers, 2);
	ck_assert_uint_eq(c.warnings.n, 0);
	config_free(&c);

	write_file(path, full_conf, 0644);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.warnings.n, 1);
	snprintf(want, sizeof(want), "Warning: `%s' is world accessible",
		 path);
	ck_assert_str_eq(c.warnings.v[0], want);
	config_free(&c);

	write_file(path, full_conf, 0640);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.warnings.n, 1);
	ck_assert_ptr_nonnull(strstr(c.warnings.v[0], "group accessible"));
	config_free(&c);

	/* messages name the file by its base name */
	write_file(path, IFACE "MTU = 1\n", 0600);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "wg7.conf:3: invalid MTU `1' (expected "
			      "576-65535)");
	ck_assert_ptr_null(c.warnings.v);
	config_free(&c);

	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want),
		 "cannot read `%s': No such file or directory", path);
	ck_assert_str_eq(err, want);

	/* a directory opens but does not read */
	ck_assert_int_eq(config_load(&c, dir, err, sizeof(err)), -EISDIR);
	ck_assert_ptr_nonnull(strstr(err, "Is a directory"));
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* config_load reads into a buffer that grows (4 KiB, doubling): a file
 * of many growths loads whole; CONFIG_MAX_FILE bytes are read (and then
 * refused by the parser: one line of NULs), one more is too large. */
START_TEST(test_load_sizes)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[128], err[512];
	struct config c;
	FILE *f;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/wg8.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(IFACE, f);
	for (int i = 0; i < 5000; i++)
		fprintf(f, "# padding line %d, to grow the read buffer\n", i);
	fputs(PEER, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_msg(config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.n_peers, 1);
	config_free(&c);

	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, CONFIG_MAX_FILE), 0);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "line too long"));
	ck_assert_int_eq(ftruncate(fd, CONFIG_MAX_FILE + 1), 0);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -EFBIG);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
	close(fd);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_resolve_numeric)
{
	static const char text[] =
		IFACE
		PEER "Endpoint = 192.0.2.7:51820\n"
		"[Peer]\nPublicKey = " KEY_11 "\nEndpoint = [2001:db8::9]:443\n"
		"[Peer]\nPublicKey = " KEY_22 "\n";
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	socklen_t len = 0;
	char err[256], addr[INET6_ADDRSTRLEN];
	struct config c;

	ck_assert_int_eq(parse(&c, text, err, sizeof(err)), 0);

	ck_assert_int_eq(config_resolve_endpoint(&c.peers[0], &ss, &len,
						 err, sizeof(err)), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohs(sin->sin_port), 51820);
	inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
	ck_assert_str_eq(addr, "192.0.2.7");

	ck_assert_int_eq(config_resolve_endpoint(&c.peers[1], &ss, &len,
						 err, sizeof(err)), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 443);
	inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
	ck_assert_str_eq(addr, "2001:db8::9");

	ck_assert_int_eq(config_resolve_endpoint(&c.peers[2], &ss, &len,
						 err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "the peer on line 9 has no Endpoint");
	config_free(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *good = tcase_create("good");
	TCase *bad_tc = tcase_create("bad");
	TCase *misc = tcase_create("misc");

	if (crypto_init())
		return EXIT_FAILURE;
	tcase_add_test(good, test_full);
	tcase_add_test(good, test_defaults);
	tcase_add_test(good, test_case_insensitive);
	tcase_add_test(good, test_comments_and_blanks);
	tcase_add_test(good, test_lists);
	tcase_add_loop_test(good, test_endpoints, 0,
			    sizeof(good_endpoints) / sizeof(good_endpoints[0]));
	tcase_add_loop_test(good, test_fwmark, 0,
			    sizeof(fwmarks) / sizeof(fwmarks[0]));
	tcase_add_loop_test(good, test_table, 0,
			    sizeof(tables) / sizeof(tables[0]));
	tcase_add_test(good, test_value_limits);
	tcase_add_test(good, test_fleet_keys);
	tcase_add_test(good, test_fleet_defaults);
	tcase_add_loop_test(good, test_session_table, 0,
			    sizeof(session_tables) / sizeof(session_tables[0]));
	tcase_add_loop_test(bad_tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(bad_tc, test_error_buffers);
	tcase_add_test(bad_tc, test_long_lines);
	tcase_add_test(misc, test_many_peers);
	tcase_add_test(misc, test_masked);
	tcase_add_test(misc, test_ifname);
	tcase_add_test(misc, test_load);
	tcase_add_test(misc, test_load_sizes);
	tcase_add_test(misc, test_resolve_numeric);
	tcase_set_timeout(misc, 60);
	suite_add_tcase(s, good);
	suite_add_tcase(s, bad_tc);
	suite_add_tcase(s, misc);
	return run_suite(s);
}
