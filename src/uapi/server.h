/* The UAPI socket: /var/run/wireguard/IFNAME.sock, a UNIX stream socket
 * (directory 0755, socket 0600, root's) where the standard `wg` tool and
 * wg-quick talk the cross-platform text protocol to us.
 *
 * This file only moves bytes: it accepts connections, gathers each
 * request up to its terminating empty line, hands the whole request to a
 * handler that writes the reply into the connection's output queue, and
 * sends that back. It runs on the control thread (handshakes, timers,
 * reloads), so nothing here ever waits for a client:
 *   - every socket is non-blocking; a reply is sent as far as the socket
 *     takes it and the rest waits for POLLOUT;
 *   - a request is answered only once the reply before it is all sent,
 *     so a connection holds at most one queued reply: that is the cap on
 *     queued bytes (one reply, as big as get=1 makes it, per connection).
 *     While a reply is queued we stop reading, and a pipelining client's
 *     further requests wait in its socket;
 *   - each request has UAPI_DEADLINE_MS from the moment its first byte is
 *     there to be served (on arrival, or when the reply before it was
 *     sent) until the last byte of its reply is sent; past it, the
 *     connection is closed, whatever poll said about it;
 *   - an over-long request gets errno=-EMSGSIZE through the same queue,
 *     and the connection closes once that is sent (or at the deadline).
 * Requests and replies may hold private keys: they live in secret_bufs,
 * answered request bytes are wiped, and so is every buffer we free. */
#ifndef RINGVPN_SRC_UAPI_SERVER_H
#define RINGVPN_SRC_UAPI_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/un.h>

#include "src/secret_buf.h"

#define UAPI_DIR "/var/run/wireguard"
/* Connections served at once; a new one beyond this closes the oldest. */
#define UAPI_MAX_CONNS 8
/* Largest request: a set of about 100,000 peers. Bigger gets EMSGSIZE. */
#define UAPI_MAX_REQUEST (64u << 20)
/* From a request's first byte to its reply's last. wg writes its request
 * at once and reads the reply as fast as it comes (`wg show` of 2000
 * peers takes about 20 ms); a client slower than this is closed on. */
#define UAPI_DEADLINE_MS 5000

/* Writes the reply to one complete request (req ends in "\n\n", or is
 * just "\n"). */
typedef void (*uapi_handler)(void *arg, const char *req, size_t len,
			     FILE *reply);

struct uapi_conn {
	int fd; /* -1: free slot */
	struct secret_buf in; /* what arrived and is not yet answered */
	size_t scanned; /* bytes of in known to hold no request's end */
	struct secret_buf out; /* the reply being sent; len 0: none */
	size_t sent; /* bytes of out already sent */
	uint64_t deadline_ms; /* the current request's; 0: none pending */
	bool closing; /* close once out is sent: a refusal */
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
/* Whether IFNAME's socket file is there (a daemon serves the name, or
 * one that crashed left it). */
bool uapi_socket_present(const char *ifname);
/* Closes everything and removes the socket file if it is still ours. */
void uapi_server_close(struct uapi_server *s);
/* True when our socket file was deleted or replaced: the cross-platform
 * convention says the daemon should then exit. */
bool uapi_server_gone(const struct uapi_server *s);

/* The fds to poll (listener first); returns how many, at most
 * 1 + UAPI_MAX_CONNS. A connection with a reply queued asks for POLLOUT
 * only (hang-ups and errors are reported anyway), the others POLLIN. */
unsigned uapi_server_pollfds(const struct uapi_server *s, struct pollfd *pfd);
/* Closes the connections past their deadline, then serves whatever poll
 * found ready in pfd[0..n). now_ms is CLOCK_MONOTONIC in milliseconds
 * (real time, not the test clock's); call this at least every 100 ms so
 * deadlines are kept. */
void uapi_server_serve(struct uapi_server *s, const struct pollfd *pfd,
		       unsigned n, uint64_t now_ms, uapi_handler fn,
		       void *arg);

#endif
