#include "tun/tun.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TUN_PATH "/dev/net/tun"

static_assert(sizeof(struct virtio_net_hdr) == TUN_VNET_HDR_LEN,
	      "the data path assumes the 10-byte virtio_net_hdr");

static int tun_open_queue(struct ifreq *ifr)
{
	int fd = open(TUN_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	/* The first call creates the device (or attaches to an existing one)
	 * and writes the chosen name back into ifr, so every later queue
	 * attaches to that same device rather than expanding "%d" again. */
	if (ioctl(fd, TUNSETIFF, ifr) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Asks before TUNSETIFF, so that a kernel without the flags is reported as
 * -EOPNOTSUPP rather than the TUNSETIFF's ambiguous -EINVAL. */
static int tun_check_kernel(short flags)
{
	unsigned int have = 0;
	int fd = open(TUN_PATH, O_RDWR | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNGETFEATURES, &have) < 0)
		err = -errno;
	else if ((have & (unsigned short)flags) != (unsigned short)flags)
		err = -EOPNOTSUPP;
	close(fd);
	return err;
}

static unsigned int tun_offload_flags(unsigned int features)
{
	unsigned int f = 0;

	if (features & TUN_TSO)
		f |= TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	if (features & TUN_USO)
		f |= TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6;
	return f;
}

/* Offloads are device-wide, so one fd sets them for all queues. A kernel
 * that lacks a flag rejects the whole set with -EINVAL (USO before 6.2,
 * USO without CSUM), hence the ladder from most to least. Returns the
 * offload features that took, in enum tun_feature terms. */
static int tun_probe_offload(int fd, unsigned int want, unsigned int *got)
{
	const unsigned int ladder[] = {
		want & (TUN_TSO | TUN_USO),
		want & TUN_TSO,
		0,
	};
	unsigned int i;
	int err = 0;

	for (i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++) {
		if (i && ladder[i] == ladder[i - 1])
			continue;
		if (ioctl(fd, TUNSETOFFLOAD,
			  (unsigned long)tun_offload_flags(ladder[i])) == 0) {
			*got = ladder[i];
			return 0;
		}
		err = -errno;
	}
	return err;
}

static int tun_setup_vnet_hdr(struct tun_device *tun, unsigned int want)
{
	int hdr_len = TUN_VNET_HDR_LEN;
	unsigned int got = 0;
	int err;

	/* Per device, like the offloads; pinned because a device we attach
	 * to may carry another size, and every packet's framing depends on
	 * it. */
	if (ioctl(tun->fds[0], TUNSETVNETHDRSZ, &hdr_len) < 0)
		return -errno;
	err = tun_probe_offload(tun->fds[0], want, &got);
	if (err)
		return err;
	tun->features = TUN_VNET_HDR | got;
	return 0;
}

/* With exclusive, the first queue must create the device; the others
 * attach to what it created. */
static int tun_open_queues(struct tun_device *tun, const char *ifname,
			   short flags, bool exclusive)
{
	struct ifreq ifr = { .ifr_flags = flags };
	unsigned int i;

	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	for (i = 0; i < tun->n_queues; i++) {
		int fd;

		ifr.ifr_flags = (short)(flags | (exclusive && !i ? IFF_TUN_EXCL : 0));
		fd = tun_open_queue(&ifr);
		if (fd < 0)
			return fd;
		tun->fds[i] = fd;
	}
	memcpy(tun->ifname, ifr.ifr_name, IFNAMSIZ);
	tun->ifname[IFNAMSIZ - 1] = '\0';
	return 0;
}

static void tun_reset(struct tun_device *tun)
{
	*tun = (struct tun_device){ .fds = NULL };
}

int tun_create(struct tun_device *tun, const char *ifname,
	       unsigned int n_queues, unsigned int want)
{
	short flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE;
	unsigned int i;
	int err;

	if (!tun)
		return -EINVAL;
	tun_reset(tun);
	if (!ifname || strnlen(ifname, IFNAMSIZ) >= IFNAMSIZ)
		return -EINVAL;
	if (n_queues == 0 || n_queues > TUN_MAX_QUEUES ||
	    (want & ~(TUN_ALL | TUN_EXCLUSIVE)))
		return -EINVAL;
	if (want & TUN_VNET_HDR)
		flags |= IFF_VNET_HDR;
	err = tun_check_kernel(flags);
	if (err)
		return err;

	tun->fds = calloc(n_queues, sizeof(*tun->fds));
	if (!tun->fds)
		return -ENOMEM;
	for (i = 0; i < n_queues; i++)
		tun->fds[i] = -1;
	tun->n_queues = n_queues;

	err = tun_open_queues(tun, ifname, flags, want & TUN_EXCLUSIVE);
	if (!err && (want & TUN_VNET_HDR))
		err = tun_setup_vnet_hdr(tun, want);
	if (!err) {
		tun->ifindex = (int)if_nametoindex(tun->ifname);
		if (!tun->ifindex)
			err = -errno;
	}
	if (err)
		tun_close(tun);
	return err;
}

void tun_close(struct tun_device *tun)
{
	unsigned int i;

	if (!tun)
		return;
	for (i = 0; tun->fds && i < tun->n_queues; i++) {
		if (tun->fds[i] >= 0)
			close(tun->fds[i]);
	}
	free(tun->fds);
	tun_reset(tun);
}

int tun_name_now(const struct tun_device *tun, char name[IFNAMSIZ])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (!tun || !tun->fds || tun->fds[0] < 0)
		return -EBADF;
	/* Asks the queue, not the namespace: by name or index the device
	 * could be looked up only where it was born. */
	if (ioctl(tun->fds[0], TUNGETIFF, &ifr) < 0)
		return -errno;
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return 0;
}

const char *tun_features_string(unsigned int features, char *buf,
				size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{ TUN_VNET_HDR, "vnet_hdr" },
		{ TUN_TSO, "tso" },
		{ TUN_USO, "uso" },
	};
	size_t i, used = 0;

	if (!buf || !len)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(features & names[i].bit))
			continue;
		n = snprintf(buf + used, len - used, "%s%s",
			     used ? " " : "", names[i].name);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';	/* whole words only */
			return buf;
		}
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "none");
	return buf;
}
