/* Local session indices (the receiver_index of incoming messages) mapped to
 * what they name: a handshake in flight or an established keypair. Indices
 * are random, so they reveal nothing, and unique on the device. */
#ifndef RINGVPN_SRC_INDEX_TABLE_H
#define RINGVPN_SRC_INDEX_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct peer;
struct keypair;

enum index_kind { INDEX_HANDSHAKE, INDEX_KEYPAIR };

struct index_entry {
	uint32_t index;
	enum index_kind kind;
	struct peer *peer;
	struct keypair *keypair; /* for INDEX_KEYPAIR */
	struct index_entry *next;
};

struct index_table {
	struct index_entry **buckets;
	size_t mask;  /* buckets - 1; a power of two */
	size_t count;
};

int index_table_init(struct index_table *t);
void index_table_destroy(struct index_table *t);
/* Picks a fresh random index not in use and inserts an entry for it;
 * returns the index in *index, or -ENOMEM. */
int index_table_add(struct index_table *t, enum index_kind kind,
		    struct peer *peer, struct keypair *kp, uint32_t *index);
struct index_entry *index_table_find(const struct index_table *t,
				     uint32_t index);
/* Removes and frees the entry; -ENOENT if absent. */
int index_table_remove(struct index_table *t, uint32_t index);

#endif
