#include "tests/fuzz/fuzz_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "crypto/data.h"
#include "crypto/keys.h"

/* Arbitrary but fixed: the seeds depend on them (see the header). */
static void fixed_private_key(uint8_t key[WG_KEY_LEN], enum fuzz_side side)
{
	for (int i = 0; i < WG_KEY_LEN; i++)
		key[i] = (uint8_t)(side == FUZZ_LOCAL ? 0x11 * i + 1 : 0xa7 ^ i);
	key_clamp(key);
}

int fuzz_node_init(struct fuzz_node *n, enum fuzz_side side)
{
	uint8_t priv[WG_KEY_LEN], other[WG_KEY_LEN], other_pub[WG_KEY_LEN];
	int ret;

	ret = crypto_init();
	if (ret)
		return ret;
	fixed_private_key(priv, side);
	fixed_private_key(other, side == FUZZ_LOCAL ? FUZZ_REMOTE : FUZZ_LOCAL);
	ret = key_public_from_private(other_pub, other);
	if (ret)
		return ret;
	ret = device_init(&n->dev, NULL);
	if (ret)
		return ret;
	ret = device_set_private_key(&n->dev, priv);
	if (!ret)
		ret = device_add_peer(&n->dev, other_pub, NULL, &n->peer);
	if (ret)
		device_destroy(&n->dev);
	return ret;
}

const struct sockaddr *fuzz_source(struct sockaddr_storage *ss, bool ipv6)
{
	struct sockaddr_in *v4 = (void *)ss;
	struct sockaddr_in6 *v6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ipv6) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(51820);
		inet_pton(AF_INET6, "2001:db8::1", &v6->sin6_addr);
	} else {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(51820);
		v4->sin_addr.s_addr = htonl(0xc6120001); /* 198.18.0.1 */
	}
	return (const void *)ss;
}

int fuzz_establish(struct fuzz_node *ini, struct fuzz_node *resp,
		   uint64_t now, struct message_handshake_initiation *init,
		   struct message_handshake_response *resp_msg)
{
	struct message_handshake_initiation msg;
	struct handshake_outcome res, fin;
	_Alignas(16) uint8_t buf[MESSAGE_DATA_HEADER_LEN + DATA_TAILROOM];
	struct data_outcome data;
	struct sockaddr_storage ss;
	const struct sockaddr *src = fuzz_source(&ss, false);
	size_t len;
	bool rekey;
	int ret;

	ret = protocol_create_initiation(&ini->dev, ini->peer, now, &msg);
	if (ret)
		return ret;
	ret = protocol_receive_handshake(&resp->dev, (void *)&msg, sizeof(msg),
					 src, false, now, &res);
	if (ret)
		return ret;
	if (res.reply_len != sizeof(*resp_msg))
		return -EPROTO;
	ret = protocol_receive_handshake(&ini->dev, res.reply, res.reply_len,
					 src, false, now, &fin);
	if (ret)
		return ret;
	if (!fin.handshake_complete)
		return -EPROTO;
	ret = protocol_encrypt(ini->peer, buf, 0, FUZZ_MTU, now, &len, &rekey);
	if (!ret)
		ret = protocol_decrypt(&resp->dev, buf, len, now, &data);
	if (ret)
		return ret;
	if (!data.confirms_next ||
	    !protocol_confirm_session(data.peer, data.keypair))
		return -EPROTO;
	if (init)
		memcpy(init, &msg, sizeof(msg));
	if (resp_msg)
		memcpy(resp_msg, res.reply, sizeof(*resp_msg));
	return 0;
}

static bool strings_eq(const struct config_strings *a,
		       const struct config_strings *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

bool fuzz_prefixes_eq(const struct prefix *a, const struct prefix *b,
		      size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].family != b[i].family || a[i].cidr != b[i].cidr ||
		    memcmp(a[i].addr, b[i].addr, sizeof(a[i].addr)))
			return false;
	return true;
}

bool fuzz_interface_eq(const struct config *a, const struct config *b)
{
	return a->n_addresses == b->n_addresses &&
	       fuzz_prefixes_eq(a->addresses, b->addresses, a->n_addresses) &&
	       a->mtu == b->mtu && a->table == b->table &&
	       a->table_id == b->table_id && strings_eq(&a->dns, &b->dns) &&
	       strings_eq(&a->dns_search, &b->dns_search) &&
	       strings_eq(&a->pre_up, &b->pre_up) &&
	       strings_eq(&a->post_up, &b->post_up) &&
	       strings_eq(&a->pre_down, &b->pre_down) &&
	       strings_eq(&a->post_down, &b->post_down) &&
	       a->save_config == b->save_config && a->threads == b->threads;
}
