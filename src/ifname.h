/* Interface names as the kernel takes them. Every command that turns a
 * name from its command line into a path (the run directory's files, the
 * UAPI socket) checks it here first, so "../x" never becomes a path. */
#ifndef RINGVPN_SRC_IFNAME_H
#define RINGVPN_SRC_IFNAME_H

#include <stdbool.h>

/* 1 to IFNAMSIZ - 1 printable characters, none of them ' ', '/' or ':',
 * and not "." or "..". */
bool ifname_valid(const char *ifname);

#endif
