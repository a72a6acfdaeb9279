#include "src/change.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>

#include "crypto/keys.h"

bool change_moves_allowed_ips(const struct change *c)
{
	if (c->replace_peers)
		return true;
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct peer_change *p = &c->peers[i];

		if (p->remove || p->replace_allowed_ips || p->n_allowed_ips)
			return true;
	}
	return false;
}

void change_free(struct change *c)
{
	for (size_t i = 0; i < c->n_peers; i++) {
		free(c->peers[i].allowed_ips);
		free(c->peers[i].endpoint_host);
		free(c->peers[i].endpoint_port);
	}
	if (c->peers) {
		sodium_memzero(c->peers, c->n_peers * sizeof(*c->peers));
		free(c->peers);
	}
	sodium_memzero(c, sizeof(*c));
}

static void write_key(FILE *out, const char *name, const uint8_t *key)
{
	char hex[WG_KEY_HEX_LEN + 1];

	key_to_hex(hex, key);
	fprintf(out, "%s=%s\n", name, hex);
	sodium_memzero(hex, sizeof(hex));
}

/* "a.b.c.d:port" or "[v6%scope]:port", as uapi_parse_set reads them. */
static void write_endpoint(FILE *out, const struct peer_change *p)
{
	const struct sockaddr_in *v4 = (const void *)&p->endpoint;
	const struct sockaddr_in6 *v6 = (const void *)&p->endpoint;
	char a[INET6_ADDRSTRLEN];

	if (p->endpoint.ss_family == AF_INET) {
		inet_ntop(AF_INET, &v4->sin_addr, a, sizeof(a));
		fprintf(out, "endpoint=%s:%u\n", a, ntohs(v4->sin_port));
		return;
	}
	inet_ntop(AF_INET6, &v6->sin6_addr, a, sizeof(a));
	fprintf(out, "endpoint=[%s", a);
	if (v6->sin6_scope_id)
		fprintf(out, "%%%u", v6->sin6_scope_id);
	fprintf(out, "]:%u\n", ntohs(v6->sin6_port));
}

static void write_allowed_ips(FILE *out, const struct peer_change *p)
{
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < p->n_allowed_ips; i++) {
		const struct allowed_ip_change *x = &p->allowed_ips[i];

		inet_ntop(x->prefix.family, x->prefix.addr, a, sizeof(a));
		fprintf(out, "allowed_ip=%s%s/%u\n", x->remove ? "-" : "", a,
			x->prefix.cidr);
	}
}

static void write_peer(FILE *out, const struct peer_change *p)
{
	write_key(out, "public_key", p->public_key);
	fprintf(out, "protocol_version=1\n");
	if (p->remove)
		fprintf(out, "remove=true\n");
	if (p->update_only)
		fprintf(out, "update_only=true\n");
	if (p->set_psk)
		write_key(out, "preshared_key", p->psk);
	if (p->set_endpoint)
		write_endpoint(out, p);
	if (p->set_keepalive)
		fprintf(out, "persistent_keepalive_interval=%u\n", p->keepalive);
	if (p->replace_allowed_ips)
		fprintf(out, "replace_allowed_ips=true\n");
	write_allowed_ips(out, p);
}

void change_write(FILE *out, const struct change *c)
{
	if (c->set_private_key)
		write_key(out, "private_key", c->private_key);
	if (c->set_listen_port)
		fprintf(out, "listen_port=%u\n", c->listen_port);
	if (c->set_fwmark)
		fprintf(out, "fwmark=%u\n", c->fwmark);
	if (c->replace_peers)
		fprintf(out, "replace_peers=true\n");
	for (size_t i = 0; i < c->n_peers; i++)
		write_peer(out, &c->peers[i]);
}
