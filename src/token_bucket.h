/* One token bucket: at most `per_second` events a second on average,
 * `burst` at once. Credit is kept in nanoseconds, as in
 * src/ratelimiter.c, whose buckets are per source; this one stands alone
 * (a limit over all sources). No clock inside: callers pass their
 * monotonic time in ns. Not thread-safe. */
#ifndef RINGVPN_SRC_TOKEN_BUCKET_H
#define RINGVPN_SRC_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct token_bucket {
	uint64_t cost;   /* ns of credit one event takes */
	uint64_t max;    /* ns of credit a full bucket holds */
	uint64_t credit;
	uint64_t last;   /* ns: when credit was last brought up to date */
};

/* Brings *credit (ns, at most max) up to date at now, from *last: the
 * time since is credit. A clock that went back (now < *last) adds
 * nothing. The arithmetic of every bucket here, the per-source ones of
 * src/ratelimiter.c too, which keep only these two words per source. */
static inline void token_refill(uint64_t *credit, uint64_t *last,
				uint64_t max, uint64_t now)
{
	uint64_t gained = now > *last ? now - *last : 0;

	if (now > *last)
		*last = now;
	*credit = gained >= max - *credit ? max : *credit + gained;
}

/* Full at now. per_second and burst >= 1. */
void token_bucket_init(struct token_bucket *b, uint32_t per_second,
		       uint32_t burst, uint64_t now);
/* Whether an event may happen at now, without taking it. */
bool token_bucket_ready(struct token_bucket *b, uint64_t now);
/* Takes one event's credit if there is enough; false otherwise. */
bool token_bucket_take(struct token_bucket *b, uint64_t now);

#endif
