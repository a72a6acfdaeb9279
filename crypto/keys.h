/* Curve25519 keys and their text forms: base64 as in wg(8) config files,
 * lowercase hex as in the cross-platform UAPI. */
#ifndef RINGVPN_CRYPTO_KEYS_H
#define RINGVPN_CRYPTO_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_KEY_LEN 32
#define WG_KEY_B64_LEN 44 /* without the terminating NUL */
#define WG_KEY_HEX_LEN 64

/* Call once before anything else here (wraps sodium_init). */
int crypto_init(void);

void key_clamp(uint8_t key[WG_KEY_LEN]);
void key_generate_private(uint8_t key[WG_KEY_LEN]);
void key_generate_preshared(uint8_t key[WG_KEY_LEN]);
/* Returns 0, or -EINVAL when the result would be the all-zero point. */
int key_public_from_private(uint8_t pub[WG_KEY_LEN],
			    const uint8_t priv[WG_KEY_LEN]);
bool key_is_zero(const uint8_t key[WG_KEY_LEN]);

/* out gets WG_KEY_B64_LEN characters and a NUL. */
void key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN]);
/* Log lines name a peer by the first KEY_SHORT_LEN characters of its
 * public key in base64. */
#define KEY_SHORT_LEN 8
void key_to_short_base64(char out[KEY_SHORT_LEN + 1],
			 const uint8_t key[WG_KEY_LEN]);
/* Accepts exactly 44 characters of canonical base64 for 32 bytes (one '='
 * of padding, no whitespace); returns 0 or -EINVAL. The key is untouched on
 * failure. */
int key_from_base64(uint8_t key[WG_KEY_LEN], const char *text);

void key_to_hex(char out[WG_KEY_HEX_LEN + 1], const uint8_t key[WG_KEY_LEN]);
/* Accepts exactly 64 hex digits (either case); returns 0 or -EINVAL. */
int key_from_hex(uint8_t key[WG_KEY_LEN], const char *text);

#endif
