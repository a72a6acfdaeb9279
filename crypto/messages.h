/* Wire formats and protocol constants of WireGuard, named as in the
 * whitepaper. Every struct here is the exact on-the-wire layout; integers
 * inside them are little-endian on the wire (use le32/le64 helpers). */
#ifndef RINGVPN_CRYPTO_MESSAGES_H
#define RINGVPN_CRYPTO_MESSAGES_H

#include <stdint.h>

enum {
	NOISE_PUBLIC_KEY_LEN = 32,
	NOISE_SYMMETRIC_KEY_LEN = 32,
	NOISE_TIMESTAMP_LEN = 12,
	NOISE_AUTHTAG_LEN = 16,
	NOISE_HASH_LEN = 32,
	COOKIE_LEN = 16,
	COOKIE_NONCE_LEN = 24,
};

#define NOISE_ENCRYPTED_LEN(plain) ((plain) + NOISE_AUTHTAG_LEN)

/* Time constants, in seconds. */
#define REKEY_AFTER_TIME 120
#define REJECT_AFTER_TIME 180
#define REKEY_ATTEMPT_TIME 90
#define REKEY_TIMEOUT 5
#define REKEY_TIMEOUT_JITTER_MAX_MS 333
#define KEEPALIVE_TIMEOUT 10
#define COOKIE_SECRET_MAX_AGE 120
#define COOKIE_SECRET_LATENCY 5

/* Message counters. */
#define REKEY_AFTER_MESSAGES (1ULL << 60)
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))

/* Handshake initiations accepted from one peer per second (the whitepaper's
 * flood guard against replayed-but-newer initiations). */
#define INITIATIONS_PER_SECOND 50
#define MAX_STAGED_PACKETS 128

enum message_type {
	MESSAGE_INVALID = 0,
	MESSAGE_HANDSHAKE_INITIATION = 1,
	MESSAGE_HANDSHAKE_RESPONSE = 2,
	MESSAGE_HANDSHAKE_COOKIE = 3,
	MESSAGE_DATA = 4,
};

/* First four bytes of every message: type, then three zero bytes. */
struct message_header {
	uint8_t type;
	uint8_t reserved[3];
};

struct message_macs {
	uint8_t mac1[COOKIE_LEN];
	uint8_t mac2[COOKIE_LEN];
};

struct message_handshake_initiation {
	struct message_header header;
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_static[NOISE_ENCRYPTED_LEN(NOISE_PUBLIC_KEY_LEN)];
	uint8_t encrypted_timestamp[NOISE_ENCRYPTED_LEN(NOISE_TIMESTAMP_LEN)];
	struct message_macs macs;
};

struct message_handshake_response {
	struct message_header header;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_nothing[NOISE_ENCRYPTED_LEN(0)];
	struct message_macs macs;
};

struct message_handshake_cookie {
	struct message_header header;
	uint32_t receiver_index;
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[NOISE_ENCRYPTED_LEN(COOKIE_LEN)];
};

struct message_data {
	struct message_header header;
	uint32_t key_idx;
	uint64_t counter;
	uint8_t encrypted_data[];
};

#define MESSAGE_DATA_HEADER_LEN 16
#define MESSAGE_MINIMUM_LENGTH (MESSAGE_DATA_HEADER_LEN + NOISE_AUTHTAG_LEN)
/* Transport plaintext is padded to a multiple of this. */
#define MESSAGE_PADDING_MULTIPLE 16

_Static_assert(sizeof(struct message_handshake_initiation) == 148, "initiation");
_Static_assert(sizeof(struct message_handshake_response) == 92, "response");
_Static_assert(sizeof(struct message_handshake_cookie) == 64, "cookie");
_Static_assert(sizeof(struct message_data) == MESSAGE_DATA_HEADER_LEN, "data");

#endif
