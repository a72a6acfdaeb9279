/* Transport keypairs and the per-peer current/previous/next slots.
 *
 * Ownership: the control thread is the only writer of the slots (it runs
 * the handshakes); data-path workers read them with acquire loads and use a
 * keypair without any lock. A keypair that leaves the slots is handed back
 * to the caller (struct keypairs_dropped) instead of being freed, because a
 * worker may still hold it: the device unregisters its index and frees it
 * through its epoch (src/device.c). */
#ifndef RINGVPN_CRYPTO_KEYPAIR_H
#define RINGVPN_CRYPTO_KEYPAIR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aead.h"
#include "crypto/messages.h"
#include "crypto/replay.h"

/* One OpenSSL AEAD context (crypto/aead.h) of one direction, made on
 * first use by whichever thread gets it: busy makes its use exclusive.
 * Freed, and wiped, with the keypair, which the epoch frees only once no
 * worker can hold it. */
struct keypair_aead {
	struct aead aead;
	atomic_flag busy;
};

/* Contexts per direction: workers that share one session's crypto
 * (src/worker/share.h) each take their own lane's, so that they do not
 * fall back to libsodium for one another; a worker that finds every lane
 * busy (more than this many at once) uses libsodium, with the same
 * bytes. Only lanes that were used hold a context. */
#define KEYPAIR_AEAD_LANES 4

struct keypair {
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN];
	/* Next nonce to send; workers take nonces with fetch_add. */
	_Atomic uint64_t send_counter;
	struct replay_window replay;
	uint64_t birth; /* ns, monotonic */
	uint32_t local_index;
	uint32_t remote_index;
	bool i_am_initiator;
	bool use_evp; /* OpenSSL's AEAD (else libsodium's) for data */
	struct keypair_aead seal[KEYPAIR_AEAD_LANES];
	struct keypair_aead open[KEYPAIR_AEAD_LANES];
	void *owner; /* the peer, for whoever maps indices to keypairs */
};

struct keypairs {
	_Atomic(struct keypair *) current;
	_Atomic(struct keypair *) previous;
	_Atomic(struct keypair *) next;
};

/* The keypairs one step took out of the slots (at most all three). */
struct keypairs_dropped {
	struct keypair *kp[3];
	unsigned n;
};

struct keypair *keypair_new(void);
/* Wipes the keys and frees; NULL is a no-op. */
void keypair_free(struct keypair *kp);

void keypairs_init(struct keypairs *kps);
/* Installs a freshly derived keypair. An initiator's keypair is confirmed
 * (the response proved the peer has it) and becomes current at once; a
 * responder's waits in next until the first data packet under it arrives,
 * because the initiator cannot use it before it has our response. What
 * left the slots is in *dropped. */
void keypairs_install(struct keypairs *kps, struct keypair *kp,
		      struct keypairs_dropped *dropped);
/* Reports that an authenticated data packet arrived under kp. Returns true
 * when that promoted kp from next to current (a handshake completed); what
 * left the slots is in *dropped. */
bool keypairs_received_with(struct keypairs *kps, struct keypair *kp,
			    struct keypairs_dropped *dropped);
/* Empties all three slots into *dropped (zeroing of key material, peer
 * removal). */
void keypairs_clear(struct keypairs *kps, struct keypairs_dropped *dropped);

static inline struct keypair *keypairs_current(struct keypairs *kps)
{
	return atomic_load_explicit(&kps->current, memory_order_acquire);
}

/* Takes the next send nonce, or returns -EKEYEXPIRED once the counter has
 * reached REJECT_AFTER_MESSAGES (the nonce is then never used). */
int keypair_take_nonce(struct keypair *kp, uint64_t *nonce);
/* count consecutive nonces from *first, all or none (-EKEYEXPIRED: the
 * ones taken are never used). */
int keypair_take_nonces(struct keypair *kp, unsigned int count,
			uint64_t *first);

#endif
