/* ringvpn: a table of subcommands and nothing else. */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "crypto/keys.h"
#include "src/cli/commands.h"

struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "up", up_main, "Brings up an interface from a configuration file" },
	{ "down", down_main, "Takes down an interface brought up by `up'" },
	{ "show", show_main, "Shows an interface's workers, peers and counters" },
	{ "syncconf", syncconf_main, "Applies a changed configuration file without disturbing sessions" },
	{ "genkey", genkey_main, "Generates a new private key and writes it to stdout" },
	{ "genpsk", genpsk_main, "Generates a new preshared key and writes it to stdout" },
	{ "pubkey", pubkey_main, "Reads a private key from stdin and writes a public key to stdout" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: ringvpn <cmd> [<args>]\n"
		     "       ringvpn [-f|--foreground] [-v|--verbose] "
		     "[-q|--quiet] INTERFACE\n\n"
		     "Available subcommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\nYou may pass `--help' to any of these subcommands "
		     "to view usage.\n");
}

int main(int argc, char **argv)
{
	/* Every command holds a key at some point (genkey, genpsk and pubkey
	 * make or read one, show and syncconf get them from the daemon, up
	 * reads the config file and becomes the daemon): no core dumps of
	 * this process, and no ptrace by other processes of the same user.
	 * That covers all memory, as MADV_DONTDUMP on each key would not
	 * (stdio, the stack, libsodium's state). Children lose it at exec. */
	prctl(PR_SET_DUMPABLE, 0);
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("ringvpn %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (crypto_init()) {
		fprintf(stderr, "ringvpn: cannot initialise libsodium\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	/* Not a subcommand: the userspace-implementation convention,
	 * `ringvpn [-f] IFNAME`, when it looks like one. */
	if (argv[1][0] == '-' || (argc == 2 && strlen(argv[1]) < IFNAMSIZ))
		return userspace_main(argc, argv);
	fprintf(stderr, "ringvpn: invalid subcommand `%s'\n", argv[1]);
	usage(stderr);
	return 1;
}
