/* Subcommands of the ringvpn program: each is <name>_main(argc, argv) and
 * returns the process exit status. main.c only dispatches. */
#ifndef RINGVPN_SRC_COMMANDS_H
#define RINGVPN_SRC_COMMANDS_H

#include <stdio.h>

int genkey_main(int argc, char **argv);
int genpsk_main(int argc, char **argv);
int pubkey_main(int argc, char **argv);
int up_main(int argc, char **argv);
int down_main(int argc, char **argv);
int show_main(int argc, char **argv);
int syncconf_main(int argc, char **argv);
/* `ringvpn [-f] IFNAME`: argv[0] is the program, as main got it. */
int userspace_main(int argc, char **argv);

/* Prints "Usage: ringvpn <usage>" and returns 1 (or 0 for --help). */
int command_usage(FILE *out, const char *usage, int status);
/* True when argv asks for help (-h or --help anywhere after the name). */
int command_wants_help(int argc, char **argv);

#endif
