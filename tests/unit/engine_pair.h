/* Two protocol engines in one process, each with the other as its peer,
 * "connected" by handing byte buffers across. Shared by the handshake,
 * cookie and data tests. Side 0 is A, side 1 is B. */
#ifndef RINGVPN_TESTS_ENGINE_PAIR_H
#define RINGVPN_TESTS_ENGINE_PAIR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/device.h"
#include "src/protocol.h"

#define NS(s) ((uint64_t)(s) * 1000000000ULL)
#define PAIR_MTU 1420
#define PAIR_BUF (MESSAGE_DATA_HEADER_LEN + 2048 + DATA_TAILROOM)

struct engine_pair {
	struct device dev[2];
	struct peer *peer[2];  /* peer[i]: side i's view of the other side */
	struct sockaddr_in addr[2];
	uint64_t now;
	bool handshake_complete; /* set by the last pair_decrypt */
};

void engine_pair_init(struct engine_pair *p, bool with_psk);
void engine_pair_destroy(struct engine_pair *p);

/* Builds side's initiation. */
void pair_initiation(struct engine_pair *p, int side,
		     struct message_handshake_initiation *msg);
/* Delivers a handshake-class message to side `to`. */
int pair_deliver_handshake(struct engine_pair *p, int to, const void *msg,
			   size_t len, bool under_load,
			   struct handshake_outcome *out);
/* A complete handshake started by `initiator`; asserts every step. */
void pair_handshake(struct engine_pair *p, int initiator);

/* Encrypts len bytes from side `from` into buf; returns the message
 * length or a negative errno. */
long pair_encrypt(struct engine_pair *p, int from, uint8_t *buf,
		  const uint8_t *data, size_t len);
/* Delivers a data message to side `to` and, as the control thread would,
 * confirms a responder session on its first packet. */
int pair_decrypt(struct engine_pair *p, int to, uint8_t *msg, size_t len,
		 struct data_outcome *out);
/* Encrypt at one side and decrypt at the other, comparing the bytes. */
void pair_roundtrip(struct engine_pair *p, int from, size_t len);

#endif
