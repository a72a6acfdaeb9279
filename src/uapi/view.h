/* A `get=1` reply read back into a struct, for `ringvpn show`: what the
 * wg view and the dump print. Keys are kept raw; nothing is validated
 * beyond what printing needs (the reply comes from our own daemon). */
#ifndef RINGVPN_SRC_UAPI_VIEW_H
#define RINGVPN_SRC_UAPI_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"

struct uapi_peer_view {
	uint8_t public_key[WG_KEY_LEN];
	bool has_psk;
	uint8_t psk[WG_KEY_LEN];	/* secret: wiped by uapi_view_free */
	char endpoint[80];	/* "" when none */
	char *allowed_ips;	/* "a/n,b/m" or NULL; malloc'd */
	uint64_t handshake_sec;	/* unix seconds, 0 = never */
	uint64_t rx, tx;
	unsigned keepalive;	/* seconds, 0 = off */
};

struct uapi_view {
	bool has_private_key;
	uint8_t private_key[WG_KEY_LEN]; /* secret: wiped by uapi_view_free */
	uint8_t public_key[WG_KEY_LEN];
	unsigned listen_port;
	uint32_t fwmark;
	struct uapi_peer_view *peers;
	size_t n_peers;
};

/* Parses reply (changed in place: lines are cut). Returns 0 or -ENOMEM. */
int uapi_view_parse(struct uapi_view *v, char *reply);
void uapi_view_free(struct uapi_view *v);

#endif
