#include "src/peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

socklen_t peer_get_endpoint(struct peer *p, struct sockaddr_storage *out)
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
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&p->endpoint_seq,
					  memory_order_relaxed);
	} while ((s1 & 1) || s1 != s2);
	return len;
}

static bool same_endpoint(struct peer *p, const struct sockaddr *sa,
			  socklen_t len)
{
	struct sockaddr_storage cur;

	return peer_get_endpoint(p, &cur) == len && !memcmp(&cur, sa, len);
}

bool peer_set_endpoint(struct peer *p, const struct sockaddr *sa,
		       socklen_t len)
{
	uint32_t s;

	if (len > sizeof(p->endpoint) || same_endpoint(p, sa, len))
		return false;
	/* Writers are rare (a peer roamed) and may be several workers. */
	while (atomic_flag_test_and_set_explicit(&p->endpoint_lock,
						 memory_order_acquire))
		;
	s = atomic_load_explicit(&p->endpoint_seq, memory_order_relaxed);
	atomic_store_explicit(&p->endpoint_seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&p->endpoint, sa, len);
	p->endpoint_len = len;
	atomic_store_explicit(&p->endpoint_seq, s + 2, memory_order_release);
	atomic_flag_clear_explicit(&p->endpoint_lock, memory_order_release);
	return true;
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
