/* Anti-replay window for transport-data counters: an RFC 6479 style sliding
 * bitmap ring that several receiving threads may use at once without a
 * lock. Each ring word carries a generation tag next to its bits, so the
 * "clear the words ahead" step of RFC 6479 and the marking of a counter are
 * one compare-and-swap (see the comment at the top of replay.c). */
#ifndef RINGVPN_CRYPTO_REPLAY_H
#define RINGVPN_CRYPTO_REPLAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Counter bits per ring word; the rest of the 64 bits is the tag. */
#define REPLAY_BITS_PER_WORD 8u
#define REPLAY_WINDOW_WORDS 512u
#define REPLAY_RING_BITS (REPLAY_WINDOW_WORDS * REPLAY_BITS_PER_WORD)
/* Counters in (top - REPLAY_WINDOW_SIZE, top] are remembered; older ones
 * are rejected. As in RFC 6479 it is the ring minus one word, so the word
 * holding top never shares its slot with a word still in the window. */
#define REPLAY_WINDOW_SIZE (REPLAY_RING_BITS - REPLAY_BITS_PER_WORD)

/* Embed it (no allocation); replay_init() or an all-zero state is a fresh
 * window. */
struct replay_window {
	/* Highest counter marked so far, or 0 when none is yet. */
	_Atomic uint64_t top;
	/* (counter / REPLAY_RING_BITS) << REPLAY_BITS_PER_WORD | seen bits. */
	_Atomic uint64_t word[REPLAY_WINDOW_WORDS];
};

void replay_init(struct replay_window *w);

/* Returns true exactly once per counter that is newer than top or inside
 * the window and not yet seen, and marks it. Returns false for a counter
 * already seen, too old (<= top - REPLAY_WINDOW_SIZE) or >= limit (pass
 * REJECT_AFTER_MESSAGES). Safe to call concurrently on the same window. */
bool replay_check_and_mark(struct replay_window *w, uint64_t counter,
			   uint64_t limit);

#endif
