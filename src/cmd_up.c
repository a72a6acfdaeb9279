/* ringvpn up [-f] CONFIG|NAME: bring an interface up from a config file
 * and serve it, in the background unless -f. Errors are reported before
 * `up` returns: the daemon tells its parent through a pipe once the
 * interface is up, or why it is not. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/commands.h"
#include "src/config.h"
#include "src/daemon.h"

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
	int ret;

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
	for (size_t i = 0; i < cfg.warnings.n; i++)
		fprintf(stderr, "%s\n", cfg.warnings.v[i]);
	if (cfg.save_config)
		fprintf(stderr, "ringvpn: SaveConfig is accepted and ignored\n");
	ret = daemon_serve(&cfg, path, ifname, foreground);
	config_free(&cfg);
	return ret;
}
