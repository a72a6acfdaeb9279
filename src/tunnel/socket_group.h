/* The tunnel's UDP sockets: one per worker, in one SO_REUSEPORT group on
 * one port (dual stack when the host has IPv6), so the kernel spreads
 * incoming flows over the workers; and their live changes, a new port
 * or fwmark. Control thread only. */
#ifndef RINGVPN_SRC_SOCKET_GROUP_H
#define RINGVPN_SRC_SOCKET_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "src/tunnel/state.h"

/* n_workers sockets on the config's ListenPort (0: any free one) into
 * fds, with tn->fwmark; sets tn->listen_port and the socket family. A
 * fixed port in use is waited for a little (a run killed a moment ago).
 * On failure err says why. */
int socket_group_open(struct tunnel *tn, int *fds, char *err,
		      size_t err_len);
/* After the workers (and their sockets and rings) are gone: waits, a
 * bounded time, until the port is free again, so that whoever waits for
 * us to exit (wg-quick down, then up) may bind it at once. */
void socket_group_wait_closed(struct tunnel *tn);
/* Live changes through the UAPI. A new port gets fresh sockets and
 * restarted workers (peers and sessions stay); -EADDRINUSE and the like
 * leave the old ones. Port 0 picks a free one. */
int tunnel_set_listen_port(struct tunnel *tn, uint16_t port);
/* SO_MARK on every socket; 0 removes it. */
int tunnel_set_fwmark(struct tunnel *tn, uint32_t fwmark);

#endif
