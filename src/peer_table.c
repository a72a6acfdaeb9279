#include "src/peer_table.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "src/peer.h"

#define INITIAL_BUCKETS 64

static size_t slot(const struct peer_table *t, const uint8_t pub[WG_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, pub, 32, t->hash_key);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & t->mask;
}

int peer_table_init(struct peer_table *t)
{
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	t->mask = INITIAL_BUCKETS - 1;
	t->count = 0;
	randombytes_buf(t->hash_key, sizeof(t->hash_key));
	return t->buckets ? 0 : -ENOMEM;
}

void peer_table_destroy(struct peer_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
}

static void grow(struct peer_table *t)
{
	struct peer **old = t->buckets;
	size_t old_n = t->mask + 1;
	struct peer **b = calloc(old_n * 2, sizeof(*b));

	if (!b)
		return;
	t->buckets = b;
	t->mask = old_n * 2 - 1;
	for (size_t i = 0; i < old_n; i++) {
		struct peer *p = old[i], *next;

		for (; p; p = next) {
			size_t s = slot(t, peer_public_key(p));

			next = p->table_next;
			p->table_next = b[s];
			b[s] = p;
		}
	}
	free(old);
}

struct peer *peer_table_find(const struct peer_table *t, const uint8_t pub[WG_KEY_LEN])
{
	struct peer *p = t->buckets[slot(t, pub)];

	while (p && sodium_memcmp(peer_public_key(p), pub, WG_KEY_LEN))
		p = p->table_next;
	return p;
}

int peer_table_add(struct peer_table *t, struct peer *peer)
{
	size_t s;

	if (peer_table_find(t, peer_public_key(peer)))
		return -EEXIST;
	s = slot(t, peer_public_key(peer));
	peer->table_next = t->buckets[s];
	t->buckets[s] = peer;
	if (++t->count > t->mask + 1)
		grow(t);
	return 0;
}

void peer_table_remove(struct peer_table *t, struct peer *peer)
{
	struct peer **pp = &t->buckets[slot(t, peer_public_key(peer))];

	for (; *pp; pp = &(*pp)->table_next) {
		if (*pp == peer) {
			*pp = peer->table_next;
			t->count--;
			return;
		}
	}
}

void peer_table_each(const struct peer_table *t,
		     void (*fn)(struct peer *peer, void *arg), void *arg)
{
	for (size_t i = 0; i <= t->mask; i++) {
		struct peer *p = t->buckets[i], *next;

		for (; p; p = next) {
			next = p->table_next;
			fn(p, arg);
		}
	}
}
