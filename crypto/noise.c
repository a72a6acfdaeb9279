#include "crypto/noise.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/kdf.h"

static const char noise_protocol_name[] =
	"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";

int noise_dh(uint8_t out[NOISE_KEY_LEN], const uint8_t priv[NOISE_KEY_LEN],
	     const uint8_t pub[NOISE_KEY_LEN])
{
	/* libsodium fails when the shared point is all zero. */
	return crypto_scalarmult(out, priv, pub) ? -EINVAL : 0;
}

static void mix_hash(struct noise_state *st, const uint8_t *in, size_t len)
{
	hash2(st->hash, st->hash, sizeof(st->hash), in, len);
}

/* MixKey: ck, k = KDF2(ck, input); key may be NULL when unused (as in the
 * "e" of a psk handshake and in "ee"/"se" of message 2). */
static void mix_key(struct noise_state *st, uint8_t *key, const uint8_t *in,
		    size_t len)
{
	kdf(st->chaining_key, key, NULL, st->chaining_key,
	    sizeof(st->chaining_key), in, len);
}

static int mix_dh(struct noise_state *st, uint8_t *key,
		  const uint8_t priv[NOISE_KEY_LEN],
		  const uint8_t pub[NOISE_KEY_LEN])
{
	uint8_t shared[NOISE_KEY_LEN];
	int ret = noise_dh(shared, priv, pub);

	if (!ret)
		mix_key(st, key, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return ret;
}

/* Every key in this pattern is used for exactly one message, so the
 * CipherState nonce is always 0. */
static void encrypt_and_hash(struct noise_state *st, uint8_t *out,
			     const uint8_t *in, size_t len,
			     const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	noise_aead_encrypt(out, in, len, st->hash, sizeof(st->hash), 0, key);
	mix_hash(st, out, NOISE_ENCRYPTED_LEN(len));
}

static int decrypt_and_hash(struct noise_state *st, uint8_t *out,
			    const uint8_t *in, size_t len,
			    const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	size_t enc_len = NOISE_ENCRYPTED_LEN(len);

	if (noise_aead_decrypt(out, in, enc_len, st->hash, sizeof(st->hash),
			       0, key))
		return -EBADMSG;
	mix_hash(st, in, enc_len);
	return 0;
}

/* "e" with a psk: MixHash(e.pub) and MixKey(e.pub). */
static void mix_ephemeral(struct noise_state *st,
			  const uint8_t e_pub[NOISE_PUBLIC_KEY_LEN])
{
	mix_hash(st, e_pub, NOISE_PUBLIC_KEY_LEN);
	mix_key(st, NULL, e_pub, NOISE_PUBLIC_KEY_LEN);
}

void noise_state_init(struct noise_state *st, const uint8_t *prologue,
		      size_t prologue_len,
		      const uint8_t responder_static[NOISE_PUBLIC_KEY_LEN])
{
	/* The name is longer than HASHLEN, so h = HASH(name). */
	hash2(st->chaining_key, (const uint8_t *)noise_protocol_name,
	      strlen(noise_protocol_name), NULL, 0);
	memcpy(st->hash, st->chaining_key, sizeof(st->hash));
	mix_hash(st, prologue, prologue_len);
	mix_hash(st, responder_static, NOISE_PUBLIC_KEY_LEN);
}

void noise_state_wipe(struct noise_state *st)
{
	sodium_memzero(st, sizeof(*st));
}

int noise_msg1_write(struct noise_state *st, uint8_t *out,
		     const uint8_t e_priv[NOISE_KEY_LEN],
		     const uint8_t s_pub[NOISE_PUBLIC_KEY_LEN],
		     const uint8_t rs[NOISE_PUBLIC_KEY_LEN],
		     const uint8_t ss[NOISE_KEY_LEN],
		     const uint8_t *payload, size_t payload_len)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t *enc_static = out + NOISE_PUBLIC_KEY_LEN;
	uint8_t *enc_payload = enc_static + NOISE_ENCRYPTED_LEN(NOISE_PUBLIC_KEY_LEN);
	int ret;

	/* e */
	if (crypto_scalarmult_base(out, e_priv))
		return -EINVAL;
	mix_ephemeral(st, out);
	/* es */
	ret = mix_dh(st, key, e_priv, rs);
	if (ret)
		goto out;
	/* s */
	encrypt_and_hash(st, enc_static, s_pub, NOISE_PUBLIC_KEY_LEN, key);
	/* ss */
	mix_key(st, key, ss, NOISE_KEY_LEN);
	/* payload */
	encrypt_and_hash(st, enc_payload, payload, payload_len, key);
out:
	sodium_memzero(key, sizeof(key));
	return ret;
}

int noise_msg1_read_static(struct noise_state *st, const uint8_t *in,
			   const uint8_t s_priv[NOISE_KEY_LEN],
			   uint8_t re_out[NOISE_PUBLIC_KEY_LEN],
			   uint8_t rs_out[NOISE_PUBLIC_KEY_LEN])
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	int ret;

	/* e */
	memcpy(re_out, in, NOISE_PUBLIC_KEY_LEN);
	mix_ephemeral(st, re_out);
	/* es */
	ret = mix_dh(st, key, s_priv, re_out);
	if (ret)
		goto out;
	/* s */
	ret = decrypt_and_hash(st, rs_out, in + NOISE_PUBLIC_KEY_LEN,
			       NOISE_PUBLIC_KEY_LEN, key);
out:
	sodium_memzero(key, sizeof(key));
	return ret;
}

int noise_msg1_read_payload(struct noise_state *st, const uint8_t *in,
			    const uint8_t ss[NOISE_KEY_LEN],
			    uint8_t *payload, size_t payload_len)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	const uint8_t *enc_payload = in + NOISE_PUBLIC_KEY_LEN +
				     NOISE_ENCRYPTED_LEN(NOISE_PUBLIC_KEY_LEN);
	int ret;

	/* ss */
	mix_key(st, key, ss, NOISE_KEY_LEN);
	/* payload */
	ret = decrypt_and_hash(st, payload, enc_payload, payload_len, key);
	sodium_memzero(key, sizeof(key));
	return ret;
}

/* "psk": ck, tau, k = KDF3(ck, psk); MixHash(tau). */
static void mix_psk(struct noise_state *st, uint8_t key[NOISE_KEY_LEN],
		    const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
	uint8_t tau[NOISE_HASH_LEN];

	kdf(st->chaining_key, tau, key, st->chaining_key,
	    sizeof(st->chaining_key), psk, NOISE_SYMMETRIC_KEY_LEN);
	mix_hash(st, tau, sizeof(tau));
	sodium_memzero(tau, sizeof(tau));
}

int noise_msg2_write(struct noise_state *st, uint8_t *out,
		     const uint8_t e_priv[NOISE_KEY_LEN],
		     const uint8_t re[NOISE_PUBLIC_KEY_LEN],
		     const uint8_t rs[NOISE_PUBLIC_KEY_LEN],
		     const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN],
		     const uint8_t *payload, size_t payload_len)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	int ret;

	/* e */
	if (crypto_scalarmult_base(out, e_priv))
		return -EINVAL;
	mix_ephemeral(st, out);
	/* ee */
	ret = mix_dh(st, NULL, e_priv, re);
	if (ret)
		goto out;
	/* se */
	ret = mix_dh(st, NULL, e_priv, rs);
	if (ret)
		goto out;
	/* psk */
	mix_psk(st, key, psk);
	/* payload */
	encrypt_and_hash(st, out + NOISE_PUBLIC_KEY_LEN, payload, payload_len,
			 key);
out:
	sodium_memzero(key, sizeof(key));
	return ret;
}

int noise_msg2_read(struct noise_state *st, const uint8_t *in,
		    const uint8_t e_priv[NOISE_KEY_LEN],
		    const uint8_t s_priv[NOISE_KEY_LEN],
		    const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN],
		    uint8_t *payload, size_t payload_len)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	int ret;

	/* e */
	mix_ephemeral(st, in);
	/* ee */
	ret = mix_dh(st, NULL, e_priv, in);
	if (ret)
		goto out;
	/* se */
	ret = mix_dh(st, NULL, s_priv, in);
	if (ret)
		goto out;
	/* psk */
	mix_psk(st, key, psk);
	/* payload */
	ret = decrypt_and_hash(st, payload, in + NOISE_PUBLIC_KEY_LEN,
			       payload_len, key);
out:
	sodium_memzero(key, sizeof(key));
	return ret;
}

void noise_split(const struct noise_state *st,
		 uint8_t first[NOISE_SYMMETRIC_KEY_LEN],
		 uint8_t second[NOISE_SYMMETRIC_KEY_LEN])
{
	kdf(first, second, NULL, st->chaining_key, sizeof(st->chaining_key),
	    NULL, 0);
}

void noise_aead_encrypt(uint8_t *out, const uint8_t *in, size_t len,
			const uint8_t *ad, size_t ad_len, uint64_t nonce,
			const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	uint8_t n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	aead_counter_nonce(n, nonce);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, len, ad,
						  ad_len, NULL, n, key);
}

int noise_aead_decrypt(uint8_t *out, const uint8_t *in, size_t len,
		       const uint8_t *ad, size_t ad_len, uint64_t nonce,
		       const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	uint8_t n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	if (len < NOISE_AUTHTAG_LEN)
		return -EBADMSG;
	aead_counter_nonce(n, nonce);
	return crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in,
							 len, ad, ad_len, n,
							 key) ? -EBADMSG : 0;
}
