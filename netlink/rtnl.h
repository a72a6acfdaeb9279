/* rtnetlink primitives that configure the TUN interface: link state,
 * addresses, routes and policy rules, over one long-lived libmnl socket.
 *
 * Every call is synchronous (request, then the kernel's ACK or the whole
 * dump), returns 0 or -errno and never prints. The "add" calls are
 * idempotent: finding the identical object already there is success, and
 * *existed tells the caller so that it does not record the object as its
 * own to undo later.
 *
 * Named rtnl.h and netlink_*, not netlink.h and nl_*: libnl owns both
 * <netlink/netlink.h> and the nl_ prefix (nl_close, nl_addr_*), and the
 * tests link libnl-route-3 to read the kernel's state back. */
#ifndef RINGVPN_NETLINK_RTNL_H
#define RINGVPN_NETLINK_RTNL_H

#include <stdbool.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

struct netlink {
	struct mnl_socket *sock;
	uint32_t portid;
	/* Of the last request; answers carrying another one are stale. */
	uint32_t seq;
};

int netlink_open(struct netlink *nl);
/* Safe on a context that netlink_open() failed to open, and twice. */
void netlink_close(struct netlink *nl);

/* -ENODEV when there is no such interface, -EINVAL for a name that no
 * interface can have. */
int netlink_link_index(struct netlink *nl, const char *ifname, int *ifindex);
/* A socket of link events (another context than requests use; closed by
 * netlink_close), read without blocking: cb gets each link's index and
 * whether it is up now (false for one deleted). read returns 0 when
 * none is left, -ENOBUFS when the kernel dropped some (look again). Its
 * one reader, the session table's watch, drains it once a second, not
 * when it becomes readable: the events only queue until then. */
int netlink_link_monitor_open(struct netlink *nl);
int netlink_link_monitor_read(struct netlink *nl,
			      void (*cb)(int ifindex, bool up, void *arg),
			      void *arg);
/* The link's MTU and whether it is up (IFF_UP; up may be NULL). */
int netlink_link_state(struct netlink *nl, int ifindex, unsigned int *mtu,
		       bool *up);
int netlink_link_set_mtu(struct netlink *nl, int ifindex, unsigned int mtu);

/* The MTU of the path a packet to dst (4 or 16 bytes) carrying mark (0:
 * none) would take, as `ip route get` shows it: the route's mtu metric,
 * else its device's MTU. -ENETUNREACH (or the kernel's error) when
 * there is no way there. */
int netlink_path_mtu(struct netlink *nl, int family, const void *dst,
		     uint32_t mark, unsigned int *mtu);
/* The same for the main table's first default route of family: -ENOENT
 * without one. */
int netlink_default_mtu(struct netlink *nl, int family, unsigned int *mtu);
int netlink_link_set_up(struct netlink *nl, int ifindex, bool up);
int netlink_link_delete(struct netlink *nl, int ifindex);

/* Common errors below: -ENODEV (no such ifindex), -EAFNOSUPPORT (family
 * not AF_INET or AF_INET6), -EINVAL (prefix length beyond 32 or 128, or a
 * route or rule that cannot be expressed; checked before anything is
 * sent). Addresses and destinations are 4 or 16 bytes in network order.
 * existed may be NULL. */

/* The identical address (same address and prefix length) already on the
 * interface is success with *existed set. The same IPv6 address with
 * another prefix length is -EEXIST: the kernel allows only one. nodad
 * skips IPv6 duplicate address detection (IFA_F_NODAD); IPv4 ignores it. */
int netlink_addr_add(struct netlink *nl, int ifindex, int family,
		     const void *addr, uint8_t prefixlen, bool nodad,
		     bool *existed);
/* A host address (/32, /128) without the prefix route the kernel would
 * add for it (IFA_F_NOPREFIXROUTE) and, for IPv6, without duplicate
 * address detection: an address for the local stack only, which routes
 * nothing to the interface. Removed by netlink_addr_del with the full
 * prefix length. */
int netlink_host_addr_add(struct netlink *nl, int ifindex, int family,
			  const void *addr, bool *existed);
/* -ENOENT when the address is not on the interface. */
int netlink_addr_del(struct netlink *nl, int ifindex, int family,
		     const void *addr, uint8_t prefixlen);

/* A unicast route to the interface (no gateway; scope link for IPv4,
 * protocol static) in `table` (RT_TABLE_MAIN is 254; any table but 0).
 * The destination must have no bits set past prefixlen (-EINVAL). An
 * existing route to the same prefix through the same interface in that
 * table is success with *existed set; one through another interface is
 * -EEXIST. */
int netlink_route_add(struct netlink *nl, int ifindex, int family,
		      const void *dst, uint8_t prefixlen, uint32_t table,
		      bool *existed);
/* Removes only a static route through ifindex; -ENOENT when absent. */
int netlink_route_del(struct netlink *nl, int ifindex, int family,
		      const void *dst, uint8_t prefixlen, uint32_t table);

/* A route through ifindex as netlink_route_add's, of another protocol
 * (rtm_protocol, e.g. one that a routing daemon filters on) than
 * static, at a metric (RTA_PRIORITY; 0: the kernel's default). Routes
 * that differ in the metric alone are two routes. */
struct netlink_proto_route {
	int ifindex;
	int family;
	const void *dst;
	uint8_t prefixlen;
	uint32_t table;
	uint8_t protocol;
	uint32_t metric;
};

/* netlink_route_add and _del for r; a route of the same prefix and
 * metric through the device but of another protocol is not r (add
 * returns -EEXIST). Deletion matches the protocol, and the metric
 * unless it is 0. */
int netlink_proto_route_add(struct netlink *nl,
			    const struct netlink_proto_route *r,
			    bool *existed);
int netlink_proto_route_del(struct netlink *nl,
			    const struct netlink_proto_route *r);
/* A route that netlink_proto_route_list found. */
struct netlink_route_item {
	uint8_t dst[16];
	uint8_t prefixlen;
	uint32_t metric;
};

/* The routes of family in table through ifindex with protocol, into *v
 * (the caller frees it) and *n. */
int netlink_proto_route_list(struct netlink *nl, int ifindex, int family,
			     uint32_t table, uint8_t protocol,
			     struct netlink_route_item **v, size_t *n);

/* Removes every route of both families in table that goes through
 * ifindex and has protocol; none is success. */
int netlink_route_flush(struct netlink *nl, int ifindex, uint32_t table,
			uint8_t protocol);

/* The default route of the family that refuses everything ("unreachable
 * default table T metric M", protocol static, no device): the kill
 * switch behind a full tunnel's default route through the interface,
 * which a lower metric puts first and which goes with the interface.
 * The same one already there is success with *existed set; another
 * route at that metric is -EEXIST. */
int netlink_unreachable_add(struct netlink *nl, int family, uint32_t table,
			    uint32_t metric, bool *existed);
/* -ENOENT when absent. */
int netlink_unreachable_del(struct netlink *nl, int family, uint32_t table,
			    uint32_t metric);

/* A policy rule "[not] [fwmark M] lookup T [suppress_prefixlength N]",
 * the two shapes wg-quick's full-tunnel scheme needs:
 *   { .table = T, .fwmark = M, .has_fwmark = true, .invert = true,
 *     .suppress_prefixlen = -1 }
 *   { .table = RT_TABLE_MAIN, .suppress_prefixlen = 0 }
 * The mark is matched with an all-ones mask, so has_fwmark with fwmark 0
 * is -EINVAL, as are table 0 and suppress_prefixlen past the family's
 * address length. */
struct netlink_rule {
	int family;
	uint32_t priority;	/* 0: the kernel picks one, and any matches */
	uint32_t table;
	uint32_t fwmark;
	bool has_fwmark;
	bool invert;		/* FIB_RULE_INVERT, "not" */
	int suppress_prefixlen;	/* -1: none */
};

/* A rule with the same selectors, table and action (and priority, when
 * given) already present is success with *existed set. Other selectors
 * (from, iif, ...) make a rule a different one. The kernel cannot tell
 * two rules apart that differ only by "not": with one already at the
 * requested priority, adding the other is -EEXIST. */
int netlink_rule_add(struct netlink *nl, const struct netlink_rule *r,
		     bool *existed);
/* Removes the rule netlink_rule_exists() finds; -ENOENT when none. */
int netlink_rule_del(struct netlink *nl, const struct netlink_rule *r);
int netlink_rule_exists(struct netlink *nl, const struct netlink_rule *r,
			bool *exists);
/* The priority of the rule netlink_rule_exists() finds: where the kernel
 * put a rule added with priority 0, so that it can be named exactly
 * later. -ENOENT when there is none. */
int netlink_rule_priority(struct netlink *nl, const struct netlink_rule *r,
			  uint32_t *priority);

/* Whether any IPv4 or IPv6 route lives in `table` or any IPv4 or IPv6 rule
 * points to it: how a free table number is found. */
int netlink_table_in_use(struct netlink *nl, uint32_t table, bool *in_use);

#endif
