#include "src/config_change.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool in_config(const struct config *cfg, const uint8_t *key)
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!memcmp(cfg->peers[i].public_key, key, WG_KEY_LEN))
			return true;
	return false;
}

static int peer_from_config(struct peer_change *pc,
			    const struct config_peer *p, char *err,
			    size_t err_len)
{
	memcpy(pc->public_key, p->public_key, WG_KEY_LEN);
	pc->set_psk = true; /* zero when none: a PSK removed goes */
	if (p->has_psk)
		memcpy(pc->psk, p->psk, WG_KEY_LEN);
	if (p->endpoint_host) {
		int ret = config_resolve_endpoint(p, &pc->endpoint,
						  &pc->endpoint_len, err,
						  err_len);

		if (ret)
			return ret;
		pc->set_endpoint = true;
		pc->endpoint_host = strdup(p->endpoint_host);
		pc->endpoint_port = strdup(p->endpoint_port);
		if (!pc->endpoint_host || !pc->endpoint_port)
			goto no_memory;
	}
	pc->set_endpoint_name = true; /* none, when the file has none */
	pc->set_keepalive = true;
	pc->keepalive = p->persistent_keepalive;
	pc->replace_allowed_ips = true;
	pc->allowed_ips = calloc(p->n_allowed_ips ? p->n_allowed_ips : 1,
				 sizeof(*pc->allowed_ips));
	if (!pc->allowed_ips)
		goto no_memory;
	for (size_t i = 0; i < p->n_allowed_ips; i++)
		pc->allowed_ips[i].prefix =
			prefix_masked(&p->allowed_ips[i]);
	pc->n_allowed_ips = p->n_allowed_ips;
	return 0;
no_memory: /* change_free frees what was taken */
	snprintf(err, err_len, "out of memory");
	return -ENOMEM;
}

/* Entries for the peers the device has and the file does not name. */
static void removals(struct change *out, const struct config *cfg,
		     const uint8_t (*current)[WG_KEY_LEN], size_t n_current)
{
	for (size_t i = 0; i < n_current; i++) {
		struct peer_change *pc;

		if (in_config(cfg, current[i]))
			continue;
		pc = &out->peers[out->n_peers++];
		memcpy(pc->public_key, current[i], WG_KEY_LEN);
		pc->remove = true;
	}
}

int config_change(const struct config *cfg,
		  const uint8_t (*current)[WG_KEY_LEN], size_t n_current,
		  struct change *out, char *err, size_t err_len)
{
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->set_private_key = true;
	memcpy(out->private_key, cfg->private_key, WG_KEY_LEN);
	out->set_listen_port = cfg->has_listen_port;
	out->listen_port = cfg->listen_port;
	out->set_fwmark = cfg->fwmark != 0;
	out->fwmark = cfg->fwmark;
	out->peers = calloc(n_current + cfg->n_peers + 1, sizeof(*out->peers));
	if (!out->peers) {
		snprintf(err, err_len, "out of memory");
		change_free(out);
		return -ENOMEM;
	}
	removals(out, cfg, current, n_current);
	for (size_t i = 0; i < cfg->n_peers && !ret; i++)
		ret = peer_from_config(&out->peers[out->n_peers++],
				       &cfg->peers[i], err, err_len);
	if (ret)
		change_free(out);
	return ret;
}
