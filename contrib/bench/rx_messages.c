#include "contrib/bench/rx_messages.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "crypto/data.h"
#include "crypto/messages.h"
#include "tun/offload.h"

#define INNER_SPORT 40000
#define IPPROTO_UDP_NUM 17
#define IPV4_DF 0x4000

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The UDP checksum of the packet at pkt: pseudo-header (addresses,
 * protocol, UDP length), then the datagram with its checksum field 0. */
static uint16_t udp_checksum(const uint8_t *pkt, size_t size)
{
	uint32_t udp_len = (uint32_t)(size - RX_IPV4_HDR_LEN);
	uint32_t sum = offload_pseudo_sum(pkt + 12, pkt + 16, 4,
					  IPPROTO_UDP_NUM, udp_len);
	uint16_t c;

	sum = offload_csum_add(sum, pkt + RX_IPV4_HDR_LEN, udp_len);
	c = (uint16_t)~offload_csum_fold(sum);
	return c ? c : 0xffff; /* 0 would say "none" */
}

/* The fields every packet shares: IPv4 (DF, TTL 64, UDP), and UDP; the
 * checksums are stamped per packet. A valid UDP checksum lets the daemon
 * merge consecutive packets into USO frames for its TUN device, as it
 * merges a TCP stream's segments: the sink counts bytes, not packets.
 * The payload is a pattern. */
static void build_template(uint8_t *pkt, const struct inner_flow *f)
{
	uint8_t *udp = pkt + RX_IPV4_HDR_LEN;

	memset(pkt, 0, f->size);
	pkt[0] = 0x45;
	put16(pkt + 2, f->size);
	put16(pkt + 6, IPV4_DF);
	pkt[8] = 64;
	pkt[9] = IPPROTO_UDP_NUM;
	memcpy(pkt + 12, &f->src, 4);
	memcpy(pkt + 16, &f->dst, 4);
	put16(udp, INNER_SPORT);
	put16(udp + 2, f->dport);
	put16(udp + 4, (uint16_t)(f->size - RX_IPV4_HDR_LEN));
	for (size_t i = RX_MIN_INNER; i < f->size; i++)
		pkt[i] = (uint8_t)i;
}

/* Packet number seq: the IPv4 ID and the payload's first 8 bytes (big
 * endian), then the header checksum over them. */
static void stamp(uint8_t *pkt, uint64_t seq)
{
	uint8_t *payload = pkt + RX_IPV4_HDR_LEN + RX_UDP_HDR_LEN;

	put16(pkt + 4, (uint16_t)seq);
	for (int i = 0; i < RX_SEQ_LEN; i++)
		payload[i] = (uint8_t)(seq >> (8 * (RX_SEQ_LEN - 1 - i)));
	put16(pkt + 10, 0);
	put16(pkt + 10, (uint16_t)~offload_csum_fold(
				offload_csum_add(0, pkt, RX_IPV4_HDR_LEN)));
	put16(pkt + RX_IPV4_HDR_LEN + 6, 0);
	put16(pkt + RX_IPV4_HDR_LEN + 6,
	      udp_checksum(pkt, get16(pkt + 2)));
}

size_t messages_len(const struct inner_flow *f)
{
	return MESSAGE_DATA_HEADER_LEN + data_padded_len(f->size, f->mtu) +
	       NOISE_AUTHTAG_LEN;
}

int messages_alloc(struct messages *m, size_t count, size_t msg_len)
{
	m->count = count;
	m->msg_len = msg_len;
	m->map_len = count * msg_len;
	/* NORESERVE: gigabytes about to be written anyway need no
	 * overcommit check; huge pages make the faults and TLB cheaper. */
	m->buf = mmap(NULL, m->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->buf == MAP_FAILED) {
		m->buf = NULL;
		return -errno;
	}
	madvise(m->buf, m->map_len, MADV_HUGEPAGE);
	return 0;
}

void messages_free(struct messages *m)
{
	if (m->buf)
		munmap(m->buf, m->map_len);
	m->buf = NULL;
}

/* Through the data path's own sealing (crypto/data.c: EVP for these
 * sizes), one message after the other, so counters follow slots. */
int messages_encrypt(struct messages *m, struct keypair *kp,
		     const struct inner_flow *f)
{
	uint8_t tmpl[UINT16_MAX];
	size_t len;
	int ret;

	build_template(tmpl, f);
	for (size_t i = 0; i < m->count; i++) {
		uint8_t *msg = m->buf + i * m->msg_len;
		uint8_t *pkt = msg + MESSAGE_DATA_HEADER_LEN;

		memcpy(pkt, tmpl, f->size);
		stamp(pkt, i);
		ret = data_encrypt(kp, msg, f->size, f->mtu, &len);
		if (ret)
			return ret;
		if (len != m->msg_len)
			return -EPROTO;
	}
	return 0;
}
