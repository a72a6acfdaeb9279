#include "src/daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/clock.h"
#include "src/daemon/hooks.h"
#include "src/log.h"
#include "src/daemon/name_lock.h"
#include "src/netconf/netconf.h"
#include "src/daemon/privilege.h"
#include "src/daemon/save_config.h"
#include "src/resolve_wait.h"
#include "src/rundir.h"
#include "src/secret_buf.h"
#include "src/tunnel/control_loop.h"
#include "src/tunnel/tunnel.h"
#include "src/uapi/server.h"

/* How long a new daemon waits for the last one of its name to leave. */
#define SUCCESSOR_WAIT_MS 2000
#define SUCCESSOR_STEP_MS 5

/* Whether NAME's holder is serving it: its socket is there and so is
 * an interface of that name. */
static bool name_served(const char *ifname)
{
	return uapi_socket_present(ifname) && if_nametoindex(ifname);
}

struct name_take {
	struct name_lock *lock;
	const char *ifname;
	pid_t *holder;
	int ret;
};

/* Taken, or refused for good: anything but a holder that does not
 * serve the name (yet, or any more). */
static bool name_settled(void *arg)
{
	struct name_take *t = arg;

	t->ret = name_lock_take(t->lock, t->ifname, t->holder, NULL);
	return t->ret != -EEXIST || name_served(t->ifname);
}

/* NAME's lock, waiting a while for a holder on its way out. A daemon
 * whose interface was deleted notices at once, removes its UAPI socket
 * and drops the lock a few milliseconds later: a successor started
 * right after the deletion (`ip link del wg0; ringvpn wg0`, as wg-quick
 * down and up do) waits for it rather than fail. A holder that serves
 * the name refuses us at once; one still coming up lacks its socket or
 * its interface for a moment, and the wait ends as soon as it has both.
 * (One whose interface moved to another namespace keeps us waiting the
 * whole time before we are refused.) -EEXIST: a holder serves the
 * name; -EBUSY: one still holds it after the whole wait, without
 * serving it here (slow to come up or to go down, or its interface is
 * in another namespace). */
static int take_name(struct name_lock *lock, const char *ifname,
		     pid_t *holder)
{
	struct name_take t = { lock, ifname, holder, 0 };

	if (!wait_until(name_settled, &t, SUCCESSOR_WAIT_MS,
			SUCCESSOR_STEP_MS))
		return -EBUSY;
	return t.ret;
}

/* The first step of every daemon: NAME is ours before anything is
 * touched, so a second `up` of a live NAME changes nothing. */
static int own_name(struct name_lock *lock, const char *ifname, char *err,
		    size_t err_len)
{
	pid_t holder = 0;
	int ret = rundir_check(err, err_len);

	lock->fd = -1;
	if (ret)
		return ret;
	ret = take_name(lock, ifname, &holder);
	if (!ret)
		ret = name_lock_write_pid(lock);
	if (ret == -EBUSY && holder > 0)
		snprintf(err, err_len, "%s is already up (pid %ld), but does "
			 "not serve it here: still coming up, going down, or "
			 "moved to another namespace", ifname, (long)holder);
	else if (ret == -EBUSY)
		snprintf(err, err_len, "%s is already up (in another pid "
			 "namespace), but does not serve it here", ifname);
	else if (ret == -EEXIST && holder > 0)
		snprintf(err, err_len, "%s is already up (pid %ld)", ifname,
			 (long)holder);
	else if (ret == -EEXIST)
		snprintf(err, err_len, "%s is already up (in another pid "
			 "namespace)", ifname);
	else if (ret)
		snprintf(err, err_len, "cannot lock %s/%s.pid: %s",
			 rundir_dir(), ifname, strerror(-ret));
	return ret;
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

/* Failing down hooks do not stop the way down: they are only reported. */
static void run_down_hooks(const struct config_strings *hooks,
			   const char *ifname)
{
	char err[512];

	if (hooks_run(hooks, ifname, err, sizeof(err)))
		log_warn("%s: %s", ifname, err);
}

/* Whether the file says SaveConfig = true now: as with wg-quick, which
 * reads the file at `down`, an edit made while the tunnel ran counts.
 * A file that no longer parses is not overwritten (it is someone's work
 * in progress); that is worth a warning only if `up` was asked to save.
 * When it is wanted, *now and *text are the file, read once, for
 * save_config to rewrite. */
static bool save_wanted(const struct tunnel *tn, struct config *now,
			struct secret_buf *text)
{
	char err[512];

	if (config_load_text(now, text, tn->config_path, err, sizeof(err))) {
		if (tn->cfg->save_config)
			log_warn("%s: SaveConfig: not saved: %s", tn->ifname,
				 err);
		return false;
	}
	if (now->save_config)
		return true;
	config_free(now);
	secret_buf_free(text);
	return false;
}

/* After PreDown, while the device still holds everything, as wg-quick
 * saves. A failure is reported and the way down goes on: the file is
 * then as it was. */
static void save_running(struct tunnel *tn)
{
	struct secret_buf text = { 0 };
	struct config now;
	char err[512];

	if (!*tn->config_path || !save_wanted(tn, &now, &text))
		return;
	if (save_config(tn, tn->config_path, &text, &now, err, sizeof(err)))
		log_error("%s: %s", tn->ifname, err);
	else if (*err)
		log_warn("%s: %s", tn->ifname, err);
	else
		log_info("%s: saved the configuration to %s", tn->ifname,
			 tn->config_path);
	config_free(&now);
	secret_buf_free(&text);
}

static void say_retry(const char *line)
{
	log_warn("%s", line);
}

/* After PreUp, as wg-quick resolves after it (a hook may bring up what
 * resolution needs): every Endpoint name resolves, or the retries are
 * spent and err says which name failed and why. */
static int names_resolve(struct config *cfg, long retries, char *err,
			 size_t err_len)
{
	char why[400];
	int ret = resolve_wait(cfg, retries, say_retry, why, sizeof(why));

	if (ret)
		snprintf(err, err_len, "%s (gave up after %ld retries)", why,
			 retries);
	return ret;
}

/* PreUp, the tunnel, PostUp; on failure everything done is undone and
 * err says why. */
static int bring_up(struct tunnel *tn, struct config *cfg,
		    const char *config_path, const char *ifname,
		    long resolve_retries, char *err, size_t err_len)
{
	int ret = config_path ? netconf_check_tools(cfg, err, err_len) : 0;

	if (!ret)
		ret = hooks_run(&cfg->pre_up, ifname, err, err_len);
	if (!ret)
		ret = names_resolve(cfg, resolve_retries, err, err_len);
	if (ret)
		return ret;
	ret = tunnel_up(tn, cfg, config_path, ifname, err, err_len);
	if (ret)
		return ret;
	ret = hooks_run(&cfg->post_up, ifname, err, err_len);
	if (ret)
		tunnel_down(tn);
	return ret;
}

static void report(int report_fd, const char *err)
{
	if (report_fd < 0) {
		if (*err)
			log_error("%s", err);
		return;
	}
	if (write(report_fd, err, strlen(err) + 1) < 0 && !*err)
		log_warn("lost the parent process");
	close(report_fd);
}

/* READY=1 with the facts systemctl status shows. */
static void notify_ready(const struct tunnel *tn)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld\nSTATUS=%s up: %u "
		 "threads, UDP port %u", (long)getpid(), tn->ifname,
		 tn->n_workers, tn->listen_port);
	tunnel_notify(tn, msg);
}

/* Brings the tunnel up and runs it. report_fd (or -1) hears "" on
 * success or the error message. */
static int serve(struct config *cfg, const char *config_path,
		 const char *ifname, long resolve_retries, int report_fd)
{
	struct notifier notify;
	struct name_lock lock;
	struct tunnel tn;
	char err[512] = "";
	int ret;

	/* Keys in memory: main() made the process non-dumpable. */
	notify_init(&notify);
	if (own_name(&lock, ifname, err, sizeof(err)) ||
	    bring_up(&tn, cfg, config_path, ifname, resolve_retries, err,
		     sizeof(err))) {
		name_lock_release(&lock);
		report(report_fd, err);
		return 1;
	}
	tn.notify = notify;
	log_info("%s is up: %u threads, UDP port %u", ifname, tn.n_workers,
		 tn.listen_port);
	log_debug("%s: %zu peers, MTU %u, fwmark 0x%x, config %s", ifname,
		  tn.dev.peers.count, tn.dp.mtu, tn.fwmark,
		  config_path ? config_path : "(none: UAPI)");
	/* Everything that needed more than the network capabilities (the
	 * TUN device, the run and UAPI directories) is done. */
	if ((ret = privilege_drop(PRIVILEGE_KEEP |
				 (cfg->save_config ? PRIVILEGE_SAVE : 0))))
		log_warn("%s: cannot drop capabilities: %s", ifname,
			 strerror(-ret));
	report(report_fd, "");
	if (report_fd >= 0) {
		detach();
		log_setup(log_level(), true, "ringvpn");
	}
	notify_ready(&tn);
	ret = tunnel_run(&tn);
	tunnel_notify(&tn, "STOPPING=1");
	log_info("%s is going down", ifname);
	run_down_hooks(&cfg->pre_down, ifname);
	save_running(&tn);
	tunnel_down(&tn);
	run_down_hooks(&cfg->post_down, ifname);
	name_lock_release(&lock); /* the last step: NAME is free again */
	return ret ? 1 : 0;
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

int daemon_options_parse(int argc, char **argv, struct daemon_options *o)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "fvqh", opts, NULL)) != -1) {
		if (c == 'f')
			o->foreground = true;
		else if (c == 'v')
			o->verbose = 1;
		else if (c == 'q')
			o->verbose = -1;
		else
			return c == 'h' ? 2 : 1;
	}
	if (optind != argc - 1)
		return 1;
	o->operand = argv[optind];
	return 0;
}

int daemon_serve(struct config *cfg, const char *config_path,
		 const char *ifname, const struct daemon_options *o)
{
	int pipefd[2], ret;
	pid_t pid;

	log_setup(log_level_choose(o->verbose), false, "ringvpn");
	if (o->foreground)
		return serve(cfg, config_path, ifname, o->resolve_retries, -1);
	fflush(stdout);
	fflush(stderr);
	if (pipe2(pipefd, O_CLOEXEC) || (pid = fork()) < 0) {
		perror("ringvpn: cannot start the daemon");
		return 1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		ret = serve(cfg, config_path, ifname, o->resolve_retries,
			    pipefd[1]);
		config_free(cfg);
		_exit(ret);
	}
	close(pipefd[1]);
	return wait_for_daemon(pipefd[0], pid);
}
