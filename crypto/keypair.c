#include "crypto/keypair.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>

struct keypair *keypair_new(void)
{
	struct keypair *kp = calloc(1, sizeof(*kp));

	if (!kp)
		return NULL;
	replay_init(&kp->replay);
	for (unsigned int i = 0; i < KEYPAIR_AEAD_LANES; i++) {
		atomic_flag_clear(&kp->seal[i].busy);
		atomic_flag_clear(&kp->open[i].busy);
	}
	return kp;
}

void keypair_free(struct keypair *kp)
{
	if (!kp)
		return;
	for (unsigned int i = 0; i < KEYPAIR_AEAD_LANES; i++) {
		aead_free(&kp->seal[i].aead);
		aead_free(&kp->open[i].aead);
	}
	sodium_memzero(kp, sizeof(*kp));
	free(kp);
}

void keypairs_init(struct keypairs *kps)
{
	atomic_init(&kps->current, NULL);
	atomic_init(&kps->previous, NULL);
	atomic_init(&kps->next, NULL);
}

static void retire(struct keypairs_dropped *d, struct keypair *kp)
{
	if (kp)
		d->kp[d->n++] = kp;
}

/* Only the control thread writes the slots, so plain loads of our own
 * slots are fine; stores are release so a worker that sees the pointer
 * also sees the keys behind it. */
static struct keypair *slot_swap(_Atomic(struct keypair *) *slot,
				 struct keypair *kp)
{
	return atomic_exchange_explicit(slot, kp, memory_order_acq_rel);
}

void keypairs_install(struct keypairs *kps, struct keypair *kp,
		      struct keypairs_dropped *d)
{
	struct keypair *next, *current;

	d->n = 0;
	if (!kp->i_am_initiator) {
		retire(d, slot_swap(&kps->next, kp));
		/* The old previous can no longer be the key our peer uses. */
		retire(d, slot_swap(&kps->previous, NULL));
		return;
	}
	next = slot_swap(&kps->next, NULL);
	current = slot_swap(&kps->current, kp);
	if (next) {
		/* An unconfirmed responder keypair lost the race to ours: it
		 * may still see packets briefly, so keep it as previous and
		 * drop the old current instead. */
		retire(d, slot_swap(&kps->previous, next));
		retire(d, current);
	} else {
		retire(d, slot_swap(&kps->previous, current));
	}
}

bool keypairs_received_with(struct keypairs *kps, struct keypair *kp,
			    struct keypairs_dropped *d)
{
	struct keypair *current;

	d->n = 0;
	if (atomic_load_explicit(&kps->next, memory_order_acquire) != kp)
		return false;
	current = slot_swap(&kps->current, kp);
	slot_swap(&kps->next, NULL);
	retire(d, slot_swap(&kps->previous, current));
	return true;
}

void keypairs_clear(struct keypairs *kps, struct keypairs_dropped *d)
{
	d->n = 0;
	retire(d, slot_swap(&kps->current, NULL));
	retire(d, slot_swap(&kps->previous, NULL));
	retire(d, slot_swap(&kps->next, NULL));
}

int keypair_take_nonces(struct keypair *kp, unsigned int count,
			uint64_t *first)
{
	uint64_t n = atomic_load_explicit(&kp->send_counter,
					  memory_order_relaxed);

	/* The protocol's limit, checked before the counter moves, so that
	 * refused calls never push it on towards a wrap (reaching it takes
	 * ~2^64 sends, far beyond what REJECT_AFTER_TIME allows). */
	do {
		if (n >= REJECT_AFTER_MESSAGES ||
		    REJECT_AFTER_MESSAGES - n < count)
			return -EKEYEXPIRED;
	} while (!atomic_compare_exchange_weak_explicit(
		&kp->send_counter, &n, n + count, memory_order_relaxed,
		memory_order_relaxed));
	*first = n;
	return 0;
}

int keypair_take_nonce(struct keypair *kp, uint64_t *nonce)
{
	return keypair_take_nonces(kp, 1, nonce);
}
