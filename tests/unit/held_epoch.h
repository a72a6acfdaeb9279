/* An epoch with one reader that never passes a quiescent state, for the
 * tests of what a table hands to the epoch (test_allowedips,
 * test_index_table): what it retires stays there, to be counted and
 * looked at, until release_epoch. */
#ifndef RINGVPN_TESTS_HELD_EPOCH_H
#define RINGVPN_TESTS_HELD_EPOCH_H

#include "src/epoch.h"

struct held_epoch {
	struct epoch e;
	struct epoch_reader reader;
};

static inline void hold_epoch(struct held_epoch *h)
{
	epoch_init(&h->e, &h->reader, 1);
	epoch_online(&h->e, &h->reader);
}

static inline void release_epoch(struct held_epoch *h)
{
	epoch_offline(&h->reader);
	epoch_destroy(&h->e);
}

#endif
