/* Running a program as the daemon's children must run, and waiting for
 * it: hooks (src/daemon/hooks.c) and resolvconf (src/netconf/dns.c).
 *
 * The child gets every signal unblocked and at its default action (the
 * daemon blocks some for its signalfd and ignores SIGPIPE, and a child
 * inherits both), stdin from in_fd (/dev/null when in_fd is -1),
 * stdout and stderr as ours, and no other descriptor: a child that
 * leaves a process behind would otherwise keep the TUN queues and the
 * UAPI socket open after `down'. */
#ifndef RINGVPN_SRC_SPAWN_H
#define RINGVPN_SRC_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

/* Runs argv[0] (looked up in PATH when it has no '/') with the caller's
 * environment and waits for it: 0 with its wait status in *status, or
 * the -errno of posix_spawn or waitpid. */
int spawn_wait(char *const argv[], int in_fd, int *status);

/* True when status is a clean exit (0); otherwise detail says "exited
 * with status N" or "was killed by signal N (SIGNAME)". */
bool spawn_succeeded(int status, char *detail, size_t detail_len);

#endif
