/* Arrays that carry no capacity field: the capacity follows from the
 * count (4, then powers of two), so a struct holds just the pointer and
 * the count. Used by the config and UAPI parsers. */
#ifndef RINGVPN_SRC_GROW_H
#define RINGVPN_SRC_GROW_H

#include <stdbool.h>
#include <stddef.h>

/* Makes room for element n in the array *arrp points to (any pointer
 * type: it is read and written with memcpy, so no aliasing rule is
 * broken), n being the current count. With wipe, the old block is copied
 * and wiped by hand instead of passed to realloc, which could leave a
 * copy of secrets in freed memory. Returns 0 or -ENOMEM (the array is
 * then unchanged). */
int grow_array(void *arrp, size_t n, size_t size, bool wipe);

#endif
