/* Multi-queue TUN devices with virtio_net_hdr offloads.
 *
 * A device is opened with IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, one file
 * descriptor per queue, so that each worker owns a queue and the kernel
 * spreads flows across them by hash. With IFF_VNET_HDR every read and
 * write starts with a 10-byte struct virtio_net_hdr (the kernel's default
 * TUNSETVNETHDRSZ, which tun_create() pins explicitly, because an existing
 * device we attach to may have been set otherwise); the data path relies
 * on exactly that size, never on struct virtio_net_hdr_mrg_rxbuf (12).
 *
 * The offloads (TUNSETOFFLOAD) are device-wide, not per queue: the last
 * setter wins for every fd of the device. */
#ifndef RINGVPN_TUN_TUN_H
#define RINGVPN_TUN_TUN_H

#include <stddef.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

/* linux-libc-dev 6.1 predates UDP segmentation offload on TUN. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* The header that precedes every packet when TUN_VNET_HDR is on. */
#define TUN_VNET_HDR_LEN 10

/* IFF_MULTI_QUEUE's limit in the kernel (MAX_TAP_QUEUES). */
#define TUN_MAX_QUEUES 256

enum tun_feature {
	TUN_VNET_HDR = 1,	/* IFF_VNET_HDR: reads/writes carry the header */
	TUN_TSO = 2,		/* TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 */
	TUN_USO = 4,		/* TUN_F_USO4 | TUN_F_USO6, with TUN_F_CSUM */
	TUN_ALL = TUN_VNET_HDR | TUN_TSO | TUN_USO,
};

/* Not a feature but a condition for tun_create's want: the device must
 * be new (IFF_TUN_EXCL), never one that exists, which may be another
 * process's. */
#define TUN_EXCLUSIVE 0x100

struct tun_device {
	char ifname[IFNAMSIZ];	/* the kernel's name, "%d" resolved */
	int ifindex;
	int *fds;		/* n_queues queue fds, owned */
	unsigned int n_queues;
	unsigned int features;	/* enum tun_feature: what the kernel took */
};

/* Creates ifname, or attaches n_queues more queues to it when it already
 * is a multi-queue TUN (unless want has TUN_EXCLUSIVE: -EBUSY then), and
 * opens n_queues queue fds (O_RDWR | O_CLOEXEC |
 * O_NONBLOCK). ifname may be a pattern like "rv%d". With TUN_VNET_HDR in
 * want, the offloads are probed from the most to the least: CSUM + TSO +
 * USO, then CSUM + TSO, then none, each limited to what want allows (so a
 * test can force a fallback). tun->features records the outcome.
 * Returns 0; -EINVAL for a bad name, 0 or more than TUN_MAX_QUEUES queues,
 * unknown bits in want, or an existing device that is not a multi-queue
 * TUN; -EOPNOTSUPP when the kernel lacks multi-queue or vnet_hdr; or
 * another -errno. On failure everything opened is closed and *tun is
 * left empty. */
int tun_create(struct tun_device *tun, const char *ifname,
	       unsigned int n_queues, unsigned int want);

/* Closes every queue fd. A non-persistent TUN disappears with the last fd
 * of the device (other tun_devices attached to it keep it alive). Safe on
 * an empty or already closed tun_device. */
void tun_close(struct tun_device *tun);

/* The device's name now, wherever it lives: it may have been renamed,
 * or moved to another network namespace, where its queues keep working.
 * 0, or -EBADFD once the device is deleted (the kernel then detaches
 * every queue), or another -errno. */
int tun_name_now(const struct tun_device *tun, char name[IFNAMSIZ]);

/* Writes e.g. "vnet_hdr tso uso", or "none", into buf and returns buf.
 * A buf too short keeps only the words that fit whole. */
const char *tun_features_string(unsigned int features, char *buf,
				size_t len);

#endif
