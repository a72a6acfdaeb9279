/* ChaCha20-Poly1305 on this machine, the way the data path uses it: one
 * key, a new 64-bit counter nonce per message, in place. Prints Gbit/s of
 * plaintext for libsodium, for OpenSSL's combined EVP_chacha20_poly1305
 * (key set once per context, only the nonce per message), and for
 * crypto/aead.c (OpenSSL's ChaCha20 and Poly1305, the message's keystream
 * in one call), sealing, and opening for the last, at a few message
 * sizes. The data path uses crypto/aead.c from EVP_MIN_LEN (crypto/data.c)
 * on; this shows why, on whatever CPU runs it:
 *   make contrib/bench/aead_speed && contrib/bench/aead_speed [SECONDS] */
#include <openssl/evp.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/aead.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* libsodium, sealing messages of len bytes for at least seconds: Gbit/s. */
static double sodium_seal_rate(const uint8_t *key, uint8_t *buf, size_t len,
			       double seconds)
{
	uint8_t nonce[12];
	unsigned long long out;
	uint64_t n = 0;
	double t0 = now(), t;

	do {
		for (int i = 0; i < 1000; i++, n++) {
			aead_counter_nonce(nonce, n);
			crypto_aead_chacha20poly1305_ietf_encrypt(
				buf, &out, buf, len, NULL, 0, NULL, nonce, key);
		}
		t = now() - t0;
	} while (t < seconds);
	return (double)n * (double)len * 8 / t / 1e9;
}

/* OpenSSL's combined cipher, sealing: Gbit/s. */
static double combined_seal_rate(const uint8_t *key, uint8_t *buf, size_t len,
				 double seconds)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	uint64_t n = 0;
	double t0 = now(), t;
	int out;

	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key,
				       NULL) != 1)
		return 0;
	do {
		for (int i = 0; i < 1000; i++, n++) {
			aead_counter_nonce(nonce, n);
			EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce);
			EVP_EncryptUpdate(ctx, buf, &out, buf, (int)len);
			EVP_EncryptFinal_ex(ctx, buf + out, &out);
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16,
					    buf + len);
		}
		t = now() - t0;
	} while (t < seconds);
	EVP_CIPHER_CTX_free(ctx);
	return (double)n * (double)len * 8 / t / 1e9;
}

/* crypto/aead.c, sealing or opening: Gbit/s. Opening needs a real
 * message each time: a sealed copy is restored first (memcpy is a small
 * fraction of the cost; it is in the figure). */
static double evp_rate(const uint8_t *key, uint8_t *buf, size_t len,
		       double seconds, bool open)
{
	uint8_t *sealed = malloc(len + 16);
	struct aead a;
	uint64_t n = 0;
	double t0, t;

	if (!sealed || aead_init(&a, key) || aead_seal(&a, buf, len, 7))
		abort();
	memcpy(sealed, buf, len + 16); /* the same context opens it */
	t0 = now();
	do {
		for (int i = 0; i < 1000; i++, n++) {
			if (!open) {
				aead_seal(&a, buf, len, n);
				continue;
			}
			memcpy(buf, sealed, len + 16);
			if (aead_open(&a, buf, len + 16, 7))
				abort();
		}
		t = now() - t0;
	} while (t < seconds);
	aead_free(&a);
	free(sealed);
	return (double)n * (double)len * 8 / t / 1e9;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 64, 128, 256, 512, 768, 1420, 8192 };
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	uint8_t key[32], *buf = malloc(8192 + 16);

	if (!buf || sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof(key));
	memset(buf, 0x5a, 8192 + 16);
	printf("Gbit/s of plaintext on one core, %.1f s each\n", seconds);
	printf("%-8s %12s %14s %12s %12s %8s\n", "bytes", "sodium seal",
	       "combined seal", "aead.c seal", "aead.c open", "aead/sod");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double s = sodium_seal_rate(key, buf, sizes[i], seconds);
		double c = combined_seal_rate(key, buf, sizes[i], seconds);
		double e = evp_rate(key, buf, sizes[i], seconds, false);
		double o = evp_rate(key, buf, sizes[i], seconds, true);

		printf("%-8zu %12.2f %14.2f %12.2f %12.2f %8.2f\n", sizes[i],
		       s, c, e, o, e / s);
	}
	printf("%s; libsodium %s\n", OpenSSL_version(OPENSSL_VERSION),
	       sodium_version_string());
	free(buf);
	return 0;
}
