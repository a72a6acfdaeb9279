/* MAC1, MAC2 and cookie replies (whitepaper 5.4.4 and 5.4.7).
 *
 * The responder side (one cookie_checker per device) checks MAC1 before any
 * public-key work and, under load, demands a valid MAC2, answering
 * otherwise with a cookie reply. The initiator side (one cookie_maker per
 * peer) adds both MACs to what it sends and keeps the cookie it was given.
 * Source addresses are opaque bytes (address then port, network order);
 * see cookie_source_bytes(). */
#ifndef RINGVPN_CRYPTO_COOKIE_H
#define RINGVPN_CRYPTO_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/messages.h"

#define COOKIE_SOURCE_MAX 18 /* IPv6 address and port */

struct cookie_checker {
	uint8_t secret[NOISE_HASH_LEN];
	uint64_t secret_birth; /* ns, monotonic; 0 = none yet */
	uint8_t mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie_key[NOISE_SYMMETRIC_KEY_LEN];
};

struct cookie_maker {
	uint8_t mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie[COOKIE_LEN];
	uint64_t cookie_birth; /* ns; meaningful while have_cookie */
	bool have_cookie;
	uint8_t last_mac1[COOKIE_LEN];
	bool have_last_mac1;
};

enum cookie_mac_result {
	COOKIE_MAC_INVALID,     /* drop silently */
	COOKIE_MAC1_VALID,      /* MAC1 good, MAC2 absent or wrong */
	COOKIE_MAC2_VALID,      /* both good: the source address is proven */
};

/* Keys derive from our public key: call again when it changes. */
void cookie_checker_init(struct cookie_checker *c,
			 const uint8_t our_public[NOISE_PUBLIC_KEY_LEN]);
/* msg is a whole handshake message (initiation or response) of len bytes,
 * ending in struct message_macs. MAC2 is checked only when check_mac2. */
enum cookie_mac_result cookie_check(struct cookie_checker *c,
				    const uint8_t *msg, size_t len,
				    const uint8_t *src, size_t src_len,
				    bool check_mac2, uint64_t now);
/* Builds the reply to msg (whose sender index is echoed back). */
void cookie_make_reply(struct cookie_checker *c,
		       struct message_handshake_cookie *reply,
		       const uint8_t *msg, size_t len,
		       const uint8_t *src, size_t src_len, uint64_t now);

void cookie_maker_init(struct cookie_maker *m,
		       const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN]);
/* Fills the MACs at the end of msg; MAC2 only with a fresh cookie. */
void cookie_add_macs(struct cookie_maker *m, uint8_t *msg, size_t len,
		     uint64_t now);
/* Decrypts a cookie reply meant for our last MAC1. -EINVAL if we sent
 * nothing it could answer, -EBADMSG if it does not decrypt. */
int cookie_consume_reply(struct cookie_maker *m,
			 const struct message_handshake_cookie *reply,
			 uint64_t now);

/* Writes the bytes a cookie is bound to for an IPv4 or IPv6 socket address;
 * returns their count, or 0 for another family. */
size_t cookie_source_bytes(uint8_t out[COOKIE_SOURCE_MAX],
			   const struct sockaddr *sa);

#endif
