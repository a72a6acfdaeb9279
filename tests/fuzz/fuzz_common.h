/* Shared by the fuzz targets and the seed generator: two fixed identities
 * ("local", the device under fuzz, and "remote", its one peer) and the
 * in-process handshake that gives them a session.
 *
 * The keys are fixed so that the seeds make_seeds writes are real messages
 * for the fuzzing process too: an initiation from remote to local passes
 * MAC1 and decrypts there (once: its timestamp is then no longer fresh). */
#ifndef RINGVPN_TESTS_FUZZ_COMMON_H
#define RINGVPN_TESTS_FUZZ_COMMON_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "src/config.h"
#include "src/device.h"
#include "src/protocol.h"

#define FUZZ_NS(s) ((uint64_t)(s) * 1000000000ULL)
#define FUZZ_NOW0 FUZZ_NS(1000)
#define FUZZ_MTU 1420

enum fuzz_side { FUZZ_LOCAL, FUZZ_REMOTE };

/* A device and its view of the other side. */
struct fuzz_node {
	struct device dev;
	struct peer *peer;
};

/* Handshake target flags, in the first input byte. */
enum {
	FUZZ_HS_UNDER_LOAD = 1 << 0,
	FUZZ_HS_IPV6 = 1 << 1,
	FUZZ_HS_ADD_MAC1 = 1 << 2,  /* the harness computes a valid MAC1 */
	FUZZ_HS_ADD_MAC2 = 1 << 3,  /* ... and a valid MAC2 (needs MAC1) */
	FUZZ_HS_PATCH_INDEX = 1 << 4, /* receiver index := a live one */
};

/* Data target modes, the first input byte modulo FUZZ_DATA_MODES. */
enum {
	FUZZ_DATA_RAW,
	FUZZ_DATA_PATCH_INDEX,
	FUZZ_DATA_SEQUENCE,
	FUZZ_DATA_MODES,
};

/* One record of FUZZ_DATA_SEQUENCE: remote encrypts len & 0x7f bytes
 * under counter, flipping one ciphertext bit when len & 0x80, and local
 * decrypts; the replay verdict is checked against a model. */
struct fuzz_data_record {
	uint8_t len;
	uint8_t counter_le[8];
} __attribute__((packed));

/* Sets up dev with side's fixed private key and the other side as its one
 * peer (no psk). Returns 0 or -errno. */
int fuzz_node_init(struct fuzz_node *n, enum fuzz_side side);

/* Fills ss with the other side's address, IPv4 or IPv6; returns it. */
const struct sockaddr *fuzz_source(struct sockaddr_storage *ss, bool ipv6);

/* A full handshake started by ini and answered by resp, then one keepalive
 * from ini so that resp's keypair is confirmed: both have a current
 * keypair afterwards. The messages are copied out when the pointers are not
 * NULL. Returns 0 or -errno. */
int fuzz_establish(struct fuzz_node *ini, struct fuzz_node *resp,
		   uint64_t now, struct message_handshake_initiation *init,
		   struct message_handshake_response *resp_msg);

/* n prefixes alike (family, length, address; not padding). */
bool fuzz_prefixes_eq(const struct prefix *a, const struct prefix *b,
		      size_t n);
/* Whether two configs say the same in the [Interface] keys the device
 * does not hold: Address, MTU, Table, DNS, the hooks, SaveConfig and
 * Threads (fuzz_config's printer knows no KillSwitch yet). */
bool fuzz_interface_eq(const struct config *a, const struct config *b);

/* libFuzzer's entry points, which each target defines. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
