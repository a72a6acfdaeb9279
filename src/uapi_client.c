#include "src/uapi_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/uapi_server.h"

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

static int read_reply(int fd, char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *e;

	while (buf) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *p = realloc(buf, cap *= 2);

			if (!p)
				break;
			buf = p;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n ? -errno : -EPROTO;
		}
		len += (size_t)n;
		if ((e = find_errno(buf, len))) {
			long v = strtol(e + 6, NULL, 10);

			*e = '\0';
			*out = buf;
			return v < 0 ? (int)v : -(int)v;
		}
	}
	free(buf);
	return -ENOMEM;
}

int uapi_client_request(const char *ifname, const char *req, size_t len,
			char **reply)
{
	int fd = connect_to(ifname), ret;

	*reply = NULL;
	if (fd < 0)
		return fd;
	ret = send_all(fd, req, len);
	if (!ret)
		ret = read_reply(fd, reply);
	close(fd);
	return ret;
}
