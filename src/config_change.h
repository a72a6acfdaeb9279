/* A config file as a change (src/change.h) with `wg syncconf` semantics:
 * applied, the device ends up as the file says, and nothing the file
 * leaves as it is gets disturbed (no peer is re-created, so established
 * sessions of unchanged peers stay). Start-up applies the change of a
 * device that has nothing yet; SIGHUP applies it in place; `ringvpn
 * syncconf` writes it to the UAPI socket. */
#ifndef RINGVPN_SRC_CONFIG_CHANGE_H
#define RINGVPN_SRC_CONFIG_CHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "src/change.h"
#include "src/config.h"

/* Fills *out (overwritten; change_free it): the private key; the listen
 * port and fwmark when the file sets them; remove for each key in
 * current[0..n_current) that the file does not name; then every peer of
 * the file with its preshared key (all-zero when none), endpoint
 * (resolved here) and the Endpoint as written (none when the file has
 * none), keepalive, and replace_allowed_ips with its prefixes
 * (host bits cleared). Returns 0, or -errno with a message in err (an
 * endpoint that does not resolve, -ENOMEM); *out is then empty. */
int config_change(const struct config *cfg,
		  const uint8_t (*current)[WG_KEY_LEN], size_t n_current,
		  struct change *out, char *err, size_t err_len);

#endif
