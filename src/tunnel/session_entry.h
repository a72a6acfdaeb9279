/* What the files of the session table share (session_table.c keeps the
 * entries in step with the peers and their handshakes, session_watch.c
 * with what the kernel lost); nothing else includes this. */
#ifndef RINGVPN_SRC_TUNNEL_SESSION_ENTRY_H
#define RINGVPN_SRC_TUNNEL_SESSION_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/messages.h"
#include "src/prefix.h"
#include "src/session_route.h"

struct tunnel;

/* One per peer of the device (src/tunnel/session_table.h). */
struct session_entry {
	struct session_route route;
	/* Compared with what the device finds under key, never followed
	 * once the peer may be gone (refresh): a removed peer waits for
	 * the workers' epoch, so it is valid until the next tick. NULL
	 * once the peer is gone and the entry waits for its routes to. */
	struct peer *peer;
	uint8_t key[WG_KEY_LEN];
	/* refresh: the peer is still the device's; its AllowedIPs so far,
	 * or short of memory for them (short: its routes stay as they
	 * were until the next refresh). */
	bool seen, short_of_memory;
	struct prefix *scratch;
	size_t n_scratch;
	/* The last change failed: tried again at retry_at (engine ns).
	 * logged: a line said so; the next success says it is over. */
	bool failed, logged;
	uint64_t retry_at;
	struct session_entry *next;
};

/* Brings e's routes in step at now; a failure is logged once and tried
 * again later. */
void session_entry_sync(struct tunnel *tn, struct session_entry *e,
			uint64_t now);
/* Frees the entries of gone peers whose routes are gone too. */
void session_entries_free_done(struct tunnel *tn);

#endif
