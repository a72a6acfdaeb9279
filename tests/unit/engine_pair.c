#include "tests/unit/engine_pair.h"

#include <check.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "crypto/data.h"

void engine_pair_init(struct engine_pair *p, bool with_psk)
{
	uint8_t priv[2][32], psk[32];

	memset(p, 0, sizeof(*p));
	ck_assert(sodium_init() >= 0);
	randombytes_buf(psk, sizeof(psk));
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(device_init(&p->dev[i], NULL), 0);
		randombytes_buf(priv[i], 32);
		ck_assert_int_eq(device_set_private_key(&p->dev[i], priv[i]), 0);
		p->addr[i].sin_family = AF_INET;
		p->addr[i].sin_port = htons((uint16_t)(51820 + i));
		p->addr[i].sin_addr.s_addr = htonl(0xc6120001 + (uint32_t)i);
	}
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(device_add_peer(&p->dev[i],
						 p->dev[!i].identity.public_key,
						 with_psk ? psk : NULL,
						 &p->peer[i]), 0);
	p->now = NS(1000);
}

void engine_pair_destroy(struct engine_pair *p)
{
	device_destroy(&p->dev[0]);
	device_destroy(&p->dev[1]);
}

void pair_initiation(struct engine_pair *p, int side,
		     struct message_handshake_initiation *msg)
{
	ck_assert_int_eq(protocol_create_initiation(&p->dev[side],
						    p->peer[side], p->now,
						    msg), 0);
}

int pair_deliver_handshake(struct engine_pair *p, int to, const void *msg,
			   size_t len, bool under_load,
			   struct handshake_outcome *out)
{
	return protocol_receive_handshake(&p->dev[to], msg, len,
					  (const void *)&p->addr[!to],
					  under_load, p->now, out);
}

void pair_handshake(struct engine_pair *p, int initiator)
{
	struct message_handshake_initiation init;
	struct handshake_outcome res, fin;
	int responder = !initiator;

	/* TAI64N timestamps are coarsened to ~17 ms, and each initiation must
	 * carry a newer one than the last. */
	usleep(20 * 1000);
	pair_initiation(p, initiator, &init);
	ck_assert_int_eq(pair_deliver_handshake(p, responder, &init,
						sizeof(init), false, &res), 0);
	ck_assert(res.peer == p->peer[responder]);
	ck_assert(res.session_derived && !res.handshake_complete);
	ck_assert_uint_eq(res.reply_len,
			  sizeof(struct message_handshake_response));
	ck_assert_int_eq(pair_deliver_handshake(p, initiator, res.reply,
						res.reply_len, false, &fin), 0);
	ck_assert(fin.peer == p->peer[initiator]);
	ck_assert(fin.session_derived && fin.handshake_complete);
	ck_assert_uint_eq(fin.reply_len, 0);
}

long pair_encrypt(struct engine_pair *p, int from, uint8_t *buf,
		  const uint8_t *data, size_t len)
{
	size_t msg_len;
	bool rekey;
	int ret;

	memcpy(buf + MESSAGE_DATA_HEADER_LEN, data, len);
	ret = protocol_encrypt(p->peer[from], buf, len, PAIR_MTU, p->now,
			       &msg_len, &rekey);
	return ret ? ret : (long)msg_len;
}

int pair_decrypt(struct engine_pair *p, int to, uint8_t *msg, size_t len,
		 struct data_outcome *out)
{
	bool *complete = &p->handshake_complete;
	int ret = protocol_decrypt(&p->dev[to], msg, len, p->now, out);

	*complete = !ret && out->confirms_next &&
		    protocol_confirm_session(out->peer, out->keypair);
	return ret;
}

void pair_roundtrip(struct engine_pair *p, int from, size_t len)
{
	uint8_t data[2048], buf[PAIR_BUF];
	struct data_outcome out;
	long msg_len;

	ck_assert(len <= sizeof(data));
	randombytes_buf(data, len);
	msg_len = pair_encrypt(p, from, buf, data, len);
	ck_assert_msg(msg_len > 0, "encrypt failed: %ld", msg_len);
	ck_assert_int_eq(pair_decrypt(p, !from, buf, (size_t)msg_len, &out), 0);
	ck_assert(out.peer == p->peer[!from]);
	ck_assert_uint_ge(out.plain_len, len);
	ck_assert(memcmp(buf + MESSAGE_DATA_HEADER_LEN, data, len) == 0);
}
