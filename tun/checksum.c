/* The Internet checksum (RFC 1071) for the offload code.
 *
 * Bytes are summed in native order, 32 bits at a time into a 64-bit
 * accumulator, and the folded result is put in network order only at the
 * end: one's-complement addition commutes with byte swapping (RFC 1071,
 * 2(B)), so no per-word swap is needed. The values that cross the API
 * are network-order sums, kept in 32 bits with end-around carry. */
#include "tun/offload.h"

#include <arpa/inet.h>
#include <string.h>

/* Each block adds at most 8 * (2^32 - 1) to the accumulator, so a run of
 * 2^26 blocks (2 GiB) cannot overflow 64 bits; longer inputs are folded
 * between runs. Even, so that a run boundary never splits a 16-bit word. */
#define CSUM_RUN (32 * ((size_t)1 << 26))

static uint64_t add_halves(uint64_t w)
{
	return (w & 0xffffffff) + (w >> 32);
}

static uint64_t sum_blocks(const uint8_t *p, size_t len)
{
	uint64_t acc = 0, a, b, c, d;

	for (; len >= 32; p += 32, len -= 32) {
		/* memcpy: the data may sit at any alignment. */
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		acc += add_halves(a) + add_halves(b) + add_halves(c) +
		       add_halves(d);
	}
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&a, p, 8);
		acc += add_halves(a);
	}
	if (len) {
		/* The zero padding lands after the last byte in memory, which
		 * is RFC 1071's rule for an odd byte, in either byte order. */
		a = 0;
		memcpy(&a, p, len);
		acc += add_halves(a);
	}
	return acc;
}

/* The native-order 64-bit accumulator folded to 16 bits. */
static uint16_t fold64(uint64_t acc)
{
	acc = add_halves(acc);
	acc = add_halves(acc);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static uint32_t add32(uint32_t a, uint32_t b)
{
	uint32_t r = a + b;

	return r + (r < b); /* end-around carry */
}

uint32_t offload_csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	while (len) {
		size_t n = len < CSUM_RUN ? len : CSUM_RUN;
		uint16_t native = fold64(sum_blocks(data, n));
		uint16_t net;

		/* The folded native sum, stored as it is, is the network-order
		 * checksum's bytes; read them back as network order. */
		memcpy(&net, &native, sizeof(net));
		sum = add32(sum, ntohs(net));
		data += n;
		len -= n;
	}
	return sum;
}

uint16_t offload_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint32_t offload_pseudo_sum(const uint8_t *src, const uint8_t *dst,
			    size_t addr_len, uint8_t proto, uint32_t l4_len)
{
	uint32_t sum = offload_csum_add(0, src, addr_len);

	sum = offload_csum_add(sum, dst, addr_len);
	/* IPv4's 16-bit length and IPv6's 32-bit one sum alike as words. */
	sum = add32(sum, proto);
	sum = add32(sum, l4_len >> 16);
	return add32(sum, l4_len & 0xffff);
}
