/* The UAPI socket: /var/run/wireguard/IFNAME.sock, a UNIX stream socket
 * (directory 0755, socket 0600, root's) where the standard `wg` tool and
 * wg-quick talk the cross-platform text protocol to us.
 *
 * This file only moves bytes: it accepts connections, gathers each
 * request up to its terminating empty line, hands the whole request to a
 * handler that writes the reply into a memory stream, and sends that
 * back. Non-blocking reads from the control thread's poll loop, so a slow
 * client holds a slot, never the thread; replies are written with a send
 * timeout. */
#ifndef RINGVPN_SRC_UAPI_SERVER_H
#define RINGVPN_SRC_UAPI_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/un.h>

#include "src/secret_buf.h"

#define UAPI_DIR "/var/run/wireguard"
/* Connections served at once; a new one beyond this closes the oldest. */
#define UAPI_MAX_CONNS 8
/* Largest request: a set of about 100,000 peers. Bigger gets EMSGSIZE. */
#define UAPI_MAX_REQUEST (64u << 20)

/* Writes the reply to one complete request (req ends in "\n\n", or is
 * just "\n"). */
typedef void (*uapi_handler)(void *arg, const char *req, size_t len,
			     FILE *reply);

struct uapi_conn {
	int fd; /* -1: free slot */
	struct secret_buf in; /* what arrived and is not yet answered */
	unsigned long long opened; /* order of accept, to find the oldest */
};

struct uapi_server {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	unsigned long long accepted;
	struct uapi_conn conns[UAPI_MAX_CONNS];
};

/* A closed server: safe to close again. */
void uapi_server_init(struct uapi_server *s);
/* Creates UAPI_DIR when missing and listens on IFNAME.sock there. A
 * socket file that nobody answers on (left by a crash) is replaced; one
 * that answers is -EADDRINUSE (another daemon serves that name). */
int uapi_server_open(struct uapi_server *s, const char *ifname);
/* Closes everything and removes the socket file if it is still ours. */
void uapi_server_close(struct uapi_server *s);
/* True when our socket file was deleted or replaced: the cross-platform
 * convention says the daemon should then exit. */
bool uapi_server_gone(const struct uapi_server *s);

/* The fds to poll (listener first); returns how many, at most
 * 1 + UAPI_MAX_CONNS. */
unsigned uapi_server_pollfds(const struct uapi_server *s, struct pollfd *pfd);
/* Serves whatever poll found ready in pfd[0..n). */
void uapi_server_serve(struct uapi_server *s, const struct pollfd *pfd,
		       unsigned n, uapi_handler fn, void *arg);

#endif
