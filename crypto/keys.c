#include "crypto/keys.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

int crypto_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

/* X25519 clamping (RFC 7748 section 5). */
void key_clamp(uint8_t key[WG_KEY_LEN])
{
	key[0] &= 248;
	key[31] = (key[31] & 127) | 64;
}

void key_generate_private(uint8_t key[WG_KEY_LEN])
{
	randombytes_buf(key, WG_KEY_LEN);
	key_clamp(key);
}

void key_generate_preshared(uint8_t key[WG_KEY_LEN])
{
	randombytes_buf(key, WG_KEY_LEN);
}

int key_public_from_private(uint8_t pub[WG_KEY_LEN],
			    const uint8_t priv[WG_KEY_LEN])
{
	return crypto_scalarmult_base(pub, priv) ? -EINVAL : 0;
}

bool key_is_zero(const uint8_t key[WG_KEY_LEN])
{
	return sodium_is_zero(key, WG_KEY_LEN);
}

void key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2base64(out, WG_KEY_B64_LEN + 1, key, WG_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

void key_to_short_base64(char out[KEY_SHORT_LEN + 1],
			 const uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_B64_LEN + 1];

	key_to_base64(b64, key);
	memcpy(out, b64, KEY_SHORT_LEN);
	out[KEY_SHORT_LEN] = '\0';
}

static bool is_base64_digit(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* One key has exactly one accepted text form, as in wg(8): 43 digits of
 * the standard alphabet and one '='. The alphabet is checked here because
 * libsodium 1.0.18 decodes bytes 0x80-0xff as digits (found by fuzzing);
 * libsodium then rejects set trailing bits. */
int key_from_base64(uint8_t key[WG_KEY_LEN], const char *text)
{
	uint8_t tmp[WG_KEY_LEN];
	size_t len = 0;
	const char *end = NULL;
	int ret = -EINVAL;

	if (strlen(text) != WG_KEY_B64_LEN || text[WG_KEY_B64_LEN - 1] != '=')
		return -EINVAL;
	for (size_t i = 0; i < WG_KEY_B64_LEN - 1; i++)
		if (!is_base64_digit(text[i]))
			return -EINVAL;
	if (sodium_base642bin(tmp, sizeof(tmp), text, WG_KEY_B64_LEN, NULL,
			      &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
		goto out;
	if (len != WG_KEY_LEN || end != text + WG_KEY_B64_LEN)
		goto out;
	memcpy(key, tmp, WG_KEY_LEN);
	ret = 0;
out:
	sodium_memzero(tmp, sizeof(tmp));
	return ret;
}

void key_to_hex(char out[WG_KEY_HEX_LEN + 1], const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2hex(out, WG_KEY_HEX_LEN + 1, key, WG_KEY_LEN);
}

int key_from_hex(uint8_t key[WG_KEY_LEN], const char *text)
{
	uint8_t tmp[WG_KEY_LEN];
	size_t len = 0;
	const char *end = NULL;
	int ret = -EINVAL;

	if (strlen(text) != WG_KEY_HEX_LEN)
		return -EINVAL;
	if (sodium_hex2bin(tmp, sizeof(tmp), text, WG_KEY_HEX_LEN, NULL, &len,
			   &end) != 0)
		goto out;
	if (len != WG_KEY_LEN || end != text + WG_KEY_HEX_LEN)
		goto out;
	memcpy(key, tmp, WG_KEY_LEN);
	ret = 0;
out:
	sodium_memzero(tmp, sizeof(tmp));
	return ret;
}
