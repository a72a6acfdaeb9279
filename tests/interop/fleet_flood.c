/* A flood of data under a valid fleet index, for fleet_recovery.sh: what
 * an attacker sends who copied an index from a client's traffic, from an
 * address of its own choice.
 *
 *   fleet_flood PRIVATE_KEY_FILE PEER_PUBLIC_KEY SOURCE_IP DEST_IP:PORT
 *               SECONDS RATE
 *
 * The index is made as a gateway with PRIVATE_KEY_FILE makes one for the
 * peer in this hour (crypto/fleet_index.h), under a session the gateway
 * never had; RATE data messages of 32 bytes a second leave from
 * SOURCE_IP (which must be on an interface) for SECONDS. Whatever comes
 * back is counted: handshake initiations are what the gateway spent on
 * the flood. Prints "sent N initiations M"; exits 0, or 1 on bad
 * arguments or a socket error. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>

#include "crypto/fleet_index.h"
#include "crypto/messages.h"
#include "src/fleet_keys.h"
#include "tests/interop/tool_util.h"

/* The 32 bytes of a data message under index (a made-up tag). */
static void data_message(uint8_t msg[32], uint32_t index, uint64_t counter)
{
	memset(msg, 0, 32);
	msg[0] = MESSAGE_DATA;
	for (unsigned i = 0; i < 4; i++)
		msg[4 + i] = (uint8_t)(index >> (8 * i));
	for (unsigned i = 0; i < 8; i++)
		msg[8 + i] = (uint8_t)(counter >> (8 * i));
}

static int fleet_index_for(const char *key_file, const char *peer_b64,
			   uint32_t *index)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct fleet_keys *k;
	int ret = read_key_file(priv, key_file);

	if (ret || (ret = key_from_base64(pub, peer_b64)))
		return ret;
	k = fleet_keys_new(priv, fleet_period((uint64_t)time(NULL)));
	if (!k)
		return -ENOMEM;
	*index = fleet_index_encode(&k->cur, fleet_slot(&k->cur, pub), 77);
	fleet_keys_free(k);
	return 0;
}

static int bound_socket(const char *source)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (inet_pton(AF_INET, source, &src.sin_addr) != 1)
		return -EINVAL;
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		return -errno;
	return fd;
}

/* Takes what came back (without waiting): the initiations counted. */
static unsigned count_initiations(int fd)
{
	uint8_t buf[256];
	unsigned n = 0;
	ssize_t len;

	while ((len = recv(fd, buf, sizeof(buf), 0)) > 0)
		n += len == sizeof(struct message_handshake_initiation) &&
		     buf[0] == MESSAGE_HANDSHAKE_INITIATION;
	return n;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage to;
	socklen_t to_len;
	unsigned long sent = 0, rate;
	unsigned initiations = 0;
	uint64_t start, until;
	uint32_t index;
	uint8_t msg[32];
	int fd;

	if (argc != 7 || crypto_init() ||
	    fleet_index_for(argv[1], argv[2], &index) ||
	    parse_endpoint(argv[4], &to, &to_len) ||
	    !(rate = strtoul(argv[6], NULL, 10))) {
		fprintf(stderr, "usage: fleet_flood PRIVATE_KEY_FILE "
				"PEER_PUBLIC_KEY SOURCE_IP DEST_IP:PORT "
				"SECONDS RATE\n");
		return 1;
	}
	fd = bound_socket(argv[3]);
	if (fd < 0) {
		fprintf(stderr, "fleet_flood: %s: %s\n", argv[3],
			strerror(-fd));
		return 1;
	}
	start = now_ns();
	until = start + strtoull(argv[5], NULL, 10) * NSEC_PER_SEC;
	for (uint64_t now = start; now < until; now = now_ns()) {
		data_message(msg, index, sent);
		if (sendto(fd, msg, sizeof(msg), 0, (struct sockaddr *)&to,
			   to_len) == sizeof(msg))
			sent++;
		initiations += count_initiations(fd);
		usleep((useconds_t)(1000000 / rate));
	}
	usleep(200000); /* the last answers */
	initiations += count_initiations(fd);
	printf("sent %lu initiations %u\n", sent, initiations);
	return 0;
}
