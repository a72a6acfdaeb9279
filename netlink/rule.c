/* Policy routing rules (RTM_NEWRULE, RTM_DELRULE, RTM_GETRULE dumps).
 *
 * The kernel's duplicate check (NLM_F_EXCL) cannot make adding
 * idempotent: a rule added without a priority gets one below the first
 * rule's, never the one an identical earlier rule got. So every call
 * first looks for the rule in a dump, with the matching rule_matches()
 * defines, and deletion names the priority it found.
 *
 * The kernel ignores FIB_RULE_INVERT when it compares rules, to refuse a
 * duplicate or to pick the rule to delete: of two rules that differ only
 * by "not" at the same priority, deletion removes the first. Adding keeps
 * NLM_F_EXCL so that we never create such a pair. */
#include "netlink/rtnl.h"
#include "netlink/internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

static int rule_check(const struct netlink_rule *r)
{
	size_t len = netlink_addr_len(r->family);

	if (!len)
		return -EAFNOSUPPORT;
	if (r->table == RT_TABLE_UNSPEC || (r->has_fwmark && !r->fwmark))
		return -EINVAL;
	if (r->suppress_prefixlen < -1 || r->suppress_prefixlen > (int)len * 8)
		return -EINVAL;
	return 0;
}

/* NULL when it does not fit. priority 0 leaves the choice to the kernel
 * (adding) or matches any (deleting). */
static struct nlmsghdr *rule_msg(void *buf, uint16_t type, uint16_t flags,
				 const struct netlink_rule *r,
				 uint32_t priority)
{
	struct nlmsghdr *nlh = netlink_msg_start(buf, type, NLM_F_ACK | flags);
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh,
							      sizeof(*frh));
	bool ok;

	frh->family = (uint8_t)r->family;
	/* Tables past 255 exist only as FRA_TABLE. */
	frh->table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	frh->action = FR_ACT_TO_TBL;
	frh->flags = r->invert ? FIB_RULE_INVERT : 0;
	ok = mnl_attr_put_u32_check(nlh, NL_MSG_SIZE, FRA_TABLE, r->table);
	if (ok && priority)
		ok = mnl_attr_put_u32_check(nlh, NL_MSG_SIZE, FRA_PRIORITY,
					    priority);
	/* The explicit all-ones mask is what the kernel would assume; it
	 * makes the rule read back exactly as written. */
	if (ok && r->has_fwmark)
		ok = mnl_attr_put_u32_check(nlh, NL_MSG_SIZE, FRA_FWMARK,
					    r->fwmark) &&
		     mnl_attr_put_u32_check(nlh, NL_MSG_SIZE, FRA_FWMASK,
					    UINT32_MAX);
	if (ok && r->suppress_prefixlen >= 0)
		ok = mnl_attr_put_u32_check(nlh, NL_MSG_SIZE,
					    FRA_SUPPRESS_PREFIXLEN,
					    (uint32_t)r->suppress_prefixlen);
	return ok ? nlh : NULL;
}

static int rule_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, FRA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case FRA_TABLE:
	case FRA_PRIORITY:
	case FRA_FWMARK:
	case FRA_FWMASK:
	case FRA_SUPPRESS_PREFIXLEN:
	case FRA_SUPPRESS_IFGROUP:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

/* Parses one dumped rule into frh and tb[FRA_MAX + 1]. Returns 1 for a
 * rule, 0 for a message to skip, MNL_CB_ERROR for a malformed one. */
static int rule_parse(const struct nlmsghdr *nlh,
		      const struct fib_rule_hdr **frh, const struct nlattr **tb)
{
	if (nlh->nlmsg_type != RTM_NEWRULE)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(**frh)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	*frh = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(**frh), rule_attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	return 1;
}

static uint32_t attr_u32_or(const struct nlattr *attr, uint32_t absent)
{
	return attr ? mnl_attr_get_u32(attr) : absent;
}

/* Selectors struct netlink_rule cannot express. The kernel reports each only
 * when it is set (suppress_ifgroup as -1 when not, on some versions). */
static bool rule_has_other_selectors(const struct fib_rule_hdr *frh,
				     const struct nlattr **tb)
{
	static const uint16_t selectors[] = {
		FRA_IIFNAME, FRA_OIFNAME, FRA_FLOW, FRA_TUN_ID, FRA_L3MDEV,
		FRA_UID_RANGE, FRA_IP_PROTO, FRA_SPORT_RANGE, FRA_DPORT_RANGE,
	};

	if (frh->src_len || frh->dst_len || frh->tos)
		return true;
	for (size_t i = 0; i < sizeof(selectors) / sizeof(*selectors); i++)
		if (tb[selectors[i]])
			return true;
	return attr_u32_or(tb[FRA_SUPPRESS_IFGROUP], UINT32_MAX) != UINT32_MAX;
}

static bool fwmark_matches(uint32_t mark, uint32_t mask,
			   const struct netlink_rule *r)
{
	if (!r->has_fwmark)
		return !mark && !mask;
	return mark == r->fwmark && mask == UINT32_MAX;
}

static bool rule_matches(const struct fib_rule_hdr *frh,
			 const struct nlattr **tb, const struct netlink_rule *r)
{
	uint32_t table = attr_u32_or(tb[FRA_TABLE], frh->table);
	uint32_t mark = attr_u32_or(tb[FRA_FWMARK], 0);
	uint32_t mask = attr_u32_or(tb[FRA_FWMASK], 0);
	uint32_t prio = attr_u32_or(tb[FRA_PRIORITY], 0);
	/* -1, "none", travels as UINT32_MAX. */
	uint32_t suppress = attr_u32_or(tb[FRA_SUPPRESS_PREFIXLEN], UINT32_MAX);

	if (frh->family != r->family || frh->action != FR_ACT_TO_TBL ||
	    table != r->table)
		return false;
	if (!(frh->flags & FIB_RULE_INVERT) != !r->invert)
		return false;
	if ((r->priority && prio != r->priority) ||
	    suppress != (uint32_t)r->suppress_prefixlen)
		return false;
	if (!fwmark_matches(mark, mask, r))
		return false;
	return !rule_has_other_selectors(frh, tb);
}

static int rule_match_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[FRA_MAX + 1] = { 0 };
	const struct fib_rule_hdr *frh;
	struct netlink_find *f = data;
	int ret = rule_parse(nlh, &frh, tb);

	if (ret <= 0)
		return ret < 0 ? ret : MNL_CB_OK;
	if (!f->found && rule_matches(frh, tb, f->want)) {
		f->found = true;
		f->priority = attr_u32_or(tb[FRA_PRIORITY], 0);
	}
	return MNL_CB_OK;
}

static int table_match_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[FRA_MAX + 1] = { 0 };
	const struct fib_rule_hdr *frh;
	struct netlink_find *f = data;
	const uint32_t *table = f->want;
	int ret = rule_parse(nlh, &frh, tb);

	if (ret <= 0)
		return ret < 0 ? ret : MNL_CB_OK;
	/* An AF_UNSPEC dump also lists the multicast routing rules, whose
	 * tables are another namespace. */
	if ((frh->family == AF_INET || frh->family == AF_INET6) &&
	    attr_u32_or(tb[FRA_TABLE], frh->table) == *table)
		f->found = true;
	return MNL_CB_OK;
}

static int rule_dump(struct netlink *nl, int family, struct netlink_find *f)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh = netlink_msg_start(buf, RTM_GETRULE, NLM_F_DUMP);
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh,
							      sizeof(*frh));

	frh->family = (uint8_t)family;
	return netlink_find(nl, nlh, f);
}

/* Checks r, then looks for it; f->priority is then the one it has. */
static int rule_find(struct netlink *nl, const struct netlink_rule *r,
		     struct netlink_find *f)
{
	int ret = rule_check(r);

	*f = (struct netlink_find){ .match = rule_match_cb, .want = r };
	if (ret)
		return ret;
	return rule_dump(nl, r->family, f);
}

int netlink_rule_exists(struct netlink *nl, const struct netlink_rule *r,
			bool *exists)
{
	struct netlink_find f;
	int ret = rule_find(nl, r, &f);

	*exists = f.found;
	return ret;
}

int netlink_rule_priority(struct netlink *nl, const struct netlink_rule *r,
			  uint32_t *priority)
{
	struct netlink_find f;
	int ret = rule_find(nl, r, &f);

	if (ret)
		return ret;
	if (!f.found)
		return -ENOENT;
	*priority = f.priority;
	return 0;
}

int netlink_rule_add(struct netlink *nl, const struct netlink_rule *r,
		     bool *existed)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;
	struct netlink_find f;
	int ret;

	if (existed)
		*existed = false;
	ret = rule_find(nl, r, &f);
	if (ret || f.found)
		goto out;
	nlh = rule_msg(buf, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r,
		       r->priority);
	if (!nlh)
		return -EMSGSIZE;
	ret = netlink_request(nl, nlh, NULL, NULL);
	if (ret != -EEXIST)
		return ret;
	/* Added since the dump, or a rule the kernel cannot tell from ours:
	 * the same but for the "not", at the same priority. Deleting either
	 * would then remove whichever comes first, so refuse the pair. */
	ret = rule_find(nl, r, &f);
	if (!ret && !f.found)
		ret = -EEXIST;
out:
	if (existed)
		*existed = !ret && f.found;
	return ret;
}

int netlink_rule_del(struct netlink *nl, const struct netlink_rule *r)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;
	struct netlink_find f;
	int ret = rule_find(nl, r, &f);

	if (ret)
		return ret;
	if (!f.found)
		return -ENOENT;
	nlh = rule_msg(buf, RTM_DELRULE, 0, r, f.priority);
	if (!nlh)
		return -EMSGSIZE;
	return netlink_request(nl, nlh, NULL, NULL);
}

int netlink_rule_table_in_use(struct netlink *nl, uint32_t table,
			      bool *in_use)
{
	struct netlink_find f = { .match = table_match_cb, .want = &table };
	int ret = rule_dump(nl, AF_UNSPEC, &f);

	*in_use = !ret && f.found;
	return ret;
}
