#include "src/uapi/server.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/rundir.h"

#define READ_CHUNK 65536

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

/* sun with the temporary name the socket listens under before it is
 * renamed into place: hidden, and not ending in .sock, so that wg(8)
 * lists no interface by it. */
static int temp_name(const char *ifname, struct sockaddr_un *tmp)
{
	int n = snprintf(tmp->sun_path, sizeof(tmp->sun_path),
			 "%s/.%s.sock.%ld", UAPI_DIR, ifname, (long)getpid());

	tmp->sun_family = AF_UNIX;
	return n < 0 || (size_t)n >= sizeof(tmp->sun_path) ? -ENAMETOOLONG : 0;
}

/* Listening under a temporary name first, and only then renamed into
 * place: a client that finds the file can connect. (wg(8) removes a
 * socket file that refuses it, taking it for a crashed daemon's: one
 * that looked between bind and listen would remove ours.) A file there
 * that nobody answers on is a crashed daemon's, and is replaced. */
static int bind_socket(struct uapi_server *s, const char *ifname,
		       const struct sockaddr_un *sun)
{
	struct sockaddr_un tmp;
	mode_t old;
	int ret = temp_name(ifname, &tmp);

	if (ret)
		return ret;
	if (someone_listens(sun))
		return -EADDRINUSE;
	unlink(tmp.sun_path); /* a run of ours with this pid that crashed */
	old = umask(077); /* the socket file is born 0600 */
	ret = bind(s->listen_fd, (const struct sockaddr *)&tmp, sizeof(tmp));
	ret = ret ? -errno : 0;
	umask(old);
	/* 0600 as the protocol's users expect (bind gives 0700 under our
	 * umask: x means nothing on a socket). */
	if (!ret && chmod(tmp.sun_path, 0600))
		ret = -errno;
	if (!ret && listen(s->listen_fd, UAPI_MAX_CONNS))
		ret = -errno;
	if (!ret && rename(tmp.sun_path, s->path))
		ret = -errno;
	if (ret)
		unlink(tmp.sun_path);
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
	ret = bind_socket(s, ifname, &sun);
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
	secret_buf_free(&c->out);
	c->fd = -1;
	c->scanned = 0;
	c->sent = 0;
	c->deadline_ms = 0;
	c->closing = false;
}

bool uapi_server_gone(const struct uapi_server *s)
{
	struct stat st;

	if (s->listen_fd < 0)
		return false;
	return stat(s->path, &st) || st.st_dev != s->dev ||
	       st.st_ino != s->ino;
}

bool uapi_socket_present(const char *ifname)
{
	struct uapi_server s;
	struct stat st;

	return !set_path(&s, ifname) && !stat(s.path, &st) &&
	       S_ISSOCK(st.st_mode);
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
	for (int i = 0; i < UAPI_MAX_CONNS; i++) {
		const struct uapi_conn *c = &s->conns[i];

		if (c->fd >= 0)
			pfd[n++] = (struct pollfd){
				.fd = c->fd,
				.events = c->out.len ? POLLOUT : POLLIN,
			};
	}
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
	int fd;

	while ((fd = accept4(s->listen_fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct uapi_conn *c = free_slot(s);

		c->fd = fd;
		c->opened = ++s->accepted;
	}
}

/* Sends what the socket takes now. 0 when the reply is all sent (its
 * buffer wiped: it may have held a private key) or the rest must wait
 * for POLLOUT; -errno when the client is gone. */
static int flush(struct uapi_conn *c)
{
	if (!c->out.len)
		return 0;
	while (c->sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->sent,
				 c->out.len - c->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -errno;
		c->sent += (size_t)n;
	}
	secret_buf_free(&c->out);
	c->sent = 0;
	c->deadline_ms = 0; /* that request is done */
	return 0;
}

/* A request's clock starts when its first byte is there to be served:
 * on arrival, or once the reply before it is sent. */
static void start_clock(struct uapi_conn *c, uint64_t now_ms)
{
	if (!c->deadline_ms && c->in.len)
		c->deadline_ms = now_ms + UAPI_DEADLINE_MS;
}

/* The end of the first complete request in c->in: just past its empty
 * line, or 0 when it has not all arrived. Only what came since the last
 * call is searched (and the byte before, for a "\n\n" split between
 * reads): a long request arrives in thousands of reads, and searching
 * it all each time would keep the control thread busy for seconds. */
static size_t request_end(struct uapi_conn *c)
{
	size_t from = c->scanned ? c->scanned - 1 : 0;
	const char *p;

	if (!c->in.len) /* and data may be NULL, which memmem must not get */
		return 0;
	if (c->in.data[0] == '\n')
		return 1;
	p = memmem(c->in.data + from, c->in.len - from, "\n\n", 2);
	if (p)
		return (size_t)(p - c->in.data) + 2;
	c->scanned = c->in.len;
	return 0;
}

/* Drops the first len bytes of c->in and wipes the tail they leave: an
 * answered request may have carried a private key. */
static void consume(struct uapi_conn *c, size_t len)
{
	struct secret_buf *b = &c->in;

	memmove(b->data, b->data + len, b->len - len);
	b->len -= len;
	sodium_memzero(b->data + b->len, len);
	c->scanned = 0;
}

/* Writes the reply to the request that ends at end into the (empty)
 * output queue. */
static int answer(struct uapi_conn *c, size_t end, uapi_handler fn,
		  void *arg)
{
	FILE *f = secret_buf_stream(&c->out);

	if (!f)
		return -ENOMEM;
	fn(arg, c->in.data, end, f);
	consume(c, end);
	return secret_buf_stream_close(f);
}

/* Sends what is queued and answers the next complete request each time
 * the queue empties, for as long as the socket takes the replies. 0 when
 * waiting for the client (to read or to send); -errno to close. */
static int progress(struct uapi_conn *c, uint64_t now_ms, uapi_handler fn,
		    void *arg)
{
	for (;;) {
		size_t end;
		int ret = flush(c);

		if (ret)
			return ret;
		if (c->out.len)
			return 0; /* the rest waits for POLLOUT */
		if (c->closing)
			return -ECONNABORTED; /* the refusal is sent */
		start_clock(c, now_ms);
		end = request_end(c);
		if (!end)
			return 0;
		ret = answer(c, end, fn, arg);
		if (ret)
			return ret;
	}
}

static int grow(struct uapi_conn *c)
{
	if (c->in.cap >= UAPI_MAX_REQUEST)
		return -EMSGSIZE;
	return secret_buf_reserve(&c->in, c->in.cap ? c->in.cap * 2 :
						     READ_CHUNK);
}

/* The request cannot be parsed: its errno goes out through the queue
 * like any reply, then the connection closes. What came of it is wiped
 * at once: it is never answered. */
static int refuse(struct uapi_conn *c, int err)
{
	FILE *f = secret_buf_stream(&c->out);

	secret_buf_free(&c->in);
	c->scanned = 0;
	if (!f)
		return -ENOMEM;
	fprintf(f, "errno=%d\n\n", err);
	c->closing = true;
	return fclose(f) ? -ENOMEM : 0;
}

/* One non-blocking read into c->in, or a refusal queued when the request
 * is over-long (or no memory is left for it). 1 when there is something
 * new to serve, 0 when the socket has nothing, -errno when the client
 * closed or failed. */
static int read_some(struct uapi_conn *c)
{
	ssize_t n;
	int ret;

	if (c->in.len == c->in.cap && (ret = grow(c))) {
		ret = refuse(c, ret);
		return ret ? ret : 1; /* the refusal is to be sent */
	}
	do
		n = recv(c->fd, c->in.data + c->in.len,
			 c->in.cap - c->in.len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	c->in.len += (size_t)n;
	return 1;
}

/* Moves what the socket allows; reads only while no reply is queued, so
 * a client that does not read its replies is sent no more of them. */
static int serve_conn(struct uapi_conn *c, uint64_t now_ms, uapi_handler fn,
		      void *arg)
{
	for (;;) {
		int ret = progress(c, now_ms, fn, arg);

		if (ret || c->out.len)
			return ret;
		ret = read_some(c);
		if (ret <= 0)
			return ret;
	}
}

static struct uapi_conn *conn_of(struct uapi_server *s, int fd)
{
	for (int i = 0; i < UAPI_MAX_CONNS; i++)
		if (s->conns[i].fd == fd)
			return &s->conns[i];
	return NULL;
}

/* Whether poll said nothing about it or not: a request past its deadline
 * closes its connection. */
static void close_late(struct uapi_server *s, uint64_t now_ms)
{
	for (int i = 0; i < UAPI_MAX_CONNS; i++) {
		struct uapi_conn *c = &s->conns[i];

		if (c->fd >= 0 && c->deadline_ms && now_ms >= c->deadline_ms)
			conn_close(c);
	}
}

void uapi_server_serve(struct uapi_server *s, const struct pollfd *pfd,
		       unsigned n, uint64_t now_ms, uapi_handler fn,
		       void *arg)
{
	close_late(s, now_ms);
	for (unsigned i = 1; i < n; i++) {
		struct uapi_conn *c;

		if (!pfd[i].revents || !(c = conn_of(s, pfd[i].fd)))
			continue;
		if (serve_conn(c, now_ms, fn, arg))
			conn_close(c);
	}
	if (n && (pfd[0].revents & POLLIN))
		accept_all(s);
}
