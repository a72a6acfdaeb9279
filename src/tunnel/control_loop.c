/* The control thread: its poll loop over signals, the workers' wake-ups
 * and the UAPI socket; signals (SIGHUP reloads the config file, SIGUSR1
 * rewrites the statistics file); and leaving when the interface or its
 * UAPI socket is gone. The protocol work it does each round is
 * control.c's. */
#include "src/tunnel/control_loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "src/clock.h"
#include "src/config_change.h"
#include "src/tunnel/control.h"
#include "src/tunnel/stats_file.h"
#include "src/tunnel/apply.h"
#include "src/tunnel/reresolve.h"
#include "src/uapi/uapi.h"
#include "src/worker/worker.h"

struct key_list {
	uint8_t (*v)[WG_KEY_LEN];
	size_t n;
};

static void add_key(struct peer *peer, void *arg)
{
	struct key_list *l = arg;

	memcpy(l->v[l->n++], peer_public_key(peer), WG_KEY_LEN);
}

/* The change from the running device to cfg. */
static int change_to(struct tunnel *tn, const struct config *cfg,
		     struct change *out, char *err, size_t err_len)
{
	struct key_list keys = { 0 };
	int ret;

	keys.v = malloc((tn->dev.peers.count + 1) * sizeof(*keys.v));
	if (!keys.v) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	peer_table_each(&tn->dev.peers, add_key, &keys);
	ret = config_change(cfg, (const uint8_t(*)[WG_KEY_LEN])keys.v, keys.n,
			    out, err, err_len);
	free(keys.v);
	return ret;
}

/* The config file again, applied with wg syncconf's semantics: keys,
 * port, fwmark and peers follow the file; addresses, routes, MTU, DNS
 * and hooks do not (as with wg syncconf: they belong to `up`). The file
 * becomes a change and is applied as set=1's are: no text between. */
static int reload_file(struct tunnel *tn, char *err, size_t err_len)
{
	struct change change;
	struct config cfg;
	int ret = config_load(&cfg, tn->config_path, err, err_len);

	if (ret)
		return ret;
	ret = change_to(tn, &cfg, &change, err, err_len);
	config_free(&cfg);
	if (ret)
		return ret;
	ret = tunnel_apply(tn, &change);
	if (ret)
		snprintf(err, err_len, "cannot apply it: %s", strerror(-ret));
	change_free(&change);
	return ret;
}

static uint64_t monotonic_usec(void)
{
	return monotonic_ns() / 1000;
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
	if (reload_file(tn, err, sizeof(err)))
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
			stats_file_write(tn);
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

/* Whether a worker found the TUN device deleted (its reads fail at
 * once): checked every round, so the tunnel ends within a round trip
 * of the deletion. */
static bool workers_lost_tun(const struct tunnel *tn)
{
	for (unsigned i = 0; i < tn->n_workers; i++)
		if (worker_tun_gone(&tn->workers[i]))
			return true;
	return false;
}

static void log_deleted(const struct tunnel *tn)
{
	log_info("%s: the interface was deleted", tn->ifname);
}

/* As a userspace implementation should: we go when our TUN interface
 * is deleted (wg-quick down does `ip link delete`), wherever it lives
 * then, or our UAPI socket file is removed. The device is asked through
 * its queue, never looked up by name or index here: it may have moved
 * to another namespace (a container's) and keeps working there. The
 * workers notice a deletion first (workers_lost_tun, every round); this,
 * once a second, is for a worker that had no read in flight. */
static bool lost_interface(struct tunnel *tn)
{
	char name[IF_NAMESIZE];

	if (uapi_server_gone(&tn->uapi)) {
		log_info("%s: the UAPI socket was removed", tn->ifname);
		return true;
	}
	if (tun_name_now(&tn->tun, name) == -EBADFD) {
		log_deleted(tn);
		return true;
	}
	return false;
}

enum { PFD_SIGNAL, PFD_EVENT, PFD_UAPI, PFD_MAX = PFD_UAPI + 1 +
					      UAPI_MAX_CONNS };

static int run_loop(struct tunnel *tn)
{
	struct pollfd pfd[PFD_MAX] = {
		[PFD_SIGNAL] = { .fd = tn->signal_fd, .events = POLLIN },
		[PFD_EVENT] = { .fd = tn->dp.control_event, .events = POLLIN },
	};
	uint64_t next = 0, last_stats = 0;

	stats_file_write(tn);
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
		if (workers_lost_tun(tn)) {
			log_deleted(tn);
			return 0;
		}
		now = tunnel_now(tn);
		control_drain(tn, now);
		next = control_tick(tn, now);
		reresolve_tick(tn, now);
		if (now - last_stats >= NS_PER_S * tn->dp.clock_scale) {
			stats_file_write(tn);
			last_stats = now;
			if (lost_interface(tn))
				return 0;
			session_table_watch(tn);
		}
	}
}

int tunnel_run(struct tunnel *tn)
{
	int ret = run_loop(tn);

	/* Nobody is served any longer: the socket goes now, not after the
	 * hooks and the tear-down, so that no client waits on a socket
	 * nobody answers, and a daemon started to succeed us (ip link del,
	 * then ringvpn NAME) sees at once that the name is not served. */
	uapi_server_close(&tn->uapi);
	return ret;
}
