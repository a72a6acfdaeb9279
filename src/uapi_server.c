#include "src/uapi_server.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "src/rundir.h"

#define READ_CHUNK 65536
#define REPLY_TIMEOUT_S 2

static int set_path(struct uapi_server *s, const char *ifname)
{
	int n = snprintf(s->path, sizeof(s->path), "%s/%s.sock", UAPI_DIR,
			 ifname);

	return n < 0 || (size_t)n >= sizeof(s->path) ? -ENAMETOOLONG : 0;
}

/* Whether a daemon answers on path: connecting tells. */
static bool someone_listens(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool yes;

	if (fd < 0)
		return false;
	yes = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return yes;
}

static int bind_socket(struct uapi_server *s, const struct sockaddr_un *sun)
{
	mode_t old = umask(077); /* the socket file is born 0600 */
	int ret = bind(s->listen_fd, (const struct sockaddr *)sun,
		       sizeof(*sun));

	ret = ret ? -errno : 0;
	umask(old);
	if (ret == -EADDRINUSE && !someone_listens(sun)) {
		unlink(s->path); /* left behind by a crash */
		old = umask(077);
		ret = bind(s->listen_fd, (const struct sockaddr *)sun,
			   sizeof(*sun)) ? -errno : 0;
		umask(old);
	}
	return ret;
}

void uapi_server_init(struct uapi_server *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < UAPI_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	s->listen_fd = -1;
}

int uapi_server_open(struct uapi_server *s, const char *ifname)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int ret;

	uapi_server_init(s);
	ret = set_path(s, ifname);
	if (!ret) /* made by another implementation, it stays as it is */
		ret = rundir_make_shared(UAPI_DIR);
	if (ret)
		return ret;
	memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
				       SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0)
		return -errno;
	ret = bind_socket(s, &sun);
	/* 0600 as the protocol's users expect (bind gives 0700 under our
	 * umask: x means nothing on a socket). */
	if (!ret && chmod(s->path, 0600))
		ret = -errno;
	if (!ret && listen(s->listen_fd, UAPI_MAX_CONNS))
		ret = -errno;
	if (!ret && stat(s->path, &st))
		ret = -errno;
	if (ret) {
		close(s->listen_fd);
		s->listen_fd = -1;
		return ret;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

static void conn_close(struct uapi_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	secret_buf_free(&c->in);
	c->fd = -1;
}

bool uapi_server_gone(const struct uapi_server *s)
{
	struct stat st;

	if (s->listen_fd < 0)
		return false;
	return stat(s->path, &st) || st.st_dev != s->dev ||
	       st.st_ino != s->ino;
}

void uapi_server_close(struct uapi_server *s)
{
	for (int i = 0; i < UAPI_MAX_CONNS; i++)
		conn_close(&s->conns[i]);
	if (s->listen_fd < 0)
		return;
	if (!uapi_server_gone(s))
		unlink(s->path);
	close(s->listen_fd);
	s->listen_fd = -1;
}

unsigned uapi_server_pollfds(const struct uapi_server *s, struct pollfd *pfd)
{
	unsigned n = 0;

	if (s->listen_fd < 0)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	for (int i = 0; i < UAPI_MAX_CONNS; i++)
		if (s->conns[i].fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = s->conns[i].fd,
						    .events = POLLIN };
	return n;
}

static struct uapi_conn *free_slot(struct uapi_server *s)
{
	struct uapi_conn *oldest = &s->conns[0];

	for (int i = 0; i < UAPI_MAX_CONNS; i++) {
		if (s->conns[i].fd < 0)
			return &s->conns[i];
		if (s->conns[i].opened < oldest->opened)
			oldest = &s->conns[i];
	}
	conn_close(oldest);
	return oldest;
}

static void accept_all(struct uapi_server *s)
{
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	int fd;

	while ((fd = accept4(s->listen_fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct uapi_conn *c = free_slot(s);

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		c->fd = fd;
		c->opened = ++s->accepted;
	}
}

/* Replies are written with blocking sends bounded by SO_SNDTIMEO. */
static int send_all(int fd, const char *p, size_t len)
{
	int flags = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	fcntl(fd, F_SETFL, flags);
	return 0;
}

static int reply(struct uapi_conn *c, const char *req, size_t len,
		 uapi_handler fn, void *arg)
{
	struct secret_buf out = { 0 };
	FILE *f = secret_buf_stream(&out);
	int ret;

	if (!f)
		return -ENOMEM;
	fn(arg, req, len, f);
	ret = secret_buf_stream_close(f);
	if (!ret)
		ret = send_all(c->fd, out.data, out.len);
	secret_buf_free(&out);
	return ret;
}

/* The end of the first complete request in buf: just past its empty
 * line, or 0 when it has not all arrived. */
static size_t request_end(const char *buf, size_t len)
{
	const char *p;

	if (len && buf[0] == '\n')
		return 1;
	p = memmem(buf, len, "\n\n", 2);
	return p ? (size_t)(p - buf) + 2 : 0;
}

static int serve_requests(struct uapi_conn *c, uapi_handler fn, void *arg)
{
	size_t end;

	while ((end = request_end(c->in.data, c->in.len))) {
		int ret = reply(c, c->in.data, end, fn, arg);

		if (ret)
			return ret;
		memmove(c->in.data, c->in.data + end, c->in.len - end);
		c->in.len -= end;
		/* The answered request may have carried a private key. */
		sodium_memzero(c->in.data + c->in.len, end);
	}
	return 0;
}

static int grow(struct uapi_conn *c)
{
	if (c->in.cap >= UAPI_MAX_REQUEST)
		return -EMSGSIZE;
	return secret_buf_reserve(&c->in, c->in.cap ? c->in.cap * 2 :
						     READ_CHUNK);
}

static void refuse(struct uapi_conn *c, int err)
{
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "errno=%d\n\n", err);

	send_all(c->fd, msg, (size_t)n);
}

/* Reads what is there; a closed or failed connection is dropped. */
static void serve_conn(struct uapi_conn *c, uapi_handler fn, void *arg)
{
	for (;;) {
		ssize_t n;
		int ret;

		if (c->in.len == c->in.cap && (ret = grow(c))) {
			refuse(c, ret);
			break;
		}
		n = recv(c->fd, c->in.data + c->in.len,
			 c->in.cap - c->in.len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		c->in.len += (size_t)n;
		if (serve_requests(c, fn, arg))
			break;
	}
	conn_close(c);
}

static struct uapi_conn *conn_of(struct uapi_server *s, int fd)
{
	for (int i = 0; i < UAPI_MAX_CONNS; i++)
		if (s->conns[i].fd == fd)
			return &s->conns[i];
	return NULL;
}

void uapi_server_serve(struct uapi_server *s, const struct pollfd *pfd,
		       unsigned n, uapi_handler fn, void *arg)
{
	for (unsigned i = 1; i < n; i++) {
		struct uapi_conn *c;

		if (!pfd[i].revents || !(c = conn_of(s, pfd[i].fd)))
			continue;
		serve_conn(c, fn, arg);
	}
	if (n && (pfd[0].revents & POLLIN))
		accept_all(s);
}
