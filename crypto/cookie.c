#include "crypto/cookie.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>

#include "crypto/kdf.h"

#define NS_PER_SEC 1000000000ULL

static const char label_mac1[] = "mac1----";
static const char label_cookie[] = "cookie--";

static void derive_key(uint8_t out[NOISE_SYMMETRIC_KEY_LEN], const char *label,
		       const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	hash2(out, (const uint8_t *)label, strlen(label), pub,
	      NOISE_PUBLIC_KEY_LEN);
}

/* MAC1 covers the message up to mac1, MAC2 up to mac2. */
static size_t mac1_offset(size_t len)
{
	return len - sizeof(struct message_macs);
}

static size_t mac2_offset(size_t len)
{
	return len - COOKIE_LEN;
}

static bool timer_expired(uint64_t birth, uint64_t age_s, uint64_t now)
{
	return now >= birth + age_s * NS_PER_SEC;
}

void cookie_checker_init(struct cookie_checker *c,
			 const uint8_t our_public[NOISE_PUBLIC_KEY_LEN])
{
	memset(c, 0, sizeof(*c));
	derive_key(c->mac1_key, label_mac1, our_public);
	derive_key(c->cookie_key, label_cookie, our_public);
}

/* The secret rotates every COOKIE_SECRET_MAX_AGE, lazily: only a responder
 * under load ever needs it. */
static void make_cookie(struct cookie_checker *c, uint8_t cookie[COOKIE_LEN],
			const uint8_t *src, size_t src_len, uint64_t now)
{
	if (!c->secret_birth ||
	    timer_expired(c->secret_birth, COOKIE_SECRET_MAX_AGE, now)) {
		randombytes_buf(c->secret, sizeof(c->secret));
		c->secret_birth = now ? now : 1;
	}
	keyed_hash(cookie, COOKIE_LEN, c->secret, sizeof(c->secret), src,
		   src_len);
}

enum cookie_mac_result cookie_check(struct cookie_checker *c,
				    const uint8_t *msg, size_t len,
				    const uint8_t *src, size_t src_len,
				    bool check_mac2, uint64_t now)
{
	uint8_t computed[COOKIE_LEN], cookie[COOKIE_LEN];
	enum cookie_mac_result ret = COOKIE_MAC_INVALID;

	if (len < sizeof(struct message_macs))
		return ret;
	keyed_hash(computed, COOKIE_LEN, c->mac1_key, sizeof(c->mac1_key),
		   msg, mac1_offset(len));
	if (sodium_memcmp(computed, msg + mac1_offset(len), COOKIE_LEN))
		goto out;
	ret = COOKIE_MAC1_VALID;
	if (!check_mac2)
		goto out;
	make_cookie(c, cookie, src, src_len, now);
	keyed_hash(computed, COOKIE_LEN, cookie, sizeof(cookie), msg,
		   mac2_offset(len));
	if (!sodium_memcmp(computed, msg + mac2_offset(len), COOKIE_LEN))
		ret = COOKIE_MAC2_VALID;
out:
	sodium_memzero(cookie, sizeof(cookie));
	return ret;
}

void cookie_make_reply(struct cookie_checker *c,
		       struct message_handshake_cookie *reply,
		       const uint8_t *msg, size_t len,
		       const uint8_t *src, size_t src_len, uint64_t now)
{
	uint8_t cookie[COOKIE_LEN];
	/* Both handshake messages carry their sender index at offset 4. */
	const struct message_handshake_initiation *hs_msg = (const void *)msg;

	memset(reply, 0, sizeof(*reply));
	reply->header.type = MESSAGE_HANDSHAKE_COOKIE;
	reply->receiver_index = hs_msg->sender_index;
	randombytes_buf(reply->nonce, sizeof(reply->nonce));
	make_cookie(c, cookie, src, src_len, now);
	/* The MAC1 as additional data ties the reply to that message. */
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		reply->encrypted_cookie, NULL, cookie, sizeof(cookie),
		msg + mac1_offset(len), COOKIE_LEN, NULL, reply->nonce,
		c->cookie_key);
	sodium_memzero(cookie, sizeof(cookie));
}

void cookie_maker_init(struct cookie_maker *m,
		       const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN])
{
	memset(m, 0, sizeof(*m));
	derive_key(m->mac1_key, label_mac1, peer_public);
	derive_key(m->cookie_key, label_cookie, peer_public);
}

void cookie_add_macs(struct cookie_maker *m, uint8_t *msg, size_t len,
		     uint64_t now)
{
	uint8_t *mac1 = msg + mac1_offset(len);
	uint8_t *mac2 = msg + mac2_offset(len);
	/* A cookie the responder may already have rotated away is useless. */
	const uint64_t max_age = COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY;

	keyed_hash(mac1, COOKIE_LEN, m->mac1_key, sizeof(m->mac1_key), msg,
		   mac1_offset(len));
	memcpy(m->last_mac1, mac1, COOKIE_LEN);
	m->have_last_mac1 = true;

	if (m->have_cookie && !timer_expired(m->cookie_birth, max_age, now))
		keyed_hash(mac2, COOKIE_LEN, m->cookie, sizeof(m->cookie), msg,
			   mac2_offset(len));
	else
		memset(mac2, 0, COOKIE_LEN);
}

int cookie_consume_reply(struct cookie_maker *m,
			 const struct message_handshake_cookie *reply,
			 uint64_t now)
{
	uint8_t cookie[COOKIE_LEN];

	if (!m->have_last_mac1)
		return -EINVAL;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    cookie, NULL, NULL, reply->encrypted_cookie,
		    sizeof(reply->encrypted_cookie), m->last_mac1, COOKIE_LEN,
		    reply->nonce, m->cookie_key))
		return -EBADMSG;
	memcpy(m->cookie, cookie, COOKIE_LEN);
	m->cookie_birth = now;
	m->have_cookie = true;
	/* One reply per MAC1: a replayed reply finds nothing to answer. */
	m->have_last_mac1 = false;
	sodium_memzero(cookie, sizeof(cookie));
	return 0;
}

size_t cookie_source_bytes(uint8_t out[COOKIE_SOURCE_MAX],
			   const struct sockaddr *sa)
{
	const struct sockaddr_in *in4 = (const void *)sa;
	const struct sockaddr_in6 *in6 = (const void *)sa;

	switch (sa->sa_family) {
	case AF_INET:
		memcpy(out, &in4->sin_addr, 4);
		memcpy(out + 4, &in4->sin_port, 2);
		return 6;
	case AF_INET6:
		memcpy(out, &in6->sin6_addr, 16);
		memcpy(out + 16, &in6->sin6_port, 2);
		return 18;
	default:
		return 0;
	}
}
