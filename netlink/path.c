/* The MTU of a path, as wg-quick reads it from `ip route get` and `ip
 * route show default`: the route's mtu metric when it has one, else the
 * MTU of the device it leaves through. */
#include "netlink/rtnl.h"
#include "netlink/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

/* What a route says about its path; found when a route was seen. */
struct path_info {
	bool found;
	bool default_only;	/* a dump: only default routes of the table */
	uint32_t table;
	uint32_t oif;
	uint32_t mtu;		/* the RTAX_MTU metric, 0 without one */
};

static uint32_t metrics_mtu(const struct nlattr *metrics)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, metrics)
		if (mnl_attr_get_type(a) == RTAX_MTU &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			return mnl_attr_get_u32(a);
	return 0;
}

/* The oif, table and mtu metric of one route. */
static int path_attr_cb(const struct nlattr *attr, void *data)
{
	struct path_info *p = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == RTA_OIF || type == RTA_TABLE) &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	if (type == RTA_OIF)
		p->oif = mnl_attr_get_u32(attr);
	else if (type == RTA_TABLE)
		p->table = mnl_attr_get_u32(attr);
	else if (type == RTA_METRICS &&
		 mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
		p->mtu = metrics_mtu(attr);
	return MNL_CB_OK;
}

/* The first route that fits wins: for a dump, the first default route
 * of the table, which is what `ip route show default | head -1` reads. */
static int path_cb(const struct nlmsghdr *nlh, void *data)
{
	struct path_info *p = data, seen = *p;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE || p->found)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	seen.table = rtm->rtm_table;
	seen.oif = seen.mtu = 0;
	if (mnl_attr_parse(nlh, sizeof(*rtm), path_attr_cb, &seen) < 0)
		return MNL_CB_ERROR;
	if (p->default_only && (rtm->rtm_dst_len || seen.table != p->table ||
				rtm->rtm_type != RTN_UNICAST))
		return MNL_CB_OK;
	*p = seen;
	p->found = true;
	return MNL_CB_OK;
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
	return netlink_link_mtu(nl, (int)p->oif, mtu);
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
	ret = netlink_request(nl, nlh, path_cb, &p);
	return ret ? ret : path_mtu_of(nl, &p, mtu);
}

int netlink_default_mtu(struct netlink *nl, int family, unsigned int *mtu)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh = netlink_msg_start(buf, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct path_info p = { .default_only = true, .table = RT_TABLE_MAIN };
	int ret;

	if (!netlink_addr_len(family))
		return -EAFNOSUPPORT;
	rtm->rtm_family = (uint8_t)family;
	ret = netlink_request(nl, nlh, path_cb, &p);
	return ret ? ret : path_mtu_of(nl, &p, mtu);
}
