#include "src/ratelimiter.h"

/* Token buckets in a chained hash table. Tokens are nanoseconds of credit:
 * a bucket gains one per nanosecond up to TOKEN_MAX, and a message costs
 * the time between two messages at the steady rate. A new source starts
 * with a full bucket, minus the message that created it.
 *
 * Entries live in one pool and link by number (entry + 1, 0 ends a
 * chain), so the table never allocates after init: a message never costs
 * a malloc, and a full pool simply refuses. Buckets are chosen by SipHash
 * under a random key, so nobody can aim sources at one chain. */

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "src/clock.h"
#include "src/token_bucket.h"

#define PACKET_COST (NS_PER_S / RATELIMITER_PER_SECOND)
#define TOKEN_MAX (PACKET_COST * RATELIMITER_BURST)
#define MAX_ENTRIES_LIMIT (1u << 24)

/* What is limited: an IPv4 address, or the /64 of an IPv6 one. All bytes,
 * no padding: it is hashed and compared as memory. */
struct source {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[8];
};

struct ratelimiter_entry {
	struct source src;
	uint32_t next;
	uint64_t last;   /* ns: when the bucket was last refilled */
	uint64_t tokens; /* ns of credit, at most TOKEN_MAX */
};

static bool source_of(const struct sockaddr *sa, struct source *s)
{
	const struct sockaddr_in *in4 = (const void *)sa;
	const struct sockaddr_in6 *in6 = (const void *)sa;

	memset(s, 0, sizeof(*s));
	if (sa->sa_family == AF_INET) {
		s->family = 4;
		memcpy(s->addr, &in4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 &&
		   IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		/* Else every IPv4 host of a dual-stack socket would share
		 * the bucket of ::ffff:0:0/64. */
		s->family = 4;
		memcpy(s->addr, &in6->sin6_addr.s6_addr[12], 4);
	} else if (sa->sa_family == AF_INET6) {
		s->family = 6;
		memcpy(s->addr, in6->sin6_addr.s6_addr, 8);
	} else {
		return false;
	}
	return true;
}

static struct ratelimiter_entry *entry(const struct ratelimiter *rl,
				       uint32_t ref)
{
	return &rl->pool[ref - 1];
}

static uint32_t bucket_of(const struct ratelimiter *rl,
			  const struct source *s)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const uint8_t *)s, sizeof(*s), rl->hash_key);
	memcpy(&v, h, sizeof(v));
	return (uint32_t)(v & rl->mask);
}

int ratelimiter_init(struct ratelimiter *rl, uint32_t max_entries)
{
	uint32_t n = 1;

	memset(rl, 0, sizeof(*rl));
	if (!max_entries || max_entries > MAX_ENTRIES_LIMIT)
		return -EINVAL;
	/* Chains of two on average when full. */
	while (n < max_entries / 2)
		n <<= 1;
	/* calloc: large blocks come from mmap, and pages nobody touched
	 * cost no memory. */
	rl->pool = calloc(max_entries, sizeof(*rl->pool));
	rl->buckets = calloc(n, sizeof(*rl->buckets));
	if (!rl->pool || !rl->buckets) {
		ratelimiter_destroy(rl);
		return -ENOMEM;
	}
	rl->mask = n - 1;
	rl->max = max_entries;
	randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
	return 0;
}

void ratelimiter_destroy(struct ratelimiter *rl)
{
	free(rl->pool);
	free(rl->buckets);
	memset(rl, 0, sizeof(*rl));
}

static struct ratelimiter_entry *find(const struct ratelimiter *rl,
				      const struct source *s, uint32_t b)
{
	uint32_t ref;

	for (ref = rl->buckets[b]; ref; ref = entry(rl, ref)->next)
		if (!memcmp(&entry(rl, ref)->src, s, sizeof(*s)))
			return entry(rl, ref);
	return NULL;
}

/* A new source: its full bucket pays for the message that brought it. */
static bool insert(struct ratelimiter *rl, const struct source *s,
		   uint32_t b, uint64_t now)
{
	struct ratelimiter_entry *e;
	uint32_t ref;

	if (rl->free_list) {
		ref = rl->free_list;
		rl->free_list = entry(rl, ref)->next;
	} else if (rl->used < rl->max) {
		ref = ++rl->used;
	} else {
		return false;
	}
	e = entry(rl, ref);
	e->src = *s;
	e->last = now;
	e->tokens = TOKEN_MAX - PACKET_COST;
	e->next = rl->buckets[b];
	rl->buckets[b] = ref;
	rl->count++;
	return true;
}

/* Refills for the time since the last message, then pays for this one. */
static bool take(struct ratelimiter_entry *e, uint64_t now)
{
	token_refill(&e->tokens, &e->last, TOKEN_MAX, now);
	if (e->tokens < PACKET_COST)
		return false;
	e->tokens -= PACKET_COST;
	return true;
}

bool ratelimiter_allow(struct ratelimiter *rl, const struct sockaddr *src,
		       uint64_t now)
{
	struct ratelimiter_entry *e;
	struct source s;
	uint32_t b;

	if (!source_of(src, &s))
		return false;
	if (now >= rl->next_gc)
		ratelimiter_gc(rl, now);
	b = bucket_of(rl, &s);
	e = find(rl, &s, b);
	return e ? take(e, now) : insert(rl, &s, b, now);
}

static bool idle(const struct ratelimiter_entry *e, uint64_t now)
{
	return now > e->last && now - e->last >= RATELIMITER_IDLE_NS;
}

void ratelimiter_gc(struct ratelimiter *rl, uint64_t now)
{
	rl->next_gc = now + RATELIMITER_IDLE_NS;
	for (uint32_t b = 0; rl->count && b <= rl->mask; b++) {
		uint32_t *link = &rl->buckets[b];

		while (*link) {
			uint32_t ref = *link;
			struct ratelimiter_entry *e = entry(rl, ref);

			if (!idle(e, now)) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			e->next = rl->free_list;
			rl->free_list = ref;
			rl->count--;
		}
	}
}

uint32_t ratelimiter_count(const struct ratelimiter *rl)
{
	return rl->count;
}
