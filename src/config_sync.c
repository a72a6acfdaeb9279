#include "src/config_sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "src/sockaddr.h"

static bool in_config(const struct config *cfg, const uint8_t key[32])
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!memcmp(cfg->peers[i].public_key, key, 32))
			return true;
	return false;
}

static void print_key(FILE *out, const char *name, const uint8_t key[32])
{
	char hex[WG_KEY_HEX_LEN + 1];

	key_to_hex(hex, key);
	fprintf(out, "%s=%s\n", name, hex);
	sodium_memzero(hex, sizeof(hex));
}

static int print_endpoint(FILE *out, const struct config_peer *p, char *err,
			  size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char text[SOCKADDR_TEXT_MAX];
	int ret = config_resolve_endpoint(p, &ss, &len, err, err_len);

	if (ret)
		return ret;
	sockaddr_to_text(&ss, text);
	fprintf(out, "endpoint=%s\n", text);
	return 0;
}

static int print_peer(FILE *out, const struct config_peer *p, char *err,
		      size_t err_len)
{
	static const uint8_t none[32];
	char text[INET6_ADDRSTRLEN];

	print_key(out, "public_key", p->public_key);
	print_key(out, "preshared_key", p->has_psk ? p->psk : none);
	if (p->endpoint_host) {
		int ret = print_endpoint(out, p, err, err_len);

		if (ret)
			return ret;
	}
	fprintf(out, "persistent_keepalive_interval=%u\n"
		     "replace_allowed_ips=true\n", p->persistent_keepalive);
	for (size_t i = 0; i < p->n_allowed_ips; i++) {
		struct config_prefix m = config_prefix_masked(&p->allowed_ips[i]);

		inet_ntop(m.family, m.addr, text, sizeof(text));
		fprintf(out, "allowed_ip=%s/%u\n", text, m.cidr);
	}
	return 0;
}

int config_sync_body(const struct config *cfg,
		     const uint8_t (*current)[32], size_t n_current,
		     FILE *out, char *err, size_t err_len)
{
	print_key(out, "private_key", cfg->private_key);
	if (cfg->has_listen_port)
		fprintf(out, "listen_port=%u\n", cfg->listen_port);
	if (cfg->fwmark)
		fprintf(out, "fwmark=%u\n", cfg->fwmark);
	for (size_t i = 0; i < n_current; i++) {
		if (in_config(cfg, current[i]))
			continue;
		print_key(out, "public_key", current[i]);
		fprintf(out, "remove=true\n");
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		int ret = print_peer(out, &cfg->peers[i], err, err_len);

		if (ret)
			return ret;
	}
	return 0;
}
