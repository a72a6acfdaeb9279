/* SaveConfig: the text a config file becomes with a running device (the
 * device's keys and peers replace the file's, every other [Interface]
 * line is copied as written, comments and unknown spellings included;
 * odd files: CRLF, no final newline, every blank, a byte order mark;
 * found by tests/fuzz/fuzz_save.c), and that text read back by the
 * project's own parser; files the parser refuses (no [Interface]
 * header, two of them, an empty file) are not saved. The atomic
 * replace keeps mode, follows a link, leaves no temporary file, and
 * changes nothing when it fails. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "src/config.h"
#include "src/daemon/file_replace.h"
#include "src/daemon/save_config.h"
#include "tests/unit/check_main.h"

static char priv_b64[WG_KEY_B64_LEN + 1], pub1_b64[WG_KEY_B64_LEN + 1],
	pub2_b64[WG_KEY_B64_LEN + 1], psk_b64[WG_KEY_B64_LEN + 1];

/* A device with a key, port 51999, fwmark 0x42 and two peers: one with
 * everything, one with nothing but its key. */
static void make_view(struct uapi_view *v)
{
	memset(v, 0, sizeof(*v));
	key_generate_private(v->private_key);
	v->has_private_key = true;
	v->listen_port = 51999;
	v->fwmark = 0x42;
	v->n_peers = 2;
	v->peers = calloc(2, sizeof(*v->peers));
	ck_assert_ptr_nonnull(v->peers);
	key_generate_private(v->peers[0].public_key);
	key_generate_preshared(v->peers[0].psk);
	v->peers[0].has_psk = true;
	snprintf(v->peers[0].endpoint, sizeof(v->peers[0].endpoint),
		 "198.18.0.2:51821");
	v->peers[0].allowed_ips = strdup("10.0.0.2/32,fd00::2/128");
	v->peers[0].keepalive = 25;
	key_generate_private(v->peers[1].public_key);
	key_to_base64(priv_b64, v->private_key);
	key_to_base64(pub1_b64, v->peers[0].public_key);
	key_to_base64(pub2_b64, v->peers[1].public_key);
	key_to_base64(psk_b64, v->peers[0].psk);
}

/* The text save_config_text makes of orig, which the parser takes (as
 * `down` does); free it. */
static char *saved(const char *orig, const struct uapi_view *v)
{
	struct config file;
	char *out = NULL, err[512] = "";
	size_t len = 0;
	FILE *f;

	ck_assert_msg(!config_parse(&file, "wg0.conf", orig, strlen(orig), err,
				    sizeof(err)), "%s", err);
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	save_config_text(f, orig, strlen(orig), &file, v);
	fclose(f);
	config_free(&file);
	return out;
}

/* A key the parser takes, for files that need one. */
#define FILE_KEY "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA="

static void peers_text(char *buf, size_t len)
{
	snprintf(buf, len,
		 "\n[Peer]\nPublicKey = %s\nPresharedKey = %s\n"
		 "AllowedIPs = 10.0.0.2/32, fd00::2/128\n"
		 "Endpoint = 198.18.0.2:51821\nPersistentKeepalive = 25\n"
		 "\n[Peer]\nPublicKey = %s\n", pub1_b64, psk_b64, pub2_b64);
}

static const char *const original =
	"# wg0, by hand\n"
	"[Interface]\n"
	"privatekey=" FILE_KEY "\n"
	"Address = 10.0.0.1/24 # the tunnel\n"
	"  ListenPort = 51820\n"
	"DNS = 10.0.0.53\n"
	"PostUp = echo a=b # PrivateKey = x\n"
	"FwMark=7\n"
	"MTU = 1400\n"
	"SaveConfig = true\n"
	"\n"
	"[Peer] # old\n"
	"PublicKey = BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\n"
	"# a comment of the old peer\n"
	"Endpoint = old.example:1";

START_TEST(test_text)
{
	struct uapi_view v;
	char want[4096], peers[1024];
	char *got;

	make_view(&v);
	peers_text(peers, sizeof(peers));
	snprintf(want, sizeof(want),
		 "# wg0, by hand\n[Interface]\nPrivateKey = %s\n"
		 "ListenPort = 51999\nFwMark = 0x42\n"
		 "Address = 10.0.0.1/24 # the tunnel\n"
		 "DNS = 10.0.0.53\n"
		 "PostUp = echo a=b # PrivateKey = x\n"
		 "MTU = 1400\nSaveConfig = true\n%s", priv_b64, peers);
	got = saved(original, &v);
	ck_assert_str_eq(got, want);
	free(got);
	uapi_view_free(&v);
}
END_TEST

/* Saved again, the text is the same: nothing grows (blank lines). */
START_TEST(test_again_the_same)
{
	struct uapi_view v;
	char *once, *twice;

	make_view(&v);
	once = saved(original, &v);
	twice = saved(once, &v);
	ck_assert_str_eq(twice, once);
	free(once);
	free(twice);
	uapi_view_free(&v);
}
END_TEST

/* What the parser reads back is the device, and the rest as written. */
START_TEST(test_parses_back)
{
	struct uapi_view v;
	struct config c;
	char err[512] = "", *got;

	make_view(&v);
	got = saved(original, &v);
	ck_assert_int_eq(config_parse(&c, "wg0.conf", got, strlen(got), err,
				      sizeof(err)), 0);
	ck_assert_mem_eq(c.private_key, v.private_key, WG_KEY_LEN);
	ck_assert(c.has_listen_port);
	ck_assert_uint_eq(c.listen_port, 51999);
	ck_assert_uint_eq(c.fwmark, 0x42);
	ck_assert_uint_eq(c.mtu, 1400);
	ck_assert(c.save_config);
	ck_assert_uint_eq(c.n_addresses, 1);
	ck_assert_uint_eq(c.post_up.n, 1);
	ck_assert_uint_eq(c.n_peers, 2);
	ck_assert_mem_eq(c.peers[0].public_key, v.peers[0].public_key,
			 WG_KEY_LEN);
	ck_assert(c.peers[0].has_psk);
	ck_assert_mem_eq(c.peers[0].psk, v.peers[0].psk, WG_KEY_LEN);
	ck_assert_uint_eq(c.peers[0].n_allowed_ips, 2);
	ck_assert_str_eq(c.peers[0].endpoint_host, "198.18.0.2");
	ck_assert_str_eq(c.peers[0].endpoint_port, "51821");
	ck_assert_uint_eq(c.peers[0].persistent_keepalive, 25);
	ck_assert(!c.peers[1].has_psk);
	ck_assert_ptr_null(c.peers[1].endpoint_host);
	ck_assert_uint_eq(c.peers[1].n_allowed_ips, 0);
	config_free(&c);
	free(got);
	uapi_view_free(&v);
}
END_TEST

struct odd_case {
	const char *orig, *want_head; /* want_head: %s is the private key */
};

/* Odd files `up` takes too: never a crash, the device written exactly
 * once, the lines kept as they are. */
static const struct odd_case odd[] = {
	/* Every blank the parser trims (found by fuzz_save). */
	{ "\v\f[Interface]\t\r\n\vListenPort\f= 1\nMTU = 1300\n"
	  "PrivateKey = " FILE_KEY "\n",
	  "\v\f[Interface]\t\r\nPrivateKey = %s\nListenPort = 51999\n"
	  "FwMark = 0x42\nMTU = 1300\n" },
	/* A byte order mark before the header (the parser takes it). */
	{ "\xef\xbb\xbf[Interface]\nListenPort = 1\nMTU = 1300\n"
	  "PrivateKey = " FILE_KEY,
	  "\xef\xbb\xbf[Interface]\nPrivateKey = %s\nListenPort = 51999\n"
	  "FwMark = 0x42\nMTU = 1300\n" },
	{ "[Interface]\r\nMTU = 1300\r\nListenPort = 1\r\n"
	  "PrivateKey = " FILE_KEY "\r\n",
	  "[Interface]\r\nPrivateKey = %s\nListenPort = 51999\n"
	  "FwMark = 0x42\nMTU = 1300\r\n" },
	/* The [Peer] before the [Interface], comments around them. */
	{ "# a\n\n[Peer]\nPublicKey = " FILE_KEY "\n# b\n\n"
	  "[Interface] # c\nPrivateKey = " FILE_KEY "\n# d\n\n",
	  "# a\n\n[Interface] # c\nPrivateKey = %s\nListenPort = 51999\n"
	  "FwMark = 0x42\n# d\n" },
};

/* Files `up` would not take, or edited since into ones it would not:
 * the parser refuses them, so `down` leaves them as they are. */
static const char *const refused[] = {
	"",
	"Address = 10.1.0.1/24",
	"[Peer]\nPublicKey = x\n",
	"[ interface ]\n[Interface]\nThreads = 2",
	"[Interface]\n[\n]\n=\nListenPort\n#[Peer]\n",
	"[Interface]\n[Other]\nx = 1\n[Peer]\nx = 2\n",
};

START_TEST(test_odd_files)
{
	struct uapi_view v;
	char want[4096], head[1024], peers[1024];
	char *got;

	make_view(&v);
	peers_text(peers, sizeof(peers));
	snprintf(head, sizeof(head), odd[_i].want_head, priv_b64);
	snprintf(want, sizeof(want), "%s%s", head, peers);
	got = saved(odd[_i].orig, &v);
	ck_assert_str_eq(got, want);
	free(got);
	uapi_view_free(&v);
}
END_TEST

/* A device without a key or peers: no PrivateKey, no FwMark, no [Peer]. */
START_TEST(test_refused_files)
{
	struct config file;
	char err[512] = "";

	ck_assert_int_eq(config_parse(&file, "wg0.conf", refused[_i],
				      strlen(refused[_i]), err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(test_empty_device)
{
	struct uapi_view v = { .listen_port = 7 };
	char *got = saved("[Interface]\nPrivateKey = " FILE_KEY "\n[Peer]\n"
			  "PublicKey = BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\n",
			  &v);

	ck_assert_str_eq(got, "[Interface]\nListenPort = 7\n");
	free(got);
}
END_TEST

static char dir[64];

static void file_put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void file_is(const char *path, const char *text)
{
	char buf[256] = "";
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(read(fd, buf, sizeof(buf) - 1), 0);
	close(fd);
	ck_assert_str_eq(buf, text);
}

static size_t entries(void)
{
	DIR *d = opendir(dir);
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;
}

/* A fresh template each time: without fork (CK_FORK=no, valgrind) the
 * last test's name is still in dir. */
static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_save_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_replace_keeps_mode)
{
	static const mode_t modes[] = { 0600, 0640, 0644, 0400 };
	char path[128];
	struct stat st;
	int lost = -1;

	snprintf(path, sizeof(path), "%s/wg0.conf", dir);
	for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
		file_put(path, "old\n", modes[i]);
		ck_assert_int_eq(file_replace(path, "new\n", 4, &lost), 0);
		ck_assert_int_eq(lost, 0);
		file_is(path, "new\n");
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, modes[i]);
		ck_assert_uint_eq(entries(), 1);
	}
}
END_TEST

START_TEST(test_replace_follows_link)
{
	char path[128], link[128];
	struct stat st;
	int lost;

	snprintf(path, sizeof(path), "%s/real.conf", dir);
	snprintf(link, sizeof(link), "%s/wg0.conf", dir);
	file_put(path, "old\n", 0600);
	ck_assert_int_eq(symlink("real.conf", link), 0);
	ck_assert_int_eq(file_replace(link, "new\n", 4, &lost), 0);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	file_is(path, "new\n");
	ck_assert_uint_eq(entries(), 2);
}
END_TEST

START_TEST(test_replace_failures)
{
	char path[128];
	int lost;

	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	ck_assert_int_eq(file_replace(path, "x", 1, &lost), -ENOENT);
	ck_assert_uint_eq(entries(), 0);
	/* A directory where the file should be: rename refuses. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_lt(file_replace(path, "x", 1, &lost), 0);
	ck_assert_uint_eq(entries(), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("save_config");
	TCase *text = tcase_create("text");
	TCase *replace = tcase_create("replace");

	if (crypto_init())
		return EXIT_FAILURE;
	tcase_add_test(text, test_text);
	tcase_add_test(text, test_parses_back);
	tcase_add_test(text, test_again_the_same);
	tcase_add_loop_test(text, test_odd_files, 0,
			    sizeof(odd) / sizeof(odd[0]));
	tcase_add_loop_test(text, test_refused_files, 0,
			    sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(text, test_empty_device);
	tcase_add_checked_fixture(replace, setup, teardown);
	tcase_add_test(replace, test_replace_keeps_mode);
	tcase_add_test(replace, test_replace_follows_link);
	tcase_add_test(replace, test_replace_failures);
	suite_add_tcase(s, text);
	suite_add_tcase(s, replace);
	return run_suite(s);
}
