#include "crypto/data.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
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

/* A free EVP context of one direction, made on first use, trying the
 * caller's lane first; or NULL: EVP is off for this message, every lane
 * is in use, or a context cannot be made. A context returned is the
 * caller's until put_aead. */
static struct keypair_aead *take_aead(struct keypair_aead *lanes,
				      const uint8_t *key, bool use_evp,
				      unsigned int lane)
{
	if (!use_evp)
		return NULL;
	for (unsigned int i = 0; i < KEYPAIR_AEAD_LANES; i++) {
		struct keypair_aead *a = &lanes[(lane + i) %
						KEYPAIR_AEAD_LANES];

		if (atomic_flag_test_and_set_explicit(&a->busy,
						      memory_order_acquire))
			continue;
		if (a->aead.stream || !aead_init(&a->aead, key))
			return a;
		atomic_flag_clear_explicit(&a->busy, memory_order_release);
		return NULL;
	}
	return NULL;
}

static void put_aead(struct keypair_aead *a)
{
	atomic_flag_clear_explicit(&a->busy, memory_order_release);
}

/* Below this many bytes of (padded) plaintext, OpenSSL's per-call
 * overhead eats what its faster cipher saves (contrib/bench/aead_speed
 * here: crypto/aead.c 1.07x libsodium at 64 bytes, 1.4x at 128, 1.9x at
 * 1420). Sealing and opening compare the same length. */
#define EVP_MIN_LEN 128

static uint64_t header_counter(const uint8_t *msg)
{
	uint64_t counter;

	memcpy(&counter, msg + offsetof(struct message_data, counter),
	       sizeof(counter));
	return le64toh(counter);
}

void data_prepare_nonce(const struct keypair *kp, uint8_t *buf,
			size_t plain_len, size_t mtu, uint64_t nonce,
			size_t *msg_len)
{
	struct message_data hdr;
	size_t padded = data_padded_len(plain_len, mtu);

	memset(buf + MESSAGE_DATA_HEADER_LEN + plain_len, 0,
	       padded - plain_len);
	/* Messages sit at any offset of a GSO run or GRO receive: the
	 * header is built aligned and copied. */
	memset(&hdr, 0, sizeof(hdr));
	hdr.header.type = MESSAGE_DATA;
	hdr.key_idx = htole32(kp->remote_index);
	hdr.counter = htole64(nonce);
	memcpy(buf, &hdr, sizeof(hdr));
	*msg_len = data_message_len(plain_len, mtu);
}

size_t data_message_len(size_t plain_len, size_t mtu)
{
	return MESSAGE_DATA_HEADER_LEN + data_padded_len(plain_len, mtu) +
	       NOISE_AUTHTAG_LEN;
}

/* An EVP failure (OpenSSL refusing, which it does not short of a bug)
 * may have written part of the buffer already: the payload is zeroed, so
 * no plaintext leaves, and the message is reported lost rather than
 * sealed again. */
int data_seal(struct keypair *kp, uint8_t *msg, size_t msg_len,
	      unsigned int lane)
{
	uint8_t *payload = msg + MESSAGE_DATA_HEADER_LEN;
	size_t len = msg_len - MESSAGE_DATA_HEADER_LEN - NOISE_AUTHTAG_LEN;
	uint64_t nonce = header_counter(msg);
	struct keypair_aead *a = take_aead(kp->seal, kp->send_key,
					   kp->use_evp && len >= EVP_MIN_LEN,
					   lane);
	int ret;

	if (!a) {
		noise_aead_encrypt(payload, payload, len, NULL, 0, nonce,
				   kp->send_key);
		return 0;
	}
	ret = aead_seal(&a->aead, payload, len, nonce);
	put_aead(a);
	if (ret)
		memset(payload, 0, len + NOISE_AUTHTAG_LEN);
	return ret;
}

int data_encrypt(struct keypair *kp, uint8_t *buf, size_t plain_len,
		 size_t mtu, size_t *msg_len)
{
	uint64_t nonce;
	int ret = keypair_take_nonce(kp, &nonce);

	if (ret)
		return ret;
	data_prepare_nonce(kp, buf, plain_len, mtu, nonce, msg_len);
	return data_seal(kp, buf, *msg_len, 0);
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

int data_open(struct keypair *kp, uint8_t *msg, size_t len,
	      unsigned int lane)
{
	uint8_t *payload = msg + MESSAGE_DATA_HEADER_LEN;
	size_t enc_len = len - MESSAGE_DATA_HEADER_LEN;
	uint64_t counter = header_counter(msg);
	bool evp = kp->use_evp && enc_len >= EVP_MIN_LEN + NOISE_AUTHTAG_LEN;
	struct keypair_aead *a = take_aead(kp->open, kp->recv_key, evp, lane);
	int ret;

	if (!a)
		return noise_aead_decrypt(payload, payload, enc_len, NULL, 0,
					  counter, kp->recv_key) ? -EBADMSG : 0;
	ret = aead_open(&a->aead, payload, enc_len, counter);
	put_aead(a);
	return ret ? -EBADMSG : 0;
}

int data_accept(struct keypair *kp, const uint8_t *msg, size_t len,
		size_t *plain_len)
{
	/* Only an authenticated counter may move the window. */
	if (!replay_check_and_mark(&kp->replay, header_counter(msg),
				   REJECT_AFTER_MESSAGES))
		return -EALREADY;
	*plain_len = len - MESSAGE_DATA_HEADER_LEN - NOISE_AUTHTAG_LEN;
	return 0;
}

int data_decrypt(struct keypair *kp, uint8_t *msg, size_t len,
		 size_t *plain_len)
{
	uint32_t index;
	uint64_t counter;

	if (data_parse(msg, len, &index, &counter) ||
	    index != kp->local_index)
		return -EBADMSG;
	if (data_open(kp, msg, len, 0))
		return -EBADMSG;
	return data_accept(kp, msg, len, plain_len);
}
