/* libFuzzer target: the key parsers, key_from_base64() and key_from_hex(),
 * on the input as a C string. Whatever they accept must be the canonical
 * text of the key they return (so one key has one text form), and a
 * failure must leave the key untouched. Hex is compared without regard to
 * case, which key_from_hex() documents as accepted. */
#include "tests/fuzz/fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/keys.h"

#define UNTOUCHED 0x5a

/* canonical: what the key encodes back to, when there is a key. */
static void die(const char *what, const char *text, const char *canonical)
{
	fprintf(stderr, "fuzz_keys: %s: \"%s\" (encodes back as \"%s\")\n",
		what, text, canonical);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (crypto_init())
		die("crypto_init failed", "", "");
	return 0;
}

static bool untouched(const uint8_t key[WG_KEY_LEN])
{
	for (int i = 0; i < WG_KEY_LEN; i++)
		if (key[i] != UNTOUCHED)
			return false;
	return true;
}

static void check_base64(const char *text)
{
	uint8_t key[WG_KEY_LEN], again[WG_KEY_LEN];
	char out[WG_KEY_B64_LEN + 1];

	memset(key, UNTOUCHED, sizeof(key));
	if (key_from_base64(key, text)) {
		if (!untouched(key))
			die("base64 failure changed the key", text, "");
		return;
	}
	key_to_base64(out, key);
	if (strcmp(out, text))
		die("accepted non-canonical base64", text, out);
	if (key_from_base64(again, out) || memcmp(again, key, sizeof(key)))
		die("base64 does not round-trip", text, out);
}

static void check_hex(const char *text)
{
	uint8_t key[WG_KEY_LEN], again[WG_KEY_LEN];
	char out[WG_KEY_HEX_LEN + 1];

	memset(key, UNTOUCHED, sizeof(key));
	if (key_from_hex(key, text)) {
		if (!untouched(key))
			die("hex failure changed the key", text, "");
		return;
	}
	key_to_hex(out, key);
	if (strcasecmp(out, text))
		die("accepted non-canonical hex", text, out);
	if (key_from_hex(again, out) || memcmp(again, key, sizeof(key)))
		die("hex does not round-trip", text, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_base64(text);
	check_hex(text);
	free(text);
	return 0;
}
