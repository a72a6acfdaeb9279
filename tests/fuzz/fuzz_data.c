/* libFuzzer target: protocol_classify() and protocol_decrypt() on untrusted
 * bytes, against a device with a live session (made by an in-process
 * handshake with the remote side at start-up).
 *
 * Input: one mode byte (FUZZ_DATA_* in fuzz_common.h), then
 *   RAW:          a datagram, decrypted as is;
 *   PATCH_INDEX:  a datagram whose receiver index is replaced by the live
 *                 one, so that it reaches the AEAD;
 *   SEQUENCE:     fuzz_data_record entries: the remote side encrypts each
 *                 under the counter given, and local must accept exactly
 *                 what a reference model of the replay window accepts.
 * No fuzzed datagram can be authentic (the fuzzer never sees the session
 * keys), so RAW and PATCH_INDEX must never decrypt. */
#include "tests/fuzz/fuzz_common.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/data.h"
#include "crypto/noise.h"

#define MAX_RECORDS 64
#define RECORD_MAX_PLAIN 0x7f
#define RECORD_TAMPER 0x80

struct data_fuzz {
	struct fuzz_node local, remote;
	/* The session under test; nothing here starts another handshake, so
	 * these stay installed for the whole run. */
	struct keypair *rx; /* local's */
	struct keypair *tx; /* remote's */
};

static struct data_fuzz *fuzz;

static void die(const char *what, uint64_t counter)
{
	fprintf(stderr, "fuzz_data: %s (counter %llu)\n", what,
		(unsigned long long)counter);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct data_fuzz st;

	if (fuzz_node_init(&st.local, FUZZ_LOCAL) ||
	    fuzz_node_init(&st.remote, FUZZ_REMOTE) ||
	    fuzz_establish(&st.remote, &st.local, FUZZ_NOW0, NULL, NULL))
		die("setup failed", 0);
	st.rx = keypairs_current(&st.local.peer->keypairs);
	st.tx = keypairs_current(&st.remote.peer->keypairs);
	if (!st.rx || !st.tx || st.tx->remote_index != st.rx->local_index)
		die("no session after the handshake", 0);
	fuzz = &st;
	return 0;
}

static void fuzz_datagram(struct data_fuzz *f, const uint8_t *in,
			  size_t len, bool patch)
{
	struct data_outcome out;
	uint8_t *msg;
	int ret;

	/* An exact-size heap copy, so ASan sees any access past the end. */
	msg = malloc(len ? len : 1);
	if (!msg)
		return;
	memcpy(msg, in, len);
	if (patch && len >= offsetof(struct message_data, counter)) {
		uint32_t idx = htole32(f->rx->local_index);

		memcpy(msg + offsetof(struct message_data, key_idx), &idx,
		       sizeof(idx));
	}
	ret = protocol_decrypt(&f->local.dev, msg, len, FUZZ_NOW0, &out);
	if (!ret)
		die("a forged datagram decrypted", 0);
	if (protocol_classify(msg, len) != MESSAGE_DATA && ret != -EBADMSG)
		die("a non-data datagram got past parsing", 0);
	free(msg);
}

/* The replay window's contract (crypto/replay.h), kept naively. */
struct replay_model {
	uint64_t top;
	bool any;
	size_t n;
	uint64_t seen[MAX_RECORDS];
};

static bool model_accept(struct replay_model *m, uint64_t c)
{
	if (c >= REJECT_AFTER_MESSAGES)
		return false;
	if (m->any && c < m->top && m->top - c >= REPLAY_WINDOW_SIZE)
		return false;
	for (size_t i = 0; i < m->n; i++)
		if (m->seen[i] == c)
			return false;
	m->seen[m->n++] = c;
	if (!m->any || c > m->top)
		m->top = c;
	m->any = true;
	return true;
}

/* Encrypts as the remote side would with send counter c. The data path
 * refuses to use counters past REJECT_AFTER_MESSAGES, so those are sealed
 * by hand: a peer that ignores the limit must still be refused. */
static size_t seal(struct data_fuzz *f, uint8_t *buf, size_t plain,
		   uint64_t c)
{
	struct message_data *hdr = (void *)buf;
	size_t len, padded;
	bool rekey;

	if (c < REJECT_AFTER_MESSAGES) {
		atomic_store(&f->tx->send_counter, c);
		if (protocol_encrypt(f->remote.peer, buf, plain, FUZZ_MTU,
				     FUZZ_NOW0, &len, &rekey))
			die("encryption failed", c);
		return len;
	}
	padded = data_padded_len(plain, FUZZ_MTU);
	memset(buf + MESSAGE_DATA_HEADER_LEN + plain, 0, padded - plain);
	memset(hdr, 0, MESSAGE_DATA_HEADER_LEN);
	hdr->header.type = MESSAGE_DATA;
	hdr->key_idx = htole32(f->tx->remote_index);
	hdr->counter = htole64(c);
	noise_aead_encrypt(buf + MESSAGE_DATA_HEADER_LEN,
			   buf + MESSAGE_DATA_HEADER_LEN, padded, NULL, 0, c,
			   f->tx->send_key);
	return MESSAGE_DATA_HEADER_LEN + padded + NOISE_AUTHTAG_LEN;
}

static void run_record(struct data_fuzz *f, struct replay_model *m,
		       const struct fuzz_data_record *r)
{
	_Alignas(16) uint8_t buf[MESSAGE_DATA_HEADER_LEN + RECORD_MAX_PLAIN +
				 DATA_TAILROOM];
	uint8_t *payload = buf + MESSAGE_DATA_HEADER_LEN;
	size_t plain = r->len & RECORD_MAX_PLAIN, len;
	uint64_t c;
	struct data_outcome out;
	int ret;

	memcpy(&c, r->counter_le, sizeof(c));
	c = le64toh(c);
	for (size_t i = 0; i < plain; i++)
		payload[i] = (uint8_t)(c + i);
	len = seal(f, buf, plain, c);
	if (r->len & RECORD_TAMPER)
		buf[(c / 8) % len] ^= (uint8_t)(1u << (c % 8));
	ret = protocol_decrypt(&f->local.dev, buf, len, FUZZ_NOW0, &out);
	if (r->len & RECORD_TAMPER) {
		if (!ret)
			die("a tampered datagram decrypted", c);
		return;
	}
	if (!model_accept(m, c)) {
		if (ret != -EALREADY)
			die("replay window accepted what it must refuse", c);
		return;
	}
	if (ret)
		die("replay window refused a fresh counter", c);
	if (out.peer != f->local.peer || out.plain_len < plain)
		die("wrong outcome", c);
	for (size_t i = 0; i < plain; i++)
		if (payload[i] != (uint8_t)(c + i))
			die("plaintext does not round-trip", c);
}

/* Each sequence starts from a fresh window, so it is reproducible alone. */
static void fuzz_sequence(struct data_fuzz *f, const uint8_t *in, size_t len)
{
	struct replay_model model = { 0 };
	struct fuzz_data_record r;
	size_t n = len / sizeof(r);

	if (n > MAX_RECORDS)
		n = MAX_RECORDS;
	replay_init(&f->rx->replay);
	for (size_t i = 0; i < n; i++) {
		memcpy(&r, in + i * sizeof(r), sizeof(r));
		run_record(f, &model, &r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % FUZZ_DATA_MODES) {
	case FUZZ_DATA_RAW:
		fuzz_datagram(fuzz, data + 1, size - 1, false);
		break;
	case FUZZ_DATA_PATCH_INDEX:
		fuzz_datagram(fuzz, data + 1, size - 1, true);
		break;
	default:
		fuzz_sequence(fuzz, data + 1, size - 1);
		break;
	}
	return 0;
}
