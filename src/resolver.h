/* A thread of its own for name resolution, so that the control thread
 * never waits for DNS (getaddrinfo may block for many seconds) and a
 * worker never resolves at all. The control thread asks for a peer's
 * Endpoint name and, on later rounds, takes what has been answered.
 *
 * The thread shares only the struct resolver with its owner, which is
 * freed by whichever of the two lets go of it last: so resolver_free
 * returns at once, even while a lookup hangs (the thread is then
 * detached, finishes that lookup, throws the answer away and ends); an
 * idle thread is joined. */
#ifndef RINGVPN_SRC_RESOLVER_H
#define RINGVPN_SRC_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/keys.h"

struct resolver;

struct resolver_result {
	uint8_t key[WG_KEY_LEN]; /* the peer's public key, as asked */
	int ret; /* 0, or config_resolve_endpoint's -errno */
	struct sockaddr_storage addr;
	socklen_t len;
};

/* Starts the thread; NULL with errno set when it cannot. */
struct resolver *resolver_new(void);
/* Queues host and port (as config_resolve_endpoint takes them) for key.
 * Returns 0, -EBUSY when key's question is queued, being resolved or
 * answered and not yet taken (one question per peer at a time), or
 * -ENOMEM. */
int resolver_ask(struct resolver *r, const uint8_t key[WG_KEY_LEN],
		 const char *host, const char *port);
/* Moves up to max answers, oldest first, into out; returns how many. */
size_t resolver_take(struct resolver *r, struct resolver_result *out,
		     size_t max);
/* Lets go (r may be NULL): unanswered questions are dropped. */
void resolver_free(struct resolver *r);

#endif
