/* Multi-queue TUN creation and offload probing against the real kernel.
 * Each test runs in a fresh network namespace (Check forks per test), so
 * devices never leak between tests or into the host. Offloads are read
 * back through ethtool, independently of what tun_create() reports.
 * Needs root and /dev/net/tun; exits 77 (skipped) otherwise. */
#include "tun/tun.h"
#include "netlink/rtnl.h"
#include "tests/unit/check_main.h"
#include "tests/unit/netns_test.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#define TUN_ADDR "10.77.0.1"
#define PEER_ADDR "10.77.0.2"
#define PEER_PORT 9999
#define PAYLOAD "ringvpn tun test"

static void setup(void)
{
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
}

static void assert_fds_distinct(const struct tun_device *tun)
{
	unsigned int i, j;

	for (i = 0; i < tun->n_queues; i++) {
		ck_assert_int_ge(fcntl(tun->fds[i], F_GETFD), 0);
		ck_assert(fcntl(tun->fds[i], F_GETFD) & FD_CLOEXEC);
		ck_assert(fcntl(tun->fds[i], F_GETFL) & O_NONBLOCK);
		for (j = 0; j < i; j++)
			ck_assert_int_ne(tun->fds[i], tun->fds[j]);
	}
}

static void check_create(unsigned int n_queues)
{
	struct tun_device tun;

	ck_assert_int_eq(tun_create(&tun, "rvq%d", n_queues, 0), 0);
	ck_assert_uint_eq(tun.n_queues, n_queues);
	ck_assert_uint_eq(tun.features, 0);
	ck_assert_ptr_null(strchr(tun.ifname, '%'));
	ck_assert_int_eq(strncmp(tun.ifname, "rvq", 3), 0);
	ck_assert_int_gt(tun.ifindex, 0);
	ck_assert_int_eq((int)if_nametoindex(tun.ifname), tun.ifindex);
	assert_fds_distinct(&tun);
	tun_close(&tun);
}

START_TEST(create_queues)
{
	static const unsigned int counts[] = { 1, 2, 4, TUN_MAX_QUEUES };

	check_create(counts[_i]);
}
END_TEST

START_TEST(fixed_name)
{
	struct tun_device tun;
	char name[IFNAMSIZ];

	ck_assert_int_eq(tun_create(&tun, "rvfixed0", 2, TUN_ALL), 0);
	ck_assert_str_eq(tun.ifname, "rvfixed0");
	snprintf(name, sizeof(name), "%s", tun.ifname);
	tun_close(&tun);
	ck_assert_int_eq(tun.n_queues, 0);
	ck_assert_ptr_null(tun.fds);
	tun_close(&tun);	/* twice is harmless */
	ck_assert_uint_eq(if_nametoindex(name), 0);
}
END_TEST

START_TEST(bad_arguments)
{
	struct tun_device tun;

	ck_assert_int_eq(tun_create(&tun, "rv%d", 0, 0), -EINVAL);
	ck_assert_int_eq(tun_create(&tun, "rv%d", TUN_MAX_QUEUES + 1, 0),
			 -EINVAL);
	/* 17 characters: one more than IFNAMSIZ leaves room for. */
	ck_assert_int_eq(tun_create(&tun, "abcdefghijklmnopq", 1, 0),
			 -EINVAL);
	ck_assert_int_eq(tun_create(&tun, "abcdefghijklmnop", 1, 0), -EINVAL);
	ck_assert_int_eq(tun_create(&tun, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(tun_create(&tun, "rv%d", 1, 0x80), -EINVAL);
	ck_assert_int_eq(tun_create(NULL, "rv%d", 1, 0), -EINVAL);
	ck_assert_ptr_null(tun.fds);
	ck_assert_uint_eq(tun.n_queues, 0);
}
END_TEST

/* Attaching more queues to a live device; the device lives until the last
 * queue of either tun_device is closed. */
START_TEST(attach_existing)
{
	struct tun_device a, b;

	ck_assert_int_eq(tun_create(&a, "rvatt0", 2, 0), 0);
	ck_assert_int_eq(tun_create(&b, "rvatt0", 2, 0), 0);
	ck_assert_int_eq(b.ifindex, a.ifindex);
	ck_assert_str_eq(b.ifname, "rvatt0");
	tun_close(&a);
	ck_assert_uint_eq(if_nametoindex("rvatt0"), (unsigned int)b.ifindex);
	tun_close(&b);
	ck_assert_uint_eq(if_nametoindex("rvatt0"), 0);
}
END_TEST

/* TUN_EXCLUSIVE: a device that exists, whoever made it, is -EBUSY and
 * keeps its queues; a new one is made with all of them. */
START_TEST(exclusive_refuses_existing)
{
	struct tun_device a, b;

	ck_assert_int_eq(tun_create(&a, "rvexcl0", 2, 0), 0);
	ck_assert_int_eq(tun_create(&b, "rvexcl0", 2, TUN_EXCLUSIVE), -EBUSY);
	ck_assert_ptr_null(b.fds);
	ck_assert_uint_eq(if_nametoindex("rvexcl0"), (unsigned int)a.ifindex);
	tun_close(&a);
	ck_assert_int_eq(tun_create(&b, "rvexcl0", 3, TUN_EXCLUSIVE), 0);
	ck_assert_uint_eq(b.n_queues, 3);
	tun_close(&b);
	ck_assert_uint_eq(if_nametoindex("rvexcl0"), 0);
}
END_TEST

/* A single-queue TUN cannot take multi-queue fds; nothing is left open. */
START_TEST(attach_single_queue_fails)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	struct tun_device tun;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "rvsingle0");
	ck_assert_int_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
	ck_assert_int_eq(tun_create(&tun, "rvsingle0", 2, 0), -EINVAL);
	ck_assert_ptr_null(tun.fds);
	close(fd);
	ck_assert_uint_eq(if_nametoindex("rvsingle0"), 0);
}
END_TEST

static unsigned int count_open_fds(void)
{
	unsigned int n = 0;
	int fd;

	for (fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* A device already at the kernel's queue limit refuses another queue
 * partway through tun_create(): every queue opened so far is closed. */
START_TEST(failure_closes_everything)
{
	struct tun_device full, more;
	unsigned int before;

	ck_assert_int_eq(tun_create(&full, "rvfull0", TUN_MAX_QUEUES - 2, 0),
			 0);
	before = count_open_fds();
	ck_assert_int_lt(tun_create(&more, "rvfull0", 4, 0), 0);
	ck_assert_ptr_null(more.fds);
	ck_assert_uint_eq(more.n_queues, 0);
	ck_assert_uint_eq(count_open_fds(), before);
	tun_close(&full);
	ck_assert_uint_eq(if_nametoindex("rvfull0"), 0);
}
END_TEST

static unsigned int ethtool_get(const char *ifname, uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr = { .ifr_data = (char *)&ev };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ck_assert_int_eq(ioctl(s, SIOCETHTOOL, &ifr), 0);
	close(s);
	return ev.data;
}

START_TEST(offload_full)
{
	struct tun_device tun;
	char buf[64];

	ck_assert_int_eq(tun_create(&tun, "rvo%d", 2, TUN_ALL), 0);
	ck_assert(tun.features & TUN_VNET_HDR);
	ck_assert(tun.features & TUN_TSO);
	ck_assert_uint_ne(ethtool_get(tun.ifname, ETHTOOL_GTSO), 0);
	ck_assert_uint_ne(ethtool_get(tun.ifname, ETHTOOL_GTXCSUM), 0);
	fprintf(stderr, "test_tun: kernel accepted: %s\n",
		tun_features_string(tun.features, buf, sizeof(buf)));
	tun_close(&tun);
}
END_TEST

/* want forces the ladder's lower rungs: TSO without USO, then nothing. */
START_TEST(offload_fallbacks)
{
	struct tun_device tun;

	ck_assert_int_eq(tun_create(&tun, "rvo%d", 1, TUN_VNET_HDR | TUN_TSO),
			 0);
	ck_assert_uint_eq(tun.features, TUN_VNET_HDR | TUN_TSO);
	ck_assert_uint_ne(ethtool_get(tun.ifname, ETHTOOL_GTSO), 0);
	tun_close(&tun);

	ck_assert_int_eq(tun_create(&tun, "rvo%d", 1, TUN_VNET_HDR), 0);
	ck_assert_uint_eq(tun.features, TUN_VNET_HDR);
	ck_assert_uint_eq(ethtool_get(tun.ifname, ETHTOOL_GTSO), 0);
	ck_assert_uint_eq(ethtool_get(tun.ifname, ETHTOOL_GTXCSUM), 0);
	tun_close(&tun);
}
END_TEST

START_TEST(vnet_hdr_size)
{
	struct tun_device tun;
	int len = 0;

	ck_assert_int_eq(tun_create(&tun, "rvh%d", 1, TUN_ALL), 0);
	ck_assert_int_eq(ioctl(tun.fds[0], TUNGETVNETHDRSZ, &len), 0);
	ck_assert_int_eq(len, TUN_VNET_HDR_LEN);
	tun_close(&tun);
}
END_TEST

START_TEST(features_string)
{
	char buf[64], tiny[6];

	ck_assert_str_eq(tun_features_string(0, buf, sizeof(buf)), "none");
	ck_assert_str_eq(tun_features_string(TUN_ALL, buf, sizeof(buf)),
			 "vnet_hdr tso uso");
	ck_assert_str_eq(tun_features_string(TUN_VNET_HDR | TUN_USO, buf,
					     sizeof(buf)), "vnet_hdr uso");
	/* Truncation stays terminated and drops whole words. */
	ck_assert_str_eq(tun_features_string(TUN_ALL, tiny, sizeof(tiny)),
			 "");
	ck_assert_str_eq(tun_features_string(TUN_TSO | TUN_USO, tiny,
					     sizeof(tiny)), "tso");
}
END_TEST

static void set_sin(struct sockaddr *sa, const char *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	memcpy(sa, &sin, sizeof(sin));
}

/* 10.77.0.1/24 on the device, link up: the plain ioctl way. */
static void configure_link(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	set_sin(&ifr.ifr_addr, TUN_ADDR);
	ck_assert_int_eq(ioctl(s, SIOCSIFADDR, &ifr), 0);
	set_sin(&ifr.ifr_netmask, "255.255.255.0");
	ck_assert_int_eq(ioctl(s, SIOCSIFNETMASK, &ifr), 0);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

static void send_datagram(void)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(PEER_PORT),
	};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(inet_pton(AF_INET, PEER_ADDR, &to.sin_addr), 1);
	ck_assert_int_eq(sendto(s, PAYLOAD, sizeof(PAYLOAD), 0,
				(struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)sizeof(PAYLOAD));
	close(s);
}

static bool is_our_datagram(const uint8_t *ip, size_t len)
{
	struct in_addr dst;

	if (len < 28 || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_UDP)
		return false;
	memcpy(&dst, ip + 16, sizeof(dst));
	return dst.s_addr == inet_addr(PEER_ADDR) &&
	       ip[22] == (PEER_PORT >> 8) && ip[23] == (PEER_PORT & 0xff);
}

/* Reads from whichever queue the flow hashed to, skipping the IPv6 noise
 * (router solicitations, MLD) a fresh link sends, until our datagram. */
static size_t read_datagram(const struct tun_device *tun, size_t hdr_len,
			    uint8_t *buf, size_t len)
{
	struct pollfd pfd[8];
	unsigned int i, tries;

	ck_assert_uint_le(tun->n_queues, 8);
	for (i = 0; i < tun->n_queues; i++)
		pfd[i] = (struct pollfd){ .fd = tun->fds[i], .events = POLLIN };
	for (tries = 0; tries < 50; tries++) {
		ck_assert_int_gt(poll(pfd, tun->n_queues, 2000), 0);
		for (i = 0; i < tun->n_queues; i++) {
			ssize_t n;

			if (!(pfd[i].revents & POLLIN))
				continue;
			n = read(pfd[i].fd, buf, len);
			ck_assert_int_gt(n, (ssize_t)hdr_len);
			if (is_our_datagram(buf + hdr_len, (size_t)n - hdr_len))
				return (size_t)n;
		}
	}
	ck_abort_msg("datagram never arrived");
	return 0;
}

static void check_ip_header(const uint8_t *ip, size_t len)
{
	ck_assert_uint_eq(ip[0] >> 4, 4);
	ck_assert_uint_eq(ip[9], IPPROTO_UDP);
	ck_assert_uint_eq(len, 20 + 8 + sizeof(PAYLOAD));
	ck_assert_uint_eq(((unsigned int)ip[2] << 8) | ip[3], len);
	ck_assert_mem_eq(ip + 28, PAYLOAD, sizeof(PAYLOAD));
}

START_TEST(plain_read)
{
	struct tun_device tun;
	uint8_t buf[2048];
	size_t n;

	ck_assert_int_eq(tun_create(&tun, "rvr%d", 4, 0), 0);
	configure_link(tun.ifname);
	send_datagram();
	n = read_datagram(&tun, 0, buf, sizeof(buf));
	check_ip_header(buf, n);
	tun_close(&tun);
}
END_TEST

START_TEST(vnet_hdr_read)
{
	struct tun_device tun;
	struct virtio_net_hdr vh;
	uint8_t buf[2048];
	size_t n;

	ck_assert_int_eq(tun_create(&tun, "rvv%d", 4, TUN_ALL), 0);
	configure_link(tun.ifname);
	send_datagram();
	n = read_datagram(&tun, TUN_VNET_HDR_LEN, buf, sizeof(buf));
	memcpy(&vh, buf, sizeof(vh));
	ck_assert_uint_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	/* With checksum offload the UDP checksum may be left to the reader:
	 * then it must point at the UDP header's checksum field. */
	if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		ck_assert_uint_eq(vh.csum_start, 20);
		ck_assert_uint_eq(vh.csum_offset, 6);
	}
	check_ip_header(buf + TUN_VNET_HDR_LEN, n - TUN_VNET_HDR_LEN);
	tun_close(&tun);
}
END_TEST

/* tun_name_now asks a queue, not the namespace: a renamed device gives
 * its new name; a deleted one -EBADFD, as its queues' reads do, while
 * the fds stay open (the kernel detached them). */
START_TEST(name_now_follows_the_device)
{
	struct ifreq ifr = { .ifr_name = "rvnow0", .ifr_newname = "rvnew0" };
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct tun_device tun;
	char name[IFNAMSIZ], buf[64];
	struct netlink nl;

	ck_assert_int_ge(sock, 0);
	ck_assert_int_eq(tun_create(&tun, "rvnow0", 2, 0), 0);
	ck_assert_int_eq(tun_name_now(&tun, name), 0);
	ck_assert_str_eq(name, "rvnow0");
	ck_assert_int_eq(ioctl(sock, SIOCSIFNAME, &ifr), 0);
	ck_assert_int_eq(tun_name_now(&tun, name), 0);
	ck_assert_str_eq(name, "rvnew0");
	ck_assert_int_eq(read(tun.fds[1], buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EAGAIN); /* attached, nothing to read */
	ck_assert_int_eq(netlink_open(&nl), 0);
	ck_assert_int_eq(netlink_link_delete(&nl, tun.ifindex), 0);
	netlink_close(&nl);
	ck_assert_int_eq(tun_name_now(&tun, name), -EBADFD);
	ck_assert_int_eq(read(tun.fds[1], buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EBADFD);
	tun_close(&tun);
	close(sock);
}
END_TEST

static Suite *tun_suite(void)
{
	Suite *s = suite_create("tun");
	TCase *tc = tcase_create("tun");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, create_queues, 0, 4);
	tcase_add_test(tc, fixed_name);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, attach_existing);
	tcase_add_test(tc, attach_single_queue_fails);
	tcase_add_test(tc, exclusive_refuses_existing);
	tcase_add_test(tc, failure_closes_everything);
	tcase_add_test(tc, offload_full);
	tcase_add_test(tc, offload_fallbacks);
	tcase_add_test(tc, vnet_hdr_size);
	tcase_add_test(tc, features_string);
	tcase_add_test(tc, plain_read);
	tcase_add_test(tc, vnet_hdr_read);
	tcase_add_test(tc, name_now_follows_the_device);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!netns_test_possible())
		return 77;
	return run_suite(tun_suite());
}
