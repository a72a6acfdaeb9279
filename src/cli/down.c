/* ringvpn down NAME: stop the daemon that owns NAME and make sure nothing
 * it added stays behind, also when it had crashed. The daemon is found
 * through NAME's lock (src/daemon/name_lock.h), never through the pid file's
 * text, so a pid that a dead daemon left and someone else now has is
 * never signalled. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "netlink/rtnl.h"
#include "src/cli/commands.h"
#include "src/ifname.h"
#include "src/daemon/name_lock.h"
#include "src/netconf/netconf.h"
#include "src/rundir.h"

#define DOWN_USAGE "down NAME"
#define STOP_TIMEOUT_MS 10000

/* SIGTERM to NAME's owner and wait for it to exit (its pidfd becomes
 * readable): 1 stopped, 0 nobody owned NAME, or -errno, reported. */
static int stop_owner(const char *ifname)
{
	struct pollfd pfd = { .events = POLLIN };
	pid_t pid = 0;
	int ret;

	pfd.fd = name_lock_holder(ifname, &pid);
	if (pfd.fd == -ENOENT)
		return 0;
	if (pfd.fd < 0) {
		fprintf(stderr, "ringvpn: down: cannot reach the owner of %s: "
			"%s\n", ifname, strerror(-pfd.fd));
		return pfd.fd;
	}
	ret = pidfd_send_signal(pfd.fd, SIGTERM, NULL, 0) ? -errno : 0;
	if (!ret && poll(&pfd, 1, STOP_TIMEOUT_MS) != 1)
		ret = -ETIMEDOUT;
	close(pfd.fd);
	if (ret)
		fprintf(stderr, "ringvpn: %s (pid %ld) did not stop: %s\n",
			ifname, (long)pid, strerror(-ret));
	return ret ? ret : 1;
}

/* What a crashed daemon left: its journal says exactly what to undo. */
static int undo_journal(const char *ifname)
{
	struct netlink nl;
	char journal[256], err[512];
	int ret = netconf_journal_path(ifname, journal, sizeof(journal));

	if (ret || access(journal, F_OK))
		return ret;
	ret = netlink_open(&nl);
	if (!ret)
		ret = netconf_down(&nl, journal, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "cannot open rtnetlink: %s",
			 strerror(-ret));
	netlink_close(&nl);
	if (ret)
		fprintf(stderr, "ringvpn: down: %s\n", err);
	return ret ? ret : 1;
}

/* With NAME's lock held, so that no `up` runs meanwhile: the journal,
 * the stats file and a stale pid file go. 1 if anything was left, 0 if
 * not, or -errno, reported. */
static int clean_up_after(const char *ifname)
{
	struct name_lock lock;
	pid_t holder = 0, stale = 0;
	char stats[256];
	int ret = name_lock_take(&lock, ifname, &holder, &stale);

	if (ret) {
		fprintf(stderr, "ringvpn: down: %s: %s\n", ifname, ret == -EEXIST ?
			"it is up again" : strerror(-ret));
		return ret;
	}
	if (stale)
		fprintf(stderr, "ringvpn: %s: removing a stale pid file (pid "
			"%ld holds no lock on it: not the daemon of %s)\n",
			ifname, (long)stale, ifname);
	ret = undo_journal(ifname);
	if (!rundir_path(ifname, "stats", stats, sizeof(stats)))
		unlink(stats);
	name_lock_release(&lock);
	return ret < 0 ? ret : ret || stale;
}

int down_main(int argc, char **argv)
{
	const char *ifname = argv[1];
	int stopped, cleaned;

	if (command_wants_help(argc, argv))
		return command_usage(stdout, DOWN_USAGE, 0);
	if (argc != 2)
		return command_usage(stderr, DOWN_USAGE, 1);
	if (!ifname_valid(ifname)) {
		fprintf(stderr, "ringvpn: down: `%s' is not an interface name\n",
			ifname);
		return 1;
	}
	stopped = stop_owner(ifname);
	if (stopped < 0)
		return 1;
	cleaned = clean_up_after(ifname);
	if (cleaned < 0)
		return 1;
	if (!stopped && !cleaned) {
		fprintf(stderr, "ringvpn: %s is not up\n", ifname);
		return 1;
	}
	return 0;
}
