/* struct tunnel: a running interface's state, shared by the files that
 * make up the tunnel, each with one job: bring-up and tear-down
 * (tunnel.c), the UDP socket group and its live changes
 * (socket_group.c), the workers' start and stop (tunnel_workers.c),
 * applying a change (tunnel_apply.c), the control thread's loop, signals
 * and reload (control_loop.c), its protocol work (control.c) and the
 * statistics file (stats_file.c). Only the control thread writes it;
 * workers see only struct datapath (src/worker/datapath.h). */
#ifndef RINGVPN_SRC_TUNNEL_STATE_H
#define RINGVPN_SRC_TUNNEL_STATE_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "netlink/rtnl.h"
#include "src/config.h"
#include "src/worker/datapath.h"
#include "src/worker/share.h"
#include "src/device.h"
#include "src/epoch.h"
#include "src/log.h"
#include "src/daemon/notify.h"
#include "src/tunnel/reresolve.h"
#include "src/tunnel/session_table.h"
#include "src/uapi/server.h"
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
	/* ServiceAddress: one gateway of a fleet behind an anycast address,
	 * which lets a quiet peer go rather than chase it (control.c). */
	bool anycast;
	unsigned disabled;    /* enum datapath_feature: RINGVPN_DISABLE */
	unsigned features;    /* what the workers use */

	/* What the workers see (MTU, socket family, clock, wake-ups, the
	 * stop flag): the tunnel fills it, workers only read it. */
	struct datapath dp;
	struct share_crew crew; /* dp.crew: the workers' shared crypto */
	struct epoch epoch;
	struct epoch_reader *readers;
	unsigned n_workers;
	struct worker *workers;
	unsigned next_sender; /* round robin for control's sends */
	int signal_fd;
	struct uapi_server uapi;
	struct log_ratelimit log_handshake; /* dropped handshake messages */
	struct notifier notify; /* systemd, set by the daemon once up */
	struct reresolve reresolve; /* Endpoint names, looked up again */
	struct session_table sessions; /* SessionTable's routes */
};

/* Engine time (datapath_now): monotonic nanoseconds, sped up by the test
 * clock scale. */
static inline uint64_t tunnel_now(const struct tunnel *tn)
{
	return datapath_now(&tn->dp);
}

#endif
