/* Per-source token buckets for handshake messages under load (whitepaper
 * section 5.3): a source may have RATELIMITER_PER_SECOND messages a
 * second handed to public-key work, with bursts of RATELIMITER_BURST. A
 * source is an IPv4 address or an IPv6 /64 (one host's share of a
 * network), so an attacker cannot multiply its rate by walking the low
 * bits of its address.
 *
 * Handshake messages reach the limiter only from sources that proved
 * their address with a valid MAC2; FleetRecovery's initiations, whose
 * destination may be forged, come in at most FLEET_RECOVERY_PER_SECOND
 * new sources a second (src/fleet_recovery.c). The table is bounded (a
 * full table refuses newcomers) and entries idle for RATELIMITER_IDLE_NS
 * are collected. There is no clock and no thread
 * inside: every call is given the caller's monotonic time in ns.
 *
 * Not thread-safe: the control thread owns it. */
#ifndef RINGVPN_SRC_RATELIMITER_H
#define RINGVPN_SRC_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RATELIMITER_PER_SECOND 20
#define RATELIMITER_BURST 5
/* A bucket refills completely in BURST / PER_SECOND (250 ms), so an entry
 * idle for a second carries no state worth keeping. */
#define RATELIMITER_IDLE_NS 1000000000ULL
/* The device's table: more proven sources than this at once are refused. */
#define RATELIMITER_DEFAULT_ENTRIES 16384

struct ratelimiter_entry;

struct ratelimiter {
	/* Every entry, allocated at init and handed out in order (used),
	 * then recycled through free_list. Untouched entries cost address
	 * space only. */
	struct ratelimiter_entry *pool;
	uint32_t *buckets; /* chain heads: entry number + 1; 0 = empty */
	uint32_t mask;     /* buckets - 1 */
	uint32_t max;
	uint32_t used;
	uint32_t count;
	uint32_t free_list; /* entry number + 1; 0 = empty */
	uint64_t next_gc;   /* ns: allow() collects idle entries after it */
	uint8_t hash_key[16];
};

/* A table of at most max_entries sources (1 to 1 << 24). Returns 0,
 * -EINVAL or -ENOMEM. */
int ratelimiter_init(struct ratelimiter *rl, uint32_t max_entries);
void ratelimiter_destroy(struct ratelimiter *rl);

/* Takes one message's worth of tokens from src's bucket. False when the
 * bucket is empty, the table is full, or src is neither AF_INET nor
 * AF_INET6 (v4-mapped IPv6 counts as its IPv4 address). Collects idle
 * entries at most once a second. */
bool ratelimiter_allow(struct ratelimiter *rl, const struct sockaddr *src,
		       uint64_t now);
/* Forgets every source idle for RATELIMITER_IDLE_NS or more. */
void ratelimiter_gc(struct ratelimiter *rl, uint64_t now);
/* Sources tracked. */
uint32_t ratelimiter_count(const struct ratelimiter *rl);

#endif
