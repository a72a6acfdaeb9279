/* ringvpn [-f|--foreground] IFNAME: the calling convention of a WireGuard
 * userspace implementation (wireguard.com/xplatform), so that
 * WG_QUICK_USERSPACE_IMPLEMENTATION=ringvpn wg-quick up wg0 works: create
 * the interface with no keys, no peers and no addresses, serve the UAPI
 * socket, and let wg(8) and wg-quick do the rest. */
#include <stdio.h>
#include <string.h>

#include "src/commands.h"
#include "src/config.h"
#include "src/daemon.h"
#include "src/netconf.h"

int userspace_main(int argc, char **argv)
{
	struct config cfg;
	bool foreground = false;
	const char *ifname;
	int ret;

	if (argc == 3 && (!strcmp(argv[1], "-f") ||
			  !strcmp(argv[1], "--foreground"))) {
		foreground = true;
		ifname = argv[2];
	} else if (argc == 2) {
		ifname = argv[1];
	} else {
		return command_usage(stderr, "[-f|--foreground] INTERFACE", 1);
	}
	if (!netconf_ifname_valid(ifname)) {
		fprintf(stderr, "ringvpn: `%s' is not a valid interface name\n",
			ifname);
		return 1;
	}
	memset(&cfg, 0, sizeof(cfg));
	ret = daemon_serve(&cfg, NULL, ifname, foreground);
	config_free(&cfg);
	return ret;
}
