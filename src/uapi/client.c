#include "src/uapi/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/uapi/server.h"

static int connect_to(const char *ifname)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, n;

	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock",
		     UAPI_DIR, ifname);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		n = errno == ECONNREFUSED ? -ENOENT : -errno;
		close(fd);
		return n;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The errno line that ends a reply, or NULL while it has not come. */
static char *find_errno(char *buf, size_t len)
{
	char *p;

	buf[len] = '\0';
	if (len < 2 || memcmp(buf + len - 2, "\n\n", 2))
		return NULL;
	if (!strncmp(buf, "errno=", 6))
		return buf;
	p = strstr(buf, "\nerrno=");
	return p ? p + 1 : NULL;
}

/* Reads into b until the errno line; the text before it stays in b. */
static int read_reply(int fd, struct secret_buf *b)
{
	for (;;) {
		ssize_t n;
		char *e;

		if (b->len + 1 >= b->cap &&
		    secret_buf_reserve(b, b->cap ? b->cap * 2 : 4096))
			return -ENOMEM;
		n = recv(fd, b->data + b->len, b->cap - b->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPROTO;
		b->len += (size_t)n;
		if ((e = find_errno(b->data, b->len))) {
			long v = strtol(e + 6, NULL, 10);

			*e = '\0';
			b->len = (size_t)(e - b->data);
			return v < 0 ? (int)v : -(int)v;
		}
	}
}

int uapi_client_request(const char *ifname, const char *req, size_t len,
			struct secret_buf *reply)
{
	int fd = connect_to(ifname), ret;

	*reply = (struct secret_buf){ 0 };
	if (fd < 0)
		return fd;
	ret = send_all(fd, req, len);
	if (!ret)
		ret = read_reply(fd, reply);
	close(fd);
	if (ret)
		secret_buf_free(reply);
	return ret;
}
