/* ringvpn [-f|--foreground] [-v|-q] IFNAME: the calling convention of a
 * WireGuard userspace implementation (wireguard.com/xplatform), so that
 * WG_QUICK_USERSPACE_IMPLEMENTATION=ringvpn wg-quick up wg0 works: create
 * the interface with no keys, no peers and no addresses, serve the UAPI
 * socket, and let wg(8) and wg-quick do the rest. */
#include <stdio.h>
#include <string.h>

#include "src/cli/commands.h"
#include "src/config.h"
#include "src/daemon/daemon.h"
#include "src/ifname.h"

int userspace_main(int argc, char **argv)
{
	struct daemon_options o;
	struct config cfg;
	int ret = daemon_options_parse(argc, argv, &o);

	if (ret)
		return command_usage(ret == 2 ? stdout : stderr,
				     DAEMON_OPTIONS_USAGE " INTERFACE",
				     ret == 2 ? 0 : 1);
	if (!ifname_valid(o.operand)) {
		fprintf(stderr, "ringvpn: `%s' is not a valid interface name\n",
			o.operand);
		return 1;
	}
	memset(&cfg, 0, sizeof(cfg));
	ret = daemon_serve(&cfg, NULL, o.operand, &o);
	config_free(&cfg);
	return ret;
}
