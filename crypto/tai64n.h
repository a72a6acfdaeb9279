/* TAI64N timestamps for handshake initiations (whitepaper 5.1). */
#ifndef RINGVPN_CRYPTO_TAI64N_H
#define RINGVPN_CRYPTO_TAI64N_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/messages.h"

/* Encodes a wall-clock time given as seconds and nanoseconds since the Unix
 * epoch. Nanoseconds are rounded down to a power of two so the timestamp
 * does not leak fine-grained timing; that still leaves more resolution
 * than INITIATIONS_PER_SECOND needs. */
void tai64n_encode(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t sec,
		   uint32_t nsec);
/* The current wall-clock time, encoded. */
void tai64n_now(uint8_t out[NOISE_TIMESTAMP_LEN]);
/* True when a is strictly later than b. Both are big-endian, so the byte
 * order is the time order. */
bool tai64n_after(const uint8_t a[NOISE_TIMESTAMP_LEN],
		  const uint8_t b[NOISE_TIMESTAMP_LEN]);

#endif
