/* The Cacophony known-answer vector for Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s
 * in tests/vectors, driven through crypto/noise.c: both handshake
 * messages, the handshake hash and four transport messages must match byte
 * for byte. */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/noise.h"
#include "tests/unit/check_main.h"

#define VECTOR_FILE VECTORS_DIR "/noise-ikpsk2-25519-chachapoly-blake2s.json"

static char *json_doc;

static void load_vector(void)
{
	FILE *f = fopen(VECTOR_FILE, "r");
	long len;

	ck_assert_msg(f != NULL, "cannot open %s", VECTOR_FILE);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	json_doc = calloc(1, (size_t)len + 1);
	ck_assert(fread(json_doc, 1, (size_t)len, f) == (size_t)len);
	fclose(f);
}

/* The nth (0-based) string value of "key" in the vector file, decoded from
 * hex. The file has one vector, so a flat search is enough. */
static size_t json_hex(const char *key, int nth, uint8_t *out, size_t cap)
{
	char pat[64];
	const char *p = json_doc;
	size_t len = 0;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	for (int i = 0; i <= nth; i++) {
		p = strstr(p, pat);
		ck_assert_msg(p != NULL, "vector lacks %s[%d]", key, nth);
		p += strlen(pat);
	}
	ck_assert(sodium_hex2bin(out, cap, p, strcspn(p, "\""), NULL, &len,
				 NULL) == 0);
	return len;
}

static void assert_bytes(const uint8_t *got, const uint8_t *want, size_t len,
			 const char *what)
{
	char g[1024], w[1024];

	if (memcmp(got, want, len) == 0)
		return;
	sodium_bin2hex(g, sizeof(g), got, len < 500 ? len : 500);
	sodium_bin2hex(w, sizeof(w), want, len < 500 ? len : 500);
	ck_abort_msg("%s mismatch\n got  %s\n want %s", what, g, w);
}

struct party {
	uint8_t s_priv[32], s_pub[32], e_priv[32], rs[32], psk[32];
	uint8_t prologue[64];
	size_t prologue_len;
	struct noise_state st;
	uint8_t send_key[32], recv_key[32];
	uint64_t send_n, recv_n;
};

static void load_party(struct party *p, const char *who)
{
	char key[32];

	snprintf(key, sizeof(key), "%s_static", who);
	json_hex(key, 0, p->s_priv, 32);
	ck_assert(crypto_scalarmult_base(p->s_pub, p->s_priv) == 0);
	snprintf(key, sizeof(key), "%s_ephemeral", who);
	json_hex(key, 0, p->e_priv, 32);
	snprintf(key, sizeof(key), "%s_prologue", who);
	p->prologue_len = json_hex(key, 0, p->prologue, sizeof(p->prologue));
	snprintf(key, sizeof(key), "%s_psks", who);
	/* "init_psks": [ "hex" ] — step over the bracket. */
	{
		char pat[64];
		const char *q;
		size_t len = 0;

		snprintf(pat, sizeof(pat), "\"%s\": [", key);
		q = strstr(json_doc, pat);
		ck_assert(q != NULL);
		q = strchr(q, '"' ) + 1;
		q = strchr(q, '"') + 1;
		q = strchr(q, '"') + 1;
		ck_assert(sodium_hex2bin(p->psk, 32, q, 64, NULL, &len,
					 NULL) == 0 && len == 32);
	}
}

/* A transport message sealed and opened by crypto/aead.c, the data
 * path's AEAD: the vector's bytes both ways. */
static void evp_transport(const uint8_t key[32], uint64_t counter,
			  const uint8_t *payload, size_t plen,
			  const uint8_t *want)
{
	uint8_t buf[256];
	struct aead a;

	ck_assert_uint_le(plen + NOISE_AUTHTAG_LEN, sizeof(buf));
	ck_assert_int_eq(aead_init(&a, key), 0);
	memcpy(buf, payload, plen);
	ck_assert_int_eq(aead_seal(&a, buf, plen, counter), 0);
	assert_bytes(buf, want, plen + NOISE_AUTHTAG_LEN,
		     "transport message (EVP)");
	aead_free(&a);
	ck_assert_int_eq(aead_init(&a, key), 0);
	ck_assert_int_eq(aead_open(&a, buf, plen + NOISE_AUTHTAG_LEN,
				   counter), 0);
	assert_bytes(buf, payload, plen, "transport payload (EVP)");
	aead_free(&a);
}

START_TEST(test_cacophony_ikpsk2)
{
	struct party ini = { 0 }, res = { 0 };
	uint8_t want[256], got[256], payload[128], plain[128];
	uint8_t re[32], rs[32], ss[32], hh[32];
	size_t want_len, plen;

	load_vector();
	load_party(&ini, "init");
	load_party(&res, "resp");
	json_hex("init_remote_static", 0, ini.rs, 32);
	assert_bytes(ini.rs, res.s_pub, 32, "init_remote_static");

	noise_state_init(&ini.st, ini.prologue, ini.prologue_len, ini.rs);
	noise_state_init(&res.st, res.prologue, res.prologue_len, res.s_pub);

	/* Message 1: initiator writes, responder reads. */
	plen = json_hex("payload", 0, payload, sizeof(payload));
	want_len = json_hex("ciphertext", 0, want, sizeof(want));
	ck_assert_uint_eq(want_len, NOISE_MSG1_LEN(plen));
	ck_assert(noise_dh(ss, ini.s_priv, ini.rs) == 0);
	ck_assert(noise_msg1_write(&ini.st, got, ini.e_priv, ini.s_pub, ini.rs,
				   ss, payload, plen) == 0);
	assert_bytes(got, want, want_len, "message 1");

	ck_assert(noise_msg1_read_static(&res.st, want, res.s_priv, re, rs) == 0);
	assert_bytes(rs, ini.s_pub, 32, "initiator static seen by responder");
	ck_assert(noise_dh(ss, res.s_priv, rs) == 0);
	ck_assert(noise_msg1_read_payload(&res.st, want, ss, plain, plen) == 0);
	assert_bytes(plain, payload, plen, "message 1 payload");

	/* Message 2: responder writes, initiator reads. */
	plen = json_hex("payload", 1, payload, sizeof(payload));
	want_len = json_hex("ciphertext", 1, want, sizeof(want));
	ck_assert_uint_eq(want_len, NOISE_MSG2_LEN(plen));
	ck_assert(noise_msg2_write(&res.st, got, res.e_priv, re, rs, res.psk,
				   payload, plen) == 0);
	assert_bytes(got, want, want_len, "message 2");
	ck_assert(noise_msg2_read(&ini.st, want, ini.e_priv, ini.s_priv,
				  ini.psk, plain, plen) == 0);
	assert_bytes(plain, payload, plen, "message 2 payload");

	json_hex("handshake_hash", 0, hh, 32);
	assert_bytes(ini.st.hash, hh, 32, "initiator handshake hash");
	assert_bytes(res.st.hash, hh, 32, "responder handshake hash");

	noise_split(&ini.st, ini.send_key, ini.recv_key);
	noise_split(&res.st, res.recv_key, res.send_key);

	/* Transport: messages 3..6 alternate initiator, responder, with the
	 * counters 0 and 1 in each direction; AD is empty. */
	for (int m = 2; m < 6; m++) {
		struct party *tx = (m % 2 == 0) ? &ini : &res;
		struct party *rx = (m % 2 == 0) ? &res : &ini;

		plen = json_hex("payload", m, payload, sizeof(payload));
		want_len = json_hex("ciphertext", m, want, sizeof(want));
		ck_assert_uint_eq(want_len, plen + NOISE_AUTHTAG_LEN);
		noise_aead_encrypt(got, payload, plen, NULL, 0, tx->send_n,
				   tx->send_key);
		assert_bytes(got, want, want_len, "transport message");
		/* The data path's AEAD (OpenSSL) gives the same bytes. */
		evp_transport(tx->send_key, tx->send_n++, payload, plen, want);
		ck_assert(noise_aead_decrypt(plain, want, want_len, NULL, 0,
					     rx->recv_n++, rx->recv_key) == 0);
		assert_bytes(plain, payload, plen, "transport payload");
	}
	free(json_doc);
}
END_TEST

START_TEST(test_tampered_message1_rejected)
{
	struct party ini = { 0 }, res = { 0 };
	uint8_t msg[256], payload[64], plain[64], re[32], rs[32], ss[32];
	size_t plen, len;

	load_vector();
	load_party(&ini, "init");
	load_party(&res, "resp");
	json_hex("init_remote_static", 0, ini.rs, 32);
	plen = json_hex("payload", 0, payload, sizeof(payload));
	len = NOISE_MSG1_LEN(plen);
	ck_assert(noise_dh(ss, ini.s_priv, ini.rs) == 0);
	noise_state_init(&ini.st, ini.prologue, ini.prologue_len, ini.rs);
	ck_assert(noise_msg1_write(&ini.st, msg, ini.e_priv, ini.s_pub, ini.rs,
				   ss, payload, plen) == 0);

	/* Flip each bit in turn: the static key or the payload must fail to
	 * authenticate, because every byte is bound into the hash. */
	for (size_t bit = 0; bit < len * 8; bit++) {
		int ret;

		msg[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		noise_state_init(&res.st, res.prologue, res.prologue_len,
				 res.s_pub);
		ret = noise_msg1_read_static(&res.st, msg, res.s_priv, re, rs);
		if (!ret && !noise_dh(ss, res.s_priv, rs))
			ret = noise_msg1_read_payload(&res.st, msg, ss, plain,
						      plen);
		ck_assert_msg(ret != 0, "bit %zu flipped was accepted", bit);
		msg[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	free(json_doc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("noise_vectors");
	TCase *tc = tcase_create("cacophony");

	if (sodium_init() < 0)
		return EXIT_FAILURE;
	tcase_add_test(tc, test_cacophony_ikpsk2);
	tcase_add_test(tc, test_tampered_message1_rejected);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
