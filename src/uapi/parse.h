/* The body of a cross-platform UAPI "set=1" request, parsed into a change
 * (src/change.h) and checked but not applied: https://www.wireguard.com/xplatform/. Pure (no device,
 * no I/O), so a request is validated whole before anything changes.
 *
 * Each line is "key=value" with nothing trimmed. The device keys
 * (private_key, listen_port, fwmark, replace_peers) come first; each
 * public_key line opens a peer section whose keys (remove, update_only,
 * preshared_key, endpoint, persistent_keepalive_interval,
 * replace_allowed_ips, allowed_ip, protocol_version) follow it. The value
 * forms follow wireguard-go (device/uapi.go), the implementation wg(8) is
 * tested against:
 *  - keys: exactly 64 hex digits, either case (Go's hex decoder);
 *  - numbers: decimal digits only, leading zeros allowed, no sign;
 *  - booleans: only "true" ("false" is an error, as in wireguard-go);
 *  - endpoint: numeric only, "a.b.c.d:port" or "[v6]:port", the v6 address
 *    with an optional "%scope" (an interface name or index); port 0-65535.
 *    A v4-mapped v6 address is stored as AF_INET (src/sockaddr.h);
 *  - allowed_ip: "addr/cidr", the cidr required and without leading zeros
 *    (as netip.ParsePrefix); a leading '-' removes the prefix instead;
 *  - a '\r' before the '\n' is dropped (Go's line scanner does the same);
 *    the last line may lack its '\n'.
 * Where ringvpn differs from wireguard-go, on purpose:
 *  - protocol_version other than "1" is -EPROTO (wireguard-go: EINVAL),
 *    and a line without '=' is -EINVAL (wireguard-go: EPROTO): the UAPI
 *    errno tells a client "unsupported version" apart from "bad line";
 *  - the get-only keys (last_handshake_time_sec, ..., errno) get their own
 *    message, but are -EINVAL like any other unknown key.
 * Two sections for the same public key are kept as two entries, in order,
 * not merged: "remove=true" in one and a re-add in the next must stay in
 * that order, and the applier walks the list as wireguard-go walks lines.
 * A section for the device's own public key is the applier's to ignore
 * (wireguard-go does); the parser does not know the device's key. */
#ifndef RINGVPN_SRC_UAPI_PARSE_H
#define RINGVPN_SRC_UAPI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "src/change.h"

/* Longest line accepted (without '\n'). */
#define UAPI_MAX_LINE 4096

/* Parses the body of a set=1 request: the "key=value\n" lines after
 * "set=1\n", excluding the terminating empty line. Nothing is applied:
 * the caller applies *s all at once only if this returns 0, so a bad
 * request leaves the device unchanged. Returns 0, -EINVAL (a bad value,
 * an unknown key, a line without '=', a peer key before any public_key,
 * a device key after the first public_key, a line longer than
 * UAPI_MAX_LINE, a NUL byte) or -EPROTO (protocol_version other than 1),
 * or -ENOMEM; err gets one line saying which line and why, with secrets
 * never quoted. On failure *s is empty (secrets wiped) and needs no free.
 *
 * Messages quote the offending text (at most 48 bytes, escaped), except
 * values of private_key and preshared_key and any text that would show 16
 * hex/base64 characters in a row: those read `(hidden)'.
 * Lines are counted from the first one after "set=1" ("line 1: ..."). An
 * empty line inside the body is an error (it would have ended the
 * request). Endpoint scopes given as names are looked up with
 * if_nametoindex, the one call here that asks the system. */
int uapi_parse_set(struct change *s, const char *body, size_t len,
		   char *err, size_t err_len);

#endif
