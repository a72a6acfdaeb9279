/* Links: find the TUN interface by name, read a link's MTU and state,
 * set the TUN's MTU and state, delete it. */
#include "netlink/rtnl.h"
#include "netlink/internal.h"

#include <errno.h>
#include <string.h>
#include <net/if.h>
#include <linux/rtnetlink.h>

static struct nlmsghdr *link_msg(void *buf, uint16_t type, int ifindex)
{
	struct nlmsghdr *nlh = netlink_msg_start(buf, type, NLM_F_ACK);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

/* What the kernel's answer to RTM_GETLINK says about the link. */
struct link_info {
	int ifindex;
	unsigned int flags;
	unsigned int mtu;	/* 0 without IFLA_MTU */
};

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_info *l = data;

	if (mnl_attr_get_type(attr) == IFLA_MTU &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		l->mtu = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct link_info *l = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	l->ifindex = ifm->ifi_index;
	l->flags = ifm->ifi_flags;
	return mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, l) < 0 ?
	       MNL_CB_ERROR : MNL_CB_OK;
}

int netlink_link_index(struct netlink *nl, const char *ifname, int *ifindex)
{
	/* Zeroed: the name attribute's alignment padding is sent as it is
	 * (valgrind saw stack bytes go to the kernel). */
	char buf[NL_MSG_SIZE] = { 0 };
	size_t len = strnlen(ifname, IFNAMSIZ);
	struct link_info l = { .ifindex = 0 };
	struct nlmsghdr *nlh;
	int ret;

	if (!len || len >= IFNAMSIZ)
		return -EINVAL;
	nlh = link_msg(buf, RTM_GETLINK, 0);
	if (!mnl_attr_put_strz_check(nlh, sizeof(buf), IFLA_IFNAME, ifname))
		return -EMSGSIZE;
	ret = netlink_request(nl, nlh, link_cb, &l);
	if (ret)
		return ret;
	if (l.ifindex <= 0)
		return -ENODEV;
	*ifindex = l.ifindex;
	return 0;
}

int netlink_link_state(struct netlink *nl, int ifindex, unsigned int *mtu,
		       bool *up)
{
	char buf[NL_MSG_SIZE];
	struct link_info l = { .mtu = 0 };
	int ret;

	if (ifindex <= 0)
		return -ENODEV;
	ret = netlink_request(nl, link_msg(buf, RTM_GETLINK, ifindex), link_cb,
			      &l);
	if (ret)
		return ret;
	if (!l.mtu)
		return -ENODATA;
	*mtu = l.mtu;
	if (up)
		*up = l.flags & IFF_UP;
	return 0;
}

int netlink_link_set_mtu(struct netlink *nl, int ifindex, unsigned int mtu)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;

	if (ifindex <= 0)
		return -ENODEV;
	nlh = link_msg(buf, RTM_SETLINK, ifindex);
	if (!mnl_attr_put_u32_check(nlh, sizeof(buf), IFLA_MTU, mtu))
		return -EMSGSIZE;
	return netlink_request(nl, nlh, NULL, NULL);
}

int netlink_link_set_up(struct netlink *nl, int ifindex, bool up)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (ifindex <= 0)
		return -ENODEV;
	nlh = link_msg(buf, RTM_SETLINK, ifindex);
	ifm = mnl_nlmsg_get_payload(nlh);
	/* ifi_change confines the update to IFF_UP. */
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	return netlink_request(nl, nlh, NULL, NULL);
}

int netlink_link_delete(struct netlink *nl, int ifindex)
{
	char buf[NL_MSG_SIZE];

	if (ifindex <= 0)
		return -ENODEV;
	return netlink_request(nl, link_msg(buf, RTM_DELLINK, ifindex), NULL,
			       NULL);
}
