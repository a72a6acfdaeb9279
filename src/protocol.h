/* The engine's message handling: what to do with each received message and
 * how to build each one we send. Pure logic over struct device; the caller
 * does the I/O and reports timer events. */
#ifndef RINGVPN_SRC_PROTOCOL_H
#define RINGVPN_SRC_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/messages.h"
#include "src/device.h"

/* Classifies a datagram strictly before any crypto: handshake messages by
 * exact size, data by minimum size. MESSAGE_INVALID means drop. */
enum message_type protocol_classify(const uint8_t *msg, size_t len);

/* Builds a complete initiation (MACs included) for peer. */
int protocol_create_initiation(struct device *dev, struct peer *peer,
			       uint64_t now,
			       struct message_handshake_initiation *msg);

struct handshake_outcome {
	struct peer *peer;      /* the peer concerned, NULL if unknown */
	uint8_t reply[sizeof(struct message_handshake_initiation)];
	size_t reply_len;       /* 0: nothing to send back */
	bool session_derived;   /* a new keypair was installed */
	bool handshake_complete; /* as initiator: the session is confirmed */
	bool cookie_sent;       /* reply is a cookie, not a response */
};

/* Handles a handshake initiation, response or cookie reply from src.
 * Under load an initiation or response needs a valid MAC2 (else it gets a
 * cookie reply instead of any public-key work) and must pass the device's
 * ratelimiter for its source (else it is dropped with -EAGAIN); not under
 * load, MAC1 is all it needs. Counts into dev->hs_stats. Returns 0 or
 * -errno (the message was dropped; the reason is for counters only). */
int protocol_receive_handshake(struct device *dev, const uint8_t *msg,
			       size_t len, const struct sockaddr *src,
			       bool under_load, uint64_t now,
			       struct handshake_outcome *out);

/* How long the device stays under load after it was last busy. */
#define PROTOCOL_LOAD_LINGER_NS 1000000000ULL

/* Whether handshakes are to be treated as under load, given whether the
 * caller's queue of them is long right now (busy): true while busy and
 * for PROTOCOL_LOAD_LINGER_NS after. Control thread only. */
bool protocol_under_load(struct device *dev, bool busy, uint64_t now);

/* Encrypts an inner packet for peer under its current keypair (layout of
 * crypto/data.h). -ENOKEY: no usable session (stage the packet and start a
 * handshake). *want_rekey is set when the session is due for a rekey. */
int protocol_encrypt(struct peer *peer, uint8_t *buf, size_t plain_len,
		     size_t mtu, uint64_t now, size_t *msg_len,
		     bool *want_rekey);

/* protocol_encrypt in steps, for a batch of one peer's packets: the
 * session to send on (NULL: stage the packets and start a handshake),
 * then keypair_take_nonces, data_prepare_nonce and data_seal
 * (crypto/data.h) for its packets, then
 * whether the session is due for a rekey. */
struct keypair *protocol_send_keypair(struct peer *peer, uint64_t now);
bool protocol_send_wants_rekey(const struct keypair *kp, uint64_t now);

struct data_outcome {
	struct peer *peer;
	struct keypair *keypair;
	size_t plain_len;    /* 0 is a keepalive */
	bool confirms_next;  /* first packet under a responder keypair: pass
			      * it to protocol_confirm_session */
	bool want_rekey;     /* initiator's session is getting old */
};

/* Decrypts a data message in place. -ENOENT: unknown index; -ENOKEY: no
 * live session under it (expired, or a handshake's); -EBADMSG: forged;
 * -EALREADY: replayed. Safe on any thread. */
int protocol_decrypt(struct device *dev, uint8_t *msg, size_t len,
		     uint64_t now, struct data_outcome *out);

/* protocol_decrypt in steps, so that the costly one (data_open) may run
 * on any worker while the ordered ones stay with the batch's owner:
 * protocol_receive_keypair finds the live session a data message is for
 * (-EBADMSG, -ENOENT, -ENOKEY); after data_open succeeded, protocol_received
 * checks the replay window (-EALREADY) and fills *out. */
int protocol_receive_keypair(struct device *dev, const uint8_t *msg,
			     size_t len, uint64_t now, struct keypair **kp);
int protocol_received(struct keypair *kp, const uint8_t *msg, size_t len,
		      uint64_t now, struct data_outcome *out);

/* Makes a confirmed responder keypair current (control thread only).
 * Returns true when it did: the handshake is complete. */
bool protocol_confirm_session(struct peer *peer, struct keypair *kp);

#endif
