/* The reply to `get=1`: the device, then each peer with its prefixes, in
 * the key=value form of the cross-platform protocol (what `wg show` and
 * `wg showconf` read). */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "src/sockaddr.h"
#include "src/tunnel/state.h"
#include "src/uapi/uapi.h"

/* Every prefix with its owner, sorted by owner: one walk of the trie
 * serves all peers, instead of one walk per peer. */
struct owned_prefix {
	void *owner;
	size_t order; /* keeps address order within an owner */
	int family;
	uint8_t addr[16];
	uint8_t cidr;
};

struct prefix_list {
	struct owned_prefix *v;
	size_t n, cap;
};

static int collect(void *arg, int family, const uint8_t *addr, uint8_t cidr,
		   void *owner)
{
	struct prefix_list *l = arg;
	struct owned_prefix *p;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;

		p = realloc(l->v, cap * sizeof(*p));
		if (!p)
			return -1;
		l->v = p;
		l->cap = cap;
	}
	p = &l->v[l->n];
	*p = (struct owned_prefix){ .owner = owner, .order = l->n,
				    .family = family, .cidr = cidr };
	memcpy(p->addr, addr, family == AF_INET ? 4 : 16);
	l->n++;
	return 0;
}

static int by_owner(const void *a, const void *b)
{
	const struct owned_prefix *x = a, *y = b;

	if (x->owner != y->owner)
		return (uintptr_t)x->owner < (uintptr_t)y->owner ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The first prefix of owner in the sorted list, or l->n. */
static size_t first_of(const struct prefix_list *l, const void *owner)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)l->v[mid].owner < (uintptr_t)owner)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void print_prefixes(FILE *f, const struct prefix_list *l,
			   const void *owner)
{
	char text[INET6_ADDRSTRLEN];

	for (size_t i = first_of(l, owner); i < l->n && l->v[i].owner == owner;
	     i++) {
		inet_ntop(l->v[i].family, l->v[i].addr, text, sizeof(text));
		fprintf(f, "allowed_ip=%s/%u\n", text, l->v[i].cidr);
	}
}

struct get_ctx {
	FILE *f;
	const struct prefix_list *prefixes;
};

static void print_peer(struct peer *peer, void *arg)
{
	struct get_ctx *ctx = arg;
	char hex[WG_KEY_HEX_LEN + 1], text[SOCKADDR_TEXT_MAX];
	struct sockaddr_storage ep;

	key_to_hex(hex, peer_public_key(peer));
	fprintf(ctx->f, "public_key=%s\n", hex);
	key_to_hex(hex, peer->handshake.preshared_key);
	fprintf(ctx->f, "preshared_key=%s\nprotocol_version=1\n", hex);
	sodium_memzero(hex, sizeof(hex));
	if (peer_get_endpoint(peer, &ep)) {
		sockaddr_to_text(&ep, text);
		fprintf(ctx->f, "endpoint=%s\n", text);
	}
	fprintf(ctx->f, "last_handshake_time_sec=%llu\n"
			"last_handshake_time_nsec=%llu\n"
			"tx_bytes=%llu\nrx_bytes=%llu\n"
			"persistent_keepalive_interval=%u\n",
		(unsigned long long)(peer->last_handshake_ns / 1000000000ULL),
		(unsigned long long)(peer->last_handshake_ns % 1000000000ULL),
		(unsigned long long)atomic_load(&peer->tx_bytes),
		(unsigned long long)atomic_load(&peer->rx_bytes),
		peer->persistent_keepalive);
	print_prefixes(ctx->f, ctx->prefixes, peer);
}

int uapi_get(struct tunnel *tn, FILE *f)
{
	struct prefix_list l = { 0 };
	struct get_ctx ctx = { f, &l };
	char hex[WG_KEY_HEX_LEN + 1];

	if (allowedips_walk(tn->dev.allowedips, collect, &l)) {
		free(l.v);
		return -ENOMEM;
	}
	if (l.n) /* qsort's base must not be NULL, even for 0 */
		qsort(l.v, l.n, sizeof(*l.v), by_owner);
	if (tn->dev.identity.has_identity) {
		key_to_hex(hex, tn->dev.identity.private_key);
		fprintf(f, "private_key=%s\n", hex);
		sodium_memzero(hex, sizeof(hex));
	}
	fprintf(f, "listen_port=%u\n", tn->listen_port);
	if (tn->fwmark)
		fprintf(f, "fwmark=%u\n", tn->fwmark);
	peer_table_each(&tn->dev.peers, print_peer, &ctx);
	free(l.v);
	return 0;
}
