/* Local session indices (the receiver_index of incoming messages) mapped to
 * what they name: a handshake in flight or an established keypair. Indices
 * are random, so they reveal nothing, and unique on the device.
 *
 * One writer (the control thread) calls add, remove, set_keypair and
 * destroy; any number of data path threads call find without a lock. Memory
 * the writer drops goes to epoch_retire (src/epoch.h); see index_table_init and
 * the comment at the top of index_table.c. */
#ifndef RINGVPN_SRC_INDEX_TABLE_H
#define RINGVPN_SRC_INDEX_TABLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct peer;
struct keypair;

enum index_kind { INDEX_HANDSHAKE, INDEX_KEYPAIR };

/* index and peer never change once an entry is visible. kind and keypair
 * are atomic because index_table_set_keypair changes them under readers:
 * read kind first, then keypair (plain reads of the fields do that with
 * sequentially consistent loads), and a reader that sees INDEX_KEYPAIR
 * sees the keypair that came with it. An entry pointer from find stays
 * valid for a reader until it is next quiescent, and for the writer until
 * its next add or remove (growth replaces every entry with a copy). */
struct index_entry {
	uint32_t index;
	_Atomic(enum index_kind) kind;
	struct peer *peer;
	_Atomic(struct keypair *) keypair; /* for INDEX_KEYPAIR */
	_Atomic(struct index_entry *) next;
};

struct index_buckets;
struct epoch;

struct index_table {
	_Atomic(struct index_buckets *) buckets;
	size_t count;
	struct epoch *epoch; /* frees what readers may hold; NULL: at once */
};

/* Unlinked entries and replaced bucket arrays go to epoch_retire(epoch):
 * NULL frees them at once, which is only right when nothing reads
 * concurrently. */
int index_table_init(struct index_table *t, struct epoch *epoch);
/* Frees the buckets and every entry directly (not through the epoch):
 * no reader may be inside the table any more. */
void index_table_destroy(struct index_table *t);
/* Picks a fresh random index not in use and inserts an entry for it;
 * returns the index in *index, or -ENOMEM. */
int index_table_add(struct index_table *t, enum index_kind kind,
		    struct peer *peer, struct keypair *kp, uint32_t *index);
/* A candidate index; called again, with the number of candidates taken
 * already, while the last one is in use. It must end up offering every
 * index (fully random ones, say) or the add never ends. */
typedef uint32_t index_pick_fn(void *arg, unsigned tries);
/* index_table_add with indexes chosen by pick. */
int index_table_add_picked(struct index_table *t, enum index_kind kind,
			   struct peer *peer, struct keypair *kp,
			   index_pick_fn *pick, void *arg, uint32_t *index);
/* Lock-free; safe against a concurrent writer. NULL if absent. */
struct index_entry *index_table_find(const struct index_table *t,
				     uint32_t index);
/* Turns the entry into INDEX_KEYPAIR for kp, publishing kp before the new
 * kind so that readers never see INDEX_KEYPAIR without it. -ENOENT if
 * absent. */
int index_table_set_keypair(struct index_table *t, uint32_t index,
			    struct keypair *kp);
/* Unlinks the entry and retires it; -ENOENT if absent. */
int index_table_remove(struct index_table *t, uint32_t index);
/* Writer side statistics: entries in the table, and buckets in use (a
 * power of two that doubles as the table grows). */
size_t index_table_count(const struct index_table *t);
size_t index_table_nbuckets(const struct index_table *t);

#endif
