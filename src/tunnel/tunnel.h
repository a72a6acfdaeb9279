/* Bringing a tunnel up and taking it down. tunnel_up builds it in an
 * order that can be undone step by step; the control loop
 * (control_loop.h) runs it; tunnel_down takes it apart. */
#ifndef RINGVPN_SRC_TUNNEL_H
#define RINGVPN_SRC_TUNNEL_H

#include <stddef.h>

#include "src/config.h"
#include "src/tunnel/state.h"

/* Brings the interface up from cfg (which the tunnel then owns), read
 * from config_path; with config_path NULL, cfg is an empty config (no
 * private key, no peers) and nothing but the TUN device is set up: the
 * addresses and routes are wg-quick's business then. On error everything
 * done is undone and err says what failed. */
int tunnel_up(struct tunnel *tn, struct config *cfg, const char *config_path,
	      const char *ifname, char *err, size_t err_len);
/* Stops the workers, undoes the network setup, closes everything, and
 * returns once the interface is gone (or after a bounded wait). */
void tunnel_down(struct tunnel *tn);

#endif
