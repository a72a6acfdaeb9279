/* The struct that holds a member, from a pointer to the member: for
 * links threaded through their owners (struct fleet_member in struct
 * peer), as the kernel's container_of. */
#ifndef RINGVPN_SRC_CONTAINER_OF_H
#define RINGVPN_SRC_CONTAINER_OF_H

#include <stddef.h>

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
