#include "src/worker/features.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {
	"vnet_hdr", "tso", "uso", "udp_gso", "udp_gro",
	"multishot_recv", "multishot_read", "defer_taskrun", "evp_aead",
	"parallel",
};

#define N_NAMES (sizeof(names) / sizeof(names[0]))

static int lookup(const char *word, size_t len)
{
	for (size_t i = 0; i < N_NAMES; i++)
		if (strlen(names[i]) == len && !strncmp(names[i], word, len))
			return (int)i;
	return -1;
}

int datapath_parse_list(const char *list, unsigned int *mask, char *bad,
			size_t bad_len)
{
	const char *p = list ? list : "";

	*mask = 0;
	while (*p) {
		size_t len = strcspn(p, ", ");
		int bit = lookup(p, len);

		if (len && bit < 0) {
			if (bad)
				snprintf(bad, bad_len, "%.*s", (int)len, p);
			return -EINVAL;
		}
		if (len)
			*mask |= 1u << bit;
		p += len;
		p += strspn(p, ", ");
	}
	return 0;
}

int datapath_disabled_from_env(unsigned int *mask, char *bad,
			       size_t bad_len)
{
	return datapath_parse_list(getenv("RINGVPN_DISABLE"), mask, bad,
				   bad_len);
}

const char *datapath_features_string(unsigned int mask, char *buf,
				     size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < N_NAMES; i++) {
		size_t need = strlen(names[i]) + (used ? 1 : 0);

		if (!(mask & (1u << i)) || used + need + 1 > len)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? " " : "", names[i]);
	}
	if (!used && len > 4)
		snprintf(buf, len, "none");
	return buf;
}
