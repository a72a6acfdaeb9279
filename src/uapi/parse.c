/* The UAPI set=1 parser: one line at a time into struct change, through
 * a table of keys that says where each may appear. The value forms and
 * the differences from wireguard-go are listed in uapi_parse.h. */
#include "src/uapi/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "src/decimal.h"
#include "src/grow.h"
#include "src/quote.h"
#include "src/sockaddr.h"

/* A run this long of key-like characters is not quoted: a request's keys
 * are hex, and even part of one stays out of the logs. */
#define KEY_RUN_HIDDEN 16

struct parser {
	struct change *s;
	unsigned line;
	char *err;
	size_t err_len;
	char buf[UAPI_MAX_LINE + 1]; /* the current line: may hold a secret */
};

enum key_place { IN_DEVICE, IN_PEER, ANYWHERE, GET_ONLY };

struct key_def {
	const char *name;
	enum key_place place;
	int (*fn)(struct parser *p, const struct key_def *k, char *v);
	bool secret; /* the value is never quoted */
	const char *expected;
};

static const char *quote(char out[QUOTE_BUF], const char *text, bool secret)
{
	return quote_text(out, text, secret, KEY_RUN_HIDDEN);
}

/* Writes "line N: <message>" to err and returns ret. */
__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, int ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err_len)
		return ret;
	n = snprintf(p->err, p->err_len, "line %u: ", p->line);
	if (n < 0 || (size_t)n >= p->err_len)
		return ret;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return ret;
}

static int bad_value(struct parser *p, const struct key_def *k,
		     const char *v)
{
	char q[QUOTE_BUF];

	return fail(p, -EINVAL, "invalid %s `%s' (expected %s)", k->name,
		    quote(q, v, k->secret), k->expected);
}

static struct peer_change *cur_peer(struct parser *p)
{
	return &p->s->peers[p->s->n_peers - 1];
}

/* Decimal digits only (strconv.ParseUint base 10), at most max. */

/* A scope: an interface index, or a name looked up now. */
static bool parse_scope(const char *zone, uint32_t *id)
{
	uint64_t n;

	if (decimal_parse(zone, UINT32_MAX, &n)) {
		*id = (uint32_t)n;
		return true;
	}
	if (!*zone || strlen(zone) >= IF_NAMESIZE)
		return false;
	*id = if_nametoindex(zone);
	return *id != 0;
}

static bool parse_v6_host(char *host, uint16_t port,
			  struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *v6 = (void *)ss;
	char *zone = strchr(host, '%');

	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons(port);
	if (zone) {
		*zone++ = '\0';
		if (!parse_scope(zone, &v6->sin6_scope_id))
			return false;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1)
		return false;
	*len = sockaddr_normalize(ss, sizeof(*v6));
	return true;
}

/* "a.b.c.d:port" or "[v6%scope]:port", numeric only. */
static bool parse_endpoint(char *v, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	struct sockaddr_in *v4 = (void *)ss;
	char *colon = strrchr(v, ':');
	size_t hlen;
	uint64_t port;

	memset(ss, 0, sizeof(*ss));
	if (!colon || !decimal_parse(colon + 1, 65535, &port))
		return false;
	*colon = '\0';
	hlen = strlen(v);
	if (v[0] == '[') {
		if (hlen < 2 || v[hlen - 1] != ']')
			return false;
		v[hlen - 1] = '\0';
		return parse_v6_host(v + 1, (uint16_t)port, ss, len);
	}
	v4->sin_family = AF_INET;
	v4->sin_port = htons((uint16_t)port);
	*len = sizeof(*v4);
	return inet_pton(AF_INET, v, &v4->sin_addr) == 1;
}

static int parse_flag(struct parser *p, const struct key_def *k,
		      const char *v, bool *flag)
{
	if (strcmp(v, "true"))
		return bad_value(p, k, v);
	*flag = true;
	return 0;
}


static int v_private_key(struct parser *p, const struct key_def *k, char *v)
{
	if (key_from_hex(p->s->private_key, v))
		return bad_value(p, k, v);
	/* As wireguard-go: clamped, so get=1 shows what is used; all zero
	 * means "remove" and stays zero. */
	if (!key_is_zero(p->s->private_key))
		key_clamp(p->s->private_key);
	p->s->set_private_key = true;
	return 0;
}

static int v_listen_port(struct parser *p, const struct key_def *k, char *v)
{
	uint64_t n;

	if (!decimal_parse(v, UINT16_MAX, &n))
		return bad_value(p, k, v);
	p->s->listen_port = (uint16_t)n;
	p->s->set_listen_port = true;
	return 0;
}

static int v_fwmark(struct parser *p, const struct key_def *k, char *v)
{
	uint64_t n;

	if (!decimal_parse(v, UINT32_MAX, &n))
		return bad_value(p, k, v);
	p->s->fwmark = (uint32_t)n;
	p->s->set_fwmark = true;
	return 0;
}

static int v_replace_peers(struct parser *p, const struct key_def *k,
			   char *v)
{
	return parse_flag(p, k, v, &p->s->replace_peers);
}

static int v_public_key(struct parser *p, const struct key_def *k, char *v)
{
	uint8_t key[WG_KEY_LEN];
	struct change *s = p->s;

	if (key_from_hex(key, v))
		return bad_value(p, k, v);
	if (grow_array(&s->peers, s->n_peers, sizeof(*s->peers), true))
		return fail(p, -ENOMEM, "out of memory");
	memset(&s->peers[s->n_peers], 0, sizeof(*s->peers));
	memcpy(s->peers[s->n_peers++].public_key, key, WG_KEY_LEN);
	return 0;
}

static int v_remove(struct parser *p, const struct key_def *k, char *v)
{
	return parse_flag(p, k, v, &cur_peer(p)->remove);
}

static int v_update_only(struct parser *p, const struct key_def *k, char *v)
{
	return parse_flag(p, k, v, &cur_peer(p)->update_only);
}

static int v_psk(struct parser *p, const struct key_def *k, char *v)
{
	struct peer_change *peer = cur_peer(p);

	if (key_from_hex(peer->psk, v))
		return bad_value(p, k, v);
	peer->set_psk = true;
	return 0;
}

static int v_endpoint(struct parser *p, const struct key_def *k, char *v)
{
	struct peer_change *peer = cur_peer(p);
	char copy[UAPI_MAX_LINE + 1];

	/* parse_endpoint cuts v up; the message quotes it whole. */
	strcpy(copy, v);
	if (!parse_endpoint(copy, &peer->endpoint, &peer->endpoint_len))
		return bad_value(p, k, v);
	peer->set_endpoint = true;
	peer->set_endpoint_name = true; /* an address by hand: no name */
	return 0;
}

static int v_keepalive(struct parser *p, const struct key_def *k, char *v)
{
	struct peer_change *peer = cur_peer(p);
	uint64_t n;

	if (!decimal_parse(v, UINT16_MAX, &n))
		return bad_value(p, k, v);
	peer->keepalive = (uint16_t)n;
	peer->set_keepalive = true;
	return 0;
}

static int v_replace_allowed_ips(struct parser *p, const struct key_def *k,
				 char *v)
{
	return parse_flag(p, k, v, &cur_peer(p)->replace_allowed_ips);
}

static int v_allowed_ip(struct parser *p, const struct key_def *k, char *v)
{
	struct peer_change *peer = cur_peer(p);
	struct allowed_ip_change a = { .remove = v[0] == '-' };

	/* The cidr required, without leading zeros, as Go's netip. */
	if (!prefix_parse(&a.prefix, v + a.remove, 0, PREFIX_LEN_CANONICAL))
		return bad_value(p, k, v);
	if (grow_array(&peer->allowed_ips, peer->n_allowed_ips,
		 sizeof(*peer->allowed_ips), false))
		return fail(p, -ENOMEM, "out of memory");
	peer->allowed_ips[peer->n_allowed_ips++] = a;
	return 0;
}

static int v_protocol_version(struct parser *p, const struct key_def *k,
			      char *v)
{
	char q[QUOTE_BUF];

	if (!strcmp(v, "1"))
		return 0;
	return fail(p, -EPROTO, "unsupported protocol_version `%s' "
		    "(expected 1)", quote(q, v, false));
}

static const struct key_def keys[] = {
	{ "private_key", IN_DEVICE, v_private_key, true, "64 hex digits" },
	{ "listen_port", IN_DEVICE, v_listen_port, false, "0-65535" },
	{ "fwmark", IN_DEVICE, v_fwmark, false, "0-4294967295" },
	{ "replace_peers", IN_DEVICE, v_replace_peers, false, "true" },
	{ "public_key", ANYWHERE, v_public_key, false, "64 hex digits" },
	{ "remove", IN_PEER, v_remove, false, "true" },
	{ "update_only", IN_PEER, v_update_only, false, "true" },
	{ "preshared_key", IN_PEER, v_psk, true, "64 hex digits" },
	{ "endpoint", IN_PEER, v_endpoint, false,
	  "a.b.c.d:port or [IPv6]:port" },
	{ "persistent_keepalive_interval", IN_PEER, v_keepalive, false,
	  "0-65535" },
	{ "replace_allowed_ips", IN_PEER, v_replace_allowed_ips, false,
	  "true" },
	{ "allowed_ip", IN_PEER, v_allowed_ip, false,
	  "[-]ADDRESS/CIDR" },
	{ "protocol_version", IN_PEER, v_protocol_version, false, "1" },
	/* What get=1 returns and set=1 does not take. */
	{ "last_handshake_time_sec", GET_ONLY, NULL, false, NULL },
	{ "last_handshake_time_nsec", GET_ONLY, NULL, false, NULL },
	{ "rx_bytes", GET_ONLY, NULL, false, NULL },
	{ "tx_bytes", GET_ONLY, NULL, false, NULL },
	{ "errno", GET_ONLY, NULL, false, NULL },
};

static const struct key_def *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* Which keys may come where: the device's before the first public_key,
 * a peer's after it (wireguard-go's deviceConfig switch). */
static int misplaced(struct parser *p, const struct key_def *k,
		     const char *key)
{
	char q[QUOTE_BUF];
	bool in_peer = p->s->n_peers > 0;

	if (!k)
		return fail(p, -EINVAL, "unknown key `%s'",
			    quote(q, key, false));
	if (k->place == GET_ONLY)
		return fail(p, -EINVAL, "`%s' is returned by get=1 and "
			    "cannot be set", k->name);
	if (k->place == IN_DEVICE && in_peer)
		return fail(p, -EINVAL, "device key `%s' after the first "
			    "public_key", k->name);
	if (k->place == IN_PEER && !in_peer)
		return fail(p, -EINVAL, "peer key `%s' before any "
			    "public_key", k->name);
	return 0;
}

static int take_key_value(struct parser *p, char *l)
{
	char q[QUOTE_BUF];
	const struct key_def *k;
	char *eq = strchr(l, '=');
	int ret;

	if (!eq)
		return fail(p, -EINVAL, "no '=' in `%s'", quote(q, l, false));
	*eq = '\0';
	k = find_key(l);
	ret = misplaced(p, k, l);
	return ret ? ret : k->fn(p, k, eq + 1);
}

/* Takes one line of s[0..n) and says how many bytes it used. */
static int take_line(struct parser *p, const char *s, size_t n,
		     size_t *used)
{
	const char *nl = memchr(s, '\n', n);
	size_t len = nl ? (size_t)(nl - s) : n;

	*used = nl ? len + 1 : len;
	if (len > UAPI_MAX_LINE)
		return fail(p, -EINVAL, "longer than %d bytes",
			    UAPI_MAX_LINE);
	if (memchr(s, '\0', len))
		return fail(p, -EINVAL, "NUL byte");
	if (len && s[len - 1] == '\r')
		len--;
	if (!len)
		return fail(p, -EINVAL, "empty line inside the request");
	memcpy(p->buf, s, len);
	p->buf[len] = '\0';
	return take_key_value(p, p->buf);
}

int uapi_parse_set(struct change *s, const char *body, size_t len,
		   char *err, size_t err_len)
{
	struct parser p = { .s = s, .err = err, .err_len = err_len };
	size_t pos = 0, used;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	if (err_len)
		err[0] = '\0';
	while (pos < len && !ret) {
		p.line++;
		ret = take_line(&p, body + pos, len - pos, &used);
		pos += used;
	}
	sodium_memzero(p.buf, sizeof(p.buf));
	if (ret)
		change_free(s);
	return ret;
}
