/* SIGHUP: the config file read again and applied like `wg syncconf`.
 * Keys, port, fwmark and peers follow the file; addresses, routes, MTU,
 * DNS and hooks do not (as with wg syncconf: they belong to `up`). The
 * file becomes a change and is applied as set=1's are: no text between. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/config_change.h"
#include "src/tunnel.h"

struct key_list {
	uint8_t (*v)[WG_KEY_LEN];
	size_t n;
};

static void add_key(struct peer *peer, void *arg)
{
	struct key_list *l = arg;

	memcpy(l->v[l->n++], peer_public_key(peer), WG_KEY_LEN);
}

/* The change from the running device to cfg. */
static int change_to(struct tunnel *tn, const struct config *cfg,
		     struct change *out, char *err, size_t err_len)
{
	struct key_list keys = { 0 };
	int ret;

	keys.v = malloc((tn->dev.peers.count + 1) * sizeof(*keys.v));
	if (!keys.v) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	peer_table_each(&tn->dev.peers, add_key, &keys);
	ret = config_change(cfg, (const uint8_t(*)[WG_KEY_LEN])keys.v, keys.n,
			    out, err, err_len);
	free(keys.v);
	return ret;
}

int tunnel_reload(struct tunnel *tn, char *err, size_t err_len)
{
	struct change change;
	struct config cfg;
	int ret = config_load(&cfg, tn->config_path, err, err_len);

	if (ret)
		return ret;
	ret = change_to(tn, &cfg, &change, err, err_len);
	config_free(&cfg);
	if (ret)
		return ret;
	ret = tunnel_apply(tn, &change);
	if (ret)
		snprintf(err, err_len, "cannot apply it: %s", strerror(-ret));
	change_free(&change);
	return ret;
}
