/* Text from a config file or a UAPI request, quoted in an error message:
 * short, printable, and never a secret. */
#ifndef RINGVPN_SRC_QUOTE_H
#define RINGVPN_SRC_QUOTE_H

#include <stdbool.h>

/* At most this many bytes of the text are quoted; each may become
 * "\xNN", and "..." marks a cut. */
#define QUOTE_MAX 48
#define QUOTE_BUF (4 * QUOTE_MAX + sizeof("..."))

/* Writes text into out with non-printable bytes as \xNN, cut after
 * QUOTE_MAX bytes, and returns out; or returns "(hidden)" when secret is
 * set, or when the text or its quoted form holds a run of key_run or more
 * characters of the base64 and hex alphabets: a key pasted where it does
 * not belong stays out of the logs. (The quoted form is judged too:
 * escapes can join two short runs.) key_run 0: no such check (a public
 * key may be quoted). */
const char *quote_text(char out[QUOTE_BUF], const char *text, bool secret,
		       unsigned key_run);

#endif
