/* genkey, genpsk and pubkey: byte-compatible with wg(8). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "src/cli/commands.h"

int command_usage(FILE *out, const char *usage, int status)
{
	fprintf(out, "Usage: ringvpn %s\n", usage);
	return status;
}

int command_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

/* With write(2), not stdio: stdout's buffer would keep a private key,
 * unwiped, until the process ends. */
static int print_key(const uint8_t key[WG_KEY_LEN])
{
	char line[WG_KEY_B64_LEN + 1];
	size_t done = 0;

	key_to_base64(line, key);
	line[WG_KEY_B64_LEN] = '\n'; /* in place of the NUL */
	while (done < sizeof(line)) {
		ssize_t n = write(STDOUT_FILENO, line + done,
				  sizeof(line) - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	sodium_memzero(line, sizeof(line));
	if (done < sizeof(line)) {
		perror("ringvpn: writing key");
		return 1;
	}
	return 0;
}

/* Like wg, warn when a secret goes to a file others could read. */
static void warn_if_world_readable(const char *what)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & S_IRWXO))
		fprintf(stderr, "Warning: writing %s to world accessible file.\n",
			what);
}

static int generate(int argc, char **argv, const char *usage, bool preshared)
{
	uint8_t key[WG_KEY_LEN];
	int ret;

	if (command_wants_help(argc, argv))
		return command_usage(stdout, usage, 0);
	if (argc != 1)
		return command_usage(stderr, usage, 1);
	warn_if_world_readable(preshared ? "a preshared key" : "a private key");
	if (preshared)
		key_generate_preshared(key);
	else
		key_generate_private(key);
	ret = print_key(key);
	sodium_memzero(key, sizeof(key));
	return ret;
}

int genkey_main(int argc, char **argv)
{
	return generate(argc, argv, "genkey", false);
}

int genpsk_main(int argc, char **argv)
{
	return generate(argc, argv, "genpsk", true);
}

/* All of stdin, up to cap bytes, with read(2), not stdio: stdin's buffer
 * would keep the private key, unwiped, until the process ends. */
static size_t read_stdin(char *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap) {
		ssize_t n = read(STDIN_FILENO, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	return len;
}

/* Reads one base64 key from stdin; surrounding whitespace is allowed, as
 * wg allows it. */
static int read_key(uint8_t key[WG_KEY_LEN])
{
	char buf[WG_KEY_B64_LEN + 64];
	size_t len = read_stdin(buf, sizeof(buf) - 1);
	char *start = buf, *end;
	int ret;

	buf[len] = '\0';
	while (*start == ' ' || *start == '\t' || *start == '\n' ||
	       *start == '\r')
		start++;
	end = start + strcspn(start, " \t\r\n");
	if (strspn(end, " \t\r\n") != strlen(end))
		end = start; /* something after the key: reject */
	*end = '\0';
	ret = key_from_base64(key, start);
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

int pubkey_main(int argc, char **argv)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	int ret = 1;

	if (command_wants_help(argc, argv))
		return command_usage(stdout, "pubkey < private.key", 0);
	if (argc != 1)
		return command_usage(stderr, "pubkey < private.key", 1);
	if (read_key(priv)) {
		fprintf(stderr, "ringvpn: pubkey: the input is not a base64 "
				"private key (44 characters for 32 bytes)\n");
		goto out;
	}
	/* wg clamps before deriving, so an unclamped key gives the same
	 * public key as its clamped form. */
	key_clamp(priv);
	if (key_public_from_private(pub, priv)) {
		fprintf(stderr, "ringvpn: pubkey: invalid private key\n");
		goto out;
	}
	ret = print_key(pub);
out:
	sodium_memzero(priv, sizeof(priv));
	return ret;
}
