#include "crypto/tai64n.h"

#include <string.h>
#include <time.h>

/* TAI64 labels start at 2^62; the whitepaper ignores leap seconds. */
#define TAI64_EPOCH 0x400000000000000aULL
/* 2^24 ns (~16.8 ms) is the largest power of two below 1 s / 50. */
#define TAI64N_NSEC_MASK (~((1U << 24) - 1))

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void tai64n_encode(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t sec,
		   uint32_t nsec)
{
	put_be64(out, TAI64_EPOCH + sec);
	put_be32(out + 8, nsec & TAI64N_NSEC_MASK);
}

void tai64n_now(uint8_t out[NOISE_TIMESTAMP_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	tai64n_encode(out, (uint64_t)ts.tv_sec, (uint32_t)ts.tv_nsec);
}

bool tai64n_after(const uint8_t a[NOISE_TIMESTAMP_LEN],
		  const uint8_t b[NOISE_TIMESTAMP_LEN])
{
	return memcmp(a, b, NOISE_TIMESTAMP_LEN) > 0;
}
