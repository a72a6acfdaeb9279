#include "crypto/handshake.h"

#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/keypair.h"
#include "crypto/keys.h"
#include "crypto/tai64n.h"

/* WireGuard's Noise prologue. */
static const char wg_identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

int wg_identity_set(struct wg_identity *id, const uint8_t private_key[32])
{
	uint8_t priv[NOISE_PUBLIC_KEY_LEN];
	int ret;

	memcpy(priv, private_key, sizeof(priv));
	key_clamp(priv);
	ret = key_public_from_private(id->public_key, priv);
	if (!ret) {
		memcpy(id->private_key, priv, sizeof(priv));
		id->has_identity = true;
	}
	sodium_memzero(priv, sizeof(priv));
	return ret;
}

void wg_identity_clear(struct wg_identity *id)
{
	sodium_memzero(id, sizeof(*id));
}

static void begin(struct noise_state *st, const uint8_t responder[32])
{
	noise_state_init(st, (const uint8_t *)wg_identifier,
			 strlen(wg_identifier), responder);
}

int handshake_rekey_identity(struct handshake *hs, const struct wg_identity *id)
{
	hs->static_static_ok = id->has_identity &&
		!noise_dh(hs->static_static, id->private_key,
			  hs->remote_static);
	if (!hs->static_static_ok)
		sodium_memzero(hs->static_static, sizeof(hs->static_static));
	return hs->static_static_ok || !id->has_identity ? 0 : -EINVAL;
}

int handshake_init(struct handshake *hs, const struct wg_identity *id,
		   const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN],
		   const uint8_t *psk)
{
	memset(hs, 0, sizeof(*hs));
	memcpy(hs->remote_static, remote_static, NOISE_PUBLIC_KEY_LEN);
	handshake_set_psk(hs, psk);
	return handshake_rekey_identity(hs, id);
}

void handshake_set_psk(struct handshake *hs, const uint8_t *psk)
{
	if (psk)
		memcpy(hs->preshared_key, psk, NOISE_SYMMETRIC_KEY_LEN);
	else
		sodium_memzero(hs->preshared_key, NOISE_SYMMETRIC_KEY_LEN);
}

void handshake_clear(struct handshake *hs)
{
	sodium_memzero(&hs->noise, sizeof(hs->noise));
	sodium_memzero(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	sodium_memzero(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	hs->local_index = 0;
	hs->remote_index = 0;
	hs->state = HANDSHAKE_ZEROED;
}

void handshake_wipe(struct handshake *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}

static void header_init(struct message_header *h, enum message_type type)
{
	h->type = (uint8_t)type;
	memset(h->reserved, 0, sizeof(h->reserved));
}

int handshake_create_initiation(struct handshake *hs,
				const struct wg_identity *id,
				uint32_t local_index,
				struct message_handshake_initiation *msg)
{
	uint8_t timestamp[NOISE_TIMESTAMP_LEN];
	int ret;

	if (!id->has_identity || !hs->static_static_ok)
		return -ENOKEY;
	handshake_clear(hs);
	header_init(&msg->header, MESSAGE_HANDSHAKE_INITIATION);
	msg->sender_index = htole32(local_index);
	key_generate_private(hs->ephemeral_private);
	tai64n_now(timestamp);
	begin(&hs->noise, hs->remote_static);
	/* The Noise bytes (e, s, timestamp) are contiguous in the message. */
	ret = noise_msg1_write(&hs->noise, msg->unencrypted_ephemeral,
			       hs->ephemeral_private, id->public_key,
			       hs->remote_static, hs->static_static,
			       timestamp, sizeof(timestamp));
	if (ret) {
		handshake_clear(hs);
		return ret;
	}
	hs->local_index = local_index;
	hs->state = HANDSHAKE_CREATED_INITIATION;
	return 0;
}

/* The whitepaper's guards against a replayed initiation: its timestamp must
 * be newer than the last one accepted, and a peer gets at most
 * INITIATIONS_PER_SECOND. */
static int initiation_fresh(const struct handshake *hs,
			    const uint8_t timestamp[NOISE_TIMESTAMP_LEN],
			    uint64_t now)
{
	const uint64_t gap = 1000000000ULL / INITIATIONS_PER_SECOND;

	if (!tai64n_after(timestamp, hs->latest_timestamp))
		return -EALREADY;
	if (hs->last_initiation_consumption &&
	    now < hs->last_initiation_consumption + gap)
		return -EBUSY;
	return 0;
}

int handshake_consume_initiation(const struct wg_identity *id,
				 const struct message_handshake_initiation *msg,
				 handshake_lookup_fn lookup, void *arg,
				 uint64_t now, struct handshake **out)
{
	struct noise_state st;
	uint8_t re[NOISE_PUBLIC_KEY_LEN], rs[NOISE_PUBLIC_KEY_LEN];
	uint8_t timestamp[NOISE_TIMESTAMP_LEN];
	struct handshake *hs;
	int ret;

	if (!id->has_identity)
		return -ENOKEY;
	begin(&st, id->public_key);
	/* e, es, s */
	ret = noise_msg1_read_static(&st, msg->unencrypted_ephemeral,
				     id->private_key, re, rs);
	if (ret)
		goto out;
	hs = lookup(arg, rs);
	ret = -ENOKEY;
	if (!hs || !hs->static_static_ok)
		goto out;
	/* ss, timestamp */
	ret = noise_msg1_read_payload(&st, msg->unencrypted_ephemeral,
				      hs->static_static, timestamp,
				      sizeof(timestamp));
	if (ret)
		goto out;
	ret = initiation_fresh(hs, timestamp, now);
	if (ret)
		goto out;

	/* Authenticated and fresh: only now may the peer's state change. */
	handshake_clear(hs);
	memcpy(hs->latest_timestamp, timestamp, sizeof(timestamp));
	hs->last_initiation_consumption = now;
	hs->noise = st;
	memcpy(hs->remote_ephemeral, re, sizeof(re));
	hs->remote_index = le32toh(msg->sender_index);
	hs->state = HANDSHAKE_CONSUMED_INITIATION;
	*out = hs;
out:
	noise_state_wipe(&st);
	sodium_memzero(re, sizeof(re));
	sodium_memzero(timestamp, sizeof(timestamp));
	return ret;
}

int handshake_create_response(struct handshake *hs, uint32_t local_index,
			      struct message_handshake_response *msg)
{
	int ret;

	if (hs->state != HANDSHAKE_CONSUMED_INITIATION)
		return -EINVAL;
	header_init(&msg->header, MESSAGE_HANDSHAKE_RESPONSE);
	msg->sender_index = htole32(local_index);
	msg->receiver_index = htole32(hs->remote_index);
	key_generate_private(hs->ephemeral_private);
	ret = noise_msg2_write(&hs->noise, msg->unencrypted_ephemeral,
			       hs->ephemeral_private, hs->remote_ephemeral,
			       hs->remote_static, hs->preshared_key, NULL, 0);
	if (ret) {
		handshake_clear(hs);
		return ret;
	}
	hs->local_index = local_index;
	hs->state = HANDSHAKE_CREATED_RESPONSE;
	return 0;
}

int handshake_consume_response(struct handshake *hs,
			       const struct wg_identity *id,
			       const struct message_handshake_response *msg)
{
	struct noise_state st;
	int ret;

	if (hs->state != HANDSHAKE_CREATED_INITIATION ||
	    le32toh(msg->receiver_index) != hs->local_index ||
	    !id->has_identity)
		return -EINVAL;
	/* Work on a copy: a forged response must not destroy the pending
	 * initiation, or anyone could cancel our handshakes. */
	st = hs->noise;
	ret = noise_msg2_read(&st, msg->unencrypted_ephemeral,
			      hs->ephemeral_private, id->private_key,
			      hs->preshared_key, NULL, 0);
	if (!ret) {
		hs->noise = st;
		hs->remote_index = le32toh(msg->sender_index);
		hs->state = HANDSHAKE_CONSUMED_RESPONSE;
	}
	noise_state_wipe(&st);
	return ret;
}

int handshake_derive_keypair(struct handshake *hs, struct keypair *kp,
			     uint64_t now)
{
	bool initiator = hs->state == HANDSHAKE_CONSUMED_RESPONSE;

	if (!initiator && hs->state != HANDSHAKE_CREATED_RESPONSE)
		return -EINVAL;
	if (initiator)
		noise_split(&hs->noise, kp->send_key, kp->recv_key);
	else
		noise_split(&hs->noise, kp->recv_key, kp->send_key);
	atomic_store_explicit(&kp->send_counter, 0, memory_order_relaxed);
	replay_init(&kp->replay);
	kp->birth = now;
	kp->i_am_initiator = initiator;
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	handshake_clear(hs);
	return 0;
}
