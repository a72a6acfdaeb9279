#include "src/tunnel.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "src/config_change.h"
#include "src/control.h"
#include "src/device_apply.h"
#include "src/features.h"
#include "src/log.h"
#include "src/netconf.h"
#include "src/rundir.h"
#include "src/test_clock.h"
#include "src/uapi.h"
#include "src/worker.h"

#define DEFAULT_MTU 1420
#define SOCKET_BUFFER (4 << 20)
#define NS_PER_MS 1000000ULL
#define PORT_RETRIES 40
#define PORT_RETRY_MS 50
#define TUN_GONE_WAIT_MS 2000

uint64_t tunnel_now(const struct tunnel *tn)
{
	return datapath_now(&tn->dp);
}

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
	if (!tn->config_path[0])
		return 0; /* unconfigured: keys come through the UAPI */
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

/* One socket per worker in a SO_REUSEPORT group, so the kernel spreads
 * incoming flows over the workers. Dual stack when the host has IPv6. */
static int open_socket(struct tunnel *tn, uint16_t port, bool reuse)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int one = 1, zero = 0, size = SOCKET_BUFFER, fd, ret;

	fd = socket(tn->dp.sock_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (tn->dp.sock_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (reuse)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (tn->fwmark &&
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &tn->fwmark,
		       sizeof(tn->fwmark)))
		goto fail;
	/* Root may exceed rmem_max/wmem_max; fall back to what we may. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	ret = tn->dp.sock_family == AF_INET6 ?
		bind(fd, (struct sockaddr *)&a6, sizeof(a6)) :
		bind(fd, (struct sockaddr *)&a4, sizeof(a4));
	if (ret)
		goto fail;
	return fd;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ?
		     ((struct sockaddr_in6 *)&ss)->sin6_port :
		     ((struct sockaddr_in *)&ss)->sin_port);
}

/* A fixed port must be free: SO_REUSEPORT would otherwise let us join
 * another process's group silently. A probe without it finds out. */
static int check_port_free(struct tunnel *tn, uint16_t port)
{
	int fd;

	if (!port)
		return 0;
	fd = open_socket(tn, port, false);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* n_workers sockets on port (0: any free one) into fds, all -1 on
 * failure; *bound is the port they share. */
static int open_socket_group(struct tunnel *tn, uint16_t port, int *fds,
			     uint16_t *bound)
{
	int ret = check_port_free(tn, port);

	for (unsigned i = 0; i < tn->n_workers; i++)
		fds[i] = -1;
	for (unsigned i = 0; !ret && i < tn->n_workers; i++) {
		fds[i] = open_socket(tn, port, true);
		if (fds[i] < 0) {
			ret = fds[i];
			fds[i] = -1;
			break;
		}
		port = bound_port(fds[i]);
	}
	for (unsigned i = 0; ret && i < tn->n_workers; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	*bound = port;
	return ret;
}

static int open_sockets(struct tunnel *tn, int *fds, char *err,
			size_t err_len)
{
	uint16_t port = tn->cfg->has_listen_port ? tn->cfg->listen_port : 0;
	int ret;

	tn->dp.sock_family = AF_INET6;
	ret = check_port_free(tn, port);
	if (ret == -EAFNOSUPPORT)
		tn->dp.sock_family = AF_INET;
	ret = open_socket_group(tn, port, fds, &port);
	/* A run killed a moment ago may still hold the port: the kernel
	 * tears its io_uring rings down (and with them the last references
	 * to its sockets) asynchronously, after the process is gone. */
	for (int i = 0; ret == -EADDRINUSE && i < PORT_RETRIES; i++) {
		if (!i)
			log_info("%s: UDP port %u is in use; waiting up to %d "
				 "ms for it", tn->ifname, port,
				 PORT_RETRIES * PORT_RETRY_MS);
		usleep(PORT_RETRY_MS * 1000);
		ret = open_socket_group(tn, port, fds, &port);
	}
	if (ret) {
		snprintf(err, err_len, "cannot listen on UDP port %u: %s",
			 port, strerror(-ret));
		return ret;
	}
	tn->listen_port = port;
	return 0;
}

static unsigned worker_count(const struct config *cfg)
{
	long n = cfg->threads ? (long)cfg->threads :
				sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > TUN_MAX_QUEUES ? TUN_MAX_QUEUES : (unsigned)n;
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

/* What a worker may try: the offloads the TUN device took, and every
 * socket and ring feature that is not turned off (the worker probes). */
static unsigned int datapath_allowed(const struct tunnel *tn)
{
	unsigned int f = DP_ALL & ~tn->disabled &
			 ~(unsigned int)(DP_VNET_HDR | DP_TSO | DP_USO);

	if (tn->tun.features & TUN_VNET_HDR)
		f |= DP_VNET_HDR;
	if (tn->tun.features & TUN_TSO)
		f |= DP_TSO;
	if (tn->tun.features & TUN_USO)
		f |= DP_USO;
	return f;
}

static int start_workers(struct tunnel *tn, int *fds, char *err,
			 size_t err_len)
{
	char names[160];
	int ret;

	tn->dp.allowed = datapath_allowed(tn);
	for (unsigned i = 0; i < tn->n_workers; i++) {
		ret = worker_init(&tn->workers[i], &tn->dp, i, tn->tun.fds[i],
				  fds[i]);
		fds[i] = -1; /* the worker owns it now */
		if (ret) {
			snprintf(err, err_len, "cannot set up worker %u: %s",
				 i, strerror(-ret));
			return ret;
		}
	}
	tn->features = tn->workers[0].features;
	log_info("%s: data path: %s", tn->ifname,
		 datapath_features_string(tn->features, names,
					  sizeof(names)));
	for (unsigned i = 0; i < tn->n_workers; i++) {
		ret = worker_start(&tn->workers[i]);
		if (ret) {
			snprintf(err, err_len, "cannot start worker %u: %s", i,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* What a crashed run left is undone first, so that its full-tunnel table
 * is free again; then the plan says which fwmark the sockets carry. */
static int plan_network(struct tunnel *tn, struct netconf_plan *plan,
			char *err, size_t err_len)
{
	int ret;

	if (access(tn->journal, F_OK) == 0) {
		log_warn("%s: undoing what a previous run left behind",
			 tn->ifname);
		ret = netconf_down(&tn->nl, tn->journal, err, err_len);
		if (ret)
			return ret;
	}
	ret = netconf_plan(&tn->nl, tn->cfg, plan, err, err_len);
	if (ret)
		return ret;
	for (unsigned i = 0; i < plan->n_warnings; i++)
		log_warn("%s: %s", tn->ifname, plan->warnings[i]);
	tn->fwmark = plan->fwmark;
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
	ret = open_sockets(tn, fds, err, err_len);
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
	tn->dp.mtu = cfg->mtu ? cfg->mtu : DEFAULT_MTU;
	tn->dp.clock_scale = clock_scale_from_env(ifname);
	tn->signal_fd = tn->dp.control_event = -1;
	tn->n_workers = worker_count(cfg);
	tn->fwmark = cfg->fwmark;
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
	if (!tn->readers || !tn->workers || !fds ||
	    tn->dp.control_event < 0) {
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
		ret = start_workers(tn, fds, err, err_len);
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

static uint64_t monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void tunnel_notify(const struct tunnel *tn, const char *text)
{
	int ret = notify_send(&tn->notify, text);

	if (ret) /* named by its first line, e.g. READY=1 */
		log_debug("%s: systemd did not take %.*s: %s", tn->ifname,
			  (int)strcspn(text, "\n"), text, strerror(-ret));
}

/* SIGHUP. systemd hears RELOADING=1 (with the time it asks for, to tell
 * this reload from an earlier one) and READY=1 again after, whether the
 * reload worked or not: a failed one leaves the old config running. */
static void reload(struct tunnel *tn)
{
	char err[512], msg[64];

	if (!tn->config_path[0]) {
		log_warn("%s: SIGHUP: no config file to reload (configured "
			 "through the UAPI)", tn->ifname);
		return;
	}
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)monotonic_usec());
	tunnel_notify(tn, msg);
	if (tunnel_reload(tn, err, sizeof(err)))
		log_error("%s: reload of %s failed: %s", tn->ifname,
			  tn->config_path, err);
	else
		log_info("%s: reloaded %s", tn->ifname, tn->config_path);
	tunnel_notify(tn, "READY=1");
}

static bool handle_signals(struct tunnel *tn)
{
	struct signalfd_siginfo si;

	while (read(tn->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			return true;
		if (si.ssi_signo == SIGUSR1)
			control_write_stats(tn);
		if (si.ssi_signo == SIGHUP)
			reload(tn);
	}
	return false;
}

/* How long poll may sleep: until the next timer, but at least every
 * 100 ms so facts from the workers are folded in promptly. */
static int poll_timeout(const struct tunnel *tn, uint64_t next, uint64_t now)
{
	uint64_t ms = 100;

	if (next && next > now) {
		uint64_t wait = (next - now) / tn->dp.clock_scale /
				NS_PER_MS + 1;

		if (wait < ms)
			ms = wait;
	} else if (next) {
		ms = 0;
	}
	return (int)ms;
}

/* As a userspace implementation should: we go when our TUN interface
 * is deleted (wg-quick down does `ip link delete`) or our UAPI socket
 * file is removed. */
static bool lost_interface(struct tunnel *tn)
{
	char name[IF_NAMESIZE];

	if (uapi_server_gone(&tn->uapi)) {
		log_info("%s: the UAPI socket was removed", tn->ifname);
		return true;
	}
	if (!if_indextoname((unsigned)tn->tun.ifindex, name) ||
	    strcmp(name, tn->ifname)) {
		log_info("%s: the interface was deleted", tn->ifname);
		return true;
	}
	return false;
}

enum { PFD_SIGNAL, PFD_EVENT, PFD_UAPI, PFD_MAX = PFD_UAPI + 1 +
					      UAPI_MAX_CONNS };

int tunnel_run(struct tunnel *tn)
{
	struct pollfd pfd[PFD_MAX] = {
		[PFD_SIGNAL] = { .fd = tn->signal_fd, .events = POLLIN },
		[PFD_EVENT] = { .fd = tn->dp.control_event, .events = POLLIN },
	};
	uint64_t next = 0, last_stats = 0;

	control_write_stats(tn);
	for (;;) {
		uint64_t now = tunnel_now(tn), val;
		unsigned n_uapi = uapi_server_pollfds(&tn->uapi,
						      &pfd[PFD_UAPI]);

		if (poll(pfd, PFD_UAPI + n_uapi, poll_timeout(tn, next, now)) <
		    0 && errno != EINTR)
			return -errno;
		if (handle_signals(tn))
			return 0;
		/* Reset the wake-up first, then drain: a message pushed in
		 * between wakes us again instead of being missed. */
		if (read(tn->dp.control_event, &val, sizeof(val)) < 0 &&
		    errno != EAGAIN)
			return -errno;
		/* Unscaled, unlike tunnel_now(): a test clock speeds up the
		 * protocol's timers, not wg reading its reply. */
		uapi_server_serve(&tn->uapi, &pfd[PFD_UAPI], n_uapi,
				  monotonic_usec() / 1000, uapi_handle, tn);
		if (atomic_load(&tn->dp.stopping))
			return -EIO; /* workers could not restart */
		now = tunnel_now(tn);
		control_drain(tn, now);
		next = control_tick(tn, now);
		if (now - last_stats >= 1000 * NS_PER_MS * tn->dp.clock_scale) {
			control_write_stats(tn);
			last_stats = now;
			if (lost_interface(tn))
				return 0;
		}
	}
}

static void stop_workers(struct tunnel *tn)
{
	atomic_store(&tn->dp.stopping, true);
	for (unsigned i = 0; i < tn->n_workers; i++)
		if (tn->workers[i].started)
			worker_wake(&tn->workers[i]);
	for (unsigned i = 0; i < tn->n_workers; i++)
		worker_join(&tn->workers[i]);
	for (unsigned i = 0; i < tn->n_workers; i++)
		worker_destroy(&tn->workers[i]);
}

/* Workers own their sockets, so a new port means new workers on new
 * sockets; the device (peers, sessions) is not theirs and stays. If the
 * new workers cannot start, the tunnel stops: tunnel_run sees stopping. */
int tunnel_set_listen_port(struct tunnel *tn, uint16_t port)
{
	char err[256];
	uint16_t bound;
	int *fds, ret;

	if (port && port == tn->listen_port)
		return 0;
	fds = malloc(tn->n_workers * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	ret = open_socket_group(tn, port, fds, &bound);
	if (ret) {
		free(fds);
		return ret;
	}
	stop_workers(tn);
	atomic_store(&tn->dp.stopping, false);
	ret = start_workers(tn, fds, err, sizeof(err));
	for (unsigned i = 0; i < tn->n_workers; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	if (ret) {
		log_error("%s: %s", tn->ifname, err);
		atomic_store(&tn->dp.stopping, true);
		return ret;
	}
	tn->listen_port = bound;
	log_info("%s: now on UDP port %u", tn->ifname, bound);
	return 0;
}

int tunnel_apply(struct tunnel *tn, const struct change *c)
{
	int ret = 0;

	/* The one change that can fail for reasons outside the request
	 * goes first, so that its failure leaves everything as it was. */
	if (c->set_listen_port &&
	    (ret = tunnel_set_listen_port(tn, c->listen_port)))
		return ret;
	if (c->set_fwmark && (ret = tunnel_set_fwmark(tn, c->fwmark)))
		return ret;
	return device_apply(&tn->dev, c, tunnel_now(tn));
}

/* A socket option, not I/O: setting it from the control thread does not
 * disturb the worker that owns the socket. */
int tunnel_set_fwmark(struct tunnel *tn, uint32_t fwmark)
{
	for (unsigned i = 0; i < tn->n_workers; i++)
		if (setsockopt(tn->workers[i].udp_fd, SOL_SOCKET, SO_MARK,
			       &fwmark, sizeof(fwmark)))
			return -errno;
	tn->fwmark = fwmark;
	return 0;
}

/* The kernel unregisters a TUN device when its last file reference
 * goes, and the io_uring rings we just closed drop theirs from a kernel
 * worker, a moment after close returns. Whoever waits for us to exit
 * (down, systemd, wg-quick, a test) may then reuse the name at once, so
 * we leave only when it is free, or after a bounded wait. */
static void wait_interface_gone(const char *ifname, int ifindex)
{
	struct timespec tick = { 0, 5 * 1000 * 1000 };
	char name[IF_NAMESIZE];

	if (ifindex <= 0)
		return;
	for (int i = 0; i < TUN_GONE_WAIT_MS / 5; i++) {
		if (!if_indextoname((unsigned)ifindex, name))
			return;
		nanosleep(&tick, NULL);
	}
	log_debug("%s: the interface still exists %d ms after close", ifname,
		  TUN_GONE_WAIT_MS);
}

void tunnel_down(struct tunnel *tn)
{
	int ifindex = tn->tun.ifindex;
	char err[256];

	uapi_server_close(&tn->uapi);
	if (tn->workers)
		stop_workers(tn);
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
	if (tn->dp.control_event >= 0)
		close(tn->dp.control_event);
	if (tn->signal_fd >= 0)
		close(tn->signal_fd);
	tn->workers = NULL;
	tn->readers = NULL;
}
