/* The configuration file: the wg-quick(8) format (an [Interface] section
 * and any number of [Peer] sections), plus ringvpn's own Threads key.
 *
 * Parsing only reads and validates: nothing on the system changes and no
 * name is resolved (an Endpoint's host stays text until
 * config_resolve_endpoint). Section names and keys are case-insensitive,
 * '#' starts a comment anywhere on a line (hook commands included, as in
 * wg-quick), a value is everything after the first '=' with the blanks
 * around it removed, and list values may be comma-separated and/or
 * repeated on several lines.
 *
 * Stricter than wg(8)/wg-quick(8), on purpose:
 *  - a single-valued key given twice in one section (two ListenPort lines,
 *    say) is an error; wg silently keeps the last one, which hides typos;
 *  - the same PublicKey in two [Peer] sections, or a peer whose key is our
 *    own public key, is an error (the kernel would merge or refuse them);
 *  - an all-zero PrivateKey or PublicKey is refused (an all-zero
 *    PresharedKey means "no preshared key", as in wg);
 *  - ports are numbers only (no /etc/services names), and an IPv6
 *    Endpoint must be written in brackets;
 *  - an unknown key or section is an error rather than ignored.
 *
 * Every error is one message, "FILE:LINE: <what> `<text>' (expected
 * <what>)". Secrets never appear in messages: a bad PrivateKey or
 * PresharedKey is quoted as `(hidden)', and so is any offending text that
 * looks like a base64 key (a key pasted on a line of its own, say).
 *
 * config_parse and the key checks use libsodium: crypto_init() must have
 * been called (crypto/keys.h). */
#ifndef RINGVPN_SRC_CONFIG_H
#define RINGVPN_SRC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "crypto/keys.h"
#include "src/prefix.h"

struct secret_buf;

/* Longest line accepted, without its newline. */
#define CONFIG_MAX_LINE 4096
/* Largest file config_load reads (a guard against /dev/zero and the like;
 * about 100000 peers). */
#define CONFIG_MAX_FILE (16u << 20)

/* The tables SessionTable may not name: default, main and local. */
#define CONFIG_TABLE_RESERVED_FIRST 253u
#define CONFIG_TABLE_RESERVED_LAST 255u

/* A growable list of NUL-terminated strings, in file order. */
struct config_strings {
	char **v;
	size_t n;
};

struct config_peer {
	uint8_t public_key[WG_KEY_LEN];
	bool has_psk;
	uint8_t psk[WG_KEY_LEN]; /* secret; zero when !has_psk */
	struct prefix *allowed_ips;
	size_t n_allowed_ips;
	/* Both NULL without an Endpoint. The host has no brackets (an IPv6
	 * literal may carry a %scope); the port is decimal, 1-65535. */
	char *endpoint_host;
	char *endpoint_port;
	/* The Endpoint's address once resolve_wait has resolved it (len 0:
	 * not yet; a sockaddr_in or _in6, as len says), which
	 * config_resolve_endpoint returns rather than ask again: `up`
	 * resolves each name once. A file loaded fresh has none. */
	struct sockaddr_in6 endpoint_addr;
	socklen_t endpoint_len;
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	unsigned line; /* of the [Peer] header, for later messages */
};

/* Where the file says what the running device holds, for SaveConfig
 * (src/daemon/save_config.h) to write the device's values there and keep
 * every other line as written. Lines count from 1, as in messages; 0 is
 * none. A [Peer] section starts at its peer's line. */
#define CONFIG_DEVICE_KEYS 3
struct config_layout {
	unsigned interface_line; /* the [Interface] header */
	/* One past the section's last line that says something besides
	 * the device's keys (another key, or a comment): the blank lines
	 * after it are the gap before the next section. */
	unsigned interface_end;
	/* The [Interface] lines of PrivateKey, ListenPort and FwMark, which
	 * wg(8) may change while the tunnel runs. */
	unsigned device_lines[CONFIG_DEVICE_KEYS];
};

enum config_table {
	CONFIG_TABLE_AUTO, /* the default */
	CONFIG_TABLE_OFF,
	CONFIG_TABLE_ID, /* table_id; main, local, default are 254, 255, 253 */
};

struct config {
	uint8_t private_key[WG_KEY_LEN]; /* secret */
	uint8_t public_key[WG_KEY_LEN]; /* derived from private_key */
	bool has_listen_port;
	uint16_t listen_port;
	uint32_t fwmark; /* 0 = off */
	struct prefix *addresses;
	size_t n_addresses;
	unsigned mtu; /* 0 = not set, else 576-65535 */
	enum config_table table;
	uint32_t table_id; /* 1-4294967295 when table == CONFIG_TABLE_ID */
	struct config_strings dns; /* name server addresses, as written */
	struct config_strings dns_search; /* search domains */
	struct config_strings pre_up, post_up, pre_down, post_down;
	bool save_config; /* write the running state back on the way down */
	unsigned threads; /* 0 = not set, else 1-256 */
	/* A full tunnel keeps an unreachable default route behind the
	 * device's, so that its traffic is refused when the daemon dies. */
	bool kill_switch;
	/* Host addresses put on the interface for a gateway fleet's shared
	 * anycast address (ServiceAddress): /32 or /128, no prefix route;
	 * not used for routes, DNS or the MTU. */
	struct prefix *service_addresses;
	size_t n_service_addresses;
	/* SessionTable: the routing table of the routes of peers with a live
	 * session; 0 = none. Never 253-255 (default, main, local). */
	uint32_t session_table;
	/* FleetRecovery: session indexes another gateway of the fleet can
	 * read, and handshakes offered for those of lost sessions. */
	bool fleet_recovery;
	struct config_peer *peers;
	size_t n_peers;
	struct config_layout layout;
	/* Non-fatal findings of config_load (a world-readable file), one
	 * line each without a newline, for the caller to print. */
	struct config_strings warnings;
};

/* Parses len bytes of text (NUL bytes in it are an error; no terminating
 * NUL is needed) into *c, which is overwritten. name is what messages call
 * the file. Returns 0, -EINVAL (message in err) or -ENOMEM. On failure *c
 * is left empty, secrets wiped, and needs no config_free (which is
 * harmless on it). */
int config_parse(struct config *c, const char *name, const char *text,
		 size_t len, char *err, size_t err_len);

/* Reads path (at most CONFIG_MAX_FILE bytes; any file, /dev/stdin too) and
 * parses it with its base name for messages. Besides config_parse's
 * errors: -errno of open/read with "cannot read `PATH': <strerror>", and
 * -EFBIG. Adds the warning "Warning: `PATH' is world accessible" when
 * others may read or write the file (and "... group accessible" for the
 * group); the file buffer is wiped after parsing. */
int config_load(struct config *c, const char *path, char *err,
		size_t err_len);

/* config_load that also hands back the file's text in *text (empty on
 * entry), for a caller that rewrites the file: c->layout says where
 * things are in it. The text holds the private key; secret_buf_free
 * wipes it. On failure *text is left empty. */
int config_load_text(struct config *c, struct secret_buf *text,
		     const char *path, char *err, size_t err_len);

/* Wipes the secrets and frees everything; leaves *c empty. */
void config_free(struct config *c);

/* The peer's Endpoint address: the one kept in p (endpoint_len), else
 * the first result of getaddrinfo (numeric port, no AI_ADDRCONFIG, UDP),
 * which is not kept (see resolve_wait). Returns 0, -ENOENT (the
 * peer has no Endpoint), -EAGAIN (temporary failure: the caller may retry,
 * as wg does), -ENOMEM or -EINVAL, with a message in err. */
int config_resolve_endpoint(const struct config_peer *p,
			    struct sockaddr_storage *ss, socklen_t *len,
			    char *err, size_t err_len);

/* The interface name a config path implies, as wg-quick: the base name,
 * which must end in ".conf", without that suffix. Returns 0 or -EINVAL when
 * the result is not a valid interface name (1-15 characters of
 * [a-zA-Z0-9_=+.-], and not "." or ".."). ifname has room for IFNAMSIZ
 * (16) bytes. */
int config_ifname_from_path(const char *path, char ifname[16]);

#endif
