/* The few sysctls netconf reads or writes, through /proc/sys. They are
 * per network namespace, like everything else netconf touches. */
#include "src/netconf/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROC_SYS "/proc/sys/"

/* Only these can be named by a journal line, so a damaged journal can
 * never make netconf_down write anything else. */
static const char *const sysctl_names[] = {
	[NETCONF_SRC_VALID_MARK] = "net.ipv4.conf.all.src_valid_mark",
};

#define N_SYSCTLS (sizeof(sysctl_names) / sizeof(sysctl_names[0]))

bool netconf_sysctl_known(unsigned int s)
{
	return s < N_SYSCTLS;
}

const char *netconf_sysctl_name(enum netconf_sysctl s)
{
	return netconf_sysctl_known(s) ? sysctl_names[s] : "?";
}

/* "/proc/sys/net/ipv4/..." from "net.ipv4....": the names have no '.'
 * inside a component. */
static void sysctl_path(const char *name, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, PROC_SYS "%s", name);

	for (size_t i = sizeof(PROC_SYS) - 1; i < n && i < len; i++)
		if (buf[i] == '.')
			buf[i] = '/';
}

static int read_path(const char *path, uint32_t *value)
{
	char buf[32];
	unsigned long v;
	ssize_t n;
	char *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (end == buf || errno || v > UINT32_MAX)
		return -EINVAL;
	*value = (uint32_t)v;
	return 0;
}

int netconf_sysctl_read(enum netconf_sysctl s, uint32_t *value)
{
	char path[128];

	if (!netconf_sysctl_known(s))
		return -EINVAL;
	sysctl_path(sysctl_names[s], path, sizeof(path));
	return read_path(path, value);
}

int netconf_sysctl_write(enum netconf_sysctl s, uint32_t value)
{
	char path[128], buf[16];
	int fd, n, ret = 0;

	if (!netconf_sysctl_known(s))
		return -EINVAL;
	sysctl_path(sysctl_names[s], path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%u\n", value);
	errno = 0;
	if (write(fd, buf, (size_t)n) != n)
		ret = errno ? -errno : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int netconf_sysctl_writable(enum netconf_sysctl s)
{
	char path[128];

	if (!netconf_sysctl_known(s))
		return -EINVAL;
	sysctl_path(sysctl_names[s], path, sizeof(path));
	return access(path, W_OK) ? -errno : 0;
}

bool netconf_ipv6_disabled(void)
{
	uint32_t v;
	int ret = read_path(PROC_SYS "net/ipv6/conf/all/disable_ipv6", &v);

	/* Without the ipv6 directory but with the ipv4 one, the kernel
	 * runs with IPv6 off (ipv6.disable=1); without both, /proc/sys is
	 * not there to tell, and IPv6 is tried. */
	if (ret == -ENOENT)
		return access(PROC_SYS "net/ipv4", F_OK) == 0;
	return !ret && v;
}
