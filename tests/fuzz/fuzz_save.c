/* libFuzzer target: save_config_text() (SaveConfig, src/daemon/
 * save_config.h) on arbitrary file text with a fixed running device (a
 * key, port, fwmark and two peers).
 *
 * SaveConfig takes what the parser makes of the file, so a text the
 * parser refuses is not saved (`down` leaves such a file as it is).
 * When the parser accepts the text, the output holds the device's
 * PrivateKey line and every peer, the parser accepts it too, and it
 * reads back as the device: its key, port, fwmark and exactly the
 * running peers, with their endpoints and keepalives; every other
 * [Interface] key (Address, MTU, Table, DNS, the hooks, SaveConfig,
 * Threads, KillSwitch) keeps the value it had. Saved again, the output
 * stays as it is. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "src/config.h"
#include "src/daemon/save_config.h"
#include "tests/fuzz/fuzz_common.h"

static struct uapi_view view;
static struct uapi_peer_view peers[2];
static char priv_line[128];

static void die(const char *what)
{
	fprintf(stderr, "fuzz_save: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char b64[WG_KEY_B64_LEN + 1];

	(void)argc;
	(void)argv;
	if (crypto_init())
		die("crypto_init failed");
	for (int i = 0; i < WG_KEY_LEN; i++) {
		view.private_key[i] = (uint8_t)(i + 1);
		peers[0].public_key[i] = (uint8_t)(0x40 + i);
		peers[1].public_key[i] = (uint8_t)(0x80 + i);
		peers[0].psk[i] = (uint8_t)(0xc0 + i);
	}
	key_clamp(view.private_key);
	view.has_private_key = true;
	view.listen_port = 51999;
	view.fwmark = 0x42;
	peers[0].has_psk = true;
	snprintf(peers[0].endpoint, sizeof(peers[0].endpoint),
		 "198.18.0.2:51821");
	peers[0].allowed_ips = strdup("10.0.0.2/32,fd00::2/128");
	peers[0].keepalive = 25;
	view.peers = peers;
	view.n_peers = 2;
	key_to_base64(b64, view.private_key);
	snprintf(priv_line, sizeof(priv_line), "PrivateKey = %s\n", b64);
	return 0;
}

/* Occurrences in [hay, hay + len): the text may hold NUL bytes. */
static size_t count(const char *hay, size_t len, const char *needle)
{
	size_t n = 0, nlen = strlen(needle);
	const char *end = hay + len, *p = hay;

	while ((p = memmem(p, (size_t)(end - p), needle, nlen))) {
		n++;
		p++;
	}
	return n;
}

/* The [Interface] keys SaveConfig copies as written. */
static bool same_interface(const struct config *a, const struct config *b)
{
	return fuzz_interface_eq(a, b) && a->kill_switch == b->kill_switch;
}

/* The text save_config_text makes of text, which parsed into file;
 * free it. */
static char *save(const char *text, size_t size, const struct config *file,
		  size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	if (!f)
		die("open_memstream");
	save_config_text(f, text, size, file, &view);
	if (fclose(f))
		die("fclose");
	return out;
}

/* The output, read back, is the device, and saved again the same. */
static void check_parsed(const struct config *in, const char *out,
			 size_t len)
{
	struct config c;
	char err[512], *again;
	size_t again_len = 0;

	if (config_parse(&c, "saved.conf", out, len, err, sizeof(err))) {
		fprintf(stderr, "%s\n---\n%.*s\n", err, (int)len, out);
		die("a good file saved into one the parser refuses");
	}
	if (memcmp(c.private_key, view.private_key, WG_KEY_LEN) ||
	    !c.has_listen_port || c.listen_port != view.listen_port ||
	    c.fwmark != view.fwmark || c.n_peers != 2)
		die("the device is not what was saved");
	if (memcmp(c.peers[0].public_key, peers[0].public_key, WG_KEY_LEN) ||
	    !c.peers[0].has_psk || c.peers[0].n_allowed_ips != 2 ||
	    c.peers[0].persistent_keepalive != 25 ||
	    strcmp(c.peers[0].endpoint_host, "198.18.0.2") ||
	    memcmp(c.peers[1].public_key, peers[1].public_key, WG_KEY_LEN) ||
	    c.peers[1].endpoint_host || c.peers[1].n_allowed_ips)
		die("the peers are not what was saved");
	if (c.mtu != in->mtu || c.threads != in->threads ||
	    c.save_config != in->save_config ||
	    c.n_addresses != in->n_addresses || !same_interface(&c, in))
		die("an [Interface] key changed");
	again = save(out, len, &c, &again_len);
	if (again_len != len || memcmp(again, out, len))
		die("saved again, the text changed");
	free(again);
	config_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config in;
	char err[512], *out;
	size_t len = 0;

	if (config_parse(&in, "fuzz.conf", (const char *)data, size, err,
			 sizeof(err)))
		return 0; /* not saved */
	out = save((const char *)data, size, &in, &len);
	/* At least: a comment in the input may hold the very same line
	 * (the fuzzer learns it). */
	if (count(out, len, priv_line) < 1 ||
	    count(out, len, "\n[Peer]\n") < 2)
		die("the device is not in the output");
	check_parsed(&in, out, len);
	config_free(&in);
	free(out);
	return 0;
}
