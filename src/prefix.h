/* IP prefixes ("10.0.0.0/8", "fd00::/64"): the one place that parses,
 * masks and matches them, for the config file, the UAPI, the journal and
 * the AllowedIPs trie. (netlink/ keeps its own host-bit check: it is a
 * lower layer and takes nothing from src/.) */
#ifndef RINGVPN_SRC_PREFIX_H
#define RINGVPN_SRC_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* addr holds 4 (AF_INET) or 16 (AF_INET6) bytes in network order, the
 * rest zero. Host bits are kept as written (an interface Address needs
 * them); see prefix_masked. */
struct prefix {
	int family;
	uint8_t addr[16];
	uint8_t cidr;
};

enum prefix_rule {
	PREFIX_LEN_OPTIONAL = 1,  /* "10.0.0.1" is 10.0.0.1/32 (config) */
	PREFIX_LEN_CANONICAL = 2, /* no leading zeros: "/08" refused (UAPI) */
};

/* 4, 16, or 0 for another family. */
size_t prefix_addr_len(int family);

/* Parses "ADDRESS/LEN" (LEN 0-32 or 0-128, decimal digits) of family
 * (AF_INET, AF_INET6, or 0 for either) under rules (enum prefix_rule
 * bits). text is not changed. False, with *out zeroed, for anything
 * else. */
bool prefix_parse(struct prefix *out, const char *text, int family,
		  unsigned rules);

/* p with the host bits past p->cidr cleared. */
struct prefix prefix_masked(const struct prefix *p);
/* Clears the bits past cidr of the len bytes at addr. */
void prefix_clear_host_bits(uint8_t *addr, size_t len, unsigned cidr);
/* Whether the len bytes at addr have no bit set past cidr. */
bool prefix_host_bits_clear(const uint8_t *addr, size_t len, unsigned cidr);

/* Whether addr starts with the first cidr bits of net. Inline: the
 * AllowedIPs lookup runs it for every packet, at every trie level. */
static inline bool prefix_contains(const uint8_t *net, const uint8_t *addr,
				   unsigned cidr)
{
	unsigned full = cidr / 8, rest = cidr % 8;

	if (memcmp(net, addr, full))
		return false;
	return !rest || !((net[full] ^ addr[full]) & (0xff00u >> rest));
}

#endif
