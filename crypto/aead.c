#include "crypto/aead.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <string.h>

static void nonce_of(uint8_t nonce[AEAD_NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

int aead_init(struct aead *a, const uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
	      bool encrypt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	a->ctx = ctx;
	if (!ctx)
		return -ENOMEM;
	if (EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, NULL,
			      encrypt ? 1 : 0) != 1) {
		aead_free(a);
		return -ENOMEM;
	}
	return 0;
}

void aead_free(struct aead *a)
{
	/* EVP_CIPHER_CTX_free cleanses the key schedule before freeing. */
	EVP_CIPHER_CTX_free(a->ctx);
	a->ctx = NULL;
}

/* Associated data goes in as an update with no output. */
static bool add_ad(struct aead *a, const uint8_t *ad, size_t ad_len)
{
	int out;

	return !ad_len || (ad_len <= INT_MAX &&
			   EVP_CipherUpdate(a->ctx, NULL, &out, ad,
					    (int)ad_len) == 1);
}

int aead_seal_nonce(struct aead *a, uint8_t *buf, size_t len,
		    const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *ad,
		    size_t ad_len)
{
	int out;

	if (len > INT_MAX ||
	    EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, nonce, -1) != 1 ||
	    !add_ad(a, ad, ad_len) ||
	    EVP_CipherUpdate(a->ctx, buf, &out, buf, (int)len) != 1 ||
	    EVP_CipherFinal_ex(a->ctx, buf + out, &out) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG,
				NOISE_AUTHTAG_LEN, buf + len) != 1)
		return -EIO;
	return 0;
}

int aead_open_nonce(struct aead *a, uint8_t *buf, size_t len,
		    const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *ad,
		    size_t ad_len)
{
	size_t plain = len - NOISE_AUTHTAG_LEN;
	int out;

	if (len < NOISE_AUTHTAG_LEN || plain > INT_MAX)
		return -EBADMSG;
	if (EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, nonce, -1) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG,
				NOISE_AUTHTAG_LEN, buf + plain) != 1 ||
	    !add_ad(a, ad, ad_len) ||
	    EVP_CipherUpdate(a->ctx, buf, &out, buf, (int)plain) != 1 ||
	    EVP_CipherFinal_ex(a->ctx, buf + out, &out) != 1)
		return -EBADMSG;
	return 0;
}

int aead_seal(struct aead *a, uint8_t *buf, size_t len, uint64_t counter)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	nonce_of(nonce, counter);
	return aead_seal_nonce(a, buf, len, nonce, NULL, 0);
}

int aead_open(struct aead *a, uint8_t *buf, size_t len, uint64_t counter)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	nonce_of(nonce, counter);
	return aead_open_nonce(a, buf, len, nonce, NULL, 0);
}
