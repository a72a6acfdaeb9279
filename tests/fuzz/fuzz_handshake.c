/* libFuzzer target: protocol_receive_handshake() on untrusted bytes.
 *
 * Input: one flag byte (FUZZ_HS_* in fuzz_common.h), then the message. A
 * random MAC1 is a 2^-128 event, so by flag the harness computes valid
 * MACs itself, as the remote peer would: that is what gets mutated
 * messages into the Noise code. The device's state evolves from input to
 * input (sessions, indices, timestamps), as it would on the wire. */
#include "tests/fuzz/fuzz_common.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hs_fuzz {
	struct fuzz_node local;
	/* The remote peer's MACs for local, one maker per source family
	 * because a cookie is bound to the source address. */
	struct cookie_maker maker[2];
	uint64_t now;
};

static struct hs_fuzz *fuzz;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_handshake: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct hs_fuzz st;

	if (fuzz_node_init(&st.local, FUZZ_LOCAL))
		die("setup failed");
	for (int i = 0; i < 2; i++)
		cookie_maker_init(&st.maker[i],
				  st.local.dev.identity.public_key);
	st.now = FUZZ_NOW0;
	fuzz = &st;
	return 0;
}

/* A live index of local's: its pending initiation to the peer, made anew
 * when there is none, so responses and cookies reach their crypto. */
static uint32_t live_index(struct hs_fuzz *f)
{
	struct message_handshake_initiation init;
	struct handshake *hs = &f->local.peer->handshake;

	if (hs->state != HANDSHAKE_CREATED_INITIATION &&
	    protocol_create_initiation(&f->local.dev, f->local.peer, f->now,
				       &init))
		die("cannot create an initiation");
	return hs->local_index;
}

static void patch_index(struct hs_fuzz *f, uint8_t *msg, size_t len)
{
	uint32_t idx = htole32(live_index(f));

	if (len == sizeof(struct message_handshake_response))
		memcpy(msg + offsetof(struct message_handshake_response,
				      receiver_index), &idx, sizeof(idx));
	else if (len == sizeof(struct message_handshake_cookie))
		memcpy(msg + offsetof(struct message_handshake_cookie,
				      receiver_index), &idx, sizeof(idx));
}

/* Gives m a fresh cookie from local for src, through a real cookie reply. */
static void fetch_cookie(struct hs_fuzz *f, struct cookie_maker *m,
			 const uint8_t *src, size_t src_len)
{
	struct message_handshake_initiation probe = {
		.header.type = MESSAGE_HANDSHAKE_INITIATION,
	};
	struct message_handshake_cookie reply;

	cookie_add_macs(m, (uint8_t *)&probe, sizeof(probe), f->now);
	cookie_make_reply(&f->local.dev.cookie_checker, &reply,
			  (uint8_t *)&probe, sizeof(probe), src, src_len,
			  f->now);
	if (cookie_consume_reply(m, &reply, f->now))
		die("own cookie reply rejected");
}

static bool macs_apply(size_t len)
{
	return len == sizeof(struct message_handshake_initiation) ||
	       len == sizeof(struct message_handshake_response);
}

/* What must hold after any message, whatever it was. */
static void check_outcome(struct hs_fuzz *f, int ret, uint8_t flags,
			  struct cookie_maker *m,
			  const struct handshake_outcome *out)
{
	if (ret && (out->reply_len || out->session_derived))
		die("an error left a reply or a session");
	if (out->reply_len > sizeof(out->reply))
		die("reply longer than its buffer");
	if (out->peer && out->peer != f->local.peer)
		die("outcome names a peer that does not exist");
	if ((out->session_derived || out->handshake_complete) && !out->peer)
		die("session without a peer");
	/* A cookie reply to MACs we made must be one we can consume. */
	if (out->cookie_sent && (flags & FUZZ_HS_ADD_MAC1) &&
	    cookie_consume_reply(m, (const void *)out->reply, f->now))
		die("cookie reply does not decrypt for its requester");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_node *local = &fuzz->local;
	uint8_t source[COOKIE_SOURCE_MAX], flags, *msg;
	struct handshake_outcome out;
	struct sockaddr_storage ss;
	const struct sockaddr *src;
	struct cookie_maker *m;
	size_t len, src_len;
	int ret;

	if (size < 1)
		return 0;
	flags = data[0];
	len = size - 1;
	/* An exact-size heap copy, so ASan sees any read past the end. */
	msg = malloc(len ? len : 1);
	if (!msg)
		return 0;
	memcpy(msg, data + 1, len);
	src = fuzz_source(&ss, flags & FUZZ_HS_IPV6);
	src_len = cookie_source_bytes(source, src);
	m = &fuzz->maker[!!(flags & FUZZ_HS_IPV6)];

	if (flags & FUZZ_HS_PATCH_INDEX)
		patch_index(fuzz, msg, len);
	if ((flags & FUZZ_HS_ADD_MAC1) && macs_apply(len)) {
		if (flags & FUZZ_HS_ADD_MAC2)
			fetch_cookie(fuzz, m, source, src_len);
		else
			m->have_cookie = false;
		cookie_add_macs(m, msg, len, fuzz->now);
	}
	ret = protocol_receive_handshake(&local->dev, msg, len, src,
					 flags & FUZZ_HS_UNDER_LOAD, fuzz->now,
					 &out);
	check_outcome(fuzz, ret, flags, m, &out);
	free(msg);
	/* Past the one-per-20-ms initiation flood guard. */
	fuzz->now += FUZZ_NS(1) / 40;
	return 0;
}
