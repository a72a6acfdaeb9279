#include "src/privilege.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* No libcap: two raw system calls do all we need. Version 3 carries 64
 * capabilities in two 32-bit halves. */
struct caps {
	uint64_t effective, permitted, inheritable;
};

static int caps_get(struct caps *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &hdr, d))
		return -errno;
	c->effective = d[0].effective | (uint64_t)d[1].effective << 32;
	c->permitted = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c->inheritable = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct caps *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)c->effective, (uint32_t)c->permitted,
		  (uint32_t)c->inheritable },
		{ (uint32_t)(c->effective >> 32), (uint32_t)(c->permitted >> 32),
		  (uint32_t)(c->inheritable >> 32) },
	};

	return syscall(SYS_capset, &hdr, d) ? -errno : 0;
}

/* Past the kernel's last capability PR_CAPBSET_DROP says EINVAL; without
 * CAP_SETPCAP it says EPERM and the bounding set stays as it is. */
static void drop_bounding(uint64_t keep)
{
	for (int cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EPERM)
			break;
	}
}

int privilege_drop(void)
{
	struct caps c;
	int ret = caps_get(&c);

	if (ret)
		return ret;
	drop_bounding(PRIVILEGE_KEEP);
	c.permitted &= PRIVILEGE_KEEP;
	c.effective = c.permitted;
	/* Inheritable (and with it ambient) only of what we keep: a hook
	 * run by a non-root daemon gets CAP_NET_ADMIN as before, nothing
	 * more. */
	c.inheritable &= c.permitted;
	return caps_set(&c);
}

int privilege_effective(uint64_t *mask)
{
	struct caps c;
	int ret = caps_get(&c);

	if (!ret)
		*mask = c.effective;
	return ret;
}
