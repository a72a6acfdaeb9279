#include "src/daemon/save_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "src/config.h"
#include "src/daemon/file_replace.h"
#include "src/secret_buf.h"
#include "src/tunnel/reresolve.h"
#include "src/tunnel/state.h"
#include "src/uapi/uapi.h"

enum section { S_NONE, S_INTERFACE, S_PEER, S_OTHER };

/* The [Interface] keys that the device holds, and so the running values
 * replace (compared case-insensitively, as the parser does). */
static const char *const device_keys[] = { "PrivateKey", "ListenPort",
					   "FwMark" };

/* [start, end) without the blanks around it: the parser's blanks, which
 * are isspace()'s in the C locale (a line holds no newline). */
static void trim(const char **start, const char **end)
{
	while (*start < *end && isspace((unsigned char)**start))
		(*start)++;
	while (*end > *start && isspace((unsigned char)(*end)[-1]))
		(*end)--;
}

static bool same_word(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && !strncasecmp(s, word, n);
}

/* The section a header line opens, or -1 when line is not a header. */
static int header(const char *s, const char *e)
{
	const char *hash = memchr(s, '#', (size_t)(e - s));

	if (hash)
		e = hash;
	trim(&s, &e);
	if (e - s < 2 || *s != '[' || e[-1] != ']')
		return -1;
	s++, e--;
	trim(&s, &e);
	if (same_word(s, e, "Interface"))
		return S_INTERFACE;
	return same_word(s, e, "Peer") ? S_PEER : S_OTHER;
}

/* The parser allows a UTF-8 byte order mark before the first line
 * (files from some editors start with one). */
static const char *after_bom(const char *s, const char *e)
{
	return e - s >= 3 && !memcmp(s, "\xef\xbb\xbf", 3) ? s + 3 : s;
}

static bool is_blank(const char *s, const char *e)
{
	trim(&s, &e);
	return s == e;
}

static bool is_device_key(const char *s, const char *e)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));

	if (!eq)
		return false;
	e = eq;
	trim(&s, &e);
	for (size_t i = 0; i < sizeof(device_keys) / sizeof(*device_keys); i++)
		if (same_word(s, e, device_keys[i]))
			return true;
	return false;
}

/* Lines outside any section or in one we do not know stay too: the
 * parser refuses them, so a file that has them was edited since `up`,
 * and the edit is the user's. */
static bool kept(enum section sec, const char *s, const char *e)
{
	return sec == S_NONE || sec == S_OTHER ||
	       (sec == S_INTERFACE && !is_device_key(s, e));
}

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

/* Copies what comes before the first [Peer] but the device's keys; the
 * device's values go right after the [Interface] header. Blank lines
 * at the end are left out: each [Peer] brings its own, so saving again
 * and again does not make the gap grow. */
static void write_interface(FILE *out, const char *orig, size_t len,
			    const struct uapi_view *run)
{
	const char *end = orig + len;
	enum section sec = S_NONE;
	bool device_done = false;
	unsigned blanks = 0; /* kept blank lines not written yet */

	for (const char *s = orig; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		int h = header(s == orig ? after_bom(s, e) : s, e);

		if (h >= 0)
			sec = (enum section)h;
		if (kept(sec, s, e) && is_blank(s, e)) {
			blanks++;
		} else if (kept(sec, s, e)) {
			for (; blanks; blanks--)
				fputc('\n', out);
			fwrite(s, 1, (size_t)(e - s), out); /* byte for byte */
			fputc('\n', out);
		}
		if (h == S_INTERFACE && !device_done) {
			write_device(out, run);
			device_done = true;
		}
		s = e + 1;
	}
	/* A file edited since `up` may have lost its header. */
	if (!device_done) {
		fputs("[Interface]\n", out);
		write_device(out, run);
	}
}

void save_config_text(FILE *out, const char *orig, size_t len,
		      const struct uapi_view *run)
{
	write_interface(out, orig, len, run);
	for (size_t i = 0; i < run->n_peers; i++)
		write_peer(out, &run->peers[i]);
}

/* The file as it is now: a hand edit made while the tunnel ran is kept
 * (in the lines this copies). */
static int read_file(const char *path, struct secret_buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = secret_buf_read_fd(b, fd, CONFIG_MAX_FILE);
	close(fd);
	return ret;
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

static int compose(const struct secret_buf *orig, const struct uapi_view *v,
		   struct secret_buf *out)
{
	FILE *f = secret_buf_stream(out);

	if (!f)
		return -errno;
	save_config_text(f, orig->data, orig->len, v);
	return secret_buf_stream_close(f);
}

int save_config(struct tunnel *tn, const char *path, char *err,
		size_t err_len)
{
	struct secret_buf orig = { 0 }, reply = { 0 }, text = { 0 };
	struct uapi_view v = { 0 };
	const char *step;
	int ret, owner_lost = 0;

	step = "cannot read it";
	if ((ret = read_file(path, &orig)))
		goto out;
	step = "cannot read the device";
	if ((ret = read_running(tn, &reply, &v)))
		goto out;
	keep_names(tn, &v);
	step = "cannot compose it";
	if ((ret = compose(&orig, &v, &text)))
		goto out;
	step = "cannot replace it";
	ret = file_replace(path, text.data ? text.data : "", text.len,
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
	secret_buf_free(&orig);
	secret_buf_free(&reply);
	secret_buf_free(&text);
	return ret;
}
