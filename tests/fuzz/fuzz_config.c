/* libFuzzer target: config_parse() on arbitrary bytes (NUL bytes, no
 * terminating NUL and all).
 *
 * A rejected input must leave the config empty and give one printable
 * message that starts with "NAME:LINE: ". An accepted one must satisfy the
 * documented invariants, and is printed back in canonical form and parsed
 * again: the second parse must succeed and give the same configuration,
 * so that nothing accepted is misread or lost. config_free must release
 * everything (LeakSanitizer). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "src/config.h"
#include "tests/fuzz/fuzz_common.h"

#define NAME "fuzz.conf"

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: %s: %s\n", what, detail);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (crypto_init())
		die("crypto_init failed", "");
	return 0;
}

static void check_prefix(const struct prefix *p)
{
	unsigned len = p->family == AF_INET ? 4 : 16;

	if (p->family != AF_INET && p->family != AF_INET6)
		die("bad family", "");
	if (p->cidr > len * 8)
		die("bad cidr", "");
	for (unsigned i = len; i < 16; i++)
		if (p->addr[i])
			die("IPv4 address with bytes past 4", "");
}

static void check_strings(const struct config_strings *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!l->v[i] || !*l->v[i] || strchr(l->v[i], '#') ||
		    strchr(l->v[i], '\n'))
			die("bad string in a list", l->v[i] ? l->v[i] : "NULL");
	}
}

static void check_valid(const struct config *c)
{
	if (key_is_zero(c->private_key) || key_is_zero(c->public_key))
		die("accepted a zero key", "");
	if (c->mtu && (c->mtu < 576 || c->mtu > 65535))
		die("mtu out of range", "");
	if (c->threads > 256)
		die("threads out of range", "");
	if (c->table == CONFIG_TABLE_ID ? !c->table_id : c->table_id)
		die("table id does not match the table mode", "");
	for (size_t i = 0; i < c->n_addresses; i++)
		check_prefix(&c->addresses[i]);
	check_strings(&c->dns);
	check_strings(&c->dns_search);
	check_strings(&c->pre_up);
	check_strings(&c->post_up);
	check_strings(&c->pre_down);
	check_strings(&c->post_down);
	if (c->warnings.n)
		die("config_parse gave warnings", "");
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct config_peer *p = &c->peers[i];

		if (!memcmp(p->public_key, c->public_key, WG_KEY_LEN))
			die("accepted our own key as a peer", "");
		for (size_t j = 0; j < i; j++)
			if (!memcmp(p->public_key, c->peers[j].public_key,
				    WG_KEY_LEN))
				die("accepted a duplicate peer", "");
		if (p->has_psk == key_is_zero(p->psk))
			die("has_psk does not match the key", "");
		if (!p->endpoint_host != !p->endpoint_port)
			die("half an endpoint", "");
		for (size_t j = 0; j < p->n_allowed_ips; j++)
			check_prefix(&p->allowed_ips[j]);
	}
}

static void check_rejected(const struct config *c, const char *err)
{
	static const struct config empty;

	if (memcmp(c, &empty, sizeof(*c)))
		die("a failed parse left something behind", err);
	if (strncmp(err, NAME ":", strlen(NAME ":")))
		die("message without the file name", err);
	for (const char *s = err; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			die("unprintable byte in a message", err);
}

static void print_prefix(FILE *f, const char *key,
			 const struct prefix *p)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, p->addr, text, sizeof(text)))
		die("inet_ntop failed", "");
	fprintf(f, "%s = %s/%u\n", key, text, p->cidr);
}

/* Hooks are printed without blanks around '=': never longer than the line
 * they came from, which may have been at the length limit. */
static void print_strings(FILE *f, const char *key,
			  const struct config_strings *l)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s=%s\n", key, l->v[i]);
}

static void print_peer(FILE *f, const struct config_peer *p)
{
	char b64[WG_KEY_B64_LEN + 1];

	key_to_base64(b64, p->public_key);
	fprintf(f, "[Peer]\nPublicKey = %s\n", b64);
	if (p->has_psk) {
		key_to_base64(b64, p->psk);
		fprintf(f, "PresharedKey = %s\n", b64);
	}
	for (size_t i = 0; i < p->n_allowed_ips; i++)
		print_prefix(f, "AllowedIPs", &p->allowed_ips[i]);
	if (p->endpoint_host && strchr(p->endpoint_host, ':'))
		fprintf(f, "Endpoint = [%s]:%s\n", p->endpoint_host,
			p->endpoint_port);
	else if (p->endpoint_host)
		fprintf(f, "Endpoint = %s:%s\n", p->endpoint_host,
			p->endpoint_port);
	if (p->persistent_keepalive)
		fprintf(f, "PersistentKeepalive = %u\n",
			p->persistent_keepalive);
}

static char *print_config(const struct config *c, size_t *len)
{
	char *text = NULL, b64[WG_KEY_B64_LEN + 1];
	FILE *f = open_memstream(&text, len);

	if (!f)
		die("open_memstream failed", "");
	key_to_base64(b64, c->private_key);
	fprintf(f, "[Interface]\nPrivateKey = %s\n", b64);
	if (c->has_listen_port)
		fprintf(f, "ListenPort = %u\n", c->listen_port);
	if (c->fwmark)
		fprintf(f, "FwMark = 0x%x\n", c->fwmark);
	for (size_t i = 0; i < c->n_addresses; i++)
		print_prefix(f, "Address", &c->addresses[i]);
	if (c->mtu)
		fprintf(f, "MTU = %u\n", c->mtu);
	if (c->table == CONFIG_TABLE_OFF)
		fprintf(f, "Table = off\n");
	else if (c->table == CONFIG_TABLE_ID)
		fprintf(f, "Table = %u\n", c->table_id);
	for (size_t i = 0; i < c->dns.n; i++)
		fprintf(f, "DNS = %s\n", c->dns.v[i]);
	for (size_t i = 0; i < c->dns_search.n; i++)
		fprintf(f, "DNS = %s\n", c->dns_search.v[i]);
	print_strings(f, "PreUp", &c->pre_up);
	print_strings(f, "PostUp", &c->post_up);
	print_strings(f, "PreDown", &c->pre_down);
	print_strings(f, "PostDown", &c->post_down);
	fprintf(f, "SaveConfig = %s\n", c->save_config ? "true" : "false");
	if (c->threads)
		fprintf(f, "Threads = %u\n", c->threads);
	for (size_t i = 0; i < c->n_peers; i++)
		print_peer(f, &c->peers[i]);
	if (fclose(f))
		die("fclose failed", "");
	return text;
}

static bool opt_str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool peer_eq(const struct config_peer *a, const struct config_peer *b)
{
	return !memcmp(a->public_key, b->public_key, WG_KEY_LEN) &&
	       a->has_psk == b->has_psk &&
	       !memcmp(a->psk, b->psk, WG_KEY_LEN) &&
	       a->n_allowed_ips == b->n_allowed_ips &&
	       fuzz_prefixes_eq(a->allowed_ips, b->allowed_ips,
				a->n_allowed_ips) &&
	       opt_str_eq(a->endpoint_host, b->endpoint_host) &&
	       opt_str_eq(a->endpoint_port, b->endpoint_port) &&
	       a->persistent_keepalive == b->persistent_keepalive;
}

static bool config_eq(const struct config *a, const struct config *b)
{
	if (memcmp(a->private_key, b->private_key, WG_KEY_LEN) ||
	    memcmp(a->public_key, b->public_key, WG_KEY_LEN) ||
	    a->has_listen_port != b->has_listen_port ||
	    a->listen_port != b->listen_port || a->fwmark != b->fwmark ||
	    !fuzz_interface_eq(a, b) || a->n_peers != b->n_peers)
		return false;
	for (size_t i = 0; i < a->n_peers; i++)
		if (!peer_eq(&a->peers[i], &b->peers[i]))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, again;
	char err[512], err2[512], *text;
	size_t len;

	if (config_parse(&c, NAME, (const char *)data, size, err,
			 sizeof(err))) {
		check_rejected(&c, err);
		return 0;
	}
	check_valid(&c);
	text = print_config(&c, &len);
	if (config_parse(&again, NAME, text, len, err2, sizeof(err2)))
		die("the canonical form does not parse", err2);
	if (!config_eq(&c, &again))
		die("the canonical form parses differently", text);
	free(text);
	config_free(&again);
	config_free(&c);
	return 0;
}
