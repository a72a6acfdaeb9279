/* A change (src/change.h) to the running tunnel: the UAPI's set=1 and
 * SIGHUP come here. Control thread only. */
#ifndef RINGVPN_SRC_TUNNEL_APPLY_H
#define RINGVPN_SRC_TUNNEL_APPLY_H

#include "src/change.h"
#include "src/tunnel/state.h"

/* The listen port first (the one step that can fail for reasons outside
 * the change, and then nothing changed), the fwmark, then the device's
 * key and peers (device_apply). */
int tunnel_apply(struct tunnel *tn, const struct change *c);

#endif
