/* One configuration change for a running device. As wireguard-tools
 * carries one struct wgdevice from its parser to the kernel, ringvpn
 * carries one struct change: a config file becomes one (config_change,
 * src/config_change.h), a UAPI set=1 request parses into one
 * (uapi_parse_set), and start-up, SIGHUP and set=1 all apply one through
 * device_apply (src/device_apply.h; the listen port and fwmark through
 * the tunnel's sockets). Text exists only where a change crosses the UAPI
 * socket: change_write, for `ringvpn syncconf`.
 *
 * The fields follow the UAPI keys (wireguard.com/xplatform), each with a
 * set_ flag where the key may be absent; peers are kept in order, and two
 * entries for one key stay two entries (a remove, then a re-add). */
#ifndef RINGVPN_SRC_CHANGE_H
#define RINGVPN_SRC_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "src/config.h" /* struct prefix */

struct allowed_ip_change {
	struct prefix prefix; /* host bits kept as written */
	bool remove;                 /* "allowed_ip=-10.0.0.0/24" */
};

struct peer_change {
	uint8_t public_key[WG_KEY_LEN];
	bool remove;               /* remove=true */
	bool update_only;          /* update_only=true */
	bool set_psk;              /* preshared_key=...: all-zero = none */
	uint8_t psk[WG_KEY_LEN];   /* secret */
	bool set_endpoint;
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	/* The Endpoint as a config file wrote it, for the peer to keep
	 * (struct peer): set_endpoint_name replaces the peer's with these
	 * (both NULL: it has none now). A file's peer sets it always; a UAPI
	 * endpoint= sets it with NULLs, since the name no longer applies.
	 * Owned (change_free); no UAPI key: change_write leaves it out. */
	bool set_endpoint_name;
	char *endpoint_host, *endpoint_port;
	bool set_keepalive;        /* persistent_keepalive_interval=0..65535 */
	uint16_t keepalive;
	bool replace_allowed_ips;  /* replace_allowed_ips=true */
	struct allowed_ip_change *allowed_ips;
	size_t n_allowed_ips;
};

struct change {
	bool set_private_key;      /* private_key=...: all-zero = remove it */
	uint8_t private_key[WG_KEY_LEN]; /* secret; clamped unless all zero */
	bool set_listen_port;
	uint16_t listen_port;
	bool set_fwmark;           /* fwmark=0 turns it off */
	uint32_t fwmark;
	bool replace_peers;        /* replace_peers=true */
	struct peer_change *peers;
	size_t n_peers;
};

/* Whether applying c may add, remove or move AllowedIPs: peers removed
 * or replaced, AllowedIPs given. */
bool change_moves_allowed_ips(const struct change *c);

/* Wipes the secrets and frees; leaves *c empty. */
void change_free(struct change *c);

/* Writes c as the body of a set=1 request: the lines after "set=1",
 * without the empty line that ends it, in the form uapi_parse_set reads
 * back into the same change. out should not keep copies of what it is
 * given (secret_buf_stream): the text carries the keys. */
void change_write(FILE *out, const struct change *c);

#endif
