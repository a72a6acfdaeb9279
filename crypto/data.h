/* Transport data messages (type 4), encrypted and decrypted in place.
 *
 * Buffer layout, shared by the data path:
 *   [16-byte header][plaintext, padded to 16][16-byte tag]
 * The caller reads the inner packet at buf + MESSAGE_DATA_HEADER_LEN and
 * leaves DATA_TAILROOM bytes after it for padding and the tag. */
#ifndef RINGVPN_CRYPTO_DATA_H
#define RINGVPN_CRYPTO_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/messages.h"

struct keypair;

#define DATA_TAILROOM (MESSAGE_PADDING_MULTIPLE - 1 + NOISE_AUTHTAG_LEN)

/* Plaintext length after padding: up to a multiple of 16, but a packet
 * that fits the MTU is never padded past it. */
size_t data_padded_len(size_t plain_len, size_t mtu);

/* Encrypts the plain_len bytes at buf + 16 under kp with a fresh nonce,
 * pads them to data_padded_len(plain_len, mtu), writes the header, and
 * returns the message length in *msg_len. -EKEYEXPIRED when kp has no
 * nonces left; -EIO if OpenSSL refused (the message is then lost). */
int data_encrypt(struct keypair *kp, uint8_t *buf, size_t plain_len,
		 size_t mtu, size_t *msg_len);

/* data_encrypt in steps, so that the ordered one (taking the nonces,
 * keypair_take_nonces) stays with the worker that owns a batch and the
 * costly ones may run on any worker: data_prepare_nonce pads the packet
 * and writes the header for the nonce given; data_seal encrypts the
 * msg_len-byte message prepared, in place, with the nonce in its header.
 * lane picks the keypair's EVP context (struct keypair_aead): the
 * caller's worker id. data_seal's -EIO leaves the payload zeroed. */
void data_prepare_nonce(const struct keypair *kp, uint8_t *buf,
			size_t plain_len, size_t mtu, uint64_t nonce,
			size_t *msg_len);
/* The length of the message a plain_len-byte packet becomes. */
size_t data_message_len(size_t plain_len, size_t mtu);
int data_seal(struct keypair *kp, uint8_t *msg, size_t msg_len,
	      unsigned int lane);

/* Reads the routing fields of a data message after checking its length and
 * type; -EBADMSG if it is not a well-formed data message. */
int data_parse(const uint8_t *msg, size_t len, uint32_t *receiver_index,
	       uint64_t *counter);

/* Authenticates and decrypts in place, then checks the replay window. The
 * (padded) plaintext is at msg + 16, *plain_len bytes; 0 is a keepalive.
 * -EBADMSG: forged or corrupt; -EALREADY: replayed or too old. */
int data_decrypt(struct keypair *kp, uint8_t *msg, size_t len,
		 size_t *plain_len);

/* data_decrypt in two steps, for a message data_parse accepted and whose
 * index is kp's: data_open authenticates and decrypts in place
 * (-EBADMSG), on any worker and with lane as in data_seal; data_accept
 * then checks and marks the replay window (-EALREADY) and gives the
 * plaintext's length. Only an opened message may be accepted. */
int data_open(struct keypair *kp, uint8_t *msg, size_t len,
	      unsigned int lane);
int data_accept(struct keypair *kp, const uint8_t *msg, size_t len,
		size_t *plain_len);

#endif
