/* Applying a change (src/change.h) to the device: the private key and
 * the peers, with wireguard-go's set=1 semantics. The one way peers are
 * configured, at start-up, on SIGHUP and through the UAPI; the listen
 * port and fwmark belong to the tunnel's sockets, not to the device, and
 * are the caller's. Control thread only. */
#ifndef RINGVPN_SRC_DEVICE_APPLY_H
#define RINGVPN_SRC_DEVICE_APPLY_H

#include <stdint.h>

#include "src/change.h"
#include "src/device.h"

/* Applies c's private key, replace_peers and peers, in order. Peers it
 * does not name, and the sessions of peers whose keys do not change, are
 * left alone. A peer with our own public key is removed or ignored, and
 * one whose key gives no shared secret is ignored, as wireguard-go does.
 * now (engine ns) starts persistent keepalives. Returns 0 or -ENOMEM
 * (the changes before the failure stay). */
int device_apply(struct device *dev, const struct change *c, uint64_t now);

#endif
