/* free_leak KEY: key_wipe.sh's positive control. Leaves the base64 KEY in
 * freed memory once in each form free_scan.so looks for, each through one
 * of the ways ringvpn once did it: the raw bytes through free(), the hex
 * text through a realloc that grows, the base64 text through glibc's own
 * growth of an open_memstream buffer. The final blocks are wiped first,
 * so each form can only be found where this comment says. Under the
 * scanner all three must be reported; without it nothing is printed. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"

static void leak_by_free(const uint8_t key[WG_KEY_LEN])
{
	uint8_t *p = malloc(WG_KEY_LEN);

	if (p) {
		memcpy(p, key, WG_KEY_LEN);
		/* Or the compiler drops the copy, and malloc and free with it. */
		__asm__ volatile("" : : "r"(p) : "memory");
		free(p);
	}
}

static void leak_by_realloc(const uint8_t key[WG_KEY_LEN])
{
	char *p = malloc(WG_KEY_HEX_LEN + 1), *q;

	if (!p)
		return;
	key_to_hex(p, key);
	q = realloc(p, 1 << 20);
	if (!q) {
		free(p);
		return;
	}
	sodium_memzero(q, 1 << 20);
	free(q);
}

static void leak_by_memstream(const char *b64)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	fprintf(f, "%s\n", b64);
	for (int i = 0; i < 4096; i++) /* grows the buffer many times */
		fputs("padding padding padding padding\n", f);
	if (!fclose(f))
		sodium_memzero(buf, len);
	free(buf);
}

int main(int argc, char **argv)
{
	uint8_t key[WG_KEY_LEN];

	if (argc != 2 || crypto_init() || key_from_base64(key, argv[1])) {
		fprintf(stderr, "usage: free_leak BASE64-KEY\n");
		return 2;
	}
	leak_by_free(key);
	leak_by_realloc(key);
	leak_by_memstream(argv[1]);
	sodium_memzero(key, sizeof(key));
	return 0;
}
