#include "src/ifname.h"

#include <net/if.h>
#include <string.h>

bool ifname_valid(const char *ifname)
{
	size_t len = strnlen(ifname, IFNAMSIZ);

	if (!len || len >= IFNAMSIZ || !strcmp(ifname, ".") ||
	    !strcmp(ifname, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)ifname[i];

		if (c <= ' ' || c > '~' || c == '/' || c == ':')
			return false;
	}
	return true;
}
