#include "src/secret_buf.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *secret_realloc(void *old, size_t used, size_t old_size,
		     size_t new_size)
{
	void *p = malloc(new_size);

	if (p && old) {
		memcpy(p, old, used);
		sodium_memzero(old, old_size);
		free(old);
	}
	return p;
}

int secret_buf_reserve(struct secret_buf *b, size_t cap)
{
	char *p;

	if (cap <= b->cap)
		return 0;
	p = secret_realloc(b->data, b->len, b->cap, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int secret_buf_read_fd(struct secret_buf *b, int fd, size_t max)
{
	for (;;) {
		ssize_t r;

		/* Room for one byte past max tells "too big". */
		if (b->len == b->cap) {
			if (b->cap > max)
				return -EFBIG;
			if (secret_buf_reserve(b, b->cap ? b->cap * 2 : 4096))
				return -ENOMEM;
		}
		r = read(fd, b->data + b->len, b->cap - b->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return b->len > max ? -EFBIG : 0;
		b->len += (size_t)r;
	}
}

void secret_buf_free(struct secret_buf *b)
{
	if (b->data)
		sodium_memzero(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static ssize_t stream_write(void *cookie, const char *p, size_t n)
{
	struct secret_buf *b = cookie;
	size_t cap = b->cap ? b->cap : 256;

	if (n > SIZE_MAX / 2 - b->len) {
		errno = ENOMEM;
		return -1;
	}
	while (cap < b->len + n)
		cap *= 2;
	if (secret_buf_reserve(b, cap)) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return (ssize_t)n;
}

FILE *secret_buf_stream(struct secret_buf *b)
{
	cookie_io_functions_t io = { .write = stream_write };
	FILE *f = fopencookie(b, "w", io);

	if (f && setvbuf(f, NULL, _IONBF, 0)) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

int secret_buf_stream_close(FILE *f)
{
	bool failed = ferror(f);

	return fclose(f) || failed ? -ENOMEM : 0;
}
