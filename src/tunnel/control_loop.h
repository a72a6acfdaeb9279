/* The control thread's loop (src/tunnel/control_loop.c). */
#ifndef RINGVPN_SRC_CONTROL_LOOP_H
#define RINGVPN_SRC_CONTROL_LOOP_H

#include "src/tunnel/state.h"

/* Runs until SIGINT/SIGTERM (0), the interface or the UAPI socket goes
 * (0), or a fatal error (-errno); the UAPI socket is closed and its file
 * removed when it returns. */
int tunnel_run(struct tunnel *tn);
/* Tells systemd text (notify_send); a failure is a debug line, since
 * systemd not listening is not the tunnel's failure. */
void tunnel_notify(const struct tunnel *tn, const char *text);

#endif
