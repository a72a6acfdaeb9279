/* ringvpn [-f|--foreground] [-v|-q] IFNAME: the calling convention of a
 * WireGuard userspace implementation (wireguard.com/xplatform), so that
 * WG_QUICK_USERSPACE_IMPLEMENTATION=ringvpn wg-quick up wg0 works: create
 * the interface with no keys, no peers and no addresses, serve the UAPI
 * socket, and let wg(8) and wg-quick do the rest. wireguard-go's
 * environment is honoured as well as its flags: WG_PROCESS_FOREGROUND=1
 * is -f, LOG_LEVEL takes its names (src/log.h). */
#include <stdio.h>
#include <stdlib.h>
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
	/* What wireguard-go sets for the copy of itself that stays; a
	 * supervisor may set it to keep the daemon as its child. */
	if (getenv("WG_PROCESS_FOREGROUND") &&
	    !strcmp(getenv("WG_PROCESS_FOREGROUND"), "1"))
		o.foreground = true;
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
