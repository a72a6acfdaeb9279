/* The data-path features a worker may use, how they are named, and how a
 * test or an operator turns them off.
 *
 * Each is probed at start-up (TUN offloads by tun_create, socket options
 * by setsockopt, io_uring opcodes and setup flags by the kernel's answer)
 * and each has a fallback that is tested: RINGVPN_DISABLE="udp_gso,gro"
 * in the environment forces the named ones off, so the test suite can run
 * the transfer tests once per fallback. */
#ifndef RINGVPN_SRC_FEATURES_H
#define RINGVPN_SRC_FEATURES_H

#include <stddef.h>

enum datapath_feature {
	DP_VNET_HDR = 1 << 0,	    /* TUN reads/writes carry virtio_net_hdr */
	DP_TSO = 1 << 1,	    /* TUN hands us/takes TCP super-packets */
	DP_USO = 1 << 2,	    /* ... and UDP super-packets */
	DP_UDP_GSO = 1 << 3,	    /* one sendmsg carries a run (UDP_SEGMENT) */
	DP_UDP_GRO = 1 << 4,	    /* one recvmsg returns a run (UDP_GRO) */
	DP_MULTISHOT_RECV = 1 << 5, /* multishot recvmsg, provided buffer ring */
	DP_MULTISHOT_READ = 1 << 6, /* multishot TUN read (opcode 49) */
	DP_DEFER_TASKRUN = 1 << 7,  /* SINGLE_ISSUER | DEFER_TASKRUN ring */
	DP_EVP_AEAD = 1 << 8,	    /* data sealed by OpenSSL, not libsodium */
	DP_PARALLEL = 1 << 9,	    /* workers share one another's crypto */
	DP_ALL = (1 << 10) - 1,
};

/* Parses a comma-separated list of feature names into a mask; NULL or ""
 * is 0. -EINVAL names the first unknown word in bad (if not NULL). */
int datapath_parse_list(const char *list, unsigned int *mask,
			char *bad, size_t bad_len);

/* The features RINGVPN_DISABLE turns off (0 when unset); -EINVAL with the
 * unknown word in bad. */
int datapath_disabled_from_env(unsigned int *mask, char *bad,
			       size_t bad_len);

/* "vnet_hdr tso udp_gso ..." or "none"; a buf too short keeps whole
 * words only. Returns buf. */
const char *datapath_features_string(unsigned int mask, char *buf,
				     size_t len);

#endif
