/* The cross-platform configuration protocol (wireguard.com/xplatform) on a
 * running tunnel: what a `get=1` or `set=1` request does. The bytes come
 * and go through src/uapi/server.c; requests are parsed by
 * src/uapi/parse.c. All of it runs on the control thread.
 *
 * Replies end with "errno=N" and an empty line. N is 0 or the negative
 * errno value, as wireguard-go writes it and wg(8) reads it (wg sets
 * errno to -N and prints "Unable to modify interface: Address already in
 * use"). */
#ifndef RINGVPN_SRC_UAPI_H
#define RINGVPN_SRC_UAPI_H

#include <stddef.h>
#include <stdio.h>

struct tunnel;

/* The uapi_handler of the server: arg is the tunnel. */
void uapi_handle(void *tunnel, const char *req, size_t len, FILE *reply);

/* Writes the device's keys and peers (without the errno line). */
int uapi_get(struct tunnel *tn, FILE *out);

#endif
