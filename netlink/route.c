/* Routes to the TUN interface and the kill switch's unreachable default
 * routes (RTM_NEWROUTE, RTM_DELROUTE), the RTM_GETROUTE dumps that check
 * what a table holds, and the MTU of a path as wg-quick reads it from
 * `ip route get` and `ip route show default`. */
#include "netlink/rtnl.h"
#include "netlink/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

struct route_key {
	int ifindex;
	int family;
	const void *dst;
	size_t len;
	uint8_t prefixlen;
	uint32_t table;
	/* RTN_UNICAST through ifindex, or RTN_UNREACHABLE at metric with
	 * no device (ifindex 0). A unicast route's metric is optional: 0
	 * leaves it to the kernel and matches any on deletion. */
	uint8_t type;
	uint32_t metric;
	uint8_t protocol; /* RTPROT_STATIC unless asked otherwise */
};

/* k's destination and table, checked: what every route has. */
static int route_key_dst(struct route_key *k, int family, const void *dst,
			 uint8_t prefixlen, uint32_t table)
{
	int ret = netlink_check_prefix(family, prefixlen);

	if (ret)
		return ret;
	/* IPv4 refuses host bits and IPv6 silently clears them: refuse them
	 * for both, so that what is added is what the caller will delete. */
	if (table == RT_TABLE_UNSPEC ||
	    !netlink_host_bits_clear(dst, netlink_addr_len(family), prefixlen))
		return -EINVAL;
	*k = (struct route_key){
		.family = family,
		.dst = dst,
		.len = netlink_addr_len(family),
		.prefixlen = prefixlen,
		.table = table,
		.protocol = RTPROT_STATIC,
	};
	return 0;
}

static int route_key_init(struct route_key *k, int ifindex, int family,
			  const void *dst, uint8_t prefixlen, uint32_t table)
{
	int ret = route_key_dst(k, family, dst, prefixlen, table);

	if (ret)
		return ret;
	if (ifindex <= 0)
		return -ENODEV;
	k->ifindex = ifindex;
	k->type = RTN_UNICAST;
	return 0;
}

/* The default route of the family refusing everything, in table. */
static int unreachable_key_init(struct route_key *k, int family,
				uint32_t table, uint32_t metric)
{
	static const uint8_t any[16];
	int ret = route_key_dst(k, family, any, 0, table);

	if (ret)
		return ret;
	k->type = RTN_UNREACHABLE;
	k->metric = metric;
	return 0;
}

/* Tables past 255 exist only as RTA_TABLE; rtm_table then says so. */
static uint8_t rtm_table_of(uint32_t table)
{
	return table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
}

/* NULL when it does not fit. */
static struct nlmsghdr *route_msg(void *buf, uint16_t type, uint16_t flags,
				  const struct route_key *k)
{
	struct nlmsghdr *nlh = netlink_msg_start(buf, type, NLM_F_ACK | flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = (uint8_t)k->family;
	rtm->rtm_dst_len = k->prefixlen;
	rtm->rtm_table = rtm_table_of(k->table);
	/* Deletion matches the protocol too: we remove only routes of the
	 * kind we add. */
	rtm->rtm_protocol = k->protocol;
	rtm->rtm_type = k->type;
	/* No gateway: the destination is on the link. RT_SCOPE_NOWHERE on
	 * deletion matches any scope; IPv6 has no route scopes. */
	if (type == RTM_DELROUTE)
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	else if (k->family == AF_INET && k->type == RTN_UNICAST)
		rtm->rtm_scope = RT_SCOPE_LINK;
	else
		rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	if (!mnl_attr_put_u32_check(nlh, NL_MSG_SIZE, RTA_TABLE, k->table) ||
	    !mnl_attr_put_check(nlh, NL_MSG_SIZE, RTA_DST, k->len, k->dst))
		return NULL;
	if (k->metric &&
	    !mnl_attr_put_u32_check(nlh, NL_MSG_SIZE, RTA_PRIORITY, k->metric))
		return NULL;
	if (k->type == RTN_UNREACHABLE)
		return nlh;
	if (!mnl_attr_put_u32_check(nlh, NL_MSG_SIZE, RTA_OIF,
				    (uint32_t)k->ifindex))
		return NULL;
	return nlh;
}

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case RTA_TABLE:
	case RTA_OIF:
	case RTA_PRIORITY:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case RTA_DST:
		if (mnl_attr_validate(attr, MNL_TYPE_BINARY) < 0)
			return MNL_CB_ERROR;
		break;
	case RTA_METRICS:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		break;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

/* Parses one route message into rtm and tb[RTA_MAX + 1]. Returns 1 for a
 * route, 0 for a message to skip, MNL_CB_ERROR for a malformed one. */
static int route_read(const struct nlmsghdr *nlh, const struct rtmsg **rtm,
		      const struct nlattr **tb)
{
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(**rtm)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	*rtm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(**rtm), route_attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	return 1;
}

/* route_read() for a dumped route: the route cache's clones are skipped.
 * (`ip route get` answers with a clone, RTM_F_CLONED, so its reply is
 * read through route_read().) */
static int route_parse(const struct nlmsghdr *nlh, const struct rtmsg **rtm,
		       const struct nlattr **tb)
{
	int ret = route_read(nlh, rtm, tb);

	return ret > 0 && ((*rtm)->rtm_flags & RTM_F_CLONED) ? 0 : ret;
}

static uint32_t route_table(const struct rtmsg *rtm, const struct nlattr **tb)
{
	return tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
}

static uint32_t route_metric(const struct nlattr **tb)
{
	return tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
}

/* A unicast route is told apart by its device (and its metric when k
 * names one), an unreachable one (whose device the kernel reports as
 * lo, or not at all) by its metric. */
static bool route_same_target(const struct route_key *k,
			      const struct nlattr **tb)
{
	if (k->metric && route_metric(tb) != k->metric)
		return false;
	if (k->type == RTN_UNREACHABLE)
		return true;
	return tb[RTA_OIF] &&
	       mnl_attr_get_u32(tb[RTA_OIF]) == (uint32_t)k->ifindex;
}

/* A route of k's kind: family, type, table, and device or metric. */
static bool route_of_kind(const struct route_key *k, const struct rtmsg *rtm,
			  const struct nlattr **tb)
{
	return rtm->rtm_family == k->family && rtm->rtm_type == k->type &&
	       route_table(rtm, tb) == k->table && route_same_target(k, tb);
}

/* An identical route: same prefix, kind and, for a protocol of our own,
 * protocol; a static route of another program's stays its own. */
static int route_match_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct netlink_find *f = data;
	const struct route_key *k = f->want;
	const struct rtmsg *rtm;
	int ret = route_parse(nlh, &rtm, tb);

	if (ret <= 0)
		return ret < 0 ? ret : MNL_CB_OK;
	if (rtm->rtm_dst_len != k->prefixlen || !route_of_kind(k, rtm, tb) ||
	    (k->protocol != RTPROT_STATIC && rtm->rtm_protocol != k->protocol))
		return MNL_CB_OK;
	/* The kernel leaves RTA_DST out of a default route. */
	if (!tb[RTA_DST] ||
	    (mnl_attr_get_payload_len(tb[RTA_DST]) == k->len &&
	     netlink_prefix_equal(mnl_attr_get_payload(tb[RTA_DST]),
				  k->dst, k->prefixlen)))
		f->found = true;
	return MNL_CB_OK;
}

static int table_match_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct netlink_find *f = data;
	const uint32_t *table = f->want;
	const struct rtmsg *rtm;
	int ret = route_parse(nlh, &rtm, tb);

	if (ret <= 0)
		return ret < 0 ? ret : MNL_CB_OK;
	if (route_table(rtm, tb) == *table)
		f->found = true;
	return MNL_CB_OK;
}

/* Dumps the family's routes in table through f. */
static int route_dump(struct netlink *nl, int family, uint32_t table,
		      struct netlink_find *f)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh = netlink_msg_start(buf, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = (uint8_t)family;
	if (!mnl_attr_put_u32_check(nlh, sizeof(buf), RTA_TABLE, table))
		return -EMSGSIZE;
	return netlink_find(nl, nlh, f);
}

static int route_add(struct netlink *nl, const struct route_key *k,
		     bool *existed)
{
	struct netlink_find f = { .match = route_match_cb, .want = k };
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = route_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, k);
	if (!nlh)
		return -EMSGSIZE;
	ret = netlink_request(nl, nlh, NULL, NULL);
	if (ret != -EEXIST)
		return ret;
	/* -EEXIST means a route with the same prefix and metric, through
	 * whichever device: ours only if it goes through this one. */
	ret = route_dump(nl, k->family, k->table, &f);
	if (ret)
		return ret;
	if (!f.found)
		return -EEXIST;
	if (existed)
		*existed = true;
	return 0;
}

static int route_del(struct netlink *nl, const struct route_key *k)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh = route_msg(buf, RTM_DELROUTE, 0, k);
	int ret;

	if (!nlh)
		return -EMSGSIZE;
	ret = netlink_request(nl, nlh, NULL, NULL);
	/* Both families say "no such route" with -ESRCH. */
	return ret == -ESRCH ? -ENOENT : ret;
}

static int proto_route_key(struct route_key *k,
			   const struct netlink_proto_route *r)
{
	int ret = route_key_init(k, r->ifindex, r->family, r->dst,
				 r->prefixlen, r->table);

	k->protocol = r->protocol;
	k->metric = r->metric;
	return ret;
}

int netlink_proto_route_add(struct netlink *nl,
			    const struct netlink_proto_route *r, bool *existed)
{
	struct route_key k;
	int ret;

	if (existed)
		*existed = false;
	ret = proto_route_key(&k, r);
	return ret ? ret : route_add(nl, &k, existed);
}

int netlink_proto_route_del(struct netlink *nl,
			    const struct netlink_proto_route *r)
{
	struct route_key k;
	int ret = proto_route_key(&k, r);

	return ret ? ret : route_del(nl, &k);
}

int netlink_route_add(struct netlink *nl, int ifindex, int family,
		      const void *dst, uint8_t prefixlen, uint32_t table,
		      bool *existed)
{
	const struct netlink_proto_route r = {
		ifindex, family, dst, prefixlen, table, RTPROT_STATIC, 0,
	};

	return netlink_proto_route_add(nl, &r, existed);
}

int netlink_route_del(struct netlink *nl, int ifindex, int family,
		      const void *dst, uint8_t prefixlen, uint32_t table)
{
	const struct netlink_proto_route r = {
		ifindex, family, dst, prefixlen, table, RTPROT_STATIC, 0,
	};

	return netlink_proto_route_del(nl, &r);
}

/* The routes of a kind, gathered by a dump: for a list, and for a
 * flush, since the socket cannot take a request while it is in the
 * middle of a dump. */
struct gather {
	struct netlink_find f; /* first: the match gets its address */
	const struct route_key *want; /* ifindex, family, table, protocol */
	struct netlink_route_item *v;
	size_t n, cap;
};

static int gather_keep(struct gather *g, const struct nlattr **tb,
		       uint8_t prefixlen)
{
	const struct nlattr *dst = tb[RTA_DST];
	size_t len = netlink_addr_len(g->want->family);

	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		void *v = realloc(g->v, cap * sizeof(*g->v));

		if (!v) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		g->v = v;
		g->cap = cap;
	}
	memset(&g->v[g->n], 0, sizeof(g->v[g->n]));
	/* The kernel leaves RTA_DST out of a default route. */
	if (dst && mnl_attr_get_payload_len(dst) == len)
		memcpy(g->v[g->n].dst, mnl_attr_get_payload(dst), len);
	/* So that a flush deletes each, not its twin at another metric. */
	g->v[g->n].metric = route_metric(tb);
	g->v[g->n++].prefixlen = prefixlen;
	return MNL_CB_OK;
}

static int gather_match_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct gather *g = data;
	const struct route_key *k = g->want;
	const struct rtmsg *rtm;
	int ret = route_parse(nlh, &rtm, tb);

	if (ret <= 0)
		return ret < 0 ? ret : MNL_CB_OK;
	if (!route_of_kind(k, rtm, tb) || rtm->rtm_protocol != k->protocol)
		return MNL_CB_OK;
	return gather_keep(g, tb, rtm->rtm_dst_len);
}

/* k's kind of routes into *v (to free), *n. */
static int gather_routes(struct netlink *nl, const struct route_key *k,
			 struct netlink_route_item **v, size_t *n)
{
	struct gather g = { .f = { .match = gather_match_cb }, .want = k };
	int ret = route_dump(nl, k->family, k->table, &g.f);

	if (ret) {
		free(g.v);
		return ret;
	}
	*v = g.v;
	*n = g.n;
	return 0;
}

/* The key of every route through ifindex in table with protocol. */
static int kind_key(struct route_key *k, int ifindex, int family,
		    uint32_t table, uint8_t protocol)
{
	static const uint8_t any[16];
	int ret = route_key_init(k, ifindex, family, any, 0, table);

	k->protocol = protocol;
	return ret;
}

int netlink_proto_route_list(struct netlink *nl, int ifindex, int family,
			     uint32_t table, uint8_t protocol,
			     struct netlink_route_item **v, size_t *n)
{
	struct route_key k;
	int ret = kind_key(&k, ifindex, family, table, protocol);

	*v = NULL;
	*n = 0;
	return ret ? ret : gather_routes(nl, &k, v, n);
}

static int flush_family(struct netlink *nl, struct route_key *k)
{
	struct netlink_route_item *v;
	size_t n;
	int ret = gather_routes(nl, k, &v, &n);

	if (ret)
		return ret;
	for (size_t i = 0; !ret && i < n; i++) {
		k->dst = v[i].dst;
		k->prefixlen = v[i].prefixlen;
		k->metric = v[i].metric;
		ret = route_del(nl, k);
		if (ret == -ENOENT) /* went meanwhile */
			ret = 0;
	}
	free(v);
	return ret;
}

int netlink_route_flush(struct netlink *nl, int ifindex, uint32_t table,
			uint8_t protocol)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(families) / sizeof(*families);
	     i++) {
		struct route_key k;

		ret = kind_key(&k, ifindex, families[i], table, protocol);
		if (!ret)
			ret = flush_family(nl, &k);
	}
	return ret;
}

int netlink_unreachable_add(struct netlink *nl, int family, uint32_t table,
			    uint32_t metric, bool *existed)
{
	struct route_key k;
	int ret;

	if (existed)
		*existed = false;
	ret = unreachable_key_init(&k, family, table, metric);
	return ret ? ret : route_add(nl, &k, existed);
}

int netlink_unreachable_del(struct netlink *nl, int family, uint32_t table,
			    uint32_t metric)
{
	struct route_key k;
	int ret = unreachable_key_init(&k, family, table, metric);

	return ret ? ret : route_del(nl, &k);
}

int netlink_table_in_use(struct netlink *nl, uint32_t table, bool *in_use)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct netlink_find f = { .match = table_match_cb, .want = &table };
	int ret;

	*in_use = false;
	if (table == RT_TABLE_UNSPEC)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(families) / sizeof(*families); i++) {
		ret = route_dump(nl, families[i], table, &f);
		if (ret)
			return ret;
		if (f.found) {
			*in_use = true;
			return 0;
		}
	}
	return netlink_rule_table_in_use(nl, table, in_use);
}

/* What a route says about its path. */
struct path_info {
	bool found;
	uint32_t oif;
	uint32_t mtu;		/* the RTAX_MTU metric, 0 without one */
};

static uint32_t metrics_mtu(const struct nlattr *metrics)
{
	const struct nlattr *a;

	if (!metrics)
		return 0;
	mnl_attr_for_each_nested(a, metrics)
		if (mnl_attr_get_type(a) == RTAX_MTU &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			return mnl_attr_get_u32(a);
	return 0;
}

/* Copied out of tb, which points into a receive buffer about to go. */
static void path_take(struct path_info *p, const struct nlattr **tb)
{
	p->found = true;
	p->oif = tb[RTA_OIF] ? mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	p->mtu = metrics_mtu(tb[RTA_METRICS]);
}

/* The route's metric, or its device's MTU. */
static int path_mtu_of(struct netlink *nl, const struct path_info *p,
		       unsigned int *mtu)
{
	if (!p->found)
		return -ENOENT;
	if (p->mtu) {
		*mtu = p->mtu;
		return 0;
	}
	if (!p->oif)
		return -ENETUNREACH;
	return netlink_link_state(nl, (int)p->oif, mtu, NULL);
}

/* The answer to RTM_GETROUTE for one destination: a single route. */
static int path_get_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct path_info *p = data;
	const struct rtmsg *rtm;
	int ret = route_read(nlh, &rtm, tb);

	if (ret > 0 && !p->found)
		path_take(p, tb);
	return ret < 0 ? ret : MNL_CB_OK;
}

int netlink_path_mtu(struct netlink *nl, int family, const void *dst,
		     uint32_t mark, unsigned int *mtu)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh = netlink_msg_start(buf, RTM_GETROUTE, NLM_F_ACK);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	size_t len = netlink_addr_len(family);
	struct path_info p = { .found = false };
	int ret;

	if (!len)
		return -EAFNOSUPPORT;
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)(len * 8);
	if (!mnl_attr_put_check(nlh, sizeof(buf), RTA_DST, len, dst) ||
	    (mark && !mnl_attr_put_u32_check(nlh, sizeof(buf), RTA_MARK,
					     mark)))
		return -EMSGSIZE;
	ret = netlink_request(nl, nlh, path_get_cb, &p);
	return ret ? ret : path_mtu_of(nl, &p, mtu);
}

/* A dump's find with the path of the route it found. */
struct default_find {
	struct netlink_find f;	/* first: the match gets its address */
	struct path_info path;
};

/* The first unicast default route of the main table, which is what
 * `ip route show default | head -1` reads. */
static int default_match_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct default_find *d = data;
	const struct rtmsg *rtm;
	int ret = route_parse(nlh, &rtm, tb);

	if (ret <= 0 || d->f.found)
		return ret < 0 ? ret : MNL_CB_OK;
	if (rtm->rtm_dst_len || rtm->rtm_type != RTN_UNICAST ||
	    route_table(rtm, tb) != RT_TABLE_MAIN)
		return MNL_CB_OK;
	d->f.found = true;
	path_take(&d->path, tb);
	return MNL_CB_OK;
}

int netlink_default_mtu(struct netlink *nl, int family, unsigned int *mtu)
{
	struct default_find d = { .f = { .match = default_match_cb } };
	int ret;

	if (!netlink_addr_len(family))
		return -EAFNOSUPPORT;
	ret = route_dump(nl, family, RT_TABLE_MAIN, &d.f);
	if (ret)
		return ret;
	d.path.found = d.f.found;
	return path_mtu_of(nl, &d.path, mtu);
}
