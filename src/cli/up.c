/* ringvpn up [-f] [-v|-q] CONFIG|NAME: bring an interface up from a config
 * file and serve it, in the background unless -f. Errors are reported before
 * `up` returns: the daemon tells its parent through a pipe once the
 * interface is up, or why it is not. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/commands.h"
#include "src/config.h"
#include "src/daemon/daemon.h"
#include "src/resolve_wait.h"

#define UP_USAGE "up " DAEMON_OPTIONS_USAGE " CONFIG|NAME"

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

/* Read before anything happens: a bad value stops `up` at once. */
static int resolve_retries(long *retries)
{
	const char *value = getenv("WG_ENDPOINT_RESOLUTION_RETRIES");

	if (!resolve_retries_parse(value, retries))
		return 0;
	fprintf(stderr, "ringvpn: WG_ENDPOINT_RESOLUTION_RETRIES is neither "
		"a number nor `infinity': `%s'\n", value);
	return -EINVAL;
}

int up_main(int argc, char **argv)
{
	struct config cfg;
	char path[4096], ifname[16], err[512];
	struct daemon_options o;
	int ret;

	ret = daemon_options_parse(argc, argv, &o);
	if (ret)
		return command_usage(ret == 2 ? stdout : stderr, UP_USAGE,
				     ret == 2 ? 0 : 1);
	config_path(o.operand, path, sizeof(path));
	if (config_ifname_from_path(path, ifname)) {
		fprintf(stderr, "ringvpn: `%s' does not name a valid interface "
			"(1-15 characters of letters, digits and _=+.-)\n", path);
		return 1;
	}
	if (config_load(&cfg, path, err, sizeof(err))) {
		fprintf(stderr, "ringvpn: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < cfg.warnings.n; i++)
		fprintf(stderr, "%s\n", cfg.warnings.v[i]);
	ret = resolve_retries(&o.resolve_retries) ? 1 :
	      daemon_serve(&cfg, path, ifname, &o);
	config_free(&cfg);
	return ret;
}
