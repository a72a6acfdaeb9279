/* The Internet checksum done the slow, obvious way: the independent
 * model the offload tests and fuzz target check tun/checksum.c against. */
#ifndef RINGVPN_TESTS_NAIVE_CSUM_H
#define RINGVPN_TESTS_NAIVE_CSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t naive_sum(uint64_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sum += i % 2 ? p[i] : (uint64_t)p[i] << 8;
	return sum;
}

static inline uint16_t naive_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

#endif
