#include "src/grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/secret_buf.h"

/* The new capacity when element n needs room, else 0. */
static size_t new_capacity(size_t n)
{
	if (n && (n < 4 || (n & (n - 1))))
		return 0;
	return n ? n * 2 : 4;
}

int grow_array(void *arrp, size_t n, size_t size, bool wipe)
{
	size_t cap = new_capacity(n);
	void *old, *nv;

	if (!cap)
		return 0;
	if (n > SIZE_MAX / 2 / size)
		return -ENOMEM;
	memcpy(&old, arrp, sizeof(old));
	/* At growth the count is the old capacity: n elements, all used. */
	nv = wipe ? secret_realloc(old, n * size, n * size, cap * size) :
		    realloc(old, cap * size);
	if (!nv)
		return -ENOMEM;
	memcpy(arrp, &nv, sizeof(nv));
	return 0;
}
