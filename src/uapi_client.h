/* The client side of the UAPI socket, for `ringvpn show` and `ringvpn
 * syncconf`: one request, its whole reply. */
#ifndef RINGVPN_SRC_UAPI_CLIENT_H
#define RINGVPN_SRC_UAPI_CLIENT_H

#include <stddef.h>

/* Sends req (a complete request, empty line included) to IFNAME's socket
 * and reads the reply up to its "errno=N" line and the empty line after
 * it. *reply (malloc'd, NUL-terminated) holds the lines before errno.
 * Returns 0, -N for errno=N, -ENOENT when nothing serves IFNAME, -EPROTO
 * for a reply without errno, or another -errno. */
int uapi_client_request(const char *ifname, const char *req, size_t len,
			char **reply);

#endif
