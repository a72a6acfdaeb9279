/* Links: find the TUN interface by name, read a link's MTU, set the
 * TUN's MTU and state, delete it. */
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

static int link_index_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	int *ifindex = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	*ifindex = ifm->ifi_index;
	return MNL_CB_OK;
}

int netlink_link_index(struct netlink *nl, const char *ifname, int *ifindex)
{
	/* Zeroed: the name attribute's alignment padding is sent as it is
	 * (valgrind saw stack bytes go to the kernel). */
	char buf[NL_MSG_SIZE] = { 0 };
	size_t len = strnlen(ifname, IFNAMSIZ);
	struct nlmsghdr *nlh;
	int found = 0, ret;

	if (!len || len >= IFNAMSIZ)
		return -EINVAL;
	nlh = link_msg(buf, RTM_GETLINK, 0);
	if (!mnl_attr_put_strz_check(nlh, sizeof(buf), IFLA_IFNAME, ifname))
		return -EMSGSIZE;
	ret = netlink_request(nl, nlh, link_index_cb, &found);
	if (ret)
		return ret;
	if (found <= 0)
		return -ENODEV;
	*ifindex = found;
	return 0;
}

static int link_mtu_attr_cb(const struct nlattr *attr, void *data)
{
	unsigned int *mtu = data;

	if (mnl_attr_get_type(attr) == IFLA_MTU &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		*mtu = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int link_mtu_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return mnl_attr_parse(nlh, sizeof(*ifm), link_mtu_attr_cb, data) < 0 ?
	       MNL_CB_ERROR : MNL_CB_OK;
}

int netlink_link_mtu(struct netlink *nl, int ifindex, unsigned int *mtu)
{
	char buf[NL_MSG_SIZE];
	unsigned int found = 0;
	int ret;

	if (ifindex <= 0)
		return -ENODEV;
	ret = netlink_request(nl, link_msg(buf, RTM_GETLINK, ifindex),
			      link_mtu_cb, &found);
	if (ret)
		return ret;
	if (!found)
		return -ENODATA;
	*mtu = found;
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
