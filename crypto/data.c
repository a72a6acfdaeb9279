#include "crypto/data.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

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
	noise_aead_encrypt(payload, payload, padded, NULL, 0, nonce,
			   kp->send_key);
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
	if (noise_aead_decrypt(payload, payload, enc_len, NULL, 0, counter,
			       kp->recv_key))
		return -EBADMSG;
	/* Only an authenticated counter may move the window. */
	if (!replay_check_and_mark(&kp->replay, counter, REJECT_AFTER_MESSAGES))
		return -EALREADY;
	*plain_len = enc_len - NOISE_AUTHTAG_LEN;
	return 0;
}
