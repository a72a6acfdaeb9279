#include "src/tunnel/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/data.h"
#include "crypto/keys.h"
#include "src/fleet_recovery.h"
#include "src/log.h"
#include "src/protocol.h"
#include "src/sockaddr.h"
#include "src/tunnel/session_table.h"
#include "src/tunnel/state.h"
#include "src/worker/worker.h"

/* More handshake messages than this queued at a drain means we are under
 * load (for a second after, too: protocol_under_load): only sources that
 * prove their address with a cookie, within their rate, get public-key
 * work. A quarter of one worker's ring: a flood fills it long before
 * honest peers, which send one initiation per REKEY_TIMEOUT, come near. */
#define UNDER_LOAD_BATCH 64

static unsigned jitter_ms(void)
{
	return randombytes_uniform(REKEY_TIMEOUT_JITTER_MAX_MS + 1);
}

/* Hands a datagram to a worker (round robin: any worker's socket sends
 * from the same port), to leave from the local address from. Dropped if
 * that worker's queue is full. */
static void send_datagram(struct tunnel *tn, const struct sockaddr_storage *to,
			  socklen_t to_len, const struct source_addr *from,
			  const void *data, size_t len)
{
	struct worker *w = &tn->workers[tn->next_sender++ % tn->n_workers];
	struct msg *m = msg_ring_reserve(w->in);

	if (!m || len > MSG_DATA_MAX || !to_len)
		return;
	m->kind = CTL_SEND;
	m->len = (uint16_t)len;
	m->addr = *to;
	m->addr_len = to_len;
	m->source = *from;
	memcpy(m->data, data, len);
	msg_ring_push(w->in);
	worker_wake(w);
}

static void sent_authenticated(struct peer *peer, uint64_t now)
{
	timers_any_authenticated_packet_sent(&peer->timers, now);
	timers_any_authenticated_packet_traversal(&peer->timers, now);
}

static void send_initiation(struct tunnel *tn, struct peer *peer,
			    uint64_t now)
{
	struct message_handshake_initiation msg;
	struct sockaddr_storage ep;
	struct source_addr from;
	socklen_t ep_len = peer_get_path(peer, &ep, &from);

	if (!ep_len || !timers_may_send_initiation(&peer->timers, now))
		return;
	if (protocol_create_initiation(&tn->dev, peer, now, &msg))
		return;
	send_datagram(tn, &ep, ep_len, &from, &msg, sizeof(msg));
	timers_handshake_initiated(&peer->timers, now, jitter_ms());
	sent_authenticated(peer, now);
}

/* FleetRecovery: data came from m->addr under an index that another
 * gateway of the fleet gave out. Each peer it may be from gets one
 * initiation, sent there from the address the data came to (the service
 * address), so that the client sees the gateway it knows. The peer's
 * endpoint stays as it is until a response authenticates
 * (on_handshake). Under load none: the source proved nothing, and
 * public-key work is for those that did. */
static void recover_session(struct tunnel *tn, const struct msg *m,
			    bool under_load, uint64_t now)
{
	struct peer *peers[FLEET_RECOVERY_MAX_PEERS];
	struct message_handshake_initiation msg;
	size_t n;

	if (under_load)
		return;
	n = fleet_recovery_pick(&tn->dev, m->index, now, peers,
				FLEET_RECOVERY_MAX_PEERS);
	for (size_t i = 0; i < n; i++) {
		if (!fleet_recovery_may_send(&tn->dev,
					     (const struct sockaddr *)&m->addr,
					     now))
			return;
		if (protocol_create_initiation(&tn->dev, peers[i], now, &msg))
			continue;
		send_datagram(tn, &m->addr, m->addr_len, &m->source, &msg,
			      sizeof(msg));
		timers_fleet_initiation_sent(&peers[i]->timers, now);
		tn->dev.fleet->initiations++;
	}
}

/* Encrypts and sends one packet (len 0: a keepalive). -ENOKEY: no
 * session yet. */
static int send_data(struct tunnel *tn, struct peer *peer, const uint8_t *pkt,
		     size_t len, uint64_t now)
{
	uint8_t buf[MSG_DATA_MAX];
	struct sockaddr_storage ep;
	struct source_addr from;
	socklen_t ep_len = peer_get_path(peer, &ep, &from);
	size_t msg_len;
	bool rekey;
	int ret;

	if (!ep_len)
		return -EDESTADDRREQ;
	if (len + MESSAGE_DATA_HEADER_LEN + DATA_TAILROOM > sizeof(buf))
		return -EMSGSIZE;
	if (len) /* a keepalive has no packet, and memcpy wants non-NULL */
		memcpy(buf + MESSAGE_DATA_HEADER_LEN, pkt, len);
	ret = protocol_encrypt(peer, buf, len, tn->dp.mtu, now, &msg_len,
			       &rekey);
	if (ret)
		return ret;
	send_datagram(tn, &ep, ep_len, &from, buf, msg_len);
	sent_authenticated(peer, now);
	if (len)
		timers_data_sent(&peer->timers, now, jitter_ms());
	if (rekey)
		send_initiation(tn, peer, now);
	return 0;
}

static void send_keepalive(struct tunnel *tn, struct peer *peer, uint64_t now)
{
	if (send_data(tn, peer, NULL, 0, now) == -ENOKEY)
		send_initiation(tn, peer, now);
}

/* Sends staged packets oldest first; stops (and asks for a handshake) at
 * the first that finds no session. Returns how many went out. */
static unsigned flush_staged(struct tunnel *tn, struct peer *peer,
			     uint64_t now)
{
	struct staged_packet *sp;
	unsigned sent = 0;

	while ((sp = peer_staged_oldest(peer))) {
		int ret = send_data(tn, peer, sp->data, sp->len, now);

		if (ret == -ENOKEY) {
			send_initiation(tn, peer, now);
			break;
		}
		free(peer_unstage(peer));
		sent += !ret;
	}
	return sent;
}

static void handshake_complete(struct tunnel *tn, struct peer *peer,
			       uint64_t now, bool initiator)
{
	struct timespec wall;
	char who[KEY_SHORT_LEN + 1];

	timers_handshake_complete(&peer->timers, now);
	peer->handshakes++;
	peer->handshake_at = now;
	clock_gettime(CLOCK_REALTIME, &wall);
	peer->last_handshake_ns = (uint64_t)wall.tv_sec * 1000000000ULL +
				  (uint64_t)wall.tv_nsec;
	key_to_short_base64(who, peer_public_key(peer));
	log_info("%s: peer %s: handshake completed", tn->ifname, who);
	session_table_established(tn, peer, now, (uint64_t)wall.tv_sec);
	/* The responder cannot send until our first packet confirms the
	 * session: give it one even when we have nothing to say. */
	if (!flush_staged(tn, peer, now) && initiator)
		send_keepalive(tn, peer, now);
}

static void on_handshake(struct tunnel *tn, struct msg *m, bool under_load,
			 uint64_t now)
{
	struct handshake_outcome out;
	struct peer *peer;
	int ret = protocol_receive_handshake(&tn->dev, m->data, m->len,
					     (struct sockaddr *)&m->addr,
					     under_load, now, &out);

	if (ret) {
		log_debug_ratelimited(&tn->log_handshake,
				      "%s: handshake message dropped: %s",
				      tn->ifname, strerror(-ret));
		return;
	}
	/* A reply (response or cookie) leaves from the address the message
	 * came to, as the kernel's reply_to_skb does. */
	if (out.reply_len)
		send_datagram(tn, &m->addr, m->addr_len, &m->source, out.reply,
			      out.reply_len);
	peer = out.peer;
	if (!peer || !out.session_derived)
		return;
	peer_set_path(peer, (struct sockaddr *)&m->addr, m->addr_len,
		      &m->source);
	timers_any_authenticated_packet_received(&peer->timers, now);
	timers_any_authenticated_packet_traversal(&peer->timers, now);
	timers_session_derived(&peer->timers, now);
	if (out.reply_len)
		sent_authenticated(peer, now);
	if (out.handshake_complete)
		handshake_complete(tn, peer, now, true);
}

struct gone_ctx {
	const struct source_addr *gone;
	unsigned forgotten;
};

static void forget_if_gone(struct peer *peer, void *arg)
{
	struct gone_ctx *ctx = arg;

	ctx->forgotten += peer_forget_source(peer, ctx->gone);
}

/* A worker's send from a peer's local address was refused: the address
 * is gone. Every peer that still has it falls back to the routing
 * table's choice until its next packet tells a new one. (Peers are few
 * next to packets, and this happens when an address is removed.) */
static void forget_source(struct tunnel *tn, const struct source_addr *gone)
{
	struct gone_ctx ctx = { gone, 0 };
	char text[INET6_ADDRSTRLEN] = "?";

	peer_table_each(&tn->dev.peers, forget_if_gone, &ctx);
	if (!ctx.forgotten)
		return;
	inet_ntop(gone->family, &gone->addr, text, sizeof(text));
	log_debug("%s: local address %s is gone: %u peer(s) reached from "
		  "the routing table's choice now", tn->ifname, text,
		  ctx.forgotten);
}

static void on_message(struct tunnel *tn, struct msg *m, bool under_load,
		       uint64_t now)
{
	struct peer *peer = m->peer;

	if (peer && peer->removed)
		return; /* queued before the removal; see control_tick */
	switch (m->kind) {
	case CTL_HANDSHAKE:
		on_handshake(tn, m, under_load, now);
		break;
	case CTL_STAGE:
		peer_stage(peer, m->data, m->len);
		/* The session may have appeared since the worker tried. */
		flush_staged(tn, peer, now);
		break;
	case CTL_CONFIRM:
		if (protocol_confirm_session(peer, m->keypair))
			handshake_complete(tn, peer, now, false);
		break;
	case CTL_WANT_HANDSHAKE:
		atomic_store(&peer->want_handshake, false);
		send_initiation(tn, peer, now);
		break;
	case CTL_REKEY_RECEIVED:
		/* As the kernel: data still arrives on a session near its
		 * end, so one initiation, once per session, lest the peer
		 * (the responder, who never rekeys) goes silent. */
		atomic_store(&peer->want_handshake, false);
		if (timers_claim_lastminute_handshake(&peer->timers))
			send_initiation(tn, peer, now);
		break;
	case CTL_SOURCE_GONE:
		forget_source(tn, &m->source);
		break;
	case CTL_UNKNOWN_INDEX:
		recover_session(tn, m, under_load, now);
		break;
	case CTL_SEND:
		break;
	}
}

/* Handshake messages waiting in the workers' rings. Only they cost
 * public-key work: staged packets and confirmations do not count. */
static unsigned handshakes_queued(struct tunnel *tn)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tn->n_workers; i++) {
		struct msg_ring *r = tn->workers[i].out;
		uint32_t head = atomic_load_explicit(&r->head,
						     memory_order_relaxed);
		uint32_t tail = atomic_load_explicit(&r->tail,
						     memory_order_acquire);

		for (; head != tail; head++)
			n += r->slot[head & (MSG_RING_SLOTS - 1)].kind ==
			     CTL_HANDSHAKE;
	}
	return n;
}

/* Takes only what was queued when it started: under a flood that arrives
 * faster than we work, draining "until empty" would never end, never
 * look at the load again and never let the timers run. What arrives
 * meanwhile came with a wake-up of its own, so nothing waits long. */
void control_drain(struct tunnel *tn, uint64_t now)
{
	bool under_load = protocol_under_load(&tn->dev,
			handshakes_queued(tn) > UNDER_LOAD_BATCH, now);

	for (unsigned i = 0; i < tn->n_workers; i++) {
		struct msg_ring *r = tn->workers[i].out;
		uint32_t n = atomic_load(&r->tail) - atomic_load(&r->head);
		struct msg *m;

		while (n-- && (m = msg_ring_peek(r))) {
			on_message(tn, m, under_load, now);
			msg_ring_pop(r);
		}
	}
}

/* Turns what the workers saw since the last tick into timer events. */
static void fold_facts(struct peer *peer)
{
	struct peer_timers *t = &peer->timers;

	for (int f = 0; f < FACT_COUNT; f++) {
		uint64_t at = atomic_load_explicit(&peer->fact[f],
						   memory_order_relaxed);

		if (at <= peer->folded[f])
			continue;
		peer->folded[f] = at;
		switch (f) {
		case FACT_DATA_SENT:
			timers_data_sent(t, at, jitter_ms());
			break;
		case FACT_DATA_RECEIVED:
			timers_data_received(t, at);
			break;
		case FACT_AUTH_SENT:
			timers_any_authenticated_packet_sent(t, at);
			timers_any_authenticated_packet_traversal(t, at);
			break;
		case FACT_AUTH_RECEIVED:
			timers_any_authenticated_packet_received(t, at);
			timers_any_authenticated_packet_traversal(t, at);
			break;
		}
	}
}

/* A gateway behind an anycast address (ServiceAddress) does not chase a
 * peer that went quiet: the router in front has most likely moved it to
 * another gateway, which gets its answers to our initiations. Chasing it
 * (an initiation every REKEY_TIMEOUT for REKEY_ATTEMPT_TIME, and the
 * data the LAN sends us for it) would keep it hearing us, so that its
 * own timer, which waits for silence, never makes it handshake with its
 * new gateway. The session ends here instead (keys, staged packets,
 * timers, session routes): the peer starts the next one where the
 * router sends it, KEEPALIVE_TIMEOUT + REKEY_TIMEOUT later. */
static void let_go(struct tunnel *tn, struct peer *peer, uint64_t now)
{
	char who[KEY_SHORT_LEN + 1];

	key_to_short_base64(who, peer_public_key(peer));
	log_info("%s: peer %s: no answer for %d s: its session ends here "
		 "(a gateway behind a service address does not chase it)",
		 tn->ifname, who, KEEPALIVE_TIMEOUT + REKEY_TIMEOUT);
	device_zero_peer_keys(&tn->dev, peer);
	peer_drop_staged(peer);
	timers_stop(&peer->timers);
	session_table_ended(tn, peer, now);
}

static void act(struct tunnel *tn, struct peer *peer, unsigned actions,
		uint64_t now)
{
	char who[KEY_SHORT_LEN + 1];

	if ((actions & TIMER_PEER_QUIET) && tn->anycast) {
		let_go(tn, peer, now);
		return;
	}

	if (actions & TIMER_GIVE_UP) {
		key_to_short_base64(who, peer_public_key(peer));
		log_info("%s: peer %s: unreachable: no handshake after %d "
			 "seconds, giving up until there is traffic for it",
			 tn->ifname, who, REKEY_ATTEMPT_TIME);
		peer_drop_staged(peer);
	}
	if (actions & TIMER_ZERO_KEYS)
		device_zero_peer_keys(&tn->dev, peer);
	if (actions & TIMER_SEND_INITIATION)
		send_initiation(tn, peer, now);
	if (actions & TIMER_SEND_KEEPALIVE)
		send_keepalive(tn, peer, now);
}

struct tick_ctx {
	struct tunnel *tn;
	uint64_t now;
	uint64_t next;
};

/* Workers roam endpoints without logging (they never do); the control
 * thread notices the endpoint's move count changed and says where the
 * peer went (a new local address alone is no roaming). The first look
 * only records: the configured endpoint is no news, but the first one
 * learned later (a road warrior's) is. endpoint_moves_logged holds the
 * count seen plus one: 0 only before the first look. */
static void log_roaming(struct tunnel *tn, struct peer *peer)
{
	uint32_t moves = atomic_load_explicit(&peer->endpoint_moves,
					      memory_order_relaxed);
	char who[KEY_SHORT_LEN + 1], where[SOCKADDR_TEXT_MAX];
	struct sockaddr_storage ep;
	bool first = !peer->endpoint_moves_logged;

	if (moves + 1 == peer->endpoint_moves_logged)
		return;
	peer->endpoint_moves_logged = moves + 1;
	if (first || !peer_get_endpoint(peer, &ep))
		return;
	key_to_short_base64(who, peer_public_key(peer));
	sockaddr_to_text(&ep, where);
	log_info("%s: peer %s: endpoint changed to %s", tn->ifname, who,
		 where);
}

static void tick_peer(struct peer *peer, void *arg)
{
	struct tick_ctx *ctx = arg;
	uint64_t deadline;

	fold_facts(peer);
	log_roaming(ctx->tn, peer);
	act(ctx->tn, peer, timers_expire(&peer->timers, ctx->now), ctx->now);
	deadline = timers_next_deadline(&peer->timers);
	if (deadline && (!ctx->next || deadline < ctx->next))
		ctx->next = deadline;
	deadline = session_table_tick(ctx->tn, peer, ctx->now);
	if (deadline && (!ctx->next || deadline < ctx->next))
		ctx->next = deadline;
}

/* Messages from the workers may name a peer or keypair that is about to
 * be freed (the worker queued it, then went quiescent): they are handled
 * before the memory goes. */
static void drain_before_free(void *arg)
{
	struct tunnel *tn = arg;

	control_drain(tn, tunnel_now(tn));
}

uint64_t control_tick(struct tunnel *tn, uint64_t now)
{
	struct tick_ctx ctx = { tn, now, 0 };
	uint64_t gone;

	peer_table_each(&tn->dev.peers, tick_peer, &ctx);
	gone = session_table_tick_gone(tn, now);
	if (gone && (!ctx.next || gone < ctx.next))
		ctx.next = gone;
	/* Ticks come at least every 100 ms: a new period's keys are in
	 * use that soon after it begins. Without memory the old keys stay,
	 * and the next tick tries again. */
	device_fleet_rotate(&tn->dev, (uint64_t)time(NULL));
	epoch_reclaim_after(&tn->epoch, drain_before_free, tn);
	return ctx.next;
}
