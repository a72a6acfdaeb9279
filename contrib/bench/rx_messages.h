/* rx_load's transport messages, made before the clock starts: one inner
 * IPv4 UDP packet each, numbered, sealed under consecutive counters, and
 * laid back to back so that any run of them is one buffer of equal
 * datagrams, as UDP_SEGMENT wants. */
#ifndef RINGVPN_CONTRIB_BENCH_RX_MESSAGES_H
#define RINGVPN_CONTRIB_BENCH_RX_MESSAGES_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct keypair;

#define RX_IPV4_HDR_LEN 20
#define RX_UDP_HDR_LEN 8
#define RX_SEQ_LEN 8
/* The smallest inner packet: headers and the sequence number. */
#define RX_MIN_INNER (RX_IPV4_HDR_LEN + RX_UDP_HDR_LEN + RX_SEQ_LEN)

/* What every inner packet shares. */
struct inner_flow {
	struct in_addr src, dst;
	uint16_t dport;
	uint16_t size;	/* IPv4 packet bytes, RX_MIN_INNER..mtu */
	uint16_t mtu;	/* the daemon's tunnel MTU: sets the padding */
};

struct messages {
	uint8_t *buf;
	size_t map_len;
	size_t count;
	size_t msg_len;	/* every message's bytes: header, padded, tag */
};

/* The bytes of one message carrying an inner packet of f. */
size_t messages_len(const struct inner_flow *f);

/* Room for count messages of msg_len bytes; 0 or -errno. */
int messages_alloc(struct messages *m, size_t count, size_t msg_len);
void messages_free(struct messages *m);

/* Fills and seals every message, packet i sealed under kp's i-th next
 * counter; 0 or data_encrypt's -errno. */
int messages_encrypt(struct messages *m, struct keypair *kp,
		     const struct inner_flow *f);

#endif
