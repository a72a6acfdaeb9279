/* Byte buffers that may hold keys (a UAPI request with private_key=, a
 * get=1 reply): growing one copies and wipes the old block instead of
 * realloc'ing it, and freeing one wipes it, so no copy of a key is left
 * in freed memory. A FILE can write into one, for fprintf-built replies
 * (open_memstream would leave its realloc'd copies behind). */
#ifndef RINGVPN_SRC_SECRET_BUF_H
#define RINGVPN_SRC_SECRET_BUF_H

#include <stddef.h>
#include <stdio.h>

struct secret_buf {
	char *data;
	size_t len, cap;
};

/* realloc for blocks that may hold secrets: a new block of new_size
 * bytes gets the first used bytes of old, and all old_size bytes of old
 * are wiped before it is freed. NULL (old untouched) when out of memory. */
void *secret_realloc(void *old, size_t used, size_t old_size,
		     size_t new_size);
/* Room for at least cap bytes; 0 or -ENOMEM (the buffer is unchanged). */
int secret_buf_reserve(struct secret_buf *b, size_t cap);
/* Appends all of fd to b: 0, -EFBIG once b would hold more than max
 * bytes, or read's -errno. The one file reader: a config file holds
 * keys, and a journal is small enough not to mind the wiping. */
int secret_buf_read_fd(struct secret_buf *b, int fd, size_t max);
/* Wipes and frees; the buffer is empty and usable again. */
void secret_buf_free(struct secret_buf *b);
/* An unbuffered stream appending to b (stdio keeps no copy of its own);
 * NULL with errno on failure. Close it with secret_buf_stream_close
 * before reading b. */
FILE *secret_buf_stream(struct secret_buf *b);
/* Closes f; 0, or -ENOMEM when any write to it failed (b then holds only
 * part of the text). fclose alone cannot tell: on an unbuffered stream a
 * failed write is only in the error flag, and fclose has nothing left to
 * flush. */
int secret_buf_stream_close(FILE *f);

#endif
