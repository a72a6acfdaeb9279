#include "src/tunnel/tunnel.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "src/clock.h"
#include "src/config_change.h"
#include "src/device_apply.h"
#include "src/worker/features.h"
#include "src/log.h"
#include "src/netconf/netconf.h"
#include "src/rundir.h"
#include "src/tunnel/socket_group.h"
#include "src/test_clock.h"
#include "src/tunnel/workers.h"
#include "src/worker/share.h"
#include "src/worker/worker.h"

#define TUN_GONE_WAIT_MS 2000
#define TUN_GONE_STEP_MS 5

static uint64_t clock_scale_from_env(const char *ifname)
{
	char note[160];
	const char *value = getenv("RINGVPN_TEST_CLOCK_SCALE");
	uint64_t scale = test_clock_scale(value, note, sizeof(note));

	if (value)
		log_warn("%s: %s", ifname, note);
	return scale;
}

static int setup_device(struct tunnel *tn, char *err, size_t err_len)
{
	struct change change;
	/* Workers read peers, keypairs, index entries and AllowedIPs nodes
	 * without locks: what the control thread unlinks waits for an epoch. */
	int ret = device_init(&tn->dev, &tn->epoch);

	if (ret) {
		snprintf(err, err_len, "cannot set up the device: %s",
			 strerror(-ret));
		return ret;
	}
	tn->dev.aead_evp = !(tn->disabled & DP_EVP_AEAD);
	if (!tn->config_path[0])
		return 0; /* unconfigured: keys come through the UAPI */
	/* Before the key and peers: each peer joins its slot as it comes. */
	if (tn->cfg->fleet_recovery && (ret = device_fleet_enable(&tn->dev))) {
		snprintf(err, err_len, "cannot set up FleetRecovery: %s",
			 strerror(-ret));
		return ret;
	}
	/* The file's key and peers as any later change comes: the sockets
	 * take its port and fwmark below, once the plan is known. */
	ret = config_change(tn->cfg, NULL, 0, &change, err, err_len);
	if (ret)
		return ret;
	ret = device_apply(&tn->dev, &change, tunnel_now(tn));
	if (ret)
		snprintf(err, err_len, "cannot set up the peers: %s",
			 strerror(-ret));
	change_free(&change);
	return ret;
}

/* What the TUN device is asked to offer: everything not turned off (USO
 * only with TSO: the kernel takes it only together with CSUM). */
static unsigned int tun_wanted(unsigned int disabled)
{
	unsigned int want;

	if (disabled & DP_VNET_HDR)
		return 0;
	want = TUN_VNET_HDR;
	if (!(disabled & DP_TSO))
		want |= TUN_TSO;
	if (!(disabled & DP_USO) && (want & TUN_TSO))
		want |= TUN_USO;
	return want;
}

/* What a crashed run left is undone first, so that its full-tunnel table
 * is free again (but for a kill switch this run keeps, which stays in
 * place until ours replaces it); then the plan says which fwmark the
 * sockets carry. */
static int plan_network(struct tunnel *tn, struct netconf_plan *plan,
			char *err, size_t err_len)
{
	uint32_t kept = 0;
	int ret;

	if (access(tn->journal, F_OK) == 0) {
		log_warn("%s: undoing what a previous run left behind",
			 tn->ifname);
		ret = netconf_recover(&tn->nl, tn->journal, tn->cfg, &kept,
				      err, err_len);
		if (ret)
			return ret;
		if (kept)
			log_info("%s: keeping its kill switch (table %u) "
				 "until the tunnel is back", tn->ifname, kept);
	}
	ret = netconf_plan_after(&tn->nl, tn->cfg, kept, plan, err, err_len);
	if (ret)
		return ret;
	for (unsigned i = 0; i < plan->n_warnings; i++)
		log_warn("%s: %s", tn->ifname, plan->warnings[i]);
	tn->fwmark = plan->fwmark;
	/* The workers pad and split to the interface's MTU. */
	tn->dp.mtu = plan->mtu;
	log_info("%s: MTU %u (%s)", tn->ifname, plan->mtu, plan->mtu_why);
	return 0;
}

/* Netlink and the plan come before the sockets (they need the plan's
 * fwmark), the sockets before the TUN device, as before. */
static int setup_network(struct tunnel *tn, int *fds, char *err,
			 size_t err_len)
{
	bool configured = tn->config_path[0];
	struct netconf_plan plan;
	int ret;

	ret = netlink_open(&tn->nl);
	if (ret) {
		snprintf(err, err_len, "cannot open rtnetlink: %s",
			 strerror(-ret));
		return ret;
	}
	ret = netconf_journal_path(tn->ifname, tn->journal,
				   sizeof(tn->journal));
	if (!ret)
		ret = rundir_path(tn->ifname, "stats", tn->stats_path,
				  sizeof(tn->stats_path));
	if (ret) {
		snprintf(err, err_len, "cannot use the run directory: %s",
			 strerror(-ret));
		return ret;
	}
	/* Unconfigured, wg-quick sets the network up. */
	if (configured && (ret = plan_network(tn, &plan, err, err_len)))
		return ret;
	ret = socket_group_open(tn, fds, err, err_len);
	if (ret)
		return ret;
	/* Never another process's device: NAME's lock keeps other ringvpn
	 * daemons out, this keeps out whatever else made one by that name. */
	ret = tun_create(&tn->tun, tn->ifname, tn->n_workers,
			 tun_wanted(tn->disabled) | TUN_EXCLUSIVE);
	if (ret) {
		snprintf(err, err_len, "cannot create TUN interface %s: %s",
			 tn->ifname, ret == -EBUSY ? "an interface by that "
			 "name exists already" : strerror(-ret));
		return ret;
	}
	if (!configured)
		return 0;
	ret = netconf_up(&tn->nl, tn->ifname, tn->tun.ifindex, &plan,
			 tn->journal, NULL, err, err_len);
	tn->netconf_done = !ret;
	/* No session yet: this only learns the peers' AllowedIPs. */
	if (!ret && tn->cfg->session_table) {
		session_table_init(tn, tn->cfg->session_table,
				   !plan.ipv6_off);
		session_watch_start(tn);
	}
	return ret;
}

static int setup_signals(struct tunnel *tn)
{
	sigset_t set;

	/* Blocked before the workers start, so they inherit the mask and
	 * only the signalfd sees these. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	tn->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return tn->signal_fd < 0 ? -errno : 0;
}

static int open_uapi(struct tunnel *tn, char *err, size_t err_len)
{
	int ret = uapi_server_open(&tn->uapi, tn->ifname);

	if (ret)
		snprintf(err, err_len, "cannot serve %s/%s.sock: %s", UAPI_DIR,
			 tn->ifname, ret == -EADDRINUSE ?
			 "another daemon serves that name" : strerror(-ret));
	return ret;
}

int tunnel_up(struct tunnel *tn, struct config *cfg, const char *config_path,
	      const char *ifname, char *err, size_t err_len)
{
	int *fds = NULL;
	char bad[32];
	int ret;

	memset(tn, 0, sizeof(*tn));
	snprintf(tn->ifname, sizeof(tn->ifname), "%s", ifname);
	snprintf(tn->config_path, sizeof(tn->config_path), "%s",
		 config_path ? config_path : "");
	uapi_server_init(&tn->uapi);
	tn->cfg = cfg;
	tn->dp.ifname = tn->ifname;
	tn->dp.dev = &tn->dev;
	tn->dp.epoch = &tn->epoch;
	/* Until the plan says (and for an interface made without one, for
	 * wg(8) to configure): the MTU over a 1500-byte link. */
	tn->dp.mtu = cfg->mtu ? cfg->mtu :
		     NETCONF_FALLBACK_PATH_MTU - NETCONF_MTU_OVERHEAD;
	tn->dp.clock_scale = clock_scale_from_env(ifname);
	tn->signal_fd = tn->dp.control_event = -1;
	tn->n_workers = tunnel_worker_count(cfg);
	tn->fwmark = cfg->fwmark;
	tn->anycast = cfg->n_service_addresses > 0;
	if (datapath_disabled_from_env(&tn->disabled, bad, sizeof(bad))) {
		snprintf(err, err_len, "RINGVPN_DISABLE: unknown feature "
			 "'%s'", bad);
		ret = -EINVAL;
		goto fail;
	}
	tn->readers = calloc(tn->n_workers, sizeof(*tn->readers));
	tn->workers = calloc(tn->n_workers, sizeof(*tn->workers));
	fds = malloc(tn->n_workers * sizeof(*fds));
	tn->dp.control_event = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	tn->dp.crew = &tn->crew;
	if (!tn->readers || !tn->workers || !fds ||
	    tn->dp.control_event < 0 ||
	    share_crew_init(&tn->crew, tn->n_workers,
			    !(tn->disabled & DP_PARALLEL))) {
		snprintf(err, err_len, "out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < tn->n_workers; i++)
		fds[i] = -1;
	epoch_init(&tn->epoch, tn->readers, tn->n_workers);
	ret = setup_device(tn, err, err_len);
	if (!ret)
		ret = setup_network(tn, fds, err, err_len);
	if (!ret && (ret = setup_signals(tn)))
		snprintf(err, err_len, "cannot set up signals: %s",
			 strerror(-ret));
	if (!ret)
		ret = tunnel_workers_start(tn, fds, err, err_len);
	if (!ret)
		ret = open_uapi(tn, err, err_len);
fail:
	for (unsigned i = 0; fds && i < tn->n_workers; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	if (ret)
		tunnel_down(tn);
	return ret;
}


struct interface_ref {
	const char *ifname;
	int ifindex;
};

static bool interface_gone(void *arg)
{
	const struct interface_ref *i = arg;
	char name[IF_NAMESIZE];

	return !if_indextoname((unsigned)i->ifindex, name) ||
	       strcmp(name, i->ifname);
}

/* The kernel unregisters a TUN device when its last file reference
 * goes, and the io_uring rings we just closed drop theirs from a kernel
 * worker, a moment after close returns. Whoever waits for us to exit
 * (down, systemd, wg-quick, a test) may then reuse the name at once, so
 * we leave only when it is free, or after a bounded wait. Only a device
 * of our name counts: one that moved to another namespace cannot be
 * seen from here, and its index here may be someone else's by now. */
static void wait_interface_gone(const char *ifname, int ifindex)
{
	struct interface_ref i = { ifname, ifindex };

	if (ifindex <= 0 ||
	    wait_until(interface_gone, &i, TUN_GONE_WAIT_MS, TUN_GONE_STEP_MS))
		return;
	log_debug("%s: the interface still exists %d ms after close", ifname,
		  TUN_GONE_WAIT_MS);
}

void tunnel_down(struct tunnel *tn)
{
	int ifindex = tn->tun.ifindex;
	char err[256];

	uapi_server_close(&tn->uapi);
	/* Before the peers go (device_destroy): the thread holds copies of
	 * the names only, and no answer is taken after this. */
	reresolve_stop(&tn->reresolve);
	if (tn->workers) {
		tunnel_workers_stop(tn);
		socket_group_wait_closed(tn);
	}
	/* The workers are gone: no handshake adds a route after this. */
	session_table_clear(tn);
	if (tn->netconf_done &&
	    netconf_down(&tn->nl, tn->journal, err, sizeof(err)))
		log_warn("%s", err);
	if (tn->stats_path[0])
		unlink(tn->stats_path);
	netlink_close(&tn->nl);
	tun_close(&tn->tun);
	wait_interface_gone(tn->ifname, ifindex);
	device_destroy(&tn->dev);
	epoch_destroy(&tn->epoch);
	free(tn->workers);
	free(tn->readers);
	share_crew_destroy(&tn->crew);
	if (tn->dp.control_event >= 0)
		close(tn->dp.control_event);
	if (tn->signal_fd >= 0)
		close(tn->signal_fd);
	tn->workers = NULL;
	tn->readers = NULL;
}
