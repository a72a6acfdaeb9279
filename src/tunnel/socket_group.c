#include "src/tunnel/socket_group.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/clock.h"
#include "src/log.h"
#include "src/source_addr.h"
#include "src/tunnel/workers.h"
#include "src/worker/worker.h"

#define SOCKET_BUFFER (4 << 20)
#define PORT_RETRIES 40
#define PORT_RETRY_MS 50
/* Closed sockets outlive close(2) by a moment: the io_uring requests
 * that hold them are cancelled by a kernel worker once the ring is
 * closed. */
#define CLOSE_WAIT_MS 2000
#define CLOSE_STEP_MS 2

/* One socket per worker in a SO_REUSEPORT group, so the kernel spreads
 * incoming flows over the workers. Dual stack when the host has IPv6. */
static int open_socket(struct tunnel *tn, uint16_t port, bool reuse)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int one = 1, zero = 0, size = SOCKET_BUFFER, fd, ret;

	fd = socket(tn->dp.sock_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (tn->dp.sock_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (reuse)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (tn->fwmark &&
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &tn->fwmark,
		       sizeof(tn->fwmark)))
		goto fail;
	/* Each datagram's destination: replies leave from it. */
	if (source_addr_enable(fd, tn->dp.sock_family))
		goto fail;
	/* Root may exceed rmem_max/wmem_max; fall back to what we may. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	ret = tn->dp.sock_family == AF_INET6 ?
		bind(fd, (struct sockaddr *)&a6, sizeof(a6)) :
		bind(fd, (struct sockaddr *)&a4, sizeof(a4));
	if (ret)
		goto fail;
	return fd;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ?
		     ((struct sockaddr_in6 *)&ss)->sin6_port :
		     ((struct sockaddr_in *)&ss)->sin_port);
}

/* A fixed port must be free: SO_REUSEPORT would otherwise let us join
 * another process's group silently. A probe without it finds out. */
static int check_port_free(struct tunnel *tn, uint16_t port)
{
	int fd;

	if (!port)
		return 0;
	fd = open_socket(tn, port, false);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* n_workers sockets on port (0: any free one) into fds, all -1 on
 * failure; *bound is the port they share. */
static int open_socket_group(struct tunnel *tn, uint16_t port, int *fds,
			     uint16_t *bound)
{
	int ret = check_port_free(tn, port);

	for (unsigned i = 0; i < tn->n_workers; i++)
		fds[i] = -1;
	for (unsigned i = 0; !ret && i < tn->n_workers; i++) {
		fds[i] = open_socket(tn, port, true);
		if (fds[i] < 0) {
			ret = fds[i];
			fds[i] = -1;
			break;
		}
		port = bound_port(fds[i]);
	}
	for (unsigned i = 0; ret && i < tn->n_workers; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	*bound = port;
	return ret;
}

int socket_group_open(struct tunnel *tn, int *fds, char *err,
		      size_t err_len)
{
	uint16_t port = tn->cfg->has_listen_port ? tn->cfg->listen_port : 0;
	int ret;

	tn->dp.sock_family = AF_INET6;
	ret = check_port_free(tn, port);
	if (ret == -EAFNOSUPPORT)
		tn->dp.sock_family = AF_INET;
	ret = open_socket_group(tn, port, fds, &port);
	/* A run killed a moment ago may still hold the port: the kernel
	 * tears its io_uring rings down (and with them the last references
	 * to its sockets) asynchronously, after the process is gone. */
	for (int i = 0; ret == -EADDRINUSE && i < PORT_RETRIES; i++) {
		if (!i)
			log_info("%s: UDP port %u is in use; waiting up to %d "
				 "ms for it", tn->ifname, port,
				 PORT_RETRIES * PORT_RETRY_MS);
		usleep(PORT_RETRY_MS * 1000);
		ret = open_socket_group(tn, port, fds, &port);
	}
	if (ret) {
		snprintf(err, err_len, "cannot listen on UDP port %u: %s",
			 port, strerror(-ret));
		return ret;
	}
	tn->listen_port = port;
	return 0;
}

static bool port_closed(void *arg)
{
	struct tunnel *tn = arg;

	return check_port_free(tn, tn->listen_port) != -EADDRINUSE;
}

void socket_group_wait_closed(struct tunnel *tn)
{
	if (tn->listen_port &&
	    !wait_until(port_closed, tn, CLOSE_WAIT_MS, CLOSE_STEP_MS))
		log_debug("%s: UDP port %u still in use %d ms after close",
			  tn->ifname, tn->listen_port, CLOSE_WAIT_MS);
}

/* Workers own their sockets, so a new port means new workers on new
 * sockets; the device (peers, sessions) is not theirs and stays. If the
 * new workers cannot start, the tunnel stops: tunnel_run sees stopping. */
int tunnel_set_listen_port(struct tunnel *tn, uint16_t port)
{
	char err[256];
	uint16_t bound;
	int *fds, ret;

	if (port && port == tn->listen_port)
		return 0;
	fds = malloc(tn->n_workers * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	ret = open_socket_group(tn, port, fds, &bound);
	if (ret) {
		free(fds);
		return ret;
	}
	tunnel_workers_stop(tn);
	atomic_store(&tn->dp.stopping, false);
	ret = tunnel_workers_start(tn, fds, err, sizeof(err));
	for (unsigned i = 0; i < tn->n_workers; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	if (ret) {
		log_error("%s: %s", tn->ifname, err);
		atomic_store(&tn->dp.stopping, true);
		return ret;
	}
	tn->listen_port = bound;
	log_info("%s: now on UDP port %u", tn->ifname, bound);
	return 0;
}

/* A socket option, not I/O: setting it from the control thread does not
 * disturb the worker that owns the socket. */
int tunnel_set_fwmark(struct tunnel *tn, uint32_t fwmark)
{
	for (unsigned i = 0; i < tn->n_workers; i++)
		if (setsockopt(tn->workers[i].udp_fd, SOL_SOCKET, SO_MARK,
			       &fwmark, sizeof(fwmark)))
			return -errno;
	tn->fwmark = fwmark;
	return 0;
}
