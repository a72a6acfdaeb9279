/* Peers by fleet slot (crypto/fleet_index.h): which peers an index of a
 * given slot may belong to. A fixed array of buckets, each a chain of
 * members threaded through the peers themselves, so adding and removing
 * a peer is O(1) and finding a slot's peers costs its bucket's chain:
 * with 10,000 peers about 2.4 members a bucket, whatever the slots are.
 *
 * Control thread only: no concurrent readers. */
#ifndef RINGVPN_SRC_FLEET_SLOTS_H
#define RINGVPN_SRC_FLEET_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLEET_SLOTS_BUCKETS 4096 /* a power of two */

/* Lives inside its owner (struct peer); zeroed means not a member. */
struct fleet_member {
	struct fleet_member *next;
	struct fleet_member **pprev; /* NULL: not in the map */
	uint16_t slot;
};

struct fleet_slots {
	struct fleet_member **buckets;
	size_t count;
};

int fleet_slots_init(struct fleet_slots *s);
/* Frees the buckets; the members belong to their owners. */
void fleet_slots_destroy(struct fleet_slots *s);
/* m must not be a member yet. */
void fleet_slots_add(struct fleet_slots *s, struct fleet_member *m,
		     uint16_t slot);
/* Harmless on a member that is not in the map. */
void fleet_slots_remove(struct fleet_slots *s, struct fleet_member *m);
static inline bool fleet_slots_has(const struct fleet_member *m)
{
	return m->pprev != NULL;
}

/* The first member of slot, and the one after m of the same slot; NULL
 * at the end. */
struct fleet_member *fleet_slots_first(const struct fleet_slots *s,
				       uint16_t slot);
struct fleet_member *fleet_slots_next(const struct fleet_member *m);

#endif
