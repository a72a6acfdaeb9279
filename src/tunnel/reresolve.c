#include "src/tunnel/reresolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/clock.h"
#include "src/sockaddr.h"
#include "src/tunnel/apply.h"
#include "crypto/keys.h"
#include "src/tunnel/state.h"

#define ANSWERS_PER_ROUND 16

bool reresolve_is_name(const char *host)
{
	struct in_addr a;

	return host && !strchr(host, ':') && inet_pton(AF_INET, host, &a) != 1;
}

/* The answer's endpoint, through the one path every change takes. */
static void switch_endpoint(struct tunnel *tn, struct peer *peer,
			    const struct resolver_result *res)
{
	struct peer_change pc = { .update_only = true, .set_endpoint = true,
				  .endpoint = res->addr,
				  .endpoint_len = res->len };
	struct change c = { .peers = &pc, .n_peers = 1 };
	char who[KEY_SHORT_LEN + 1], text[SOCKADDR_TEXT_MAX];
	int ret;

	memcpy(pc.public_key, peer_public_key(peer), WG_KEY_LEN);
	key_to_short_base64(who, res->key);
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
	char who[KEY_SHORT_LEN + 1];

	if (!peer) /* removed meanwhile */
		return;
	key_to_short_base64(who, res->key);
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

/* Whether the peer's name is due: no handshake, no `up` and no lookup
 * in the last RERESOLVE_AFTER seconds. */
static bool due(const struct reresolve *rr, const struct peer *peer,
		uint64_t now)
{
	uint64_t last = rr->since;

	if (peer->handshake_at > last)
		last = peer->handshake_at;
	if (peer->name_tried_at > last)
		last = peer->name_tried_at;
	return now - last >= RERESOLVE_AFTER * NS_PER_S;
}

struct check {
	struct tunnel *tn;
	uint64_t now;
};

static void ask(struct peer *peer, void *arg)
{
	struct check *c = arg;
	struct reresolve *rr = &c->tn->reresolve;
	int ret;

	if (!reresolve_is_name(peer->endpoint_host) || !due(rr, peer, c->now))
		return;
	if (!rr->resolver && !(rr->resolver = resolver_new())) {
		log_warn("%s: cannot start the resolver thread: %s",
			 c->tn->ifname, strerror(errno));
		return;
	}
	ret = resolver_ask(rr->resolver, peer_public_key(peer),
			   peer->endpoint_host, peer->endpoint_port);
	if (!ret || ret == -EBUSY)
		peer->name_tried_at = c->now;
}

void reresolve_tick(struct tunnel *tn, uint64_t now)
{
	struct reresolve *rr = &tn->reresolve;
	struct resolver_result res[ANSWERS_PER_ROUND];
	struct check c = { tn, now };
	size_t n;

	if (!rr->started) {
		rr->started = true;
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
	peer_table_each(&tn->dev.peers, ask, &c);
}

void reresolve_stop(struct reresolve *rr)
{
	resolver_free(rr->resolver);
	memset(rr, 0, sizeof(*rr));
}
