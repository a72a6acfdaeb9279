/* Decimal numbers in text from files and sockets: digits only (no sign,
 * no blanks, no base prefix), leading zeros allowed, at most max. */
#ifndef RINGVPN_SRC_DECIMAL_H
#define RINGVPN_SRC_DECIMAL_H

#include <stdbool.h>
#include <stdint.h>

/* max must be below 2^60 (so n * 10 + 9 cannot wrap before the check). */
bool decimal_parse(const char *s, uint64_t max, uint64_t *out);

#endif
