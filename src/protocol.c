#include "src/protocol.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "crypto/data.h"
#include "src/timers.h"

static bool header_is(const uint8_t *msg, enum message_type type)
{
	return msg[0] == type && !msg[1] && !msg[2] && !msg[3];
}

enum message_type protocol_classify(const uint8_t *msg, size_t len)
{
	if (len < sizeof(struct message_header))
		return MESSAGE_INVALID;
	if (len == sizeof(struct message_handshake_initiation) &&
	    header_is(msg, MESSAGE_HANDSHAKE_INITIATION))
		return MESSAGE_HANDSHAKE_INITIATION;
	if (len == sizeof(struct message_handshake_response) &&
	    header_is(msg, MESSAGE_HANDSHAKE_RESPONSE))
		return MESSAGE_HANDSHAKE_RESPONSE;
	if (len == sizeof(struct message_handshake_cookie) &&
	    header_is(msg, MESSAGE_HANDSHAKE_COOKIE))
		return MESSAGE_HANDSHAKE_COOKIE;
	if (len >= MESSAGE_MINIMUM_LENGTH && header_is(msg, MESSAGE_DATA))
		return MESSAGE_DATA;
	return MESSAGE_INVALID;
}

int protocol_create_initiation(struct device *dev, struct peer *peer,
			       uint64_t now,
			       struct message_handshake_initiation *msg)
{
	uint32_t index;
	int ret;

	ret = device_new_handshake_index(dev, peer, &index);
	if (ret)
		return ret;
	ret = handshake_create_initiation(&peer->handshake, &dev->identity,
					  index, msg);
	if (ret) {
		index_table_remove(&dev->indices, index);
		return ret;
	}
	cookie_add_macs(&peer->cookie, (uint8_t *)msg, sizeof(*msg), now);
	return 0;
}

/* The lookup remembers which index the peer's pending handshake had, so
 * that it can be released once the new initiation replaces it. */
struct lookup_ctx {
	struct device *dev;
	struct peer *peer;
	bool had_index;
	uint32_t old_index;
};

static struct handshake *lookup_peer(void *arg, const uint8_t pub[WG_KEY_LEN])
{
	struct lookup_ctx *ctx = arg;

	ctx->peer = device_find_peer(ctx->dev, pub);
	if (!ctx->peer)
		return NULL;
	ctx->had_index = ctx->peer->handshake.state != HANDSHAKE_ZEROED;
	ctx->old_index = ctx->peer->handshake.local_index;
	return &ctx->peer->handshake;
}

static int derive_session(struct device *dev, struct peer *peer,
			  uint64_t now)
{
	struct keypair *kp = keypair_new();
	int ret;

	if (!kp)
		return -ENOMEM;
	ret = handshake_derive_keypair(&peer->handshake, kp, now);
	if (ret) {
		keypair_free(kp);
		return ret;
	}
	device_install_keypair(dev, peer, kp);
	return 0;
}

static int receive_initiation(struct device *dev, const uint8_t *msg,
			      uint64_t now, struct handshake_outcome *out)
{
	struct lookup_ctx ctx = { .dev = dev };
	struct message_handshake_response *resp = (void *)out->reply;
	struct handshake *hs;
	uint32_t index;
	int ret;

	ret = handshake_consume_initiation(&dev->identity, (const void *)msg,
					   lookup_peer, &ctx, now, &hs);
	if (ret)
		return ret;
	out->peer = ctx.peer;
	if (ctx.had_index)
		index_table_remove(&dev->indices, ctx.old_index);
	ret = device_fleet_add_index(dev, ctx.peer, &index);
	if (ret)
		goto fail;
	ret = handshake_create_response(hs, index, resp);
	if (ret) {
		index_table_remove(&dev->indices, index);
		goto fail;
	}
	cookie_add_macs(&ctx.peer->cookie, out->reply, sizeof(*resp), now);
	ret = derive_session(dev, ctx.peer, now);
	if (ret)
		return ret;
	out->reply_len = sizeof(*resp);
	out->session_derived = true;
	return 0;
fail:
	handshake_clear(hs);
	return ret;
}

static int receive_response(struct device *dev, const uint8_t *msg,
			    uint64_t now, struct handshake_outcome *out)
{
	const struct message_handshake_response *resp = (const void *)msg;
	struct index_entry *e;
	int ret;

	e = index_table_find(&dev->indices, le32toh(resp->receiver_index));
	if (!e || e->kind != INDEX_HANDSHAKE)
		return -ENOKEY;
	ret = handshake_consume_response(&e->peer->handshake, &dev->identity,
					 resp);
	if (ret)
		return ret;
	out->peer = e->peer;
	ret = derive_session(dev, e->peer, now);
	if (ret)
		return ret;
	out->session_derived = true;
	out->handshake_complete = true;
	return 0;
}

static int receive_cookie(struct device *dev, const uint8_t *msg,
			  uint64_t now, struct handshake_outcome *out)
{
	const struct message_handshake_cookie *c = (const void *)msg;
	struct index_entry *e;

	e = index_table_find(&dev->indices, le32toh(c->receiver_index));
	if (!e)
		return -ENOKEY;
	out->peer = e->peer;
	return cookie_consume_reply(&e->peer->cookie, c, now);
}

int protocol_receive_handshake(struct device *dev, const uint8_t *msg,
			       size_t len, const struct sockaddr *src,
			       bool under_load, uint64_t now,
			       struct handshake_outcome *out)
{
	enum message_type type = protocol_classify(msg, len);
	uint8_t source[COOKIE_SOURCE_MAX];
	size_t source_len = cookie_source_bytes(source, src);
	enum cookie_mac_result mac;

	memset(out, 0, sizeof(*out));
	if (type == MESSAGE_HANDSHAKE_COOKIE)
		return receive_cookie(dev, msg, now, out);
	if (type != MESSAGE_HANDSHAKE_INITIATION &&
	    type != MESSAGE_HANDSHAKE_RESPONSE)
		return -EBADMSG;

	/* MAC1 first: without our public key nobody gets us to do a DH. */
	mac = cookie_check(&dev->cookie_checker, msg, len, source, source_len,
			   under_load, now);
	if (mac == COOKIE_MAC_INVALID) {
		dev->hs_stats.bad_mac++;
		return -EBADMSG;
	}
	/* Under load, public-key work is only for sources that proved their
	 * address (MAC2) and stay within their rate (whitepaper 5.3). */
	if (under_load && mac != COOKIE_MAC2_VALID) {
		cookie_make_reply(&dev->cookie_checker, (void *)out->reply,
				  msg, len, source, source_len, now);
		out->reply_len = sizeof(struct message_handshake_cookie);
		out->cookie_sent = true;
		dev->hs_stats.cookies_sent++;
		return 0;
	}
	if (under_load && !ratelimiter_allow(&dev->ratelimiter, src, now)) {
		dev->hs_stats.ratelimited++;
		return -EAGAIN;
	}
	dev->hs_stats.processed++;
	if (type == MESSAGE_HANDSHAKE_INITIATION)
		return receive_initiation(dev, msg, now, out);
	return receive_response(dev, msg, now, out);
}

bool protocol_under_load(struct device *dev, bool busy, uint64_t now)
{
	if (busy) {
		dev->last_under_load = now ? now : 1;
		return true;
	}
	/* A flood comes in waves: stay wary for a while after the last one,
	 * as the kernel does, or every lull would open the gate. */
	return dev->last_under_load &&
	       now - dev->last_under_load < PROTOCOL_LOAD_LINGER_NS;
}

struct keypair *protocol_send_keypair(struct peer *peer, uint64_t now)
{
	struct keypair *kp = keypairs_current(&peer->keypairs);

	/* The message limit is enforced where the nonce is taken; only the
	 * age is checked here. */
	if (!kp || keypair_expired(now - kp->birth, 0))
		return NULL;
	return kp;
}

bool protocol_send_wants_rekey(const struct keypair *kp, uint64_t now)
{
	uint64_t next = atomic_load_explicit(&kp->send_counter,
					     memory_order_relaxed);

	return keypair_should_rekey_on_send(now - kp->birth, next,
					    kp->i_am_initiator);
}

int protocol_encrypt(struct peer *peer, uint8_t *buf, size_t plain_len,
		     size_t mtu, uint64_t now, size_t *msg_len,
		     bool *want_rekey)
{
	struct keypair *kp = protocol_send_keypair(peer, now);

	*want_rekey = false;
	if (!kp || data_encrypt(kp, buf, plain_len, mtu, msg_len))
		return -ENOKEY;
	*want_rekey = protocol_send_wants_rekey(kp, now);
	return 0;
}

bool protocol_confirm_session(struct peer *peer, struct keypair *kp)
{
	return device_confirm_keypair(peer->dev, peer, kp);
}

int protocol_receive_keypair(struct device *dev, const uint8_t *msg,
			     size_t len, uint64_t now, struct keypair **kp)
{
	struct index_entry *e;
	uint32_t index;
	uint64_t counter;

	if (data_parse(msg, len, &index, &counter))
		return -EBADMSG;
	e = index_table_find(&dev->indices, index);
	if (!e)
		return -ENOENT;
	if (e->kind != INDEX_KEYPAIR)
		return -ENOKEY;
	/* The receive side ignores the send counter's limit: it is the
	 * age that ends a session we only receive on. */
	*kp = atomic_load_explicit(&e->keypair, memory_order_acquire);
	if (keypair_expired(now - (*kp)->birth, 0))
		return -ENOKEY;
	return 0;
}

int protocol_received(struct keypair *kp, const uint8_t *msg, size_t len,
		      uint64_t now, struct data_outcome *out)
{
	struct peer *peer = kp->owner;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = data_accept(kp, msg, len, &out->plain_len);
	if (ret)
		return ret;
	out->peer = peer;
	out->keypair = kp;
	/* Promotion writes the slots, which only the control thread may do:
	 * report it and let the caller hand it over. */
	out->confirms_next = kp == atomic_load_explicit(&peer->keypairs.next,
							memory_order_acquire);
	out->want_rekey = kp == keypairs_current(&peer->keypairs) &&
		keypair_should_rekey_on_receive(now - kp->birth,
						kp->i_am_initiator);
	return 0;
}

int protocol_decrypt(struct device *dev, uint8_t *msg, size_t len,
		     uint64_t now, struct data_outcome *out)
{
	struct keypair *kp;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = protocol_receive_keypair(dev, msg, len, now, &kp);
	if (ret)
		return ret;
	if (data_open(kp, msg, len, 0))
		return -EBADMSG;
	return protocol_received(kp, msg, len, now, out);
}
