/* A running interface: the engine's device, the TUN queues, the workers
 * and the control thread's state. tunnel_up builds it in an order that can
 * be undone step by step; tunnel_run is the control loop; tunnel_down
 * takes it apart. */
#ifndef RINGVPN_SRC_TUNNEL_H
#define RINGVPN_SRC_TUNNEL_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "netlink/rtnl.h"
#include "src/change.h"
#include "src/config.h"
#include "src/datapath.h"
#include "src/device.h"
#include "src/epoch.h"
#include "src/log.h"
#include "src/notify.h"
#include "src/uapi_server.h"
#include "tun/tun.h"

struct worker;

struct tunnel {
	char ifname[IFNAMSIZ];
	struct config *cfg;
	/* The file cfg came from (SIGHUP reloads it); empty when the
	 * interface was created unconfigured, for wg(8) to configure
	 * through the UAPI, as a userspace implementation for wg-quick. */
	char config_path[4096];
	struct device dev;
	struct tun_device tun;
	struct netlink nl;
	char journal[256];
	char stats_path[256];
	bool netconf_done;
	uint16_t listen_port;
	uint32_t fwmark; /* on our sockets: FwMark, or the full tunnel's */
	unsigned disabled;    /* enum datapath_feature: RINGVPN_DISABLE */
	unsigned features;    /* what the workers use */

	/* What the workers see (MTU, socket family, clock, wake-ups, the
	 * stop flag): the tunnel fills it, workers only read it. */
	struct datapath dp;
	struct epoch epoch;
	struct epoch_reader *readers;
	unsigned n_workers;
	struct worker *workers;
	unsigned next_sender; /* round robin for control's sends */
	int signal_fd;
	struct uapi_server uapi;
	struct log_ratelimit log_handshake; /* dropped handshake messages */
	struct notifier notify; /* systemd, set by the daemon once up */
};

/* Engine time (datapath_now): monotonic nanoseconds, sped up by the test
 * clock scale. */
uint64_t tunnel_now(const struct tunnel *tn);

/* Brings the interface up from cfg (which the tunnel then owns), read
 * from config_path; with config_path NULL, cfg is an empty config (no
 * private key, no peers) and nothing but the TUN device is set up: the
 * addresses and routes are wg-quick's business then. On error everything
 * done is undone and err says what failed. */
int tunnel_up(struct tunnel *tn, struct config *cfg, const char *config_path,
	      const char *ifname, char *err, size_t err_len);
/* The control loop: returns on SIGINT/SIGTERM (0) or a fatal error. */
int tunnel_run(struct tunnel *tn);
void tunnel_down(struct tunnel *tn);

/* Live changes through the UAPI (control thread). A new port gets fresh
 * sockets and restarted workers (peers and sessions stay); -EADDRINUSE
 * and the like leave the old ones. Port 0 picks a free one. */
int tunnel_set_listen_port(struct tunnel *tn, uint16_t port);
/* SO_MARK on every socket; 0 removes it. */
int tunnel_set_fwmark(struct tunnel *tn, uint32_t fwmark);
/* A change (src/change.h) to the running tunnel: the listen port first
 * (the one step that can fail for reasons outside the change, and then
 * nothing changed), the fwmark, then the device's key and peers
 * (device_apply). The UAPI's set=1 and SIGHUP come here. */
int tunnel_apply(struct tunnel *tn, const struct change *c);
/* SIGHUP: the config file again, applied with wg syncconf's semantics. */
int tunnel_reload(struct tunnel *tn, char *err, size_t err_len);
/* Tells systemd text (notify_send); a failure is a debug line, since
 * systemd not listening is not the tunnel's failure. */
void tunnel_notify(const struct tunnel *tn, const char *text);

#endif
