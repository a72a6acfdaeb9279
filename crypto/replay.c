#include "crypto/replay.h"

/*
 * Why tagged words. RFC 6479 clears the ring words between the old and the
 * new top, then sets the counter's bit. Done without a lock on plain bitmap
 * words this races: a thread that judged counter c inside the window
 * against an older top can set c's bit after another thread recycled c's
 * word for a newer block (a phantom mark that later refuses a fresh
 * counter), or the recycling clear erases c's bit while a third thread,
 * still seeing the old top, accepts a replay of c. A spinlock on the advance
 * path alone does not help: the stale setter holds no lock.
 *
 * So each word holds REPLAY_BITS_PER_WORD seen bits and, above them, the
 * generation of the block it stands for, gen = counter / REPLAY_RING_BITS
 * (the word's index supplies the other bits of the block number). The gen
 * is stored whole (52 bits in a 56-bit tag, asserted below), so there is no
 * wrap-around however far a peer jumps. Marking c is one CAS on its word:
 * an older gen is replaced by (gen(c), c's bit), which is RFC 6479's clear
 * done lazily by the first user of the word; the same gen gets c's bit
 * unless it is set; a newer gen means c has left the window.
 *
 * Guarantees:
 * (a) Each counter is accepted at most once. A word's value only grows (a
 *     later gen, or more bits of the same gen) and every change is a CAS
 *     from the value just read, so the bit of (gen, c) is set once and,
 *     once the word moves on to a later gen, can never be set again. No ABA.
 * (b) No counter outside the window is accepted. A thread raises top to c
 *     before marking c, and after marking it loads top again and refuses c
 *     if others pushed it out meanwhile; without that load a thread stalled
 *     after its first look at top could accept a long-gone counter.
 * (c) No counter inside the window is lost. Only a thread handling c sets
 *     c's bit, and bits vanish only when a later gen takes the word. A later
 *     gen in c's word was installed by a thread handling some counter >=
 *     c + REPLAY_WINDOW_SIZE + 1, which had raised top to it first: c was
 *     already out of the window. So a fresh c is refused only when others
 *     advanced the window past it.
 * (d) Lock-free: a failed CAS means another thread changed top or the word.
 *
 * Memory order. The first loads of top and of the word are relaxed: both
 * only ever grow, so a stale value was true once and still justifies a
 * refusal (too old, seen, later gen); for a CAS it is just the first guess.
 * The CAS on top, the CAS on the word and the final load of top are
 * seq_cst. (b) and (c) pair "write top, then CAS the word" (an advancer)
 * with "CAS the word, then read top" (a marker): a store-buffering pattern
 * over two locations, where acquire/release would let each side miss the
 * other's write. seq_cst puts all three in one total order, in which an
 * accepted counter was inside the window at its final top load. It costs
 * nothing extra on x86 (locked RMWs, plain loads). Nothing else is
 * published through the window: the caller owns the packet.
 */

_Static_assert((REPLAY_WINDOW_WORDS & (REPLAY_WINDOW_WORDS - 1)) == 0,
	       "ring index is a mask");
_Static_assert((REPLAY_BITS_PER_WORD & (REPLAY_BITS_PER_WORD - 1)) == 0,
	       "bit index is a mask");
/* gen has 64 - log2(RING_BITS) bits, the tag 64 - BITS_PER_WORD. */
_Static_assert((1ull << REPLAY_BITS_PER_WORD) <= REPLAY_RING_BITS,
	       "generation tag too narrow");
_Static_assert(REPLAY_WINDOW_SIZE >= 2048, "window below 2048 counters");

void replay_init(struct replay_window *w)
{
	atomic_init(&w->top, 0);
	for (unsigned int i = 0; i < REPLAY_WINDOW_WORDS; i++)
		atomic_init(&w->word[i], 0);
}

/* Written so that top - counter cannot wrap. */
static bool too_old(uint64_t counter, uint64_t top)
{
	return counter < top && top - counter >= REPLAY_WINDOW_SIZE;
}

/* Sets counter's bit in its word; false if it was set or the word has
 * moved on to a later generation. */
static bool mark(struct replay_window *w, uint64_t counter)
{
	uint64_t index = counter / REPLAY_BITS_PER_WORD % REPLAY_WINDOW_WORDS;
	_Atomic uint64_t *word = &w->word[index];
	uint64_t gen = counter / REPLAY_RING_BITS;
	uint64_t bit = 1ull << (counter % REPLAY_BITS_PER_WORD);
	uint64_t old = atomic_load_explicit(word, memory_order_relaxed);
	uint64_t new;

	do {
		uint64_t old_gen = old >> REPLAY_BITS_PER_WORD;

		if (old_gen > gen)
			return false;
		if (old_gen < gen)
			new = gen << REPLAY_BITS_PER_WORD | bit;
		else if (old & bit)
			return false;
		else
			new = old | bit;
	} while (!atomic_compare_exchange_weak(word, &old, new));
	return true;
}

bool replay_check_and_mark(struct replay_window *w, uint64_t counter,
			   uint64_t limit)
{
	uint64_t top = atomic_load_explicit(&w->top, memory_order_relaxed);

	if (counter >= limit)
		return false;
	/* On failure the CAS reloads top; stop once it is >= counter. */
	while (counter > top &&
	       !atomic_compare_exchange_weak(&w->top, &top, counter))
		;
	if (too_old(counter, top) || !mark(w, counter))
		return false;
	return !too_old(counter, atomic_load(&w->top));
}
