/* AllowedIPs, the cryptokey routing table: a longest-prefix-match table from
 * IPv4/IPv6 prefixes to an owner (a peer, opaque here). Outgoing packets are
 * routed to lookup(dst); incoming packets are accepted only when
 * source_ok(src, sending peer).
 *
 * Threading: one writer (every function that changes the table, plus the
 * walks, count and free) and any number of concurrent lock-free readers
 * (lookup and source_ok). Memory the writer unlinks goes to epoch_retire;
 * see allowedips_new. */
#ifndef RINGVPN_SRC_ALLOWEDIPS_H
#define RINGVPN_SRC_ALLOWEDIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h> /* AF_INET, AF_INET6 */

struct allowedips;
struct epoch;

/* Callback of the walks: addr is 4 (AF_INET) or 16 (AF_INET6) bytes in
 * network order with the host bits zero. A non-zero return stops the walk
 * and is returned by it. */
typedef int (*allowedips_walk_fn)(void *arg, int family, const uint8_t *addr,
				  uint8_t cidr, void *owner);

/* Unlinked nodes go to epoch_retire(epoch) (src/epoch.h): NULL frees
 * them at once, which is only right when nothing reads concurrently. */
struct allowedips *allowedips_new(struct epoch *epoch);
/* Frees the table and every node in it directly (not through the epoch):
 * no reader may be inside the table any more. */
void allowedips_free(struct allowedips *t);

/* Maps addr/cidr to owner; host bits past cidr are ignored. An identical
 * prefix already present just changes owner. family is AF_INET (addr has 4
 * bytes, cidr <= 32) or AF_INET6 (16 bytes, cidr <= 128). Returns 0, -EINVAL
 * (bad family or cidr, NULL owner) or -ENOMEM (table unchanged). */
int allowedips_insert(struct allowedips *t, int family, const void *addr,
		      uint8_t cidr, void *owner);
/* Removes exactly addr/cidr (host bits ignored) if owner owns it. Returns 0,
 * -ENOENT (absent, or owned by someone else) or -EINVAL (bad family/cidr). */
int allowedips_remove(struct allowedips *t, int family, const void *addr,
		      uint8_t cidr, void *owner);
/* Removes every prefix of owner, in one pass over the table. */
void allowedips_remove_by_owner(struct allowedips *t, void *owner);

/* Reader side, safe concurrently with the writer. */
/* Owner of the longest prefix containing the full address addr, or NULL. */
void *allowedips_lookup(const struct allowedips *t, int family,
			const void *addr);
/* The reverse check of cryptokey routing: true when src, the inner source
 * address of a packet that came from owner, routes back to owner. */
bool allowedips_source_ok(const struct allowedips *t, int family,
			  const void *src, void *owner);

/* Calls fn for each prefix of owner (IPv4 first, each family in address
 * order). This visits the whole table; to list every peer's prefixes at once
 * (UAPI get of many peers), allowedips_walk is one pass instead of one per
 * peer. */
int allowedips_walk_owner(const struct allowedips *t, void *owner,
			  int (*fn)(void *arg, int family, const uint8_t *addr,
				    uint8_t cidr),
			  void *arg);
/* Calls fn for every prefix, with its owner, in the same order. */
int allowedips_walk(const struct allowedips *t, allowedips_walk_fn fn,
		    void *arg);

/* Prefixes stored. */
size_t allowedips_count(const struct allowedips *t);
/* Trie nodes allocated and not yet retired (prefixes plus branch points;
 * never more than 2 * count - 1). For memory accounting and tests. */
size_t allowedips_node_count(const struct allowedips *t);

#endif
