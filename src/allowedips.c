#include "src/allowedips.h"
#include "src/epoch.h"
#include "src/prefix.h"

/* A path-compressed binary trie per address family. Every node stands for
 * a prefix: bits[] is the address with the bits past cidr zero, and the
 * node's child[b] holds the longer prefixes whose bit number cidr (counted
 * from the most significant bit) is b. Invariants, kept by the writer:
 *
 *  - a child's cidr is greater than its parent's and the child's bits agree
 *    with the parent's on the parent's cidr bits plus the branch bit;
 *  - a node without an owner is a branch point and has exactly two children
 *    (so there are at most 2 * prefixes - 1 nodes, and depth <= bits + 1);
 *  - bits[] and cidr never change once a node is linked; only child[] and
 *    owner do.
 *
 * Lookup walks down while the node's prefix matches the address and keeps
 * the last owner seen, so it costs at most one node per address bit.
 *
 * Concurrency: one writer (the control thread) calls every mutating function
 * (and the walks, which read without ordering), while any number of data
 * path threads call lookup and source_ok without locks. This works like RCU:
 *
 *  - a new node is filled in completely (bits, cidr, owner and children)
 *    before one release store of child[] or root[] makes it reachable, and
 *    readers load those pointers with acquire, so a reader that reaches a
 *    node sees it initialised;
 *  - a structural change is always that single store: a new node takes the
 *    place of the subtree it now heads, or a node's only child takes the
 *    node's place. Either way a reader anywhere sees a consistent trie, old
 *    or new, and its answer is one the table had during the call;
 *  - owner is atomic as well (release store, acquire load) so that a reader
 *    that gets an owner also sees the writes that made that owner ready;
 *  - an unlinked node keeps its child pointers, so a reader still inside it
 *    goes on down normally; it is handed to epoch_retire rather than
 *    freed, which frees it after every reader that might hold it has
 *    left (a table without an epoch frees at once: single-threaded use).
 *
 * The writer reads the pointers with relaxed loads: it wrote them itself.
 *
 * Memory: one malloc per node of 24 bytes of pointers, the cidr byte and 4 or
 * 16 bytes of address (29 or 41 bytes; no tail padding is allocated). Branch
 * points are only created where two prefixes diverge. There is no per-owner
 * index: removing or listing one owner's prefixes walks the table, which the
 * control path can afford. */

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ADDR_LEN 16

struct node {
	_Atomic(struct node *) child[2];
	_Atomic(void *) owner;	/* NULL for a branch point */
	uint8_t cidr;
	uint8_t bits[];		/* 4 or 16 bytes, by family */
};

typedef _Atomic(struct node *) slot_t;

struct allowedips {
	slot_t root[2];		/* [0] IPv4, [1] IPv6 */
	struct epoch *epoch;	/* frees unlinked nodes; NULL: at once */
	size_t count;		/* nodes with an owner */
	size_t nodes;		/* nodes allocated and not yet retired */
};

/* 0 for IPv4, 1 for IPv6, -1 otherwise. */
static int family_index(int family)
{
	if (family == AF_INET)
		return 0;
	if (family == AF_INET6)
		return 1;
	return -1;
}

static unsigned int addr_len(int fi)
{
	return fi ? 16 : 4;
}

static int index_family(int fi)
{
	return fi ? AF_INET6 : AF_INET;
}

static unsigned int bit_at(const uint8_t *a, unsigned int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static void mask_copy(uint8_t *dst, const uint8_t *src, unsigned int len,
		      unsigned int cidr)
{
	memcpy(dst, src, len);
	prefix_clear_host_bits(dst, len, cidr);
}

/* Number of leading bits a and b have in common. */
static unsigned int common_bits(const uint8_t *a, const uint8_t *b,
				unsigned int len)
{
	unsigned int i, x;

	for (i = 0; i < len; i++) {
		x = a[i] ^ b[i];
		if (x)
			return i * 8 + (unsigned int)__builtin_clz(x) -
			       (sizeof(x) * 8 - 8);
	}
	return len * 8;
}

static struct node *rload(const slot_t *slot)
{
	return atomic_load_explicit(slot, memory_order_acquire);
}

static struct node *wload(const slot_t *slot)
{
	return atomic_load_explicit(slot, memory_order_relaxed);
}

static void *wload_owner(const struct node *n)
{
	return atomic_load_explicit(&n->owner, memory_order_relaxed);
}

/* Makes n (fully initialised, or NULL) reachable through slot. */
static void publish(slot_t *slot, struct node *n)
{
	atomic_store_explicit(slot, n, memory_order_release);
}

/* A node for key/cidr, not yet linked; key's bits past cidr are zeroed. */
static struct node *node_new(struct allowedips *t, const uint8_t *key,
			     unsigned int len, uint8_t cidr, void *owner)
{
	struct node *n = malloc(offsetof(struct node, bits) + len);

	if (!n)
		return NULL;
	atomic_init(&n->child[0], NULL);
	atomic_init(&n->child[1], NULL);
	atomic_init(&n->owner, owner);
	n->cidr = cidr;
	mask_copy(n->bits, key, len, cidr);
	t->nodes++;
	return n;
}

/* For a node that was never linked: no reader can have seen it. */
static void node_drop(struct allowedips *t, struct node *n)
{
	t->nodes--;
	free(n);
}

static void node_retire(struct allowedips *t, struct node *n)
{
	t->nodes--;
	epoch_retire(t->epoch, n, free);
}

struct allowedips *allowedips_new(struct epoch *epoch)
{
	struct allowedips *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->epoch = epoch;
	atomic_init(&t->root[0], NULL);
	atomic_init(&t->root[1], NULL);
	return t;
}

static void free_subtree(struct node *n)
{
	if (!n)
		return;
	free_subtree(wload(&n->child[0]));
	free_subtree(wload(&n->child[1]));
	free(n);
}

void allowedips_free(struct allowedips *t)
{
	if (!t)
		return;
	free_subtree(wload(&t->root[0]));
	free_subtree(wload(&t->root[1]));
	free(t);
}

/* Checks family and cidr and copies addr/cidr into key with the host bits
 * zeroed. Returns the family index, or -EINVAL. */
static int prepare_key(uint8_t key[MAX_ADDR_LEN], int family,
		       const void *addr, uint8_t cidr)
{
	int fi = family_index(family);

	if (fi < 0 || cidr > addr_len(fi) * 8)
		return -EINVAL;
	mask_copy(key, addr, addr_len(fi), cidr);
	return fi;
}

/* Puts a new node for key/cidr in the place of old, the subtree found at
 * slot that does not contain key/cidr (or NULL). Either the new prefix
 * contains old and heads it, or the two diverge and a branch point heads
 * both. */
static int link_new(struct allowedips *t, slot_t *slot, struct node *old,
		    const uint8_t *key, unsigned int len, uint8_t cidr,
		    void *owner)
{
	struct node *leaf, *fork;
	unsigned int common;

	leaf = node_new(t, key, len, cidr, owner);
	if (!leaf)
		return -ENOMEM;
	if (!old)
		goto out;
	/* old does not contain key/cidr: either old->cidr > cidr, or they
	 * differ within old's first old->cidr bits. So once capped at cidr,
	 * common is below old->cidr. */
	common = common_bits(key, old->bits, len);
	if (common > cidr)
		common = cidr;
	if (common == cidr) {
		atomic_init(&leaf->child[bit_at(old->bits, cidr)], old);
		goto out;
	}
	/* Below both lengths, so bit number common tells them apart. */
	fork = node_new(t, key, len, (uint8_t)common, NULL);
	if (!fork) {
		node_drop(t, leaf);
		return -ENOMEM;
	}
	atomic_init(&fork->child[bit_at(key, common)], leaf);
	atomic_init(&fork->child[bit_at(old->bits, common)], old);
	leaf = fork;
out:
	publish(slot, leaf);
	t->count++;
	return 0;
}

int allowedips_insert(struct allowedips *t, int family, const void *addr,
		      uint8_t cidr, void *owner)
{
	uint8_t key[MAX_ADDR_LEN];
	struct node *n;
	slot_t *slot;
	int fi;

	fi = prepare_key(key, family, addr, cidr);
	if (fi < 0)
		return fi;
	if (!owner)
		return -EINVAL;
	slot = &t->root[fi];
	for (;;) {
		n = wload(slot);
		if (!n || n->cidr > cidr ||
		    !prefix_contains(n->bits, key, n->cidr))
			break;
		if (n->cidr == cidr) {
			if (!wload_owner(n))
				t->count++;
			atomic_store_explicit(&n->owner, owner,
					      memory_order_release);
			return 0;
		}
		slot = &n->child[bit_at(key, n->cidr)];
	}
	return link_new(t, slot, n, key, addr_len(fi), cidr, owner);
}

/* Unlinks the ownerless node at *slot unless it is a needed branch point (two
 * children): a branch point with one child is pure overhead and would break
 * the node bound. Its only child, if any, takes its place. Returns whether
 * the node went. */
static bool prune(struct allowedips *t, slot_t *slot)
{
	struct node *n = wload(slot), *left, *right;

	if (wload_owner(n))
		return false;
	left = wload(&n->child[0]);
	right = wload(&n->child[1]);
	if (left && right)
		return false;
	publish(slot, left ? left : right);
	node_retire(t, n);
	return true;
}

int allowedips_remove(struct allowedips *t, int family, const void *addr,
		      uint8_t cidr, void *owner)
{
	uint8_t key[MAX_ADDR_LEN];
	slot_t *slot, *parent_slot = NULL;
	struct node *n;
	int fi;

	fi = prepare_key(key, family, addr, cidr);
	if (fi < 0)
		return fi;
	slot = &t->root[fi];
	for (;;) {
		n = wload(slot);
		if (!n || n->cidr > cidr ||
		    !prefix_contains(n->bits, key, n->cidr))
			return -ENOENT;
		if (n->cidr == cidr)
			break;
		parent_slot = slot;
		slot = &n->child[bit_at(key, n->cidr)];
	}
	if (!owner || wload_owner(n) != owner)
		return -ENOENT;
	atomic_store_explicit(&n->owner, NULL, memory_order_relaxed);
	t->count--;
	/* Only a node that left entirely can leave its parent with one
	 * child; the grandparent keeps its child count either way. */
	if (prune(t, slot) && parent_slot)
		prune(t, parent_slot);
	return 0;
}

/* Post-order, so that a node sees its children's final state before it is
 * judged by prune. Recursion depth is at most bits + 1. */
static void remove_owner_subtree(struct allowedips *t, slot_t *slot,
				 void *owner)
{
	struct node *n = wload(slot);

	if (!n)
		return;
	remove_owner_subtree(t, &n->child[0], owner);
	remove_owner_subtree(t, &n->child[1], owner);
	if (wload_owner(n) == owner) {
		atomic_store_explicit(&n->owner, NULL, memory_order_relaxed);
		t->count--;
	}
	prune(t, slot);
}

void allowedips_remove_by_owner(struct allowedips *t, void *owner)
{
	if (!owner)
		return;
	remove_owner_subtree(t, &t->root[0], owner);
	remove_owner_subtree(t, &t->root[1], owner);
}

void *allowedips_lookup(const struct allowedips *t, int family,
			const void *addr)
{
	int fi = family_index(family);
	const uint8_t *key = addr;
	unsigned int maxbits;
	void *found = NULL, *owner;
	struct node *n;

	if (fi < 0)
		return NULL;
	maxbits = addr_len(fi) * 8;
	n = rload(&t->root[fi]);
	/* Nothing below a node that does not match can match either. */
	while (n && prefix_contains(n->bits, key, n->cidr)) {
		owner = atomic_load_explicit(&n->owner, memory_order_acquire);
		if (owner)
			found = owner;
		if (n->cidr == maxbits)
			break;
		n = rload(&n->child[bit_at(key, n->cidr)]);
	}
	return found;
}

bool allowedips_source_ok(const struct allowedips *t, int family,
			  const void *src, void *owner)
{
	return owner && allowedips_lookup(t, family, src) == owner;
}

struct walk {
	allowedips_walk_fn fn;
	void *arg;
	void *owner;		/* only this owner's prefixes, or all if NULL */
	int family;
};

/* Pre-order with child 0 first: ascending addresses, shorter first. */
static int walk_subtree(const struct node *n, const struct walk *w)
{
	void *owner;
	int ret;

	if (!n)
		return 0;
	owner = wload_owner(n);
	if (owner && (!w->owner || owner == w->owner)) {
		ret = w->fn(w->arg, w->family, n->bits, n->cidr, owner);
		if (ret)
			return ret;
	}
	ret = walk_subtree(wload(&n->child[0]), w);
	if (ret)
		return ret;
	return walk_subtree(wload(&n->child[1]), w);
}

static int walk_filtered(const struct allowedips *t, void *owner,
			 allowedips_walk_fn fn, void *arg)
{
	struct walk w = { .fn = fn, .arg = arg, .owner = owner };
	int fi, ret;

	for (fi = 0; fi < 2; fi++) {
		w.family = index_family(fi);
		ret = walk_subtree(wload(&t->root[fi]), &w);
		if (ret)
			return ret;
	}
	return 0;
}

int allowedips_walk(const struct allowedips *t, allowedips_walk_fn fn,
		    void *arg)
{
	return walk_filtered(t, NULL, fn, arg);
}

struct owner_walk {
	int (*fn)(void *arg, int family, const uint8_t *addr, uint8_t cidr);
	void *arg;
};

static int owner_walk_step(void *arg, int family, const uint8_t *addr,
			   uint8_t cidr, void *owner)
{
	const struct owner_walk *ow = arg;

	return ow->fn(ow->arg, family, addr, cidr);
}

int allowedips_walk_owner(const struct allowedips *t, void *owner,
			  int (*fn)(void *arg, int family, const uint8_t *addr,
				    uint8_t cidr),
			  void *arg)
{
	struct owner_walk ow = { .fn = fn, .arg = arg };

	if (!owner)
		return 0;
	return walk_filtered(t, owner, owner_walk_step, &ow);
}

size_t allowedips_count(const struct allowedips *t)
{
	return t->count;
}

size_t allowedips_node_count(const struct allowedips *t)
{
	return t->nodes;
}
