/* ringvpn down NAME: stop the daemon serving NAME and make sure nothing it
 * added stays behind, also when it had crashed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netlink/rtnl.h"
#include "src/commands.h"
#include "src/netconf.h"
#include "src/rundir.h"

#define DOWN_USAGE "down NAME"
#define STOP_TIMEOUT_MS 10000

/* A daemon that has exited but not been reaped yet (its parent is init,
 * which takes its time) is as good as gone. */
static bool exited(pid_t pid)
{
	char path[64], stat[256], *p;
	FILE *f;
	bool zombie = false;

	if (kill(pid, 0) && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(stat, sizeof(stat), f) && (p = strrchr(stat, ')')))
		zombie = p[1] == ' ' && p[2] == 'Z';
	fclose(f);
	return zombie;
}

static bool wait_gone(pid_t pid)
{
	struct timespec tick = { 0, 5 * 1000 * 1000 };

	for (int ms = 0; ms < STOP_TIMEOUT_MS; ms += 5) {
		if (exited(pid))
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

/* What a crashed daemon left: its journal says exactly what to undo. */
static int undo_leftovers(const char *ifname)
{
	struct netlink nl;
	char journal[256], path[256], err[512];
	int ret = netconf_journal_path(ifname, journal, sizeof(journal));

	if (ret || access(journal, F_OK))
		return ret;
	ret = netlink_open(&nl);
	if (!ret)
		ret = netconf_down(&nl, journal, err, sizeof(err));
	netlink_close(&nl);
	if (ret)
		fprintf(stderr, "ringvpn: down: %s\n", err);
	if (!rundir_path(ifname, "pid", path, sizeof(path)))
		unlink(path);
	if (!rundir_path(ifname, "stats", path, sizeof(path)))
		unlink(path);
	return ret ? ret : 1;
}

int down_main(int argc, char **argv)
{
	pid_t pid;
	int ret;

	if (command_wants_help(argc, argv))
		return command_usage(stdout, DOWN_USAGE, 0);
	if (argc != 2)
		return command_usage(stderr, DOWN_USAGE, 1);
	pid = rundir_read_pid(argv[1]);
	if (pid > 0 && kill(pid, SIGTERM) == 0 && !wait_gone(pid)) {
		fprintf(stderr, "ringvpn: %s (pid %ld) did not stop\n", argv[1],
			(long)pid);
		return 1;
	}
	ret = undo_leftovers(argv[1]);
	if (ret < 0)
		return 1;
	if (pid <= 0 && ret == 0) {
		fprintf(stderr, "ringvpn: %s is not up\n", argv[1]);
		return 1;
	}
	return 0;
}
