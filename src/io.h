/* Small file-descriptor helpers shared by the layers that write files
 * (SaveConfig's replace, the netconf journal). */
#ifndef RINGVPN_SRC_IO_H
#define RINGVPN_SRC_IO_H

#include <stddef.h>

/* Writes all len bytes of buf to fd, again after a short write or
 * EINTR. Returns 0 or write's -errno. No fsync: the caller decides. */
int write_all(int fd, const void *buf, size_t len);

#endif
