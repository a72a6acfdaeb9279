/* Hex helpers for the Check unit tests: decode the hex strings that known
 * answers are written in, and compare a buffer with such a string, showing
 * both sides in hex when they differ.
 *
 * Header-only (static inline) so each test program stays a single .c file.
 * Expected values must be plain hex: no spaces, no "0x", either case. */
#ifndef RINGVPN_TESTS_UNIT_HEXUTIL_H
#define RINGVPN_TESTS_UNIT_HEXUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* A mismatch shows at most this many bytes of each side; Check truncates
 * long failure messages, so the window is placed at the first difference. */
#define HEXUTIL_SHOW_MAX 96

/* Returns the value of one hex digit, or -1. */
static inline int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex_len characters of hex into out (room for out_cap bytes).
 * Returns the number of bytes written, or -1 on an odd length, a non-hex
 * character, or output that would not fit. */
static inline ssize_t hex_to_bytes_n(uint8_t *out, size_t out_cap,
				     const char *hex, size_t hex_len)
{
	if (hex_len % 2 || hex_len / 2 > out_cap)
		return -1;
	for (size_t i = 0; i < hex_len / 2; i++) {
		int hi = hex_nibble(hex[2 * i]);
		int lo = hex_nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (ssize_t)(hex_len / 2);
}

/* True if hex is an even number of hex digits (the empty string is). */
static inline bool hex_valid(const char *hex)
{
	size_t len = strlen(hex);

	if (len % 2)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (hex_nibble(hex[i]) < 0)
			return false;
	}
	return true;
}

/* As hex_to_bytes_n() for a NUL-terminated string. */
static inline ssize_t hex_to_bytes(uint8_t *out, size_t out_cap,
				   const char *hex)
{
	return hex_to_bytes_n(out, out_cap, hex, strlen(hex));
}

/* Writes 2 * len lowercase hex digits and a NUL to out. */
static inline void bytes_to_hex(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* Outcome of comparing a buffer with a hex string, with the text the
 * failure message needs. It lives on the caller's stack (no statics), so
 * the helpers stay usable from any number of tests. */
struct hexutil_cmp {
	bool equal;
	size_t got_len;
	ssize_t want_len;	/* -1: the expected hex itself is malformed */
	size_t diff_at;		/* first differing byte, or the shorter length */
	size_t shown_from;	/* start of the window shown below */
	char got[2 * HEXUTIL_SHOW_MAX + 1];
	char want[2 * HEXUTIL_SHOW_MAX + 1];
};

static inline void hexutil_window(char *out, const uint8_t *buf, size_t len,
				  size_t from)
{
	size_t n = 0;

	if (from < len)
		n = len - from;
	if (n > HEXUTIL_SHOW_MAX)
		n = HEXUTIL_SHOW_MAX;
	bytes_to_hex(out, buf + from, n);
}

/* Compares got[0..got_len) with the bytes that want_hex spells. The
 * expected side is decoded one byte at a time, so an expected value of
 * any length can be checked without a buffer sized for it. */
static inline void hexutil_compare(struct hexutil_cmp *c, const uint8_t *got,
				   size_t got_len, const char *want_hex)
{
	uint8_t win[HEXUTIL_SHOW_MAX];
	size_t want_len = strlen(want_hex) / 2;
	size_t i, n;

	memset(c, 0, sizeof(*c));
	c->got_len = got_len;
	c->want_len = -1;
	if (!hex_valid(want_hex))
		return;
	c->want_len = (ssize_t)want_len;

	for (i = 0; i < got_len && i < want_len; i++) {
		uint8_t b = 0;

		hex_to_bytes_n(&b, 1, want_hex + 2 * i, 2);
		if (b != got[i])
			break;
	}
	c->diff_at = i;
	c->equal = got_len == want_len && i == got_len;
	if (c->equal)
		return;

	/* Show from the 16-byte row holding the first difference. */
	c->shown_from = i / 16 * 16;
	hexutil_window(c->got, got, got_len, c->shown_from);
	n = 0;
	if (c->shown_from < want_len)
		n = want_len - c->shown_from;
	if (n > HEXUTIL_SHOW_MAX)
		n = HEXUTIL_SHOW_MAX;
	hex_to_bytes_n(win, sizeof(win), want_hex + 2 * c->shown_from, 2 * n);
	bytes_to_hex(c->want, win, n);
}

/* Fails the current test unless buf[0..len) equals the bytes of hex; what
 * names the value in the failure message (e.g. "T2 of line 7"). */
#define assert_hex_eq_what(buf, len, hex, what)				\
	do {								\
		struct hexutil_cmp hc_;					\
									\
		hexutil_compare(&hc_, (const uint8_t *)(buf), (len),	\
				(hex));					\
		ck_assert_msg(hc_.want_len >= 0,			\
			      "%s: expected value is not valid hex: %s",\
			      (what), (hex));				\
		ck_assert_msg(hc_.equal,				\
			      "%s differs at byte %zu (got %zu bytes, "	\
			      "want %zd); from byte %zu:\n"		\
			      "  got:  %s\n  want: %s",			\
			      (what), hc_.diff_at, hc_.got_len,		\
			      hc_.want_len, hc_.shown_from,		\
			      hc_.got, hc_.want);			\
	} while (0)

/* As assert_hex_eq_what(), naming the value by its source text. */
#define assert_hex_eq(buf, len, hex) \
	assert_hex_eq_what(buf, len, hex, #buf)

/* Decodes hex into exactly len bytes of buf, or fails the test: for
 * loading the inputs of a known-answer test. */
#define assert_hex_load(buf, len, hex)					\
	do {								\
		ssize_t hl_ = hex_to_bytes((buf), (len), (hex));	\
									\
		ck_assert_msg(hl_ == (ssize_t)(len),			\
			      "%s: hex is not %zu bytes: %s", #buf,	\
			      (size_t)(len), (hex));			\
	} while (0)

#endif
