/* A config file as a UAPI set request with `wg syncconf` semantics: the
 * device ends up as the file says, and nothing that the file leaves as it
 * is gets disturbed (no peer is re-created, so established sessions of
 * unchanged peers stay). Used by `ringvpn syncconf` (sent over the
 * socket) and by the daemon on SIGHUP (parsed and applied in place), so
 * both go through the same parser and the same apply. */
#ifndef RINGVPN_SRC_CONFIG_SYNC_H
#define RINGVPN_SRC_CONFIG_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "src/config.h"

/* Writes the body of a set request (the lines after "set=1", without the
 * final empty line): private_key; listen_port and fwmark when the file
 * sets them; remove=true for each key in current[0..n_current) that the
 * file does not name; then every peer of the file with its preshared key
 * (zero when none), endpoint (resolved here), keepalive and
 * replace_allowed_ips=true plus its prefixes. Returns 0 or -errno with a
 * message (an endpoint that does not resolve). */
int config_sync_body(const struct config *cfg,
		     const uint8_t (*current)[32], size_t n_current,
		     FILE *out, char *err, size_t err_len);

#endif
