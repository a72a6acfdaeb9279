/* SIGHUP: the config file read again and applied like `wg syncconf`.
 * Keys, port, fwmark and peers follow the file; addresses, routes, MTU,
 * DNS and hooks do not (as with wg syncconf: they belong to `up`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/config_sync.h"
#include "src/secret_buf.h"
#include "src/tunnel.h"
#include "src/uapi.h"
#include "src/uapi_parse.h"

struct key_list {
	uint8_t (*v)[32];
	size_t n;
};

static void add_key(struct peer *peer, void *arg)
{
	struct key_list *l = arg;

	memcpy(l->v[l->n++], peer_public_key(peer), 32);
}

/* The body of a set request, into a wiping buffer: it carries the
 * private and preshared keys (open_memstream would leave each outgrown
 * copy in freed memory). */
static int sync_body(struct tunnel *tn, const struct config *cfg,
		     struct secret_buf *body, char *err, size_t err_len)
{
	struct key_list keys = { 0 };
	FILE *f;
	int ret;

	keys.v = malloc((tn->dev.peers.count + 1) * sizeof(*keys.v));
	f = keys.v ? secret_buf_stream(body) : NULL;
	if (!f) {
		free(keys.v);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	peer_table_each(&tn->dev.peers, add_key, &keys);
	ret = config_sync_body(cfg, (const uint8_t(*)[32])keys.v, keys.n, f,
			       err, err_len);
	free(keys.v);
	if (secret_buf_stream_close(f) && !ret) {
		snprintf(err, err_len, "out of memory");
		ret = -ENOMEM;
	}
	return ret;
}

static int apply_body(struct tunnel *tn, const char *body, size_t len,
		      char *err, size_t err_len)
{
	struct uapi_set s;
	int ret = uapi_parse_set(&s, body, len, err, err_len);

	if (ret)
		return ret;
	ret = uapi_apply(tn, &s);
	if (ret)
		snprintf(err, err_len, "cannot apply it: %s", strerror(-ret));
	uapi_set_free(&s);
	return ret;
}

int tunnel_reload(struct tunnel *tn, char *err, size_t err_len)
{
	struct secret_buf body = { 0 };
	struct config cfg;
	int ret = config_load(&cfg, tn->config_path, err, err_len);

	if (ret)
		return ret;
	ret = sync_body(tn, &cfg, &body, err, err_len);
	if (!ret)
		ret = apply_body(tn, body.data, body.len, err, err_len);
	secret_buf_free(&body);
	config_free(&cfg);
	return ret;
}
