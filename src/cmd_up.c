/* ringvpn up [-f] CONFIG|NAME: bring an interface up from a config file
 * and serve it, in the background unless -f. Errors are reported before
 * `up` returns: the daemon tells its parent through a pipe once the
 * interface is up, or why it is not. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/commands.h"
#include "src/config.h"
#include "src/log.h"
#include "src/rundir.h"
#include "src/tunnel.h"

#define UP_USAGE "up [-f|--foreground] CONFIG|NAME"

/* NAME alone means /etc/ringvpn/NAME.conf, as wg-quick does with
 * /etc/wireguard. */
static void config_path(const char *arg, char *out, size_t len)
{
	size_t n = strlen(arg);

	if (strchr(arg, '/') || (n > 5 && !strcmp(arg + n - 5, ".conf")))
		snprintf(out, len, "%s", arg);
	else
		snprintf(out, len, "/etc/ringvpn/%s.conf", arg);
}

static int write_pid_file(const char *ifname)
{
	char path[256];
	FILE *f;
	int ret = rundir_path(ifname, "pid", path, sizeof(path));

	if (ret)
		return ret;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) ? -errno : 0;
}

static void remove_pid_file(const char *ifname)
{
	char path[256];

	if (!rundir_path(ifname, "pid", path, sizeof(path)))
		unlink(path);
}

/* In the daemon: stdio to /dev/null, logs to syslog, a session of its own. */
static void detach(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	setsid();
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

/* Brings the tunnel up and runs it. report_fd (or -1) hears "" on
 * success or the error message. */
static int serve(struct config *cfg, const char *ifname, int report_fd)
{
	struct tunnel tn;
	char err[512] = "";
	int ret;

	/* Keys in memory: no core dumps. */
	prctl(PR_SET_DUMPABLE, 0);
	ret = tunnel_up(&tn, cfg, ifname, err, sizeof(err));
	if (!ret && (ret = write_pid_file(ifname))) {
		snprintf(err, sizeof(err), "cannot write the pid file: %s",
			 strerror(-ret));
		tunnel_down(&tn);
	}
	if (ret) {
		if (report_fd >= 0) {
			if (write(report_fd, err, strlen(err) + 1) < 0)
				ret = -EPIPE;
		} else {
			log_error("%s", err);
		}
		return 1;
	}
	log_info("%s is up: %u threads, UDP port %u", ifname, tn.n_workers,
		 tn.listen_port);
	if (report_fd >= 0) {
		if (write(report_fd, "", 1) < 0)
			log_warn("lost the parent process");
		close(report_fd);
		detach();
		log_setup(LOG_LEVEL_INFO, true, "ringvpn");
	}
	ret = tunnel_run(&tn);
	log_info("%s is going down", ifname);
	tunnel_down(&tn);
	remove_pid_file(ifname);
	return ret ? 1 : 0;
}

/* Until full-tunnel policy routing exists, a default route through the
 * tunnel in the main table would cut the tunnel's own traffic off: refuse
 * it before anything changes, naming the peer's line. */
static bool refuse_default_route(const struct config *cfg, const char *path)
{
	if (cfg->table != CONFIG_TABLE_AUTO)
		return false;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct config_peer *p = &cfg->peers[i];

		for (size_t j = 0; j < p->n_allowed_ips; j++) {
			if (p->allowed_ips[j].cidr)
				continue;
			fprintf(stderr, "ringvpn: %s:%u: AllowedIPs `%s' with "
				"Table = auto needs full-tunnel policy routing, "
				"which is not supported yet (expected Table = "
				"off or a table number)\n", path, p->line,
				p->allowed_ips[j].family == AF_INET ?
				"0.0.0.0/0" : "::/0");
			return true;
		}
	}
	return false;
}

/* The parent waits for the daemon's word: "" means up. */
static int wait_for_daemon(int fd, pid_t child)
{
	char msg[512];
	ssize_t n = read(fd, msg, sizeof(msg) - 1);

	close(fd);
	if (n == 1 && msg[0] == '\0')
		return 0;
	if (n > 0) {
		msg[n] = '\0';
		fprintf(stderr, "ringvpn: %s\n", msg);
	} else {
		fprintf(stderr, "ringvpn: the daemon died during start-up\n");
	}
	waitpid(child, NULL, 0);
	return 1;
}

static int parse_args(int argc, char **argv, bool *foreground,
		      const char **target)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		if (c == 'f')
			*foreground = true;
		else
			return c == 'h' ? 2 : 1;
	}
	if (optind != argc - 1)
		return 1;
	*target = argv[optind];
	return 0;
}

int up_main(int argc, char **argv)
{
	struct config cfg;
	char path[4096], ifname[16], err[512];
	const char *target = NULL;
	bool foreground = false;
	int pipefd[2], ret;
	pid_t pid;

	ret = parse_args(argc, argv, &foreground, &target);
	if (ret)
		return command_usage(ret == 2 ? stdout : stderr, UP_USAGE,
				     ret == 2 ? 0 : 1);
	config_path(target, path, sizeof(path));
	if (config_ifname_from_path(path, ifname)) {
		fprintf(stderr, "ringvpn: `%s' does not name a valid interface "
			"(1-15 characters of letters, digits and _=+.-)\n", path);
		return 1;
	}
	if (config_load(&cfg, path, err, sizeof(err))) {
		fprintf(stderr, "ringvpn: %s\n", err);
		return 1;
	}
	if (refuse_default_route(&cfg, path)) {
		config_free(&cfg);
		return 1;
	}
	for (size_t i = 0; i < cfg.warnings.n; i++)
		fprintf(stderr, "%s\n", cfg.warnings.v[i]);
	if (cfg.save_config)
		fprintf(stderr, "ringvpn: SaveConfig is accepted and ignored\n");
	if (foreground) {
		ret = serve(&cfg, ifname, -1);
		config_free(&cfg);
		return ret;
	}
	fflush(stdout);
	fflush(stderr);
	if (pipe2(pipefd, O_CLOEXEC) || (pid = fork()) < 0) {
		perror("ringvpn: up");
		config_free(&cfg);
		return 1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		ret = serve(&cfg, ifname, pipefd[1]);
		config_free(&cfg);
		_exit(ret);
	}
	close(pipefd[1]);
	config_free(&cfg);
	return wait_for_daemon(pipefd[0], pid);
}
