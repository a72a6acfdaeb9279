#include "src/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/grow.h"
#include "src/quote.h"
#include "src/secret_buf.h"

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER };

/* How offending text may be quoted in a message. */
enum quote_mode {
	Q_PLAIN, /* as is, unless it looks like it holds a key */
	Q_SECRET, /* never: the value of PrivateKey or PresharedKey */
	Q_PUBLIC, /* as is: a public key */
};

/* The device's keys first: they index struct config_layout's
 * device_lines. */
enum key_id {
	K_PRIVATE_KEY,
	K_LISTEN_PORT,
	K_FWMARK,
	K_ADDRESS,
	K_MTU,
	K_TABLE,
	K_DNS,
	K_PRE_UP,
	K_POST_UP,
	K_PRE_DOWN,
	K_POST_DOWN,
	K_SAVE_CONFIG,
	K_THREADS,
	K_KILL_SWITCH,
	K_SERVICE_ADDRESS,
	K_SESSION_TABLE,
	K_FLEET_RECOVERY,
	K_PUBLIC_KEY,
	K_PRESHARED_KEY,
	K_ALLOWED_IPS,
	K_ENDPOINT,
	K_KEEPALIVE,
	K_COUNT
};
_Static_assert(K_FWMARK + 1 == CONFIG_DEVICE_KEYS,
	       "the device's keys come first");

struct parser {
	struct config *c;
	const char *name;
	char *err;
	size_t err_len;
	unsigned line;
	enum section section;
	bool has_private_key;
	/* Where each key was first given in the current section: single-valued
	 * keys may appear once per section. */
	unsigned first_line[K_COUNT];
};

struct key_def;
typedef int (*value_fn)(struct parser *p, const struct key_def *k, char *v);

struct key_def {
	const char *name;
	enum section section;
	bool list; /* may repeat; the value may be a comma-separated list */
	enum quote_mode quote; /* of the value in messages */
	value_fn parse;
	const char *expected;
	size_t strings_off; /* of a struct config_strings in struct config */
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f';
}

static char *trim(char *s)
{
	char *end;

	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_blank(end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* A key pasted where it does not belong must not end up in a log: text
 * with a run of 40 base64 characters (a key has 43, then '=') is not
 * quoted. */
#define KEY_RUN_HIDDEN 40

/* Writes "NAME:LINE: what `text' (expected ...)" and returns -EINVAL. */
static int fail(struct parser *p, const char *what, const char *text,
		enum quote_mode mode, const char *expected)
{
	char q[QUOTE_BUF];

	if (p->err_len)
		snprintf(p->err, p->err_len, "%s:%u: %s `%s' (expected %s)",
			 p->name, p->line ? p->line : 1, what,
			 quote_text(q, text, mode == Q_SECRET,
				    mode == Q_PUBLIC ? 0 : KEY_RUN_HIDDEN),
			 expected);
	return -EINVAL;
}

/* "invalid KEY `text' (expected ...)". */
static int refuse(struct parser *p, const struct key_def *k,
		  const char *text, const char *expected)
{
	char what[64];

	snprintf(what, sizeof(what), "invalid %s", k->name);
	return fail(p, what, text, k->quote, expected);
}

static int bad_value(struct parser *p, const struct key_def *k,
		     const char *text)
{
	return refuse(p, k, text, k->expected);
}

static int no_memory(struct parser *p)
{
	if (p->err_len)
		snprintf(p->err, p->err_len, "%s:%u: out of memory", p->name,
			 p->line);
	return -ENOMEM;
}

static int push_string(struct parser *p, struct config_strings *l,
		       const char *s)
{
	char *copy;

	if (grow_array(&l->v, l->n, sizeof(*l->v), false))
		return no_memory(p);
	copy = strdup(s);
	if (!copy)
		return no_memory(p);
	l->v[l->n++] = copy;
	return 0;
}

static int push_prefix(struct parser *p, struct prefix **v,
		       size_t *n, const struct prefix *x)
{
	if (grow_array(v, *n, sizeof(**v), false))
		return no_memory(p);
	(*v)[(*n)++] = *x;
	return 0;
}

/* Digits only (no sign, no blanks), at most max. */
static bool parse_uint(const char *s, unsigned base, uint64_t max,
		       uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (d > max || v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* Decimal, or hexadecimal after 0x, as wg takes a fwmark. */
static bool parse_number(const char *s, uint64_t max, uint64_t *out)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_uint(s + 2, 16, max, out);
	return parse_uint(s, 10, max, out);
}

/* Letters, digits, '-', '_' and '.': what getaddrinfo and resolv.conf
 * accept as a name, without judging label rules. */
static bool valid_hostname(const char *s, size_t len)
{
	if (!len || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		      ch == '.'))
			return false;
	}
	return true;
}

static bool is_ifname_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '=' ||
	       ch == '+' || ch == '.' || ch == '-';
}

/* An IPv6 literal, optionally with a %scope (an interface name or
 * number), as getaddrinfo takes it. */
static bool valid_ipv6_host(const char *s, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	uint8_t bin[16];
	const char *pct = memchr(s, '%', len);
	size_t alen = pct ? (size_t)(pct - s) : len;

	if (!alen || alen >= sizeof(addr))
		return false;
	if (pct) {
		size_t slen = len - alen - 1;

		if (!slen || slen > 15)
			return false;
		for (size_t i = 0; i < slen; i++)
			if (!is_ifname_char(pct[1 + i]))
				return false;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	return inet_pton(AF_INET6, addr, bin) == 1;
}

static struct config_peer *cur_peer(struct parser *p)
{
	return &p->c->peers[p->c->n_peers - 1];
}

/* Splits v at commas and hands each trimmed item to fn. An empty value is
 * an empty list (as wg takes "AllowedIPs ="); an empty item is not. */
static int each_item(struct parser *p, const struct key_def *k, char *v,
		     value_fn fn)
{
	char *item, *next;
	int ret;

	if (!*v)
		return 0;
	for (item = v; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		ret = fn(p, k, trim(item));
		if (ret)
			return ret;
	}
	return 0;
}

static int key_value(struct parser *p, const struct key_def *k,
		     const char *v, uint8_t key[WG_KEY_LEN])
{
	if (key_from_base64(key, v))
		return bad_value(p, k, v);
	return 0;
}

static int v_private_key(struct parser *p, const struct key_def *k, char *v)
{
	int ret = key_value(p, k, v, p->c->private_key);

	if (ret)
		return ret;
	if (key_is_zero(p->c->private_key))
		return fail(p, "invalid PrivateKey", v, Q_SECRET,
			    "a key that is not all zero");
	p->has_private_key = true;
	return 0;
}

static int v_listen_port(struct parser *p, const struct key_def *k, char *v)
{
	uint64_t n;

	if (!parse_uint(v, 10, 65535, &n))
		return bad_value(p, k, v);
	p->c->listen_port = (uint16_t)n;
	p->c->has_listen_port = true;
	return 0;
}

static int v_fwmark(struct parser *p, const struct key_def *k, char *v)
{
	uint64_t n = 0;

	if (strcasecmp(v, "off") && !parse_number(v, UINT32_MAX, &n))
		return bad_value(p, k, v);
	p->c->fwmark = (uint32_t)n;
	return 0;
}

/* Whether v holds x's address, whatever the prefix lengths. An address
 * in both Address and ServiceAddress would be added twice and removed
 * by whichever key goes first: refused where the second one stands. */
static bool has_address(const struct prefix *v, size_t n,
			const struct prefix *x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].family == x->family &&
		    !memcmp(v[i].addr, x->addr, sizeof(x->addr)))
			return true;
	return false;
}

static int address_item(struct parser *p, const struct key_def *k, char *v)
{
	struct prefix x;

	if (!prefix_parse(&x, v, 0, PREFIX_LEN_OPTIONAL))
		return bad_value(p, k, v);
	if (has_address(p->c->service_addresses, p->c->n_service_addresses,
			&x))
		return refuse(p, k, v, "an address not in ServiceAddress");
	return push_prefix(p, &p->c->addresses, &p->c->n_addresses, &x);
}

static int v_address(struct parser *p, const struct key_def *k, char *v)
{
	return each_item(p, k, v, address_item);
}

static int v_mtu(struct parser *p, const struct key_def *k, char *v)
{
	uint64_t n;

	if (!parse_uint(v, 10, 65535, &n) || n < 576)
		return bad_value(p, k, v);
	p->c->mtu = (unsigned)n;
	return 0;
}

static int v_table(struct parser *p, const struct key_def *k, char *v)
{
	static const struct {
		const char *name;
		uint32_t id;
	} names[] = { { "main", 254 }, { "local", 255 }, { "default", 253 } };
	struct config *c = p->c;
	uint64_t n;

	if (!strcasecmp(v, "auto")) {
		c->table = CONFIG_TABLE_AUTO;
		return 0;
	}
	if (!strcasecmp(v, "off")) {
		c->table = CONFIG_TABLE_OFF;
		return 0;
	}
	c->table = CONFIG_TABLE_ID;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(v, names[i].name)) {
			c->table_id = names[i].id;
			return 0;
		}
	}
	if (!parse_uint(v, 10, UINT32_MAX, &n) || !n)
		return bad_value(p, k, v);
	/* One table for both would be flushed as one: refused where the
	 * second of the two stands (and in v_session_table). */
	if (n == c->session_table)
		return refuse(p, k, v, "another table than SessionTable's");
	c->table_id = (uint32_t)n;
	return 0;
}

/* As wg-quick: what parses as an address is a name server, anything else
 * a search domain, except what only an address could look like. */
static int dns_item(struct parser *p, const struct key_def *k, char *v)
{
	uint8_t bin[16];
	size_t len = strlen(v);

	if (inet_pton(AF_INET, v, bin) == 1 || inet_pton(AF_INET6, v, bin) == 1)
		return push_string(p, &p->c->dns, v);
	if (strchr(v, ':') || strspn(v, "0123456789.") == len ||
	    !valid_hostname(v, len))
		return bad_value(p, k, v);
	return push_string(p, &p->c->dns_search, v);
}

static int v_dns(struct parser *p, const struct key_def *k, char *v)
{
	return each_item(p, k, v, dns_item);
}

/* A hook is one shell command, kept whole (commas included). An empty one
 * would do nothing, so it is dropped. */
static int v_hook(struct parser *p, const struct key_def *k, char *v)
{
	if (!*v)
		return 0;
	return push_string(p, (struct config_strings *)
			   ((char *)p->c + k->strings_off), v);
}

/* A switch whose two words (any case) are yes and no. */
static int v_switch(struct parser *p, const struct key_def *k, char *v,
		    const char *yes, const char *no, bool *out)
{
	if (!strcasecmp(v, yes))
		*out = true;
	else if (!strcasecmp(v, no))
		*out = false;
	else
		return bad_value(p, k, v);
	return 0;
}

static int v_save_config(struct parser *p, const struct key_def *k, char *v)
{
	return v_switch(p, k, v, "true", "false", &p->c->save_config);
}

static int v_threads(struct parser *p, const struct key_def *k, char *v)
{
	uint64_t n;

	if (!parse_uint(v, 10, 256, &n) || !n)
		return bad_value(p, k, v);
	p->c->threads = (unsigned)n;
	return 0;
}

static int v_kill_switch(struct parser *p, const struct key_def *k, char *v)
{
	return v_switch(p, k, v, "on", "off", &p->c->kill_switch);
}

/* A host address only: the address is the whole point, and a prefix
 * would add a route that no fleet member should announce. */
static int service_address_item(struct parser *p, const struct key_def *k,
				char *v)
{
	struct prefix x;

	if (!prefix_parse(&x, v, 0, PREFIX_LEN_OPTIONAL) ||
	    x.cidr != prefix_addr_len(x.family) * 8)
		return bad_value(p, k, v);
	if (has_address(p->c->addresses, p->c->n_addresses, &x))
		return refuse(p, k, v, "an address not in Address");
	return push_prefix(p, &p->c->service_addresses,
			   &p->c->n_service_addresses, &x);
}

static int v_service_address(struct parser *p, const struct key_def *k,
			     char *v)
{
	return each_item(p, k, v, service_address_item);
}

/* A number only: the routes are for a routing daemon to pick up from a
 * table of their own, never main, local or default. */
static int v_session_table(struct parser *p, const struct key_def *k,
			   char *v)
{
	uint64_t n;

	if (!parse_uint(v, 10, UINT32_MAX, &n) || !n ||
	    (n >= CONFIG_TABLE_RESERVED_FIRST &&
	     n <= CONFIG_TABLE_RESERVED_LAST))
		return bad_value(p, k, v);
	if (p->c->table == CONFIG_TABLE_ID && n == p->c->table_id)
		return refuse(p, k, v, "another table than Table's");
	p->c->session_table = (uint32_t)n;
	return 0;
}

static int v_fleet_recovery(struct parser *p, const struct key_def *k,
			    char *v)
{
	return v_switch(p, k, v, "on", "off", &p->c->fleet_recovery);
}

static int v_public_key(struct parser *p, const struct key_def *k, char *v)
{
	struct config_peer *peer = cur_peer(p);
	int ret = key_value(p, k, v, peer->public_key);

	if (ret)
		return ret;
	if (key_is_zero(peer->public_key))
		return fail(p, "invalid PublicKey", v, Q_PUBLIC,
			    "a key that is not all zero");
	return 0;
}

/* An all-zero preshared key means none, as in wg. */
static int v_psk(struct parser *p, const struct key_def *k, char *v)
{
	struct config_peer *peer = cur_peer(p);
	int ret = key_value(p, k, v, peer->psk);

	if (ret)
		return ret;
	peer->has_psk = !key_is_zero(peer->psk);
	return 0;
}

static int allowed_ip_item(struct parser *p, const struct key_def *k,
			   char *v)
{
	struct config_peer *peer = cur_peer(p);
	struct prefix x;

	if (!prefix_parse(&x, v, 0, PREFIX_LEN_OPTIONAL))
		return bad_value(p, k, v);
	return push_prefix(p, &peer->allowed_ips, &peer->n_allowed_ips, &x);
}

static int v_allowed_ips(struct parser *p, const struct key_def *k, char *v)
{
	return each_item(p, k, v, allowed_ip_item);
}

/* host:port or [IPv6]:port. Without brackets the host may not hold a
 * colon: "fe80::1:51820" is ambiguous, and wg's guess (split at the last
 * colon) is wrong as often as not. */
static int v_endpoint(struct parser *p, const struct key_def *k, char *v)
{
	struct config_peer *peer = cur_peer(p);
	const char *host, *port;
	size_t host_len;
	uint64_t n;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close || close[1] != ':')
			return bad_value(p, k, v);
		host = v + 1;
		host_len = (size_t)(close - host);
		port = close + 2;
		if (!valid_ipv6_host(host, host_len))
			return bad_value(p, k, v);
	} else {
		const char *colon = strrchr(v, ':');

		if (!colon)
			return bad_value(p, k, v);
		host = v;
		host_len = (size_t)(colon - v);
		port = colon + 1;
		if (memchr(host, ':', host_len) ||
		    !valid_hostname(host, host_len))
			return bad_value(p, k, v);
	}
	if (!parse_uint(port, 10, 65535, &n) || !n)
		return bad_value(p, k, v);
	peer->endpoint_host = strndup(host, host_len);
	peer->endpoint_port = malloc(sizeof("65535"));
	if (!peer->endpoint_host || !peer->endpoint_port)
		return no_memory(p);
	/* canonical: "051820" and "51820" must compare equal later */
	snprintf(peer->endpoint_port, sizeof("65535"), "%u", (unsigned)n);
	return 0;
}

static int v_keepalive(struct parser *p, const struct key_def *k, char *v)
{
	uint64_t n = 0;

	if (strcasecmp(v, "off") && !parse_uint(v, 10, 65535, &n))
		return bad_value(p, k, v);
	cur_peer(p)->persistent_keepalive = (uint16_t)n;
	return 0;
}

#define KEY_B64 "a base64 key of 44 characters"
#define INTERFACE_KEY(nm, fn, exp) \
	{ .name = nm, .section = SEC_INTERFACE, .parse = fn, .expected = exp }
#define PEER_KEY(nm, fn, exp) \
	{ .name = nm, .section = SEC_PEER, .parse = fn, .expected = exp }
#define HOOK(nm, field)                                                 \
	{ .name = nm, .section = SEC_INTERFACE, .list = true,          \
	  .parse = v_hook, .strings_off = offsetof(struct config, field) }

/* Indexed by enum key_id. Values are quoted as Q_PLAIN unless set. */
static const struct key_def keys[K_COUNT] = {
	[K_PRIVATE_KEY] = { .name = "PrivateKey", .section = SEC_INTERFACE,
			    .quote = Q_SECRET, .parse = v_private_key,
			    .expected = KEY_B64 ", as wg genkey prints" },
	[K_LISTEN_PORT] = INTERFACE_KEY("ListenPort", v_listen_port,
					"0-65535"),
	[K_FWMARK] = INTERFACE_KEY("FwMark", v_fwmark,
				   "off or 0-4294967295, decimal or 0x hex"),
	[K_ADDRESS] = { .name = "Address", .section = SEC_INTERFACE,
			.list = true, .parse = v_address,
			.expected = "IPv4 addresses with optional /0-32, "
				    "IPv6 with /0-128" },
	[K_MTU] = INTERFACE_KEY("MTU", v_mtu, "576-65535"),
	[K_TABLE] = INTERFACE_KEY("Table", v_table,
				  "auto, off, main, local, default or "
				  "1-4294967295"),
	[K_DNS] = { .name = "DNS", .section = SEC_INTERFACE, .list = true,
		    .parse = v_dns,
		    .expected = "IP addresses or search domains" },
	[K_PRE_UP] = HOOK("PreUp", pre_up),
	[K_POST_UP] = HOOK("PostUp", post_up),
	[K_PRE_DOWN] = HOOK("PreDown", pre_down),
	[K_POST_DOWN] = HOOK("PostDown", post_down),
	[K_SAVE_CONFIG] = INTERFACE_KEY("SaveConfig", v_save_config,
					"true or false"),
	[K_THREADS] = INTERFACE_KEY("Threads", v_threads, "1-256"),
	[K_KILL_SWITCH] = INTERFACE_KEY("KillSwitch", v_kill_switch,
					"on or off"),
	[K_SERVICE_ADDRESS] = { .name = "ServiceAddress",
				.section = SEC_INTERFACE, .list = true,
				.parse = v_service_address,
				.expected = "IPv4 host addresses (optional "
					    "/32) or IPv6 (optional /128)" },
	[K_SESSION_TABLE] = INTERFACE_KEY("SessionTable", v_session_table,
					  "a routing table number "
					  "1-4294967295 but 253-255 "
					  "(default, main, local)"),
	[K_FLEET_RECOVERY] = INTERFACE_KEY("FleetRecovery", v_fleet_recovery,
					   "on or off"),
	[K_PUBLIC_KEY] = { .name = "PublicKey", .section = SEC_PEER,
			   .quote = Q_PUBLIC, .parse = v_public_key,
			   .expected = KEY_B64 ", as wg pubkey prints" },
	[K_PRESHARED_KEY] = { .name = "PresharedKey", .section = SEC_PEER,
			      .quote = Q_SECRET, .parse = v_psk,
			      .expected = KEY_B64 ", as wg genpsk prints" },
	[K_ALLOWED_IPS] = { .name = "AllowedIPs", .section = SEC_PEER,
			    .list = true, .parse = v_allowed_ips,
			    .expected = "IPv4 prefixes /0-32 or IPv6 "
					"prefixes /0-128" },
	[K_ENDPOINT] = PEER_KEY("Endpoint", v_endpoint,
				"host:port or [IPv6]:port with port 1-65535"),
	[K_KEEPALIVE] = PEER_KEY("PersistentKeepalive", v_keepalive,
				 "off or 0-65535 seconds"),
};

static const char *section_name(enum section s)
{
	return s == SEC_INTERFACE ? "[Interface]" : "[Peer]";
}

static const struct key_def *find_key(const char *name)
{
	for (size_t i = 0; i < K_COUNT; i++)
		if (!strcasecmp(name, keys[i].name))
			return &keys[i];
	return NULL;
}

static int unknown_key(struct parser *p, const char *key)
{
	char expected[512] = "one of";
	size_t o = strlen(expected);

	/* A list longer than the buffer is cut, never written past it. */
	for (size_t i = 0; i < K_COUNT && o < sizeof(expected); i++) {
		if (keys[i].section != p->section)
			continue;
		o += (size_t)snprintf(expected + o, sizeof(expected) - o,
				      "%s %s", o > 6 ? "," : "", keys[i].name);
	}
	return fail(p, "unknown key", key, Q_PLAIN, expected);
}

/* What SaveConfig needs to know of an [Interface] line that holds
 * something: a device's key is rewritten, the rest kept as written. */
static void note_key(struct parser *p, enum key_id id)
{
	struct config_layout *l = &p->c->layout;

	if (p->section != SEC_INTERFACE)
		return;
	if (id < CONFIG_DEVICE_KEYS)
		l->device_lines[id] = p->line;
	else
		l->interface_end = p->line + 1;
}

static int take_key_value(struct parser *p, char *l)
{
	const struct key_def *k;
	char *eq = strchr(l, '='), *key, *value;
	unsigned *first;
	char what[64], expected[64];

	if (!eq)
		return fail(p, "malformed line", l, Q_PLAIN,
			    "Key = Value or a [Section] header");
	*eq = '\0';
	key = trim(l);
	value = trim(eq + 1);
	if (!*key) {
		*eq = '=';
		return fail(p, "malformed line", l, Q_PLAIN, "Key = Value");
	}
	if (p->section == SEC_NONE)
		return fail(p, "key outside any section", key, Q_PLAIN,
			    "[Interface] or [Peer] before it");
	k = find_key(key);
	if (!k)
		return unknown_key(p, key);
	if (k->section != p->section) {
		snprintf(expected, sizeof(expected), "it in %s, not in %s",
			 section_name(k->section), section_name(p->section));
		return fail(p, "misplaced key", k->name, Q_PLAIN, expected);
	}
	first = &p->first_line[k - keys];
	if (*first && !k->list) {
		snprintf(what, sizeof(what), "duplicate %s", k->name);
		snprintf(expected, sizeof(expected),
			 "it once per section; it is already on line %u",
			 *first);
		return fail(p, what, value, k->quote, expected);
	}
	if (!*first)
		*first = p->line;
	note_key(p, (enum key_id)(k - keys));
	return k->parse(p, k, value);
}

/* Checks a [Peer] as it ends: the header line is where the error goes. */
static int end_section(struct parser *p)
{
	struct config_peer *peer;

	if (p->section != SEC_PEER || p->first_line[K_PUBLIC_KEY])
		return 0;
	peer = cur_peer(p);
	p->line = peer->line;
	return fail(p, "missing PublicKey in", "[Peer]", Q_PLAIN,
		    "a PublicKey line in every peer");
}

/* Which section "[ name ]" opens (blanks inside allowed, as wg allows),
 * or SEC_NONE. l is not changed: it is quoted in messages. */
static enum section section_of(const char *l, const char *close)
{
	const char *name = l + 1, *end = close;
	size_t len;

	while (name < end && is_blank(*name))
		name++;
	while (end > name && is_blank(end[-1]))
		end--;
	len = (size_t)(end - name);
	if (len == strlen("Interface") && !strncasecmp(name, "Interface", len))
		return SEC_INTERFACE;
	if (len == strlen("Peer") && !strncasecmp(name, "Peer", len))
		return SEC_PEER;
	return SEC_NONE;
}

static int new_peer(struct parser *p)
{
	struct config *c = p->c;

	if (grow_array(&c->peers, c->n_peers, sizeof(*c->peers), true))
		return no_memory(p);
	memset(&c->peers[c->n_peers], 0, sizeof(*c->peers));
	c->peers[c->n_peers++].line = p->line;
	return 0;
}

static int take_section(struct parser *p, const char *l)
{
	const char *close = strchr(l, ']');
	unsigned line = p->line;
	enum section s;
	char expected[64];
	int ret;

	if (!close || close[1])
		return fail(p, "malformed section header", l, Q_PLAIN,
			    "[Interface] or [Peer]");
	s = section_of(l, close);
	if (s == SEC_NONE)
		return fail(p, "unknown section", l, Q_PLAIN,
			    "[Interface] or [Peer]");
	if (s == SEC_INTERFACE && p->c->layout.interface_line) {
		snprintf(expected, sizeof(expected),
			 "only one; the first is on line %u",
			 p->c->layout.interface_line);
		return fail(p, "second section", l, Q_PLAIN, expected);
	}
	ret = end_section(p);
	if (ret)
		return ret;
	p->line = line;
	memset(p->first_line, 0, sizeof(p->first_line));
	p->section = s;
	if (s == SEC_PEER)
		return new_peer(p);
	p->c->layout.interface_line = line;
	p->c->layout.interface_end = line + 1;
	return 0;
}

/* One line of n bytes (no newline), copied into buf to be cut up. */
static int take_line(struct parser *p, const char *s, size_t n, char *buf)
{
	char expected[48], *l, *hash;

	if (n > CONFIG_MAX_LINE) {
		memcpy(buf, s, QUOTE_MAX + 1);
		buf[QUOTE_MAX + 1] = '\0';
		snprintf(expected, sizeof(expected), "at most %u characters",
			 CONFIG_MAX_LINE);
		return fail(p, "line too long", buf, Q_PLAIN, expected);
	}
	if (memchr(s, '\0', n))
		return fail(p, "stray NUL byte", "\\x00", Q_PLAIN, "text");
	memcpy(buf, s, n);
	buf[n] = '\0';
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	l = trim(buf);
	if (!*l && hash && p->section == SEC_INTERFACE)
		p->c->layout.interface_end = p->line + 1; /* a comment */
	if (!*l)
		return 0;
	if (*l == '[')
		return take_section(p, l);
	return take_key_value(p, l);
}

static int cmp_peer(const void *a, const void *b)
{
	const struct config_peer *x = *(const struct config_peer *const *)a;
	const struct config_peer *y = *(const struct config_peer *const *)b;
	int r = memcmp(x->public_key, y->public_key, WG_KEY_LEN);

	if (r)
		return r;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Finds the earliest peer that repeats an earlier one's key, by sorting:
 * linear scans would be quadratic in the number of peers. */
static int check_duplicates(struct parser *p)
{
	struct config *c = p->c;
	const struct config_peer **v, *dup = NULL, *orig = NULL;
	char b64[WG_KEY_B64_LEN + 1], expected[64];

	if (c->n_peers < 2)
		return 0;
	v = malloc(c->n_peers * sizeof(*v));
	if (!v)
		return no_memory(p);
	for (size_t i = 0; i < c->n_peers; i++)
		v[i] = &c->peers[i];
	/* Sorted by key, then line: in a group of equal keys the second entry
	 * is the group's earliest repeat and the one before it the original. */
	qsort(v, c->n_peers, sizeof(*v), cmp_peer);
	for (size_t i = 1; i < c->n_peers; i++) {
		if (memcmp(v[i]->public_key, v[i - 1]->public_key, WG_KEY_LEN))
			continue;
		if (!dup || v[i]->line < dup->line) {
			dup = v[i];
			orig = v[i - 1];
		}
	}
	free(v);
	if (!dup)
		return 0;
	p->line = dup->line;
	key_to_base64(b64, dup->public_key);
	snprintf(expected, sizeof(expected),
		 "each PublicKey once; it is already on line %u", orig->line);
	return fail(p, "duplicate peer", b64, Q_PUBLIC, expected);
}

static int finish(struct parser *p)
{
	struct config *c = p->c;
	char b64[WG_KEY_B64_LEN + 1];
	int ret = end_section(p);

	if (ret)
		return ret;
	if (!p->c->layout.interface_line)
		return fail(p, "missing section", "[Interface]", Q_PLAIN,
			    "exactly one [Interface] section");
	if (!p->has_private_key) {
		p->line = p->c->layout.interface_line;
		return fail(p, "missing PrivateKey in", "[Interface]", Q_PLAIN,
			    "a PrivateKey line");
	}
	if (key_public_from_private(c->public_key, c->private_key)) {
		p->line = p->c->layout.interface_line;
		return fail(p, "invalid PrivateKey", "", Q_SECRET,
			    "a key with a non-zero public key");
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		if (sodium_memcmp(c->peers[i].public_key, c->public_key,
				  WG_KEY_LEN))
			continue;
		p->line = c->peers[i].line;
		key_to_base64(b64, c->public_key);
		return fail(p, "peer with our own key", b64, Q_PUBLIC,
			    "the PublicKey of another host");
	}
	return check_duplicates(p);
}

int config_parse(struct config *c, const char *name, const char *text,
		 size_t len, char *err, size_t err_len)
{
	struct parser p = {
		.c = c, .name = name, .err = err, .err_len = err_len,
	};
	char buf[CONFIG_MAX_LINE + 1];
	size_t pos = 0;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	if (err_len)
		err[0] = '\0';
	/* A byte order mark, as some Windows editors write. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len && !ret) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		ret = take_line(&p, text + pos, n, buf);
		pos += n + 1;
	}
	if (!ret)
		ret = finish(&p);
	/* The buffer held the key lines. */
	sodium_memzero(buf, sizeof(buf));
	if (ret)
		config_free(c);
	return ret;
}

static void free_strings(struct config_strings *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < c->n_peers; i++) {
		struct config_peer *peer = &c->peers[i];

		free(peer->allowed_ips);
		free(peer->endpoint_host);
		free(peer->endpoint_port);
	}
	if (c->peers)
		sodium_memzero(c->peers, c->n_peers * sizeof(*c->peers));
	free(c->peers);
	free(c->addresses);
	free(c->service_addresses);
	free_strings(&c->dns);
	free_strings(&c->dns_search);
	free_strings(&c->pre_up);
	free_strings(&c->post_up);
	free_strings(&c->pre_down);
	free_strings(&c->post_down);
	free_strings(&c->warnings);
	sodium_memzero(c, sizeof(*c));
}

/* As wg-quick warns, though from the file's mode alone. */
static int permission_warning(struct config *c, const char *path, int fd)
{
	struct config_strings *w = &c->warnings;
	struct stat st;
	const char *who;
	size_t len;
	char *msg;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (st.st_mode & S_IRWXO)
		who = "world";
	else if (st.st_mode & S_IRWXG)
		who = "group";
	else
		return 0;
	len = strlen(path) + sizeof("Warning: `' is world accessible");
	msg = malloc(len);
	if (!msg)
		return -ENOMEM;
	snprintf(msg, len, "Warning: `%s' is %s accessible", path, who);
	if (grow_array(&w->v, w->n, sizeof(*w->v), false)) {
		free(msg);
		return -ENOMEM;
	}
	w->v[w->n++] = msg;
	return 0;
}

int config_load(struct config *c, const char *path, char *err,
		size_t err_len)
{
	struct secret_buf text = { 0 };
	int ret = config_load_text(c, &text, path, err, err_len);

	secret_buf_free(&text);
	return ret;
}

int config_load_text(struct config *c, struct secret_buf *text,
		     const char *path, char *err, size_t err_len)
{
	const char *base = strrchr(path, '/');
	int fd, ret;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto read_error;
	}
	ret = secret_buf_read_fd(text, fd, CONFIG_MAX_FILE);
	if (ret == -EFBIG) {
		if (err_len)
			snprintf(err, err_len,
				 "`%s' is too large (expected at most %u "
				 "bytes)", path, CONFIG_MAX_FILE);
		goto out;
	}
	if (ret)
		goto read_error;
	ret = config_parse(c, base && base[1] ? base + 1 : path, text->data,
			   text->len, err, err_len);
	if (!ret && permission_warning(c, path, fd)) {
		config_free(c);
		ret = -ENOMEM;
		goto read_error;
	}
	goto out;
read_error:
	if (err_len)
		snprintf(err, err_len, "cannot read `%s': %s", path,
			 strerror(-ret));
out:
	if (ret)
		secret_buf_free(text);
	if (fd >= 0)
		close(fd);
	return ret;
}

int config_resolve_endpoint(const struct config_peer *p,
			    struct sockaddr_storage *ss, socklen_t *len,
			    char *err, size_t err_len)
{
	const struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL;
	bool v6 = p->endpoint_host && strchr(p->endpoint_host, ':');
	int r, ret;

	if (!p->endpoint_host || !p->endpoint_port) {
		if (err_len)
			snprintf(err, err_len,
				 "the peer on line %u has no Endpoint",
				 p->line);
		return -ENOENT;
	}
	if (p->endpoint_len) {
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, &p->endpoint_addr, p->endpoint_len);
		*len = p->endpoint_len;
		return 0;
	}
	r = getaddrinfo(p->endpoint_host, p->endpoint_port, &hints, &res);
	if (!r && res->ai_addrlen <= sizeof(*ss)) {
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, res->ai_addr, res->ai_addrlen);
		*len = res->ai_addrlen;
		freeaddrinfo(res);
		return 0;
	}
	if (!r)
		freeaddrinfo(res);
	if (r == EAI_AGAIN)
		ret = -EAGAIN;
	else if (r == EAI_MEMORY)
		ret = -ENOMEM;
	else if (r == EAI_SYSTEM && errno)
		ret = -errno;
	else
		ret = -EINVAL;
	if (err_len)
		snprintf(err, err_len,
			 "cannot resolve Endpoint `%s%s%s:%s' of the peer on "
			 "line %u: %s",
			 v6 ? "[" : "", p->endpoint_host, v6 ? "]" : "",
			 p->endpoint_port, p->line,
			 r == EAI_SYSTEM ? strerror(-ret) :
			 r ? gai_strerror(r) : "address too long");
	return ret;
}

int config_ifname_from_path(const char *path, char ifname[16])
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n <= 5 || strcmp(base + n - 5, ".conf"))
		return -EINVAL;
	n -= 5;
	if (n > 15)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!is_ifname_char(base[i]))
			return -EINVAL;
	if ((n == 1 && base[0] == '.') || (n == 2 && !strncmp(base, "..", 2)))
		return -EINVAL;
	memcpy(ifname, base, n);
	ifname[n] = '\0';
	return 0;
}
