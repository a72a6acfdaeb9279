/* DNS = ... as wg-quick applies it: the name servers and search domains
 * piped to `resolvconf -a [PREFIX.]IFNAME -m 0 -x`, removed with
 * `resolvconf -d [PREFIX.]IFNAME -f`. resolvconf (Debian's, or
 * openresolv) owns /etc/resolv.conf; we only ever hand it our record.
 *
 * resolvconf runs as a child (posix_spawnp: no shell, so nothing in the
 * config is ever interpreted) with its input written into a pipe before
 * it starts: the pipe holds it all, so we never block on a child that
 * does not read, and never write to one that has exited (no SIGPIPE). */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"
#include "src/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESOLVCONF "resolvconf"
/* posix_spawnp's search path when PATH is unset (confstr _CS_PATH). */
#define DEFAULT_PATH "/bin:/usr/bin"
/* The most resolvconf's input may be; far beyond a real DNS list. */
#define MAX_INPUT (1u << 20)

/* NAME of a line "NAME*", NAME of letters, digits and '-'. */
static bool order_line_prefix(const char *s, size_t len)
{
	if (len < 2 || s[len - 1] != '*')
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	/* resolvconf would read "-x.wg0" as an option: never such a name. */
	return s[0] != '-';
}

static char *trim(char *s)
{
	size_t len = strlen(s);

	while (len && strchr(" \t\r\n", s[len - 1]))
		s[--len] = '\0';
	return s + strspn(s, " \t");
}

int netconf_resolvconf_prefix(const char *path, char *out, size_t out_len)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *s;
	size_t cap = 0, len;
	int ret = 0;

	if (out_len)
		out[0] = '\0';
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) > 0) {
		s = trim(line);
		len = strlen(s);
		if (!order_line_prefix(s, len))
			continue;
		if (len + 1 > out_len || len + 1 > NETCONF_DNS_PREFIX_MAX) {
			ret = -ENAMETOOLONG;
			break;
		}
		/* "tun*" gives "tun." */
		memcpy(out, s, len - 1);
		out[len - 1] = '.';
		out[len] = '\0';
		break;
	}
	if (ferror(f) && !ret)
		ret = -EIO;
	free(line);
	fclose(f);
	return ret;
}

/* Whether posix_spawnp would find name on PATH. */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	char file[4096];
	struct stat st;

	if (!path)
		path = DEFAULT_PATH;
	while (path) {
		const char *colon = strchr(path, ':');
		int dlen = colon ? (int)(colon - path) : (int)strlen(path);

		/* An empty entry is the current directory. */
		snprintf(file, sizeof(file), "%.*s/%s", dlen ? dlen : 1,
			 dlen ? path : ".", name);
		if (!stat(file, &st) && S_ISREG(st.st_mode) &&
		    !access(file, X_OK))
			return true;
		path = colon ? colon + 1 : NULL;
	}
	return false;
}

int netconf_check_tools(const struct config *cfg, char *err, size_t err_len)
{
	/* As wg-quick: search domains alone are not applied. */
	if (!cfg->dns.n || on_path(RESOLVCONF))
		return 0;
	return netconf_fail(err, err_len, -ENOENT,
			    "DNS is set but resolvconf is not installed "
			    "(no `%s' on PATH): install resolvconf or "
			    "openresolv, or remove DNS from the config",
			    RESOLVCONF);
}

int netconf_plan_dns(struct netconf_plan *plan, char *err, size_t err_len)
{
	int ret = netconf_check_tools(plan->cfg, err, err_len);

	if (ret || !plan->cfg->dns.n)
		return ret;
	ret = netconf_resolvconf_prefix(NETCONF_RESOLVCONF_ORDER,
					plan->dns_prefix,
					sizeof(plan->dns_prefix));
	if (ret)
		return netconf_fail(err, err_len, ret, "cannot read `%s': %s",
				    NETCONF_RESOLVCONF_ORDER, strerror(-ret));
	return 0;
}

/* Whether the pipe can take len bytes without a reader, grown if need
 * be (a pipe may start at one page when the user has many). */
static bool pipe_holds(int fd, size_t len)
{
	int size = fcntl(fd, F_GETPIPE_SZ);

	if (size >= 0 && (size_t)size >= len)
		return true;
	return len <= MAX_INPUT && fcntl(fd, F_SETPIPE_SZ, (int)len) >= 0;
}

/* A pipe already holding input, for the child's stdin. */
static int input_pipe(const char *input, size_t len, int *rfd)
{
	int fds[2], ret = 0;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	if (!pipe_holds(fds[1], len))
		ret = -E2BIG;
	while (!ret && len) {
		ssize_t w = write(fds[1], input, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			break;
		}
		input += w;
		len -= (size_t)w;
	}
	close(fds[1]);
	if (ret)
		close(fds[0]);
	else
		*rfd = fds[0];
	return ret;
}

/* Runs resolvconf with argv and input on its stdin, and waits. -EIO for
 * an exit other than 0, described in detail. */
static int run_resolvconf(char *const argv[], const char *input, size_t len,
			  char *detail, size_t detail_len)
{
	int in_fd = -1, status, ret = input_pipe(input, len, &in_fd);

	if (!ret) {
		ret = spawn_wait(argv, in_fd, &status);
		close(in_fd);
	}
	if (ret) {
		snprintf(detail, detail_len, "%s", strerror(-ret));
		return ret;
	}
	return spawn_succeeded(status, detail, detail_len) ? 0 : -EIO;
}

/* "nameserver A\n..." then "search D1 D2\n", as wg-quick prints them. */
static char *dns_input(const struct config *cfg, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < cfg->dns.n; i++)
		fprintf(f, "nameserver %s\n", cfg->dns.v[i]);
	for (size_t i = 0; i < cfg->dns_search.n; i++)
		fprintf(f, "%s%s", i ? " " : "search ", cfg->dns_search.v[i]);
	if (cfg->dns_search.n)
		fputc('\n', f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

int netconf_apply_dns(struct netconf_run *r, const struct netconf_plan *p)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_DNS);
	char *argv[] = { RESOLVCONF, "-a", e.record, "-m", "0", "-x", NULL };
	char detail[64], *input;
	size_t len = 0;
	int ret;

	if (!p->cfg->dns.n)
		return 0;
	snprintf(e.record, sizeof(e.record), "%s%s", p->dns_prefix,
		 r->ifname);
	input = dns_input(p->cfg, &len);
	if (!input)
		return netconf_fail(r->err, r->err_len, -ENOMEM,
				    "out of memory");
	ret = run_resolvconf(argv, input, len, detail, sizeof(detail));
	free(input);
	if (ret)
		return netconf_fail(r->err, r->err_len, ret,
				    "cannot set DNS: `resolvconf -a %s -m 0 "
				    "-x' failed: %s", e.record, detail);
	return netconf_record(r, &e);
}

int netconf_undo_dns(const struct netconf_entry *e, char *detail,
		     size_t detail_len)
{
	char record[NETCONF_DNS_RECORD_MAX];
	char *argv[] = { RESOLVCONF, "-d", record, "-f", NULL };

	snprintf(record, sizeof(record), "%s", e->record);
	return run_resolvconf(argv, "", 0, detail, detail_len);
}
