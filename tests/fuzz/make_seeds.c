/* Writes seed corpora for the fuzz targets from real messages, made by two
 * in-process engines with the fixed keys of fuzz_common.c:
 *   DIR/handshake/  flag byte + initiation, response or cookie reply
 *   DIR/data/       mode byte + data message, or replay sequences
 *   DIR/keys/       key texts, canonical and not
 *   DIR/offload/    mode byte + TUN frame (TSO, USO), or its segments
 *   DIR/cmsg/       recvmsg control data: UDP_GRO and a destination
 * Usage: make_seeds DIR */
#include "tests/fuzz/fuzz_common.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/data.h"
#include "crypto/keys.h"
#include "tun/offload.h"

static const char *outdir;

static void fail(const char *what, int err)
{
	fprintf(stderr, "make_seeds: %s: %s\n", what, strerror(err));
	exit(EXIT_FAILURE);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0777) && errno != EEXIST)
		fail(path, errno);
}

/* Writes DIR/sub/name: the prefix byte (when >= 0) and then len bytes. */
static void seed(const char *sub, const char *name, int prefix,
		 const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, sub);
	make_dir(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	f = fopen(path, "wb");
	if (!f)
		fail(path, errno);
	if (prefix >= 0)
		fputc(prefix, f);
	if (fwrite(data, 1, len, f) != len || fclose(f))
		fail(path, errno);
}

static void handshake_seeds(struct fuzz_node *local, struct fuzz_node *remote)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct handshake_outcome out;
	struct sockaddr_storage ss;
	int ret;

	/* Remote's initiation is valid for the fuzzed device as it is. */
	ret = fuzz_establish(remote, local, FUZZ_NOW0, &init, NULL);
	if (ret)
		fail("handshake", -ret);
	seed("handshake", "initiation", 0, &init, sizeof(init));
	seed("handshake", "initiation-load", FUZZ_HS_UNDER_LOAD, &init,
	     sizeof(init));
	seed("handshake", "initiation-load-v6",
	     FUZZ_HS_UNDER_LOAD | FUZZ_HS_IPV6, &init, sizeof(init));
	seed("handshake", "initiation-mac2", FUZZ_HS_UNDER_LOAD |
	     FUZZ_HS_ADD_MAC1 | FUZZ_HS_ADD_MAC2, &init, sizeof(init));

	ret = fuzz_establish(local, remote, FUZZ_NOW0, NULL, &resp);
	if (ret)
		fail("handshake", -ret);
	seed("handshake", "response", 0, &resp, sizeof(resp));
	seed("handshake", "response-live",
	     FUZZ_HS_PATCH_INDEX | FUZZ_HS_ADD_MAC1, &resp, sizeof(resp));

	/* A cookie reply: remote is under load when local initiates. */
	ret = protocol_create_initiation(&local->dev, local->peer, FUZZ_NOW0,
					 &init);
	if (!ret)
		ret = protocol_receive_handshake(&remote->dev, (void *)&init,
						 sizeof(init),
						 fuzz_source(&ss, true), true,
						 FUZZ_NOW0, &out);
	if (ret || !out.cookie_sent)
		fail("cookie reply", ret ? -ret : EPROTO);
	seed("handshake", "cookie", 0, out.reply, out.reply_len);
	seed("handshake", "cookie-live", FUZZ_HS_PATCH_INDEX, out.reply,
	     out.reply_len);
}

static void data_seeds(struct fuzz_node *remote)
{
	static const size_t lens[] = { 0, 1, 20, 40, 100, 1280, FUZZ_MTU };
	_Alignas(16) uint8_t buf[MESSAGE_DATA_HEADER_LEN + FUZZ_MTU +
				 DATA_TAILROOM];
	char name[64];
	size_t len;
	bool rekey;
	int ret;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(buf, 0, sizeof(buf));
		buf[MESSAGE_DATA_HEADER_LEN] = 0x45; /* looks like IPv4 */
		ret = protocol_encrypt(remote->peer, buf, lens[i], FUZZ_MTU,
				       FUZZ_NOW0, &len, &rekey);
		if (ret)
			fail("encrypt", -ret);
		snprintf(name, sizeof(name), "data-%zu", lens[i]);
		seed("data", name, FUZZ_DATA_RAW, buf, len);
		snprintf(name, sizeof(name), "data-%zu-live", lens[i]);
		seed("data", name, FUZZ_DATA_PATCH_INDEX, buf, len);
	}
}

static struct fuzz_data_record record(uint8_t len, uint64_t counter)
{
	struct fuzz_data_record r = { .len = len };
	uint64_t le = htole64(counter);

	memcpy(r.counter_le, &le, sizeof(le));
	return r;
}

/* Replay sequences: in order, duplicates, reordering, a jump that pushes
 * old counters out, a forgery, and counters at the limit. */
static void sequence_seeds(void)
{
	const struct fuzz_data_record in_order[] = {
		record(0, 0), record(16, 1), record(32, 2), record(1, 3),
	};
	const struct fuzz_data_record replays[] = {
		record(8, 5), record(8, 5), record(8, 3), record(8, 4),
		record(8, 3), record(0x80 | 8, 6), record(8, 6),
	};
	const struct fuzz_data_record window[] = {
		record(4, 100), record(4, 10000), record(4, 100),
		record(4, 9999), record(4, 10000 - 4088), record(4, 5000),
	};
	const struct fuzz_data_record limit[] = {
		record(4, REJECT_AFTER_MESSAGES - 1),
		record(4, REJECT_AFTER_MESSAGES), record(4, UINT64_MAX),
		record(4, REJECT_AFTER_MESSAGES - 2),
	};

	seed("data", "seq-in-order", FUZZ_DATA_SEQUENCE, in_order,
	     sizeof(in_order));
	seed("data", "seq-replays", FUZZ_DATA_SEQUENCE, replays,
	     sizeof(replays));
	seed("data", "seq-window", FUZZ_DATA_SEQUENCE, window, sizeof(window));
	seed("data", "seq-limit", FUZZ_DATA_SEQUENCE, limit, sizeof(limit));
}

static void key_seeds(const struct fuzz_node *n)
{
	char b64[WG_KEY_B64_LEN + 1], hex[WG_KEY_HEX_LEN + 1];

	key_to_base64(b64, n->dev.identity.public_key);
	seed("keys", "public-base64", -1, b64, strlen(b64));
	key_to_hex(hex, n->dev.identity.public_key);
	seed("keys", "public-hex", -1, hex, strlen(hex));
	for (char *p = hex; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	seed("keys", "public-hex-upper", -1, hex, strlen(hex));
	key_to_base64(b64, n->dev.identity.private_key);
	seed("keys", "private-base64", -1, b64, strlen(b64));
	/* The last character carries two unused bits: this one sets them. */
	b64[WG_KEY_B64_LEN - 2] = '/';
	seed("keys", "noncanonical-base64", -1, b64, strlen(b64));
	seed("keys", "empty", -1, "", 0);
}

/* A TUN frame as the kernel hands it over (fuzz_offload.c, mode 0): a
 * TCP (with timestamps) or UDP super-packet of plen bytes, its L4 field
 * holding the pseudo-header sum. Returns its length. */
static size_t offload_frame(uint8_t *f, bool v6, bool udp, size_t plen,
			    uint16_t gso_size)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };
	uint8_t *ip = f + TUN_VNET_HDR_LEN, *l4 = ip + (v6 ? 40 : 20);
	size_t l4_hdr = udp ? 8 : 32, len = (v6 ? 40 : 20) + l4_hdr + plen;
	size_t alen = v6 ? 16 : 4;
	uint8_t proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
	uint16_t v;

	memset(ip, 0, len);
	for (size_t i = 0; i < plen; i++)
		l4[l4_hdr + i] = (uint8_t)(i * 7);
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((len - 40) >> 8);
		ip[5] = (uint8_t)(len - 40);
		ip[6] = proto;
		ip[7] = 64;
		ip[8] = ip[24] = 0xfd;
		ip[23] = 1;
		ip[39] = 2;
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)(len >> 8);
		ip[3] = (uint8_t)len;
		ip[4] = 0x12;
		ip[6] = udp ? 0 : 0x40; /* DF: IDs then need not count */
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		v = htons((uint16_t)~offload_csum_fold(
				  offload_csum_add(0, ip, 20)));
		memcpy(ip + 10, &v, 2);
	}
	memcpy(l4, "\x9c\x40\x14\x51", 4); /* ports 40000, 5201 */
	if (udp) {
		l4[4] = (uint8_t)((8 + plen) >> 8);
		l4[5] = (uint8_t)(8 + plen);
	} else {
		l4[4] = 0x10; /* seq */
		l4[12] = 8 << 4;
		l4[13] = 0x18; /* ACK PSH */
		l4[14] = 0x01;
		memcpy(l4 + 20, "\x01\x01\x08\x0a\0\0\0\x01\0\0\0\x02", 12);
	}
	v = htons(offload_csum_fold(offload_pseudo_sum(
		ip + (v6 ? 8 : 12), ip + (v6 ? 24 : 16), alen, proto,
		(uint32_t)(l4_hdr + plen))));
	memcpy(l4 + (udp ? 6 : 16), &v, 2);
	h.gso_type = udp ? VIRTIO_NET_HDR_GSO_UDP_L4 :
		     v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	h.hdr_len = (uint16_t)((v6 ? 40 : 20) + l4_hdr);
	h.gso_size = gso_size;
	h.csum_start = v6 ? 40 : 20;
	h.csum_offset = udp ? 6 : 16;
	memcpy(f, &h, sizeof(h));
	return TUN_VNET_HDR_LEN + len;
}

/* TSO over IPv4 and IPv6, USO, a frame without GSO; and the segments of
 * each as slices records [ctl][len hi][len lo][packet] (mode 1), ctl 1:
 * the harness mends checksums after a mutation. */
static void offload_seeds(void)
{
	static const struct { const char *name; bool v6, udp; } kinds[] = {
		{ "tso4", false, false }, { "tso6", true, false },
		{ "uso4", false, true }, { "uso6", true, true },
	};
	static uint8_t f[4096], slices[8192];
	struct offload_split s;
	size_t len, n, seg;
	char name[64];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		len = offload_frame(f, kinds[i].v6, kinds[i].udp, 2900, 1000);
		n = 0;
		seed("offload", kinds[i].name, 0, f, len);
		if (offload_split_begin(&s, f, len))
			fail("offload seed", EINVAL);
		while ((seg = offload_split_next(&s, slices + n + 3,
						 sizeof(slices) - n - 3))) {
			slices[n] = 1;
			slices[n + 1] = (uint8_t)(seg >> 8);
			slices[n + 2] = (uint8_t)seg;
			n += 3 + seg;
		}
		snprintf(name, sizeof(name), "%s-slices", kinds[i].name);
		seed("offload", name, 1, slices, n);
		len = offload_frame(f, kinds[i].v6, kinds[i].udp, 1000, 90);
		snprintf(name, sizeof(name), "%s-small", kinds[i].name);
		seed("offload", name, 0, f, len);
	}
	/* No GSO: only the checksum to complete. */
	len = offload_frame(f, false, false, 500, 0);
	f[1] = VIRTIO_NET_HDR_GSO_NONE;
	seed("offload", "csum4", 0, f, len);
}

/* Control data as a receive leaves it (fuzz_cmsg.c): UDP_GRO's segment
 * size, then the destination, as IPV6_PKTINFO or IP_PKTINFO. */
static void cmsg_seed(const char *name, int level, int type,
		      const void *info, size_t len)
{
	union {
		uint8_t buf[256];
		struct cmsghdr align;
	} c;
	struct cmsghdr *cm = &c.align;
	int gro = 1380;

	memset(&c, 0, sizeof(c));
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_GRO;
	cm->cmsg_len = CMSG_LEN(sizeof(gro));
	memcpy(CMSG_DATA(cm), &gro, sizeof(gro));
	cm = (struct cmsghdr *)(c.buf + CMSG_SPACE(sizeof(gro)));
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), info, len);
	seed("cmsg", name, -1, c.buf, CMSG_SPACE(sizeof(gro)) +
	     CMSG_SPACE(len));
}

static void cmsg_seeds(void)
{
	struct in6_pktinfo p6 = { .ipi6_ifindex = 2 };
	struct in_pktinfo p4 = { .ipi_ifindex = 2 };

	inet_pton(AF_INET6, "2001:db8:18::11", &p6.ipi6_addr);
	cmsg_seed("in6", IPPROTO_IPV6, IPV6_PKTINFO, &p6, sizeof(p6));
	inet_pton(AF_INET6, "::ffff:198.18.0.11", &p6.ipi6_addr);
	cmsg_seed("in6-mapped", IPPROTO_IPV6, IPV6_PKTINFO, &p6, sizeof(p6));
	inet_pton(AF_INET6, "fe80::1", &p6.ipi6_addr);
	cmsg_seed("in6-linklocal", IPPROTO_IPV6, IPV6_PKTINFO, &p6,
		  sizeof(p6));
	inet_pton(AF_INET, "198.18.0.11", &p4.ipi_addr);
	inet_pton(AF_INET, "198.18.0.1", &p4.ipi_spec_dst);
	cmsg_seed("in4", IPPROTO_IP, IP_PKTINFO, &p4, sizeof(p4));
}

int main(int argc, char **argv)
{
	struct fuzz_node local, remote;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return EXIT_FAILURE;
	}
	outdir = argv[1];
	make_dir(outdir);
	ret = fuzz_node_init(&local, FUZZ_LOCAL);
	if (!ret)
		ret = fuzz_node_init(&remote, FUZZ_REMOTE);
	if (ret)
		fail("setup", -ret);
	handshake_seeds(&local, &remote);
	data_seeds(&remote);
	sequence_seeds();
	key_seeds(&local);
	offload_seeds();
	cmsg_seeds();
	device_destroy(&local.dev);
	device_destroy(&remote.dev);
	return EXIT_SUCCESS;
}
