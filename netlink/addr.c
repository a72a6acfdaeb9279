/* Interface addresses (RTM_NEWADDR, RTM_DELADDR, and an RTM_GETADDR dump
 * to tell an identical address from a clashing one). */
#include "netlink/rtnl.h"
#include "netlink/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

struct addr_key {
	int ifindex;
	int family;
	const void *addr;
	size_t len;
	uint8_t prefixlen;
	uint8_t ifa_flags;
	/* IFA_FLAGS, for the flags past the first 8 bits; 0: none sent. */
	uint32_t flags;
};

static int addr_key_init(struct addr_key *k, int ifindex, int family,
			 const void *addr, uint8_t prefixlen)
{
	int ret = netlink_check_prefix(family, prefixlen);

	if (ret)
		return ret;
	if (ifindex <= 0)
		return -ENODEV;
	*k = (struct addr_key){
		.ifindex = ifindex,
		.family = family,
		.addr = addr,
		.len = netlink_addr_len(family),
		.prefixlen = prefixlen,
	};
	return 0;
}

/* Sets both IFA_LOCAL and IFA_ADDRESS, as `ip address` does for an
 * address without a peer. NULL when it does not fit. */
static struct nlmsghdr *addr_msg(void *buf, uint16_t type, uint16_t flags,
				 const struct addr_key *k)
{
	struct nlmsghdr *nlh = netlink_msg_start(buf, type, NLM_F_ACK | flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = (uint8_t)k->family;
	ifa->ifa_prefixlen = k->prefixlen;
	ifa->ifa_flags = k->ifa_flags;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)k->ifindex;
	if (!mnl_attr_put_check(nlh, NL_MSG_SIZE, IFA_LOCAL, k->len, k->addr) ||
	    !mnl_attr_put_check(nlh, NL_MSG_SIZE, IFA_ADDRESS, k->len, k->addr))
		return NULL;
	if (k->flags &&
	    !mnl_attr_put_u32_check(nlh, NL_MSG_SIZE, IFA_FLAGS, k->flags))
		return NULL;
	return nlh;
}

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	/* Attributes newer than our headers are none of our business. */
	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == IFA_LOCAL || type == IFA_ADDRESS) &&
	    mnl_attr_validate(attr, MNL_TYPE_BINARY) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static bool attr_is(const struct nlattr *attr, const void *bytes, size_t len)
{
	return attr && mnl_attr_get_payload_len(attr) == len &&
	       !memcmp(mnl_attr_get_payload(attr), bytes, len);
}

static int addr_match_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct netlink_find *f = data;
	const struct addr_key *k = f->want;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (ifa->ifa_family != k->family ||
	    ifa->ifa_index != (uint32_t)k->ifindex ||
	    ifa->ifa_prefixlen != k->prefixlen)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	/* IFA_ADDRESS is the peer when there is one; IFA_LOCAL is ours. */
	if (attr_is(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS],
		    k->addr, k->len))
		f->found = true;
	return MNL_CB_OK;
}

static int addr_find(struct netlink *nl, const struct addr_key *k,
		     bool *found)
{
	struct netlink_find f = { .match = addr_match_cb, .want = k };
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh = netlink_msg_start(buf, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	int ret;

	ifa->ifa_family = (uint8_t)k->family;
	ifa->ifa_index = (uint32_t)k->ifindex;
	ret = netlink_find(nl, nlh, &f);
	*found = f.found;
	return ret;
}

/* Adds k's address; the identical one already there is success with
 * *existed set. */
static int addr_add(struct netlink *nl, const struct addr_key *k,
		    bool *existed)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;
	bool found;
	int ret;

	nlh = addr_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, k);
	if (!nlh)
		return -EMSGSIZE;
	ret = netlink_request(nl, nlh, NULL, NULL);
	if (ret != -EEXIST)
		return ret;
	/* IPv6 says -EEXIST for the same address with any prefix length;
	 * only the identical one is the caller's wish already granted. */
	ret = addr_find(nl, k, &found);
	if (ret)
		return ret;
	if (!found)
		return -EEXIST;
	if (existed)
		*existed = true;
	return 0;
}

int netlink_addr_add(struct netlink *nl, int ifindex, int family,
		     const void *addr, uint8_t prefixlen, bool nodad,
		     bool *existed)
{
	struct addr_key k;
	int ret;

	if (existed)
		*existed = false;
	ret = addr_key_init(&k, ifindex, family, addr, prefixlen);
	if (ret)
		return ret;
	if (nodad && family == AF_INET6)
		k.ifa_flags = IFA_F_NODAD;
	return addr_add(nl, &k, existed);
}

int netlink_host_addr_add(struct netlink *nl, int ifindex, int family,
			  const void *addr, bool *existed)
{
	struct addr_key k;
	int ret;

	if (existed)
		*existed = false;
	ret = addr_key_init(&k, ifindex, family, addr,
			    (uint8_t)(netlink_addr_len(family) * 8));
	if (ret)
		return ret;
	if (family == AF_INET6)
		k.ifa_flags = IFA_F_NODAD;
	k.flags = k.ifa_flags | IFA_F_NOPREFIXROUTE;
	return addr_add(nl, &k, existed);
}

int netlink_addr_del(struct netlink *nl, int ifindex, int family,
		     const void *addr, uint8_t prefixlen)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;
	struct addr_key k;
	int ret;

	ret = addr_key_init(&k, ifindex, family, addr, prefixlen);
	if (ret)
		return ret;
	nlh = addr_msg(buf, RTM_DELADDR, 0, &k);
	if (!nlh)
		return -EMSGSIZE;
	ret = netlink_request(nl, nlh, NULL, NULL);
	/* Both families say "absent" with -EADDRNOTAVAIL. */
	return ret == -EADDRNOTAVAIL ? -ENOENT : ret;
}
