#include "crypto/data.h"

#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/keypair.h"
#include "crypto/noise.h"

size_t data_padded_len(size_t plain_len, size_t mtu)
{
	size_t padded = (plain_len + MESSAGE_PADDING_MULTIPLE - 1) &
			~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);

	/* As the kernel does: a packet that fits the MTU is padded at most up
	 * to the MTU, so padding never makes it need fragmenting. */
	if (plain_len <= mtu && padded > mtu)
		return mtu;
	return padded;
}

/* The keypair's own EVP context for this direction, made on first use, or
 * NULL: EVP is off for it, the context is in use by another thread, or
 * it cannot be made. A context returned is the caller's until put_aead. */
static struct aead *take_aead(struct keypair_aead *a, const uint8_t *key,
			      bool use_evp, bool encrypt)
{
	if (!use_evp ||
	    atomic_flag_test_and_set_explicit(&a->busy, memory_order_acquire))
		return NULL;
	if (!a->aead.ctx && aead_init(&a->aead, key, encrypt)) {
		atomic_flag_clear_explicit(&a->busy, memory_order_release);
		return NULL;
	}
	return &a->aead;
}

static void put_aead(struct keypair_aead *a)
{
	atomic_flag_clear_explicit(&a->busy, memory_order_release);
}

/* Below this, a message costs EVP's per-call overhead more than its
 * faster cipher saves (contrib/bench/aead_speed: equal near 512 bytes,
 * EVP 1.5x at 1420). */
#define EVP_MIN_LEN 768

/* In place, the tag after the payload: EVP when the keypair's context is
 * free, libsodium otherwise (the same bytes either way). An EVP failure
 * (OpenSSL refusing, which it does not short of a bug) may have written
 * part of the buffer already: the message is dropped, not sealed again. */
static int seal(struct keypair *kp, uint8_t *payload, size_t len,
		uint64_t nonce)
{
	struct aead *a = take_aead(&kp->seal, kp->send_key,
				   kp->use_evp && len >= EVP_MIN_LEN, true);
	int ret;

	if (!a) {
		noise_aead_encrypt(payload, payload, len, NULL, 0, nonce,
				   kp->send_key);
		return 0;
	}
	ret = aead_seal(a, payload, len, nonce);
	put_aead(&kp->seal);
	return ret;
}

static int open_in_place(struct keypair *kp, uint8_t *payload, size_t len,
			 uint64_t counter)
{
	struct aead *a = take_aead(&kp->open, kp->recv_key,
				   kp->use_evp && len >= EVP_MIN_LEN, false);
	int ret;

	if (!a)
		return noise_aead_decrypt(payload, payload, len, NULL, 0,
					  counter, kp->recv_key);
	ret = aead_open(a, payload, len, counter);
	put_aead(&kp->open);
	return ret;
}

int data_encrypt(struct keypair *kp, uint8_t *buf, size_t plain_len,
		 size_t mtu, size_t *msg_len)
{
	struct message_data hdr;
	uint8_t *payload = buf + MESSAGE_DATA_HEADER_LEN;
	size_t padded = data_padded_len(plain_len, mtu);
	uint64_t nonce;
	int ret;

	ret = keypair_take_nonce(kp, &nonce);
	if (ret)
		return ret;
	memset(payload + plain_len, 0, padded - plain_len);
	/* Messages sit at any offset of a GSO run or GRO receive: the
	 * header is built aligned and copied. */
	memset(&hdr, 0, sizeof(hdr));
	hdr.header.type = MESSAGE_DATA;
	hdr.key_idx = htole32(kp->remote_index);
	hdr.counter = htole64(nonce);
	memcpy(buf, &hdr, sizeof(hdr));
	ret = seal(kp, payload, padded, nonce);
	if (ret)
		return ret;
	*msg_len = MESSAGE_DATA_HEADER_LEN + padded + NOISE_AUTHTAG_LEN;
	return 0;
}

int data_parse(const uint8_t *msg, size_t len, uint32_t *receiver_index,
	       uint64_t *counter)
{
	struct message_data hdr;

	if (len < MESSAGE_MINIMUM_LENGTH)
		return -EBADMSG;
	memcpy(&hdr, msg, sizeof(hdr)); /* msg may be unaligned */
	if (hdr.header.type != MESSAGE_DATA || hdr.header.reserved[0] ||
	    hdr.header.reserved[1] || hdr.header.reserved[2])
		return -EBADMSG;
	*receiver_index = le32toh(hdr.key_idx);
	*counter = le64toh(hdr.counter);
	return 0;
}

int data_decrypt(struct keypair *kp, uint8_t *msg, size_t len,
		 size_t *plain_len)
{
	uint8_t *payload = msg + MESSAGE_DATA_HEADER_LEN;
	size_t enc_len = len - MESSAGE_DATA_HEADER_LEN;
	uint32_t index;
	uint64_t counter;

	if (data_parse(msg, len, &index, &counter) ||
	    index != kp->local_index)
		return -EBADMSG;
	if (open_in_place(kp, payload, enc_len, counter))
		return -EBADMSG;
	/* Only an authenticated counter may move the window. */
	if (!replay_check_and_mark(&kp->replay, counter, REJECT_AFTER_MESSAGES))
		return -EALREADY;
	*plain_len = enc_len - NOISE_AUTHTAG_LEN;
	return 0;
}
