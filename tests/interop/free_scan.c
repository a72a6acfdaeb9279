/* free_scan.so, loaded with LD_PRELOAD by key_wipe.sh: before a heap
 * block goes back to the allocator (by free, or as the old block of a
 * realloc) it is searched for the keys listed in the file named by
 * RV_FREE_SCAN_KEYS (base64, one a line), each in three forms: its raw 32
 * bytes, its base64 text and its lowercase hex text (the UAPI's). Every
 * find is one line appended to the file named by RV_FREE_SCAN_LOG: a key
 * left in freed memory is handed to the next malloc of that memory. The
 * whole usable block is searched, bytes its owner never wrote included:
 * a small block carved from a big one freed unwiped carries that block's
 * keys, and is found again when it is freed.
 *
 * realloc never grows in place here: it always takes a new block and
 * scans and frees the old one, so a key-bearing buffer that grows is
 * caught whether or not glibc would have moved it. glibc calls malloc,
 * realloc and free through the PLT (so that they may be replaced), hence
 * its own buffers (open_memstream's, getline's) pass through here too.
 *
 * The hooks run inside the allocator's callers, so they never allocate:
 * the needles live in one static struct (the hooks get no context
 * argument), the log is written with open and write. A file that is
 * missing or holds no key is logged as an error, so that a broken setup
 * fails the test instead of finding nothing. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* glibc's allocator under the names it exports for wrappers like this. */
void *__libc_malloc(size_t size);
void __libc_free(void *p);

#define MAX_KEYS 16
#define KEY_LEN 32
#define B64_LEN 44
#define HEX_LEN 64

enum form { RAW, BASE64, HEX, FORMS };

static const char *const form_name[FORMS] = { "raw", "base64", "hex" };

struct needle {
	char bytes[HEX_LEN];
	size_t len;
};

static struct {
	struct needle needles[MAX_KEYS][FORMS];
	int n_keys;
	const char *log;
} scan;

static void log_line(const char *line, size_t len)
{
	int fd = open(scan.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		      0600);

	if (fd < 0)
		return;
	if (write(fd, line, len) < 0) {
		/* nothing to be done about it from inside free() */
	}
	close(fd);
}

/* snprintf of plain conversions (no widths, no positional arguments):
 * glibc formats those without malloc. */
static void report(int key, enum form f, size_t size)
{
	char line[200];
	int n = snprintf(line, sizeof(line), "%s[%ld]: key %d (%s) in a "
			 "freed block of %zu bytes\n",
			 program_invocation_short_name, (long)getpid(),
			 key + 1, form_name[f], size);

	if (n > 0)
		log_line(line, (size_t)n < sizeof(line) ? (size_t)n :
			 sizeof(line) - 1);
}

static void scan_block(void *p)
{
	size_t size = malloc_usable_size(p);

	for (int k = 0; k < scan.n_keys; k++)
		for (int f = 0; f < FORMS; f++)
			if (memmem(p, size, scan.needles[k][f].bytes,
				   scan.needles[k][f].len))
				report(k, (enum form)f, size);
}

void free(void *p)
{
	int saved = errno; /* free never changes errno */

	if (p && scan.n_keys)
		scan_block(p);
	__libc_free(p);
	errno = saved;
}

void *realloc(void *old, size_t size)
{
	size_t keep;
	void *p;

	if (!old)
		return __libc_malloc(size);
	if (!size) { /* glibc's realloc(p, 0) frees */
		free(old);
		return NULL;
	}
	p = __libc_malloc(size);
	if (!p)
		return NULL; /* old stays valid, as realloc promises */
	keep = malloc_usable_size(old);
	memcpy(p, old, keep < size ? keep : size);
	free(old);
	return p;
}

void *reallocarray(void *old, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(old, bytes);
}

static bool base64_decode(const char *s, uint8_t out[KEY_LEN])
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (int i = 0; i < B64_LEN - 1; i++) {
		const char *d = s[i] ? strchr(digits, s[i]) : NULL;

		if (!d)
			return false;
		acc = acc << 6 | (uint32_t)(d - digits);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n == KEY_LEN && s[B64_LEN - 1] == '=';
}

/* The three needles of the base64 key s[0..len), or false if it is not
 * one. */
static bool add_key(const char *s, size_t len)
{
	struct needle *n = scan.needles[scan.n_keys];
	uint8_t raw[KEY_LEN];

	if (scan.n_keys == MAX_KEYS || len != B64_LEN ||
	    !base64_decode(s, raw))
		return false;
	memcpy(n[RAW].bytes, raw, KEY_LEN);
	n[RAW].len = KEY_LEN;
	memcpy(n[BASE64].bytes, s, B64_LEN);
	n[BASE64].len = B64_LEN;
	for (int i = 0; i < KEY_LEN; i++) {
		n[HEX].bytes[2 * i] = "0123456789abcdef"[raw[i] >> 4];
		n[HEX].bytes[2 * i + 1] = "0123456789abcdef"[raw[i] & 15];
	}
	n[HEX].len = HEX_LEN;
	scan.n_keys++;
	return true;
}

/* Reads the key file into a static buffer (no malloc before main). */
static bool read_keys(const char *path)
{
	static char buf[MAX_KEYS * (B64_LEN + 2) + 1];
	size_t len = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (len < sizeof(buf) - 1 &&
	       (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	for (char *l = buf, *end; *l; l = end + (*end == '\n')) {
		end = l + strcspn(l, "\n");
		if (end > l && !add_key(l, (size_t)(end - l)))
			return false;
	}
	return scan.n_keys > 0;
}

__attribute__((constructor)) static void scan_init(void)
{
	static const char broken[] = "free_scan: RV_FREE_SCAN_KEYS names no "
				     "readable file of base64 keys\n";
	const char *keys = getenv("RV_FREE_SCAN_KEYS");

	scan.log = getenv("RV_FREE_SCAN_LOG");
	if (!scan.log)
		return;
	if (!keys || !read_keys(keys)) {
		scan.n_keys = 0;
		log_line(broken, sizeof(broken) - 1);
	}
}
