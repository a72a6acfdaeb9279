#include "src/daemon/save_config.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "crypto/keys.h"
#include "src/config.h"
#include "src/daemon/file_replace.h"
#include "src/secret_buf.h"
#include "src/tunnel/reresolve.h"
#include "src/tunnel/state.h"
#include "src/uapi/uapi.h"

static void write_device(FILE *out, const struct uapi_view *run)
{
	char b64[WG_KEY_B64_LEN + 1];

	if (run->has_private_key) {
		key_to_base64(b64, run->private_key);
		fprintf(out, "PrivateKey = %s\n", b64);
		sodium_memzero(b64, sizeof(b64));
	}
	fprintf(out, "ListenPort = %u\n", run->listen_port);
	if (run->fwmark)
		fprintf(out, "FwMark = 0x%x\n", run->fwmark);
}

static void write_peer(FILE *out, const struct uapi_peer_view *p)
{
	char b64[WG_KEY_B64_LEN + 1];

	key_to_base64(b64, p->public_key);
	fprintf(out, "\n[Peer]\nPublicKey = %s\n", b64);
	if (p->has_psk) {
		key_to_base64(b64, p->psk);
		fprintf(out, "PresharedKey = %s\n", b64);
		sodium_memzero(b64, sizeof(b64));
	}
	if (p->allowed_ips) {
		fputs("AllowedIPs = ", out);
		for (const char *c = p->allowed_ips; *c; c++)
			fputs(*c == ',' ? ", " : (char[]){ *c, 0 }, out);
		fputc('\n', out);
	}
	if (*p->endpoint)
		fprintf(out, "Endpoint = %s\n", p->endpoint);
	if (p->keepalive)
		fprintf(out, "PersistentKeepalive = %u\n", p->keepalive);
}

/* Whether line n of the file stays as written: what comes before the
 * first section, and [Interface] but the device's keys and the blank
 * lines at its end (each [Peer] brings its own, so saving again and
 * again does not make the gap grow). */
static bool kept(const struct config *file, unsigned n)
{
	const struct config_layout *l = &file->layout;
	unsigned first = l->interface_line;

	if (file->n_peers && file->peers[0].line < first)
		first = file->peers[0].line;
	if (n < first)
		return true;
	if (n < l->interface_line || n >= l->interface_end)
		return false;
	for (size_t i = 0; i < CONFIG_DEVICE_KEYS; i++)
		if (n == l->device_lines[i])
			return false;
	return true;
}

/* The kept lines byte for byte, the device's values right after the
 * [Interface] header. */
static void write_interface(FILE *out, const char *text, size_t len,
			    const struct config *file,
			    const struct uapi_view *run)
{
	unsigned n = 0;

	for (size_t pos = 0; pos < len;) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - s) : len - pos;

		if (kept(file, ++n)) {
			fwrite(s, 1, line_len, out);
			fputc('\n', out);
		}
		if (n == file->layout.interface_line)
			write_device(out, run);
		pos += line_len + 1;
	}
}

void save_config_text(FILE *out, const char *text, size_t len,
		      const struct config *file, const struct uapi_view *run)
{
	write_interface(out, text, len, file, run);
	for (size_t i = 0; i < run->n_peers; i++)
		write_peer(out, &run->peers[i]);
}

/* The device as get=1 shows it: the one reader of a running device's
 * keys and peers, so the file says what `wg showconf` says. */
static int read_running(struct tunnel *tn, struct secret_buf *b,
			struct uapi_view *v)
{
	FILE *f = secret_buf_stream(b);
	int ret;

	if (!f)
		return -errno;
	ret = uapi_get(tn, f);
	fputc('\0', f);
	if (secret_buf_stream_close(f) && !ret)
		ret = -ENOMEM;
	return ret ? ret : uapi_view_parse(v, b->data);
}

/* An Endpoint written as a name stays that name: the daemon resolves
 * it again when the address behind it moves (src/tunnel/reresolve.h),
 * and the next `up` should too. The name is the peer's (the file's at
 * `up` or at the last reload; an endpoint set through the UAPI has
 * none), so an endpoint set since is written as it is. */
static void keep_names(struct tunnel *tn, struct uapi_view *v)
{
	for (size_t i = 0; i < v->n_peers; i++) {
		struct uapi_peer_view *p = &v->peers[i];
		const struct peer *peer = peer_table_find(&tn->dev.peers,
							  p->public_key);
		size_t host, port;

		if (!peer || !reresolve_is_name(peer->endpoint_host))
			continue;
		/* A name too long for the view keeps the address rather
		 * than be cut. */
		host = strlen(peer->endpoint_host);
		port = strlen(peer->endpoint_port);
		if (host + port + 2 > sizeof(p->endpoint))
			continue;
		memcpy(p->endpoint, peer->endpoint_host, host);
		p->endpoint[host] = ':';
		memcpy(p->endpoint + host + 1, peer->endpoint_port, port + 1);
	}
}

static int compose(const struct secret_buf *text, const struct config *file,
		   const struct uapi_view *v, struct secret_buf *out)
{
	FILE *f = secret_buf_stream(out);

	if (!f)
		return -errno;
	save_config_text(f, text->data, text->len, file, v);
	return secret_buf_stream_close(f);
}

int save_config(struct tunnel *tn, const char *path,
		const struct secret_buf *text, const struct config *file,
		char *err, size_t err_len)
{
	struct secret_buf reply = { 0 }, saved = { 0 };
	struct uapi_view v = { 0 };
	const char *step;
	int ret, owner_lost = 0;

	step = "cannot read the device";
	if ((ret = read_running(tn, &reply, &v)))
		goto out;
	keep_names(tn, &v);
	step = "cannot compose it";
	if ((ret = compose(text, file, &v, &saved)))
		goto out;
	step = "cannot replace it";
	ret = file_replace(path, saved.data ? saved.data : "", saved.len,
			   &owner_lost);
out:
	*err = '\0';
	if (ret)
		snprintf(err, err_len, "SaveConfig: `%s': %s: %s", path, step,
			 strerror(-ret));
	else if (owner_lost)
		snprintf(err, err_len, "SaveConfig: `%s': saved, but its owner "
			 "could not be kept", path);
	uapi_view_free(&v);
	secret_buf_free(&reply);
	secret_buf_free(&saved);
	return ret;
}
