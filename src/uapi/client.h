/* The client side of the UAPI socket, for `ringvpn show` and `ringvpn
 * syncconf`: one request, its whole reply. */
#ifndef RINGVPN_SRC_UAPI_CLIENT_H
#define RINGVPN_SRC_UAPI_CLIENT_H

#include <stddef.h>

#include "src/secret_buf.h"

/* Sends req (a complete request, empty line included) to IFNAME's socket
 * and reads the reply up to its "errno=N" line and the empty line after
 * it. reply gets the lines before errno, NUL-terminated for the parsers
 * (reply->len counts the text, not the NUL). A get=1 reply holds the
 * private and preshared keys: reply is a wiping buffer, grown without
 * leaving copies, and the caller frees it with secret_buf_free (which
 * wipes all of it, whatever a parser did to the text). On failure it is
 * already freed. Returns 0, -N for errno=N, -ENOENT when nothing serves
 * IFNAME, -EPROTO for a reply without errno, or another -errno. */
int uapi_client_request(const char *ifname, const char *req, size_t len,
			struct secret_buf *reply);

#endif
