/* Peers by public key: a hash table keyed with SipHash under a random key,
 * so lookups stay O(1) however the keys are chosen. */
#ifndef RINGVPN_SRC_PEER_TABLE_H
#define RINGVPN_SRC_PEER_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"

struct peer;

struct peer_table {
	struct peer **buckets;
	size_t mask;
	size_t count;
	uint8_t hash_key[16];
};

int peer_table_init(struct peer_table *t);
/* Frees the buckets only; the peers belong to the device. */
void peer_table_destroy(struct peer_table *t);
/* -EEXIST if a peer with that key is present, -ENOMEM. */
int peer_table_add(struct peer_table *t, struct peer *peer);
struct peer *peer_table_find(const struct peer_table *t, const uint8_t pub[WG_KEY_LEN]);
void peer_table_remove(struct peer_table *t, struct peer *peer);
/* Calls fn on every peer; fn may remove the peer it is given. */
void peer_table_each(const struct peer_table *t,
		     void (*fn)(struct peer *peer, void *arg), void *arg);

#endif
