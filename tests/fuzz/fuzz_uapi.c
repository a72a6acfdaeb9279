/* libFuzzer target: uapi_parse_set() on arbitrary bytes, the text any
 * local process that can open the UAPI socket sends.
 *
 * A rejected body must leave the set empty and give one printable
 * "line N: " message with nothing in it that could be a key. An accepted
 * one must satisfy the documented invariants, and is written back as a
 * set=1 body by change_write and parsed again: the second parse must succeed and give the
 * same set, so that nothing accepted is misread or lost. change_free
 * must release everything (LeakSanitizer). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "src/uapi/parse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_uapi: %s: %s\n", what, detail);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (crypto_init())
		die("crypto_init failed", "");
	return 0;
}

static bool is_keyish(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

static void check_rejected(const struct change *s, int ret,
			   const char *err)
{
	static const struct change empty;
	unsigned run = 0;

	if (ret != -EINVAL && ret != -EPROTO && ret != -ENOMEM)
		die("unexpected error", strerror(-ret));
	if (memcmp(s, &empty, sizeof(*s)))
		die("a failed parse left something behind", err);
	if (strncmp(err, "line ", 5))
		die("message without the line", err);
	for (const char *c = err; *c; c++) {
		if (*c < 0x20 || *c > 0x7e)
			die("unprintable byte in a message", err);
		run = is_keyish(*c) ? run + 1 : 0;
		if (run >= 16)
			die("a message quotes what could be a key", err);
	}
}

static void check_endpoint(const struct peer_change *p)
{
	const struct sockaddr_in6 *v6 = (const void *)&p->endpoint;

	if (!p->set_endpoint) {
		if (p->endpoint_len || p->endpoint.ss_family)
			die("an endpoint that was not set", "");
		return;
	}
	if (p->endpoint.ss_family == AF_INET) {
		if (p->endpoint_len != sizeof(struct sockaddr_in))
			die("bad IPv4 endpoint length", "");
	} else if (p->endpoint.ss_family == AF_INET6) {
		if (p->endpoint_len != sizeof(*v6))
			die("bad IPv6 endpoint length", "");
		if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
			die("a v4-mapped endpoint kept as IPv6", "");
	} else {
		die("bad endpoint family", "");
	}
}

static void check_prefix(const struct prefix *x)
{
	unsigned len = x->family == AF_INET ? 4 : 16;

	if (x->family != AF_INET && x->family != AF_INET6)
		die("bad prefix family", "");
	if (x->cidr > len * 8)
		die("bad cidr", "");
	for (unsigned b = len; b < 16; b++)
		if (x->addr[b])
			die("IPv4 prefix with bytes past 4", "");
}

static void check_valid(const struct change *s, size_t lines)
{
	const uint8_t *k = s->private_key;
	size_t ips = 0;

	if (!key_is_zero(k) && ((k[0] & 7) || (k[31] & 0x80) ||
				!(k[31] & 0x40)))
		die("a private key that is not clamped", "");
	if (s->n_peers > lines)
		die("more peers than lines", "");
	for (size_t i = 0; i < s->n_peers; i++) {
		const struct peer_change *p = &s->peers[i];

		check_endpoint(p);
		if (!p->set_psk && !key_is_zero(p->psk))
			die("a psk that was not set", "");
		ips += p->n_allowed_ips;
		for (size_t j = 0; j < p->n_allowed_ips; j++)
			check_prefix(&p->allowed_ips[j].prefix);
	}
	if (s->n_peers + ips > lines)
		die("more entries than lines", "");
}

/* The real writer (`ringvpn syncconf` sends what it writes). */
static char *print_set(const struct change *s, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		die("open_memstream failed", "");
	change_write(f, s);
	if (fclose(f))
		die("fclose failed", "");
	return text;
}

static bool peer_eq(const struct peer_change *a,
		    const struct peer_change *b)
{
	if (memcmp(a->public_key, b->public_key, 32) ||
	    a->remove != b->remove || a->update_only != b->update_only ||
	    a->set_psk != b->set_psk || memcmp(a->psk, b->psk, 32) ||
	    a->set_endpoint != b->set_endpoint ||
	    a->endpoint_len != b->endpoint_len ||
	    memcmp(&a->endpoint, &b->endpoint, sizeof(a->endpoint)) ||
	    a->set_keepalive != b->set_keepalive ||
	    a->keepalive != b->keepalive ||
	    a->replace_allowed_ips != b->replace_allowed_ips ||
	    a->n_allowed_ips != b->n_allowed_ips)
		return false;
	for (size_t i = 0; i < a->n_allowed_ips; i++) {
		const struct allowed_ip_change *x = &a->allowed_ips[i];
		const struct allowed_ip_change *y = &b->allowed_ips[i];

		if (x->remove != y->remove ||
		    x->prefix.family != y->prefix.family ||
		    x->prefix.cidr != y->prefix.cidr ||
		    memcmp(x->prefix.addr, y->prefix.addr, 16))
			return false;
	}
	return true;
}

static bool set_eq(const struct change *a, const struct change *b)
{
	if (a->set_private_key != b->set_private_key ||
	    memcmp(a->private_key, b->private_key, 32) ||
	    a->set_listen_port != b->set_listen_port ||
	    a->listen_port != b->listen_port ||
	    a->set_fwmark != b->set_fwmark || a->fwmark != b->fwmark ||
	    a->replace_peers != b->replace_peers || a->n_peers != b->n_peers)
		return false;
	for (size_t i = 0; i < a->n_peers; i++)
		if (!peer_eq(&a->peers[i], &b->peers[i]))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct change s, again;
	char err[512], err2[512], *text;
	size_t len, lines = 1;
	int ret;

	ret = uapi_parse_set(&s, (const char *)data, size, err, sizeof(err));
	if (ret) {
		check_rejected(&s, ret, err);
		return 0;
	}
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	check_valid(&s, lines);
	text = print_set(&s, &len);
	if (uapi_parse_set(&again, text, len, err2, sizeof(err2)))
		die("the printed set does not parse", err2);
	if (!set_eq(&s, &again))
		die("the printed set parses differently", text);
	free(text);
	change_free(&again);
	change_free(&s);
	return 0;
}
