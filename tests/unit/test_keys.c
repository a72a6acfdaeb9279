/* Keys and their text forms: base64 as in config files, hex as in the
 * UAPI; exactly 32 bytes, one canonical spelling, everything else refused. */
#include <check.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "tests/unit/check_main.h"

/* RFC 7748 section 6.1: Alice's private and public keys. */
static const char alice_priv_hex[] =
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char alice_pub_hex[] =
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

START_TEST(test_public_from_private_rfc7748)
{
	uint8_t priv[32], pub[32], want[32];

	ck_assert_int_eq(key_from_hex(priv, alice_priv_hex), 0);
	ck_assert_int_eq(key_from_hex(want, alice_pub_hex), 0);
	ck_assert_int_eq(key_public_from_private(pub, priv), 0);
	ck_assert(memcmp(pub, want, 32) == 0);
}
END_TEST

START_TEST(test_generated_keys_are_clamped)
{
	uint8_t k[32];

	for (int i = 0; i < 200; i++) {
		key_generate_private(k);
		ck_assert_uint_eq(k[0] & 7, 0);
		ck_assert_uint_eq(k[31] & 128, 0);
		ck_assert_uint_eq(k[31] & 64, 64);
	}
}
END_TEST

START_TEST(test_base64_roundtrip)
{
	uint8_t k[32], back[32];
	char text[WG_KEY_B64_LEN + 1];

	for (int i = 0; i < 500; i++) {
		randombytes_buf(k, sizeof(k));
		key_to_base64(text, k);
		ck_assert_uint_eq(strlen(text), 44);
		ck_assert_int_eq(key_from_base64(back, text), 0);
		ck_assert(memcmp(k, back, 32) == 0);
	}
}
END_TEST

START_TEST(test_base64_known)
{
	uint8_t k[32];
	char text[WG_KEY_B64_LEN + 1];

	memset(k, 0, sizeof(k));
	key_to_base64(text, k);
	ck_assert_str_eq(text, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	ck_assert_int_eq(key_from_hex(k, alice_pub_hex), 0);
	key_to_base64(text, k);
	ck_assert_str_eq(text, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
}
END_TEST

static const char *bad_base64[] = {
	"",
	"=",
	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo",     /* no padding */
	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo==",   /* 45 chars */
	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmp=",    /* trailing bits set */
	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm!=",    /* bad alphabet */
	"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo=",    /* URL-safe alphabet */
	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbT\xcem=",  /* a high byte (fuzzer) */
	" SDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",    /* whitespace */
	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbT===",    /* 31 bytes */
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 36 bytes */
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",    /* 31 bytes, 44 chars */
};

START_TEST(test_base64_rejects)
{
	uint8_t k[32], before[32];

	memset(k, 0x5a, sizeof(k));
	memcpy(before, k, sizeof(k));
	ck_assert_msg(key_from_base64(k, bad_base64[_i]) == -EINVAL,
		      "accepted `%s'", bad_base64[_i]);
	ck_assert(memcmp(k, before, 32) == 0);
}
END_TEST

START_TEST(test_hex)
{
	uint8_t k[32], back[32];
	char text[WG_KEY_HEX_LEN + 1];

	ck_assert_int_eq(key_from_hex(k, alice_pub_hex), 0);
	key_to_hex(text, k);
	ck_assert_str_eq(text, alice_pub_hex);
	/* upper case is accepted, the output is lower case */
	ck_assert_int_eq(key_from_hex(back, "8520F0098930A754748B7DDCB43EF75A0DBF3A0D26381AF4EBA4A98EAA9B4E6A"), 0);
	ck_assert(memcmp(k, back, 32) == 0);
	ck_assert_int_eq(key_from_hex(back, ""), -EINVAL);
	ck_assert_int_eq(key_from_hex(back, "8520"), -EINVAL);
	ck_assert_int_eq(key_from_hex(back, "x520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"), -EINVAL);
	ck_assert_int_eq(key_from_hex(back, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a0"), -EINVAL);
	ck_assert_int_eq(key_from_hex(back, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6"), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("keys");

	if (crypto_init())
		return EXIT_FAILURE;
	tcase_add_test(tc, test_public_from_private_rfc7748);
	tcase_add_test(tc, test_generated_keys_are_clamped);
	tcase_add_test(tc, test_base64_roundtrip);
	tcase_add_test(tc, test_base64_known);
	tcase_add_loop_test(tc, test_base64_rejects, 0,
			    sizeof(bad_base64) / sizeof(bad_base64[0]));
	tcase_add_test(tc, test_hex);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
