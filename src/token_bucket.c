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

bool token_bucket_ready(struct token_bucket *b, uint64_t now)
{
	token_refill(&b->credit, &b->last, b->max, now);
	return b->credit >= b->cost;
}

bool token_bucket_take(struct token_bucket *b, uint64_t now)
{
	if (!token_bucket_ready(b, now))
		return false;
	b->credit -= b->cost;
	return true;
}
