#include "src/tunnel/reresolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/sockaddr.h"
#include "src/tunnel/apply.h"
#include "src/tunnel/state.h"

#define NS_PER_S 1000000000ULL
#define ANSWERS_PER_ROUND 16

bool reresolve_is_name(const char *host)
{
	struct in_addr a;

	return host && !strchr(host, ':') && inet_pton(AF_INET, host, &a) != 1;
}

static void short_key(char out[9], const uint8_t *key)
{
	char b64[WG_KEY_B64_LEN + 1];

	key_to_base64(b64, key);
	memcpy(out, b64, 8);
	out[8] = '\0';
}

/* The answer's endpoint, through the one path every change takes. */
static void switch_endpoint(struct tunnel *tn, struct peer *peer,
			    const struct resolver_result *res)
{
	struct peer_change pc = { .update_only = true, .set_endpoint = true,
				  .endpoint = res->addr,
				  .endpoint_len = res->len };
	struct change c = { .peers = &pc, .n_peers = 1 };
	char who[9], text[SOCKADDR_TEXT_MAX];
	int ret;

	memcpy(pc.public_key, peer_public_key(peer), WG_KEY_LEN);
	short_key(who, res->key);
	sockaddr_to_text(&res->addr, text);
	ret = tunnel_apply(tn, &c);
	if (ret)
		log_warn("%s: peer %s: cannot switch to %s: %s", tn->ifname,
			 who, text, strerror(-ret));
	else
		log_info("%s: peer %s: its Endpoint name now resolves to %s",
			 tn->ifname, who, text);
}

static void take_answer(struct tunnel *tn, const struct resolver_result *res)
{
	struct peer *peer = peer_table_find(&tn->dev.peers, res->key);
	struct sockaddr_storage now;
	socklen_t len;
	char who[9];

	if (!peer) /* removed meanwhile */
		return;
	short_key(who, res->key);
	if (res->ret) {
		log_warn("%s: peer %s: cannot resolve its Endpoint again: %s; "
			 "keeping the old one", tn->ifname, who,
			 strerror(-res->ret));
		return;
	}
	len = peer_get_endpoint(peer, &now);
	if (len == res->len && !memcmp(&now, &res->addr, len))
		log_debug("%s: peer %s: Endpoint name resolved again, "
			  "unchanged", tn->ifname, who);
	else
		switch_endpoint(tn, peer, res);
}

/* Whether peer i of the file is due: no handshake, no `up` and no
 * lookup in the last RERESOLVE_AFTER seconds. */
static bool due(const struct tunnel *tn, const struct peer *peer, size_t i,
		uint64_t now)
{
	const struct reresolve *rr = &tn->reresolve;
	uint64_t last = rr->since;

	if (peer->handshake_at > last)
		last = peer->handshake_at;
	if (rr->last_try[i] > last)
		last = rr->last_try[i];
	return now - last >= RERESOLVE_AFTER * NS_PER_S;
}

static void ask(struct tunnel *tn, size_t i, uint64_t now)
{
	struct reresolve *rr = &tn->reresolve;
	const struct config_peer *p = &tn->cfg->peers[i];
	int ret;

	if (!rr->resolver && !(rr->resolver = resolver_new())) {
		log_warn("%s: cannot start the resolver thread: %s",
			 tn->ifname, strerror(errno));
		return;
	}
	ret = resolver_ask(rr->resolver, p->public_key, p->endpoint_host,
			   p->endpoint_port);
	if (!ret || ret == -EBUSY)
		rr->last_try[i] = now;
}

static void check_names(struct tunnel *tn, uint64_t now)
{
	const struct config *cfg = tn->cfg;

	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct peer *peer;

		if (!reresolve_is_name(cfg->peers[i].endpoint_host))
			continue;
		peer = peer_table_find(&tn->dev.peers, cfg->peers[i].public_key);
		if (peer && due(tn, peer, i, now))
			ask(tn, i, now);
	}
}

void reresolve_tick(struct tunnel *tn, uint64_t now)
{
	struct reresolve *rr = &tn->reresolve;
	struct resolver_result res[ANSWERS_PER_ROUND];
	size_t n;

	if (!tn->cfg || !tn->cfg->n_peers)
		return;
	if (!rr->last_try) {
		rr->last_try = calloc(tn->cfg->n_peers, sizeof(*rr->last_try));
		if (!rr->last_try)
			return; /* out of memory: the next round tries again */
		rr->since = now;
		rr->next_check = now;
	}
	if (rr->resolver) {
		n = resolver_take(rr->resolver, res, ANSWERS_PER_ROUND);
		for (size_t i = 0; i < n; i++)
			take_answer(tn, &res[i]);
	}
	if (now < rr->next_check)
		return;
	rr->next_check = now + RERESOLVE_CHECK * NS_PER_S;
	check_names(tn, now);
}

void reresolve_stop(struct reresolve *rr)
{
	resolver_free(rr->resolver);
	free(rr->last_try);
	memset(rr, 0, sizeof(*rr));
}
