/* ringvpn show NAME: the running daemon's counters, as it last wrote them
 * (every second, and at once on SIGUSR1). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "src/commands.h"
#include "src/rundir.h"

#define SHOW_USAGE "show NAME"

int show_main(int argc, char **argv)
{
	char stats[256], line[1024];
	struct timespec wait = { 0, 50 * 1000 * 1000 };
	pid_t pid;
	FILE *f;

	if (command_wants_help(argc, argv))
		return command_usage(stdout, SHOW_USAGE, 0);
	if (argc != 2)
		return command_usage(stderr, SHOW_USAGE, 1);
	if (rundir_path(argv[1], "stats", stats, sizeof(stats)))
		return 1;
	pid = rundir_read_pid(argv[1]);
	if (pid <= 0 || kill(pid, SIGUSR1)) {
		fprintf(stderr, "ringvpn: %s is not up\n", argv[1]);
		return 1;
	}
	nanosleep(&wait, NULL); /* let it write fresh numbers */
	f = fopen(stats, "r");
	if (!f) {
		fprintf(stderr, "ringvpn: show: %s: %s\n", stats,
			strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
	return 0;
}
