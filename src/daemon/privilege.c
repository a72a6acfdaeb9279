#include "src/daemon/privilege.h"

#include <errno.h>
#include <linux/securebits.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Root's uid gives a program we run no capability, and neither this nor
 * the uid-change rules can be turned back. */
#define LOCKED_SECUREBITS                                                  \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |   \
	 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED)

/* No libcap: two raw system calls do all we need. Version 3 carries 64
 * capabilities in two 32-bit halves. Both act on the calling thread. */
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

static bool has(const struct caps *c, int cap)
{
	return c->effective & (1ULL << cap);
}

/* Past the kernel's last capability PR_CAPBSET_DROP says EINVAL. */
static void drop_bounding(uint64_t keep)
{
	for (int cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			break;
	}
}

/* Ambient capabilities survive execve of a program without file
 * capabilities, which is how a hook of a daemon that is root under
 * SECBIT_NOROOT (or not root at all) still gets CAP_NET_ADMIN. */
static int raise_ambient(uint64_t caps)
{
	for (int cap = 0; cap < 64; cap++)
		if ((caps & (1ULL << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0))
			return -errno;
	return 0;
}

int privilege_drop(uint64_t keep)
{
	struct caps c = { 0 };
	int ret = caps_get(&c);

	if (ret)
		return ret;
	/* Both need CAP_SETPCAP, which only a daemon started as root has;
	 * one that is not root has nothing for them to take away. */
	if (has(&c, CAP_SETPCAP)) {
		if (prctl(PR_SET_SECUREBITS, LOCKED_SECUREBITS, 0, 0, 0))
			return -errno;
		drop_bounding(keep);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	c.permitted &= keep;
	c.effective = c.inheritable = c.permitted;
	ret = caps_set(&c);
	return ret ? ret : raise_ambient(c.permitted);
}
