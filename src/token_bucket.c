#include "src/token_bucket.h"

#include "src/clock.h"

void token_bucket_init(struct token_bucket *b, uint32_t per_second,
		       uint32_t burst, uint64_t now)
{
	b->cost = NS_PER_S / per_second;
	b->max = b->cost * burst;
	b->credit = b->max;
	b->last = now;
}

/* Time since the last look is credit, up to a full bucket. A clock that
 * went back (now < last) adds nothing. */
static void refill(struct token_bucket *b, uint64_t now)
{
	uint64_t gained = now > b->last ? now - b->last : 0;

	b->last = now > b->last ? now : b->last;
	b->credit = gained >= b->max - b->credit ? b->max : b->credit + gained;
}

bool token_bucket_ready(struct token_bucket *b, uint64_t now)
{
	refill(b, now);
	return b->credit >= b->cost;
}

bool token_bucket_take(struct token_bucket *b, uint64_t now)
{
	if (!token_bucket_ready(b, now))
		return false;
	b->credit -= b->cost;
	return true;
}
