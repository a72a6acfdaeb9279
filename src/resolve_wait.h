/* At `up`, an Endpoint name that does not resolve yet (a client started
 * before its network or its DNS) is tried again for a while, as wg(8)
 * does, before `up` gives up: the first retry after 1 s, each wait 1.2
 * times the last, at most 20 s, and at most WG_ENDPOINT_RESOLUTION_RETRIES
 * retries (default 15, about 72 s in all; "infinity" for no limit). Unlike
 * wg, a name that does not exist (EAI_NONAME) is retried too: with a
 * hosts file or a split-horizon DNS it may appear once a link is up. */
#ifndef RINGVPN_SRC_RESOLVE_WAIT_H
#define RINGVPN_SRC_RESOLVE_WAIT_H

#include <stddef.h>

#include "src/config.h"

#define RESOLVE_RETRIES_DEFAULT 15
#define RESOLVE_RETRIES_INFINITE (-1L)
#define RESOLVE_FIRST_WAIT_MS 1000
#define RESOLVE_MAX_WAIT_MS 20000

/* The retries the variable's value asks for (NULL: the default): a
 * decimal number 0-1000000 or "infinity" (RESOLVE_RETRIES_INFINITE).
 * Returns 0 or -EINVAL. */
int resolve_retries_parse(const char *value, long *retries);

/* The wait before retry number n (0 is the first), in milliseconds. */
unsigned resolve_wait_ms(unsigned n);

/* Returns once every Endpoint of cfg resolves (0), or the last failure
 * after retries retries, with err saying which Endpoint and why. Each
 * answer is kept in its config_peer (endpoint_addr), for
 * config_resolve_endpoint to return: every later step of `up` uses it,
 * and none asks again (a name that answered once and fails after counts
 * as resolved). Before each wait, say (if not NULL) gets a line telling
 * what failed and how long the wait is. */
int resolve_wait(struct config *cfg, long retries,
		 void (*say)(const char *line), char *err, size_t err_len);

#endif
