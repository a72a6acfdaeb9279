#include "src/quote.h"

#include <stdio.h>
#include <string.h>

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

static bool holds_key(const char *s, unsigned key_run)
{
	unsigned run = 0;

	for (; *s; s++) {
		run = key_char(*s) ? run + 1 : 0;
		if (run >= key_run)
			return true;
	}
	return false;
}

const char *quote_text(char out[QUOTE_BUF], const char *text, bool secret,
		       unsigned key_run)
{
	size_t o = 0, i;

	if (secret || (key_run && holds_key(text, key_run)))
		return "(hidden)";
	for (i = 0; text[i] && i < QUOTE_MAX; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch >= 0x20 && ch < 0x7f)
			out[o++] = (char)ch;
		else
			o += (size_t)sprintf(out + o, "\\x%02x", ch);
	}
	strcpy(out + o, text[i] ? "..." : "");
	return key_run && holds_key(out, key_run) ? "(hidden)" : out;
}
