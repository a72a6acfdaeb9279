/* Serving an interface: in the foreground, or as a daemon whose parent
 * returns only once the interface is up (or says why it is not), so that
 * `ringvpn up` and wg-quick's `ringvpn IFNAME` report errors and can go
 * on right away. The hooks of a config run here, in wg-quick's order:
 * PreUp, (Endpoint names resolved, up), PostUp ... PreDown, (down),
 * PostDown. */
#ifndef RINGVPN_SRC_DAEMON_H
#define RINGVPN_SRC_DAEMON_H

#include <stdbool.h>

#include "src/config.h"

/* The options of `up` and of `ringvpn [-f] IFNAME`: -f|--foreground,
 * -v|--verbose, -q|--quiet and one operand. */
struct daemon_options {
	bool foreground;
	int verbose; /* > 0: debug; < 0: warnings and errors only */
	const char *operand;
	/* How often to try again an Endpoint name that does not resolve
	 * yet, after PreUp (src/resolve_wait.h); 0 from the parser. */
	long resolve_retries;
};

/* Returns 0, 1 (bad usage) or 2 (--help). */
int daemon_options_parse(int argc, char **argv, struct daemon_options *o);
/* "[-f|--foreground] [-v|--verbose] [-q|--quiet]" for usage lines. */
#define DAEMON_OPTIONS_USAGE "[-f|--foreground] [-v|--verbose] [-q|--quiet]"

/* config_path NULL: cfg is empty and the interface is left unconfigured
 * for the UAPI. Returns the process exit status (0 or 1); cfg is still
 * the caller's to free. */
int daemon_serve(struct config *cfg, const char *config_path,
		 const char *ifname, const struct daemon_options *o);

#endif
