#include "src/peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

socklen_t peer_get_path(struct peer *p, struct sockaddr_storage *out,
			struct source_addr *src)
{
	uint32_t s1, s2;
	socklen_t len;

	do {
		s1 = atomic_load_explicit(&p->endpoint_seq,
					  memory_order_acquire);
		len = p->endpoint_len;
		/* A torn read retries below; it must not overrun first. */
		if (len > sizeof(p->endpoint))
			len = 0;
		memcpy(out, &p->endpoint, len);
		if (src)
			*src = p->source;
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&p->endpoint_seq,
					  memory_order_relaxed);
	} while ((s1 & 1) || s1 != s2);
	return len;
}

/* Writers are rare (a peer roamed) and may be several workers. */
static void write_lock(struct peer *p)
{
	uint32_t s;

	while (atomic_flag_test_and_set_explicit(&p->endpoint_lock,
						 memory_order_acquire))
		;
	s = atomic_load_explicit(&p->endpoint_seq, memory_order_relaxed);
	atomic_store_explicit(&p->endpoint_seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void write_unlock(struct peer *p)
{
	uint32_t s = atomic_load_explicit(&p->endpoint_seq,
					  memory_order_relaxed);

	atomic_store_explicit(&p->endpoint_seq, s + 1, memory_order_release);
	atomic_flag_clear_explicit(&p->endpoint_lock, memory_order_release);
}

bool peer_set_path(struct peer *p, const struct sockaddr *sa, socklen_t len,
		   const struct source_addr *src)
{
	struct source_addr none = { .family = 0 }, cur_src;
	struct sockaddr_storage cur;
	bool moved;

	if (len > sizeof(p->endpoint))
		return false;
	if (!src || (len && src->family != sa->sa_family))
		src = &none;
	moved = peer_get_path(p, &cur, &cur_src) != len ||
		memcmp(&cur, sa, len);
	if (!moved && source_addr_equal(&cur_src, src))
		return false;
	write_lock(p);
	memcpy(&p->endpoint, sa, len);
	p->endpoint_len = len;
	p->source = *src;
	if (moved)
		atomic_fetch_add_explicit(&p->endpoint_moves, 1,
					  memory_order_relaxed);
	write_unlock(p);
	return true;
}

bool peer_forget_source(struct peer *p, const struct source_addr *gone)
{
	struct source_addr cur;
	struct sockaddr_storage ep;
	bool same;

	peer_get_path(p, &ep, &cur);
	if (!gone->family || !source_addr_equal(&cur, gone))
		return false;
	write_lock(p);
	/* Checked again under the lock: a worker may have just learned a
	 * new one, which must stay. */
	same = source_addr_equal(&p->source, gone);
	if (same)
		memset(&p->source, 0, sizeof(p->source));
	write_unlock(p);
	return same;
}

int peer_stage(struct peer *p, const uint8_t *pkt, uint16_t len)
{
	struct staged_packet *sp = malloc(sizeof(*sp) + len);

	if (!sp)
		return -ENOMEM;
	sp->next = NULL;
	sp->len = len;
	memcpy(sp->data, pkt, len);
	if (p->staged_count == PEER_MAX_STAGED)
		free(peer_unstage(p));
	if (p->staged_last)
		p->staged_last->next = sp;
	else
		p->staged_first = sp;
	p->staged_last = sp;
	p->staged_count++;
	return 0;
}

struct staged_packet *peer_unstage(struct peer *p)
{
	struct staged_packet *sp = p->staged_first;

	if (!sp)
		return NULL;
	p->staged_first = sp->next;
	if (!p->staged_first)
		p->staged_last = NULL;
	p->staged_count--;
	sp->next = NULL;
	return sp;
}

void peer_drop_staged(struct peer *p)
{
	while (p->staged_count)
		free(peer_unstage(p));
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int peer_set_endpoint_name(struct peer *p, const char *host,
			   const char *port, uint64_t now)
{
	char *h = NULL, *pt = NULL;

	if (same_text(p->endpoint_host, host) &&
	    same_text(p->endpoint_port, port))
		return 0;
	if ((host && !(h = strdup(host))) || (port && !(pt = strdup(port)))) {
		free(h);
		return -ENOMEM;
	}
	free(p->endpoint_host);
	free(p->endpoint_port);
	p->endpoint_host = h;
	p->endpoint_port = pt;
	p->name_tried_at = now;
	return 0;
}
