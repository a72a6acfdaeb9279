#include "src/uapi/view.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "src/grow.h"

static int append_prefix(struct uapi_peer_view *p, const char *text)
{
	size_t old = p->allowed_ips ? strlen(p->allowed_ips) : 0;
	char *s = realloc(p->allowed_ips, old + strlen(text) + 2);

	if (!s)
		return -ENOMEM;
	sprintf(s + old, "%s%s", old ? "," : "", text);
	p->allowed_ips = s;
	return 0;
}

static int peer_key(struct uapi_peer_view *p, const char *key, const char *v)
{
	if (!strcmp(key, "preshared_key")) {
		p->has_psk = !key_from_hex(p->psk, v) && !key_is_zero(p->psk);
	} else if (!strcmp(key, "endpoint")) {
		snprintf(p->endpoint, sizeof(p->endpoint), "%s", v);
	} else if (!strcmp(key, "last_handshake_time_sec")) {
		p->handshake_sec = strtoull(v, NULL, 10);
	} else if (!strcmp(key, "rx_bytes")) {
		p->rx = strtoull(v, NULL, 10);
	} else if (!strcmp(key, "tx_bytes")) {
		p->tx = strtoull(v, NULL, 10);
	} else if (!strcmp(key, "persistent_keepalive_interval")) {
		p->keepalive = (unsigned)strtoul(v, NULL, 10);
	} else if (!strcmp(key, "allowed_ip")) {
		return append_prefix(p, v);
	}
	return 0;
}

static void device_key(struct uapi_view *v, const char *key, const char *val)
{
	if (!strcmp(key, "private_key") &&
	    !key_from_hex(v->private_key, val)) {
		v->has_private_key = true;
		key_public_from_private(v->public_key, v->private_key);
	} else if (!strcmp(key, "listen_port")) {
		v->listen_port = (unsigned)strtoul(val, NULL, 10);
	} else if (!strcmp(key, "fwmark")) {
		v->fwmark = (uint32_t)strtoul(val, NULL, 10);
	}
}

static int new_peer(struct uapi_view *v, const char *hex)
{
	struct uapi_peer_view *p;

	/* Wiping growth: a view holds its peer's preshared key. */
	if (grow_array(&v->peers, v->n_peers, sizeof(*v->peers), true))
		return -ENOMEM;
	p = &v->peers[v->n_peers++];
	memset(p, 0, sizeof(*p));
	key_from_hex(p->public_key, hex);
	return 0;
}

int uapi_view_parse(struct uapi_view *v, char *reply)
{
	char *save = NULL;
	int ret = 0;

	memset(v, 0, sizeof(*v));
	for (char *l = strtok_r(reply, "\n", &save); l && !ret;
	     l = strtok_r(NULL, "\n", &save)) {
		char *val = strchr(l, '=');

		if (!val)
			continue;
		*val++ = '\0';
		if (!strcmp(l, "public_key"))
			ret = new_peer(v, val);
		else if (v->n_peers)
			ret = peer_key(&v->peers[v->n_peers - 1], l, val);
		else
			device_key(v, l, val);
	}
	if (ret)
		uapi_view_free(v);
	return ret;
}

void uapi_view_free(struct uapi_view *v)
{
	for (size_t i = 0; i < v->n_peers; i++)
		free(v->peers[i].allowed_ips);
	if (v->peers)
		sodium_memzero(v->peers, v->n_peers * sizeof(*v->peers));
	free(v->peers);
	sodium_memzero(v, sizeof(*v));
}
