/* The one configuration path (src/change.h): a config file becomes a
 * change with syncconf's semantics (config_change), a change written as
 * UAPI text parses back into the same change (change_write and
 * uapi_parse_set), and device_apply makes a device what the change says,
 * leaving peers it does not touch as they were. */
#include <arpa/inet.h>
#include <check.h>
#include <sodium.h>
#include <string.h>

#include "crypto/keys.h"
#include "src/config.h"
#include "src/config_change.h"
#include "src/device.h"
#include "src/device_apply.h"
#include "src/secret_buf.h"
#include "src/uapi/parse.h"
#include "tests/unit/check_main.h"

/* RFC 7748 section 6.1's keys and two more public keys. */
#define ALICE_PRIV "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define BOB_PUB "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define CAROL_PUB "IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI="
#define KEY_11 "ERERERERERERERERERERERERERERERERERERERERERE="

static const char conf[] =
	"[Interface]\nPrivateKey = " ALICE_PRIV "\nListenPort = 51820\n"
	"[Peer]\nPublicKey = " BOB_PUB "\nPresharedKey = " KEY_11 "\n"
	"AllowedIPs = 10.1.2.3/24, fd00::1/64\nEndpoint = 198.18.0.2:51821\n"
	"PersistentKeepalive = 25\n";

static void parse(struct config *c, const char *text)
{
	char err[256];

	ck_assert_msg(config_parse(c, "t.conf", text, strlen(text), err,
				   sizeof(err)) == 0, "%s", err);
}

static void key(uint8_t out[WG_KEY_LEN], const char *b64)
{
	ck_assert_int_eq(key_from_base64(out, b64), 0);
}

START_TEST(file_becomes_change)
{
	uint8_t bob[WG_KEY_LEN], psk[WG_KEY_LEN], current[2][WG_KEY_LEN];
	const struct peer_change *p;
	struct change c;
	struct config cfg;
	char err[256];

	parse(&cfg, conf);
	key(bob, BOB_PUB);
	key(psk, KEY_11);
	memcpy(current[0], bob, WG_KEY_LEN);
	key(current[1], CAROL_PUB); /* running, gone from the file */
	ck_assert_int_eq(config_change(&cfg, (const uint8_t(*)[32])current, 2,
				       &c, err, sizeof(err)), 0);
	ck_assert(c.set_private_key && c.set_listen_port && !c.set_fwmark);
	ck_assert_uint_eq(c.listen_port, 51820);
	ck_assert_uint_eq(c.n_peers, 2);
	ck_assert(c.peers[0].remove); /* carol first: removals lead */
	ck_assert_mem_eq(c.peers[0].public_key, current[1], WG_KEY_LEN);
	p = &c.peers[1];
	ck_assert(!p->remove && p->set_psk && p->set_endpoint &&
		  p->set_keepalive && p->replace_allowed_ips);
	ck_assert_mem_eq(p->public_key, bob, WG_KEY_LEN);
	ck_assert_mem_eq(p->psk, psk, WG_KEY_LEN);
	ck_assert_uint_eq(p->keepalive, 25);
	ck_assert_uint_eq(p->n_allowed_ips, 2);
	ck_assert_uint_eq(p->allowed_ips[0].prefix.addr[3], 0); /* masked */
	ck_assert_int_eq(p->endpoint.ss_family, AF_INET);
	change_free(&c);
	config_free(&cfg);
}
END_TEST

/* What syncconf sends is what the daemon parses: the same change. */
START_TEST(written_change_parses_back)
{
	struct secret_buf text = { 0 };
	struct change c, again;
	struct config cfg;
	char err[256];
	FILE *f;

	parse(&cfg, conf);
	ck_assert_int_eq(config_change(&cfg, NULL, 0, &c, err, sizeof(err)), 0);
	f = secret_buf_stream(&text);
	ck_assert_ptr_nonnull(f);
	change_write(f, &c);
	ck_assert_int_eq(secret_buf_stream_close(f), 0);
	ck_assert_msg(uapi_parse_set(&again, text.data, text.len, err,
				     sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(again.n_peers, c.n_peers);
	/* The UAPI parser clamps a private key (as X25519 does anyway). */
	c.private_key[0] &= 248;
	c.private_key[31] = (c.private_key[31] & 127) | 64;
	ck_assert_mem_eq(again.private_key, c.private_key, WG_KEY_LEN);
	ck_assert_mem_eq(again.peers[0].psk, c.peers[0].psk, WG_KEY_LEN);
	ck_assert_uint_eq(again.peers[0].n_allowed_ips, 2);
	ck_assert_mem_eq(&again.peers[0].endpoint, &c.peers[0].endpoint,
			 sizeof(struct sockaddr_in));
	change_free(&again);
	change_free(&c);
	secret_buf_free(&text);
	config_free(&cfg);
}
END_TEST

/* Start-up and a later syncconf-style change through the same apply: the
 * peer the file keeps is the same peer (its sessions stay), its PSK is the
 * file's, a peer the file dropped is gone. */
START_TEST(apply_keeps_what_it_does_not_change)
{
	uint8_t carol[WG_KEY_LEN], bob[WG_KEY_LEN], psk[WG_KEY_LEN];
	struct peer *kept, *peer;
	struct change c;
	struct config cfg, next;
	struct device dev;
	char err[256];

	ck_assert_int_eq(device_init(&dev, NULL), 0);
	parse(&cfg, conf);
	ck_assert_int_eq(config_change(&cfg, NULL, 0, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(device_apply(&dev, &c, 0), 0);
	change_free(&c);
	key(bob, BOB_PUB);
	key(psk, KEY_11);
	kept = device_find_peer(&dev, bob);
	ck_assert_ptr_nonnull(kept);
	ck_assert_mem_eq(kept->handshake.preshared_key, psk, WG_KEY_LEN);
	ck_assert_uint_eq(kept->persistent_keepalive, 25);
	/* The file now also has carol, and bob without his PSK. */
	parse(&next, "[Interface]\nPrivateKey = " ALICE_PRIV "\n"
		     "[Peer]\nPublicKey = " BOB_PUB "\nAllowedIPs = 10.1.2.0/24\n"
		     "[Peer]\nPublicKey = " CAROL_PUB "\nAllowedIPs = 10.9.0.0/16\n");
	ck_assert_int_eq(config_change(&next, (const uint8_t(*)[32])bob, 1,
				       &c, err, sizeof(err)), 0);
	ck_assert_int_eq(device_apply(&dev, &c, 0), 0);
	ck_assert_ptr_eq(device_find_peer(&dev, bob), kept);
	ck_assert(sodium_is_zero(kept->handshake.preshared_key, WG_KEY_LEN));
	key(carol, CAROL_PUB);
	peer = device_find_peer(&dev, carol);
	ck_assert_ptr_nonnull(peer);
	ck_assert_uint_eq(dev.peers.count, 2);
	change_free(&c);
	/* And back: carol goes, bob stays. */
	ck_assert_int_eq(config_change(&cfg, (const uint8_t(*)[32])carol, 1,
				       &c, err, sizeof(err)), 0);
	ck_assert_int_eq(device_apply(&dev, &c, 0), 0);
	ck_assert_ptr_null(device_find_peer(&dev, carol));
	ck_assert_ptr_eq(device_find_peer(&dev, bob), kept);
	change_free(&c);
	device_destroy(&dev);
	config_free(&next);
	config_free(&cfg);
}
END_TEST

/* Applies cfg's change to dev, whose one peer (if any) is bob. */
static void apply_file(struct device *dev, const struct config *cfg,
		       const uint8_t *bob, uint64_t now)
{
	struct change c;
	char err[256];

	ck_assert_msg(config_change(cfg, (const uint8_t(*)[32])bob,
				    dev->peers.count, &c, err,
				    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(device_apply(dev, &c, now), 0);
	change_free(&c);
}

static void endpoint_is(struct peer *peer, const char *addr)
{
	struct sockaddr_storage ep;
	char text[INET_ADDRSTRLEN];

	ck_assert_uint_eq(peer_get_endpoint(peer, &ep),
			  sizeof(struct sockaddr_in));
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ep)->sin_addr, text,
		  sizeof(text));
	ck_assert_str_eq(text, addr);
}

/* The Endpoint as written goes with the peer (the re-resolver and
 * SaveConfig read it there) and follows every change: a file's; none
 * after a UAPI endpoint= (the name no longer applies), nor after a file
 * without the Endpoint (the address stays); the re-resolver's change of
 * the address alone keeps it. Before, the names were the file's at `up`
 * for ever. */
START_TEST(endpoint_name_follows_the_peer)
{
	static const char head[] = "[Interface]\nPrivateKey = " ALICE_PRIV
				   "\n[Peer]\nPublicKey = " BOB_PUB "\n";
	char named[256], set[256], hex[WG_KEY_HEX_LEN + 1], err[256];
	struct peer_change pc = { .update_only = true, .set_endpoint = true,
				  .endpoint_len = sizeof(struct sockaddr_in) };
	struct sockaddr_in *to = (struct sockaddr_in *)&pc.endpoint;
	struct change c = { .peers = &pc, .n_peers = 1 };
	struct sockaddr_storage ep;
	uint8_t bob[WG_KEY_LEN];
	struct config cfg, bare;
	struct device dev;
	struct peer *peer;

	ck_assert_int_eq(device_init(&dev, NULL), 0);
	key(bob, BOB_PUB);
	snprintf(named, sizeof(named), "%sEndpoint = localhost:51821\n", head);
	parse(&cfg, named);
	parse(&bare, head);
	apply_file(&dev, &cfg, bob, 5);
	peer = device_find_peer(&dev, bob);
	ck_assert_ptr_nonnull(peer);
	ck_assert_str_eq(peer->endpoint_host, "localhost");
	ck_assert_str_eq(peer->endpoint_port, "51821");
	ck_assert_uint_eq(peer->name_tried_at, 5); /* resolved then */
	/* The re-resolver's answer: the address moves, the name stays. */
	memcpy(pc.public_key, bob, WG_KEY_LEN);
	to->sin_family = AF_INET;
	to->sin_port = htons(51821);
	inet_pton(AF_INET, "198.18.0.9", &to->sin_addr);
	ck_assert_int_eq(device_apply(&dev, &c, 9), 0);
	endpoint_is(peer, "198.18.0.9");
	ck_assert_str_eq(peer->endpoint_host, "localhost");
	ck_assert_uint_eq(peer->name_tried_at, 5);
	/* wg syncconf sends the endpoint it has, as an address: the
	 * name stays. */
	key_to_hex(hex, bob);
	snprintf(set, sizeof(set), "public_key=%s\nendpoint=198.18.0.9:51821\n",
		 hex);
	ck_assert_msg(uapi_parse_set(&c, set, strlen(set), err,
				     sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(device_apply(&dev, &c, 10), 0);
	change_free(&c);
	endpoint_is(peer, "198.18.0.9");
	ck_assert_str_eq(peer->endpoint_host, "localhost");
	/* wg set ... endpoint 198.18.0.10:51821: a new address ends it. */
	snprintf(set, sizeof(set), "public_key=%s\nendpoint=198.18.0.10:51821\n",
		 hex);
	ck_assert_msg(uapi_parse_set(&c, set, strlen(set), err,
				     sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(device_apply(&dev, &c, 12), 0);
	change_free(&c);
	endpoint_is(peer, "198.18.0.10");
	ck_assert_ptr_null(peer->endpoint_host);
	ck_assert_ptr_null(peer->endpoint_port);
	/* A reload names it again; one without the Endpoint ends it. */
	apply_file(&dev, &cfg, bob, 20);
	ck_assert_str_eq(peer->endpoint_host, "localhost");
	ck_assert_uint_eq(peer->name_tried_at, 20);
	apply_file(&dev, &bare, bob, 30);
	ck_assert_ptr_eq(device_find_peer(&dev, bob), peer);
	ck_assert_ptr_null(peer->endpoint_host);
	ck_assert_ptr_null(peer->endpoint_port);
	ck_assert_uint_ne(peer_get_endpoint(peer, &ep), 0); /* kept */
	device_destroy(&dev);
	config_free(&bare);
	config_free(&cfg);
}
END_TEST

/* Only what may move AllowedIPs calls for a pass over the session
 * table: not an endpoint or a keepalive alone. */
START_TEST(moves_allowed_ips)
{
	struct peer_change p = { .set_endpoint = true, .set_keepalive = true };
	struct change c = { .peers = &p, .n_peers = 1 };

	ck_assert(!change_moves_allowed_ips(&c));
	p.n_allowed_ips = 1;
	ck_assert(change_moves_allowed_ips(&c));
	p.n_allowed_ips = 0;
	p.replace_allowed_ips = true;
	ck_assert(change_moves_allowed_ips(&c));
	p.replace_allowed_ips = false;
	p.remove = true;
	ck_assert(change_moves_allowed_ips(&c));
	p.remove = false;
	c.replace_peers = true;
	ck_assert(change_moves_allowed_ips(&c));
	c.replace_peers = false;
	c.n_peers = 0;
	ck_assert(!change_moves_allowed_ips(&c));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("change");
	TCase *tc = tcase_create("change");

	if (crypto_init())
		return 1;
	tcase_add_test(tc, file_becomes_change);
	tcase_add_test(tc, written_change_parses_back);
	tcase_add_test(tc, apply_keeps_what_it_does_not_change);
	tcase_add_test(tc, endpoint_name_follows_the_peer);
	tcase_add_test(tc, moves_allowed_ips);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
