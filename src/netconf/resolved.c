/* DNS = ... through systemd-resolved, where resolvconf is absent: the
 * name servers with `resolvectl dns IFNAME SERVER...`, the search
 * domains with `resolvectl domain IFNAME DOMAIN...`, plus "~." for a
 * full tunnel, so that every name is looked up through the tunnel's
 * servers and not leaked to the underlay's. Undone with `resolvectl
 * revert IFNAME`. resolved keeps these per link and drops them with the
 * link, so the journal entry is the device's: a crashed run's went
 * with its TUN. */
#include "src/netconf/netconf.h"
#include "src/netconf/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RESOLVECTL "resolvectl"

bool netconf_resolved_usable(void)
{
	struct stat st;

	return netconf_on_path(RESOLVECTL) &&
	       !stat(NETCONF_RESOLVED_SOCKET, &st) && S_ISSOCK(st.st_mode);
}

/* "resolvectl VERB IFNAME" then n more slots and the NULL. */
static char **argv_start(const char *verb, const char *ifname, size_t n)
{
	char **argv = calloc(n + 4, sizeof(*argv));

	if (!argv)
		return NULL;
	argv[0] = (char *)RESOLVECTL;
	argv[1] = (char *)verb;
	argv[2] = (char *)ifname;
	return argv;
}

int netconf_resolvectl_argv(enum netconf_resolvectl_cmd cmd,
			    const char *ifname, const struct config *cfg,
			    bool full, char ***out)
{
	bool route_all = cmd == NETCONF_RESOLVECTL_DOMAIN && full;
	const struct config_strings *list =
		cmd == NETCONF_RESOLVECTL_DNS ? &cfg->dns : &cfg->dns_search;
	char **argv;

	*out = NULL;
	/* Nothing to say: no command at all. */
	if (!list->n && !route_all)
		return 0;
	argv = argv_start(cmd == NETCONF_RESOLVECTL_DNS ? "dns" : "domain",
			  ifname, list->n + 1);
	if (!argv)
		return -ENOMEM;
	for (size_t i = 0; i < list->n; i++)
		argv[3 + i] = list->v[i];
	if (route_all)
		argv[3 + list->n] = (char *)"~.";
	*out = argv;
	return 0;
}

/* One command, if it has one; detail says why it failed. */
static int run(enum netconf_resolvectl_cmd cmd, const char *ifname,
	       const struct netconf_plan *p, char *detail, size_t detail_len)
{
	char **argv = NULL;
	int ret = netconf_resolvectl_argv(cmd, ifname, p->cfg,
					  p->full[0] || p->full[1], &argv);

	if (ret) {
		snprintf(detail, detail_len, "%s", strerror(-ret));
		return ret;
	}
	if (argv)
		ret = netconf_run_program(argv, "", 0, detail, detail_len);
	free(argv);
	return ret;
}

int netconf_apply_resolved(struct netconf_run *r,
			   const struct netconf_plan *p)
{
	struct netconf_entry e = netconf_entry_of(r, NETCONF_RESOLVED);
	char detail[64];
	int ret = run(NETCONF_RESOLVECTL_DNS, r->ifname, p, detail,
		      sizeof(detail));

	if (ret)
		return netconf_fail(r->err, r->err_len, ret, "cannot set DNS: "
				    "`resolvectl dns %s ...' failed: %s",
				    r->ifname, detail);
	/* Recorded now: a failed domain command is undone by the revert. */
	ret = netconf_record(r, &e);
	if (!ret && (ret = run(NETCONF_RESOLVECTL_DOMAIN, r->ifname, p, detail,
			       sizeof(detail))))
		return netconf_fail(r->err, r->err_len, ret, "cannot set DNS "
				    "domains: `resolvectl domain %s ...' "
				    "failed: %s", r->ifname, detail);
	return ret;
}

int netconf_undo_resolved(const struct netconf_entry *e, char *detail,
			  size_t detail_len)
{
	char ifname[IFNAMSIZ];
	char *argv[] = { RESOLVECTL, "revert", ifname, NULL };

	snprintf(ifname, sizeof(ifname), "%s", e->ifname);
	return netconf_run_program(argv, "", 0, detail, detail_len);
}
