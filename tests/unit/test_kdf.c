/* HMAC-BLAKE2s and the WireGuard KDF chain of crypto/kdf.c against known
 * answers: HMAC from an independent implementation (Python's hmac over
 * hashlib.blake2s), KDF1/2/3 from tests/vectors/wireguard-kdf.txt. */
#include "crypto/kdf.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/hexutil.h"
#include "tests/unit/check_main.h"

#ifndef VECTORS_DIR
#error "VECTORS_DIR must be defined as the absolute path of tests/vectors"
#endif

#define KDF_VECTORS_FILE VECTORS_DIR "/wireguard-kdf.txt"

/* Fills buf with 00 01 02 .. wrapping at 0x100; the "pattern" inputs of
 * the tables below, bytes(i & 0xff for i in range(len)) in Python. */
static void pattern(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)i;
}

/* ---- HMAC-BLAKE2s ----------------------------------------------------- */

/* A key or message: the bytes of str if it is not NULL, else the pattern
 * of pattern_len bytes. */
struct hmac_input {
	const char *str;
	size_t pattern_len;
};

struct hmac_kat {
	struct hmac_input key;
	struct hmac_input msg;
	const char *mac;
};

/* Produced with Python 3.11's hmac module (RFC 2104 over hashlib's
 * BLAKE2s, block size 64), one run per case; e.g. for the 65-byte key:
 *   python3 -c "import hmac, hashlib; P = lambda n: bytes(i & 0xff for
 *     i in range(n)); print(hmac.new(P(65), b'abc',
 *     hashlib.blake2s).hexdigest())"
 * (a single line), with P(n) for the pattern inputs and the literal bytes
 * for the string ones. Keys longer than the 64-byte block are hashed
 * first, which the 65- and 100-byte keys exercise. */
static const struct hmac_kat hmac_kats[] = {
	{ { "", 0 }, { "", 0 },
	  "eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd" },
	{ { "", 0 }, { "abc", 0 },
	  "4a79a31b10a8c34b7c89735b8088e6b810b4bad4f36d671b65ca2ea0914952bf" },
	{ { "key", 0 },
	  { "The quick brown fox jumps over the lazy dog", 0 },
	  "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0" },
	{ { NULL, 32 }, { "", 0 },
	  "e2641d24dfa8dd89e8cb77f1cdc77d8c006e5bebdfc4d6a3a3a6f8d5b7586fb0" },
	{ { NULL, 32 }, { NULL, 64 },
	  "3b35e945d05ac982850451ac8b6cdfffb98e56f50b95272fab665de081691056" },
	{ { NULL, 32 }, { NULL, 1024 },
	  "b7d401c2e56b5043d425084612b4cf33391fe0ee873d98a6183b2c7ca07fa156" },
	{ { NULL, 64 }, { "abc", 0 },
	  "3a0ef09eac123871fb79852ec512086d013abff437bd68ca03630932bd6ba81f" },
	{ { NULL, 64 }, { NULL, 1024 },
	  "9cb6166108319aa26ef28d62615b46b368526d568290616ce6b735b812a822f7" },
	{ { NULL, 65 }, { "abc", 0 },
	  "44d87b3939dec16bc76cbd83e3982ac0a4eafab8a5b87c8c2adbd0da7d5c9695" },
	{ { NULL, 65 }, { NULL, 1024 },
	  "8abf4802814ebfcbed4d4aff92077f6d259918e32040bd94da7186ac65016023" },
	{ { NULL, 100 }, { "", 0 },
	  "60c8ad712b1d426c37f4b615c6232c8a91904ab8685338e99b3e8ac9f0834c68" },
};

#define HMAC_INPUT_MAX 1024

/* Materialises in into buf (HMAC_INPUT_MAX bytes); returns its length. */
static size_t hmac_input_load(uint8_t *buf, const struct hmac_input *in)
{
	size_t len = in->str ? strlen(in->str) : in->pattern_len;

	ck_assert_uint_le(len, HMAC_INPUT_MAX);
	if (in->str)
		memcpy(buf, in->str, len);
	else
		pattern(buf, len);
	return len;
}

START_TEST(test_hmac_blake2s_kat)
{
	uint8_t key[HMAC_INPUT_MAX], msg[HMAC_INPUT_MAX];
	const struct hmac_kat *v = &hmac_kats[_i];
	uint8_t out[BLAKE2S_HASH_LEN];
	size_t key_len = hmac_input_load(key, &v->key);
	size_t msg_len = hmac_input_load(msg, &v->msg);
	char what[64];

	snprintf(what, sizeof(what), "HMAC case %d (key %zu, msg %zu bytes)",
		 _i, key_len, msg_len);
	memset(out, 0, sizeof(out));
	hmac_blake2s(out, key, key_len, msg, msg_len);
	assert_hex_eq_what(out, sizeof(out), v->mac, what);
}
END_TEST

/* RFC 2104: a key longer than the block is replaced by its hash, so the
 * two must give the same MAC; a key of exactly one block is not hashed,
 * so there they must differ. */
START_TEST(test_hmac_blake2s_long_key_is_hashed)
{
	uint8_t key[100], hashed[BLAKE2S_HASH_LEN];
	uint8_t mac_long[BLAKE2S_HASH_LEN], mac_hashed[BLAKE2S_HASH_LEN];
	const uint8_t *msg = (const uint8_t *)"abc";

	pattern(key, sizeof(key));
	hash2(hashed, key, sizeof(key), NULL, 0);
	hmac_blake2s(mac_long, key, sizeof(key), msg, 3);
	hmac_blake2s(mac_hashed, hashed, sizeof(hashed), msg, 3);
	ck_assert_mem_eq(mac_long, mac_hashed, sizeof(mac_long));

	hash2(hashed, key, BLAKE2S_BLOCK_LEN, NULL, 0);
	hmac_blake2s(mac_long, key, BLAKE2S_BLOCK_LEN, msg, 3);
	hmac_blake2s(mac_hashed, hashed, sizeof(hashed), msg, 3);
	ck_assert_mem_ne(mac_long, mac_hashed, sizeof(mac_long));
}
END_TEST

/* ---- KDF chain: tests/vectors/wireguard-kdf.txt ------------------------ */

#define KDF_FIELD_MAX 256

struct kdf_vector {
	unsigned int line;
	uint8_t key[KDF_FIELD_MAX];
	size_t key_len;
	uint8_t in[KDF_FIELD_MAX];
	size_t in_len;
	const char *t[3];	/* point into the line buffer */
};

/* Decodes one field; "-" is the empty string. */
static size_t kdf_field(uint8_t *out, const char *tok, unsigned int line)
{
	ssize_t n;

	if (!strcmp(tok, "-"))
		return 0;
	n = hex_to_bytes(out, KDF_FIELD_MAX, tok);
	ck_assert_msg(n >= 0, "%s:%u: bad hex field '%s'", KDF_VECTORS_FILE,
		      line, tok);
	return (size_t)n;
}

/* Splits line (modified in place) into a vector; returns false for
 * comments and blank lines, fails the test on a malformed line. */
static bool kdf_parse_line(struct kdf_vector *v, char *line,
			   unsigned int lineno)
{
	char *tok[6], *save = NULL;
	int n = 0;

	for (char *p = strtok_r(line, " \t\r\n", &save); p && n < 6;
	     p = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = p;
	if (n == 0 || tok[0][0] == '#')
		return false;
	ck_assert_msg(n == 5, "%s:%u: %d fields, want 5 (key input T1 T2 T3)",
		      KDF_VECTORS_FILE, lineno, n);

	v->line = lineno;
	v->key_len = kdf_field(v->key, tok[0], lineno);
	v->in_len = kdf_field(v->in, tok[1], lineno);
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(strlen(tok[2 + i]) == 2 * BLAKE2S_HASH_LEN &&
			      hex_valid(tok[2 + i]),
			      "%s:%u: T%d is not 32 bytes of hex",
			      KDF_VECTORS_FILE, lineno, i + 1);
		v->t[i] = tok[2 + i];
	}
	return true;
}

static void kdf_check_vector(const struct kdf_vector *v)
{
	uint8_t t1[BLAKE2S_HASH_LEN], t2[BLAKE2S_HASH_LEN];
	uint8_t t3[BLAKE2S_HASH_LEN];
	char what[64];

	/* KDF1, KDF2, KDF3: each must agree with the table on its own, as
	 * the handshake calls all three forms. */
	for (int n = 1; n <= 3; n++) {
		memset(t1, 0, sizeof(t1));
		memset(t2, 0, sizeof(t2));
		memset(t3, 0, sizeof(t3));
		kdf(t1, n >= 2 ? t2 : NULL, n >= 3 ? t3 : NULL, v->key,
		    v->key_len, v->in, v->in_len);

		snprintf(what, sizeof(what), "line %u KDF%d T1", v->line, n);
		assert_hex_eq_what(t1, sizeof(t1), v->t[0], what);
		if (n >= 2) {
			snprintf(what, sizeof(what), "line %u KDF%d T2",
				 v->line, n);
			assert_hex_eq_what(t2, sizeof(t2), v->t[1], what);
		}
		if (n >= 3) {
			snprintf(what, sizeof(what), "line %u KDF%d T3",
				 v->line, n);
			assert_hex_eq_what(t3, sizeof(t3), v->t[2], what);
		}
	}
}

START_TEST(test_kdf_vectors_file)
{
	struct kdf_vector v;
	FILE *f = fopen(KDF_VECTORS_FILE, "r");
	char *line = NULL;
	size_t cap = 0;
	unsigned int lineno = 0, count = 0;

	ck_assert_msg(f != NULL, "cannot open %s: %s", KDF_VECTORS_FILE,
		      strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (!kdf_parse_line(&v, line, lineno))
			continue;
		kdf_check_vector(&v);
		count++;
	}
	ck_assert_msg(!ferror(f), "error reading %s", KDF_VECTORS_FILE);
	free(line);
	fclose(f);
	ck_assert_msg(count > 0, "%s holds no vectors", KDF_VECTORS_FILE);
}
END_TEST

/* ---- KDF: negative checks ---------------------------------------------- */

/* "test-key" / "test-input", the first line of the vectors file. */
#define KDF_KEY "test-key"
#define KDF_IN "test-input"
#define KDF_T1 \
	"6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633"

static void kdf1_of(uint8_t t1[BLAKE2S_HASH_LEN], const uint8_t *key,
		    size_t key_len, const uint8_t *in, size_t in_len)
{
	kdf(t1, NULL, NULL, key, key_len, in, in_len);
}

START_TEST(test_kdf_one_byte_changes_t1)
{
	uint8_t key[sizeof(KDF_KEY) - 1], in[sizeof(KDF_IN) - 1];
	uint8_t t1[BLAKE2S_HASH_LEN], ref[BLAKE2S_HASH_LEN];

	memcpy(key, KDF_KEY, sizeof(key));
	memcpy(in, KDF_IN, sizeof(in));
	kdf1_of(ref, key, sizeof(key), in, sizeof(in));
	assert_hex_eq(ref, sizeof(ref), KDF_T1);

	/* Every single-bit change of the input, then of the key, must move
	 * T1; a collision here would mean some byte is not mixed in. */
	for (size_t i = 0; i < sizeof(in) * 8; i++) {
		in[i / 8] ^= (uint8_t)(1u << (i % 8));
		kdf1_of(t1, key, sizeof(key), in, sizeof(in));
		in[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_msg(memcmp(t1, ref, sizeof(t1)) != 0,
			      "T1 unchanged with input bit %zu flipped", i);
	}
	for (size_t i = 0; i < sizeof(key) * 8; i++) {
		key[i / 8] ^= (uint8_t)(1u << (i % 8));
		kdf1_of(t1, key, sizeof(key), in, sizeof(in));
		key[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_msg(memcmp(t1, ref, sizeof(t1)) != 0,
			      "T1 unchanged with key bit %zu flipped", i);
	}

	/* Length is part of the input too: a dropped trailing byte, or key
	 * and input swapped, give another T1. */
	kdf1_of(t1, key, sizeof(key), in, sizeof(in) - 1);
	ck_assert_mem_ne(t1, ref, sizeof(t1));
	kdf1_of(t1, in, sizeof(in), key, sizeof(key));
	ck_assert_mem_ne(t1, ref, sizeof(t1));
}
END_TEST

START_TEST(test_kdf_outputs_distinct)
{
	uint8_t ck[BLAKE2S_HASH_LEN], t1[BLAKE2S_HASH_LEN];
	uint8_t t2[BLAKE2S_HASH_LEN], t3[BLAKE2S_HASH_LEN];

	pattern(ck, sizeof(ck));
	kdf(t1, t2, t3, ck, sizeof(ck), (const uint8_t *)"x", 1);
	ck_assert_mem_ne(t1, t2, sizeof(t1));
	ck_assert_mem_ne(t2, t3, sizeof(t2));
	ck_assert_mem_ne(t1, t3, sizeof(t1));
}
END_TEST

/* ---- runner ----------------------------------------------------------- */

static Suite *kdf_suite(void)
{
	Suite *s = suite_create("kdf");
	TCase *tc;

	tc = tcase_create("hmac");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_hmac_blake2s_kat, 0,
			    (int)(sizeof(hmac_kats) / sizeof(hmac_kats[0])));
	tcase_add_test(tc, test_hmac_blake2s_long_key_is_hashed);
	suite_add_tcase(s, tc);

	tc = tcase_create("kdf");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kdf_vectors_file);
	tcase_add_test(tc, test_kdf_one_byte_changes_t1);
	tcase_add_test(tc, test_kdf_outputs_distinct);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return run_suite(kdf_suite());
}
