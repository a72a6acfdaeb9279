/* A policy rule as `ip rule` would show it, for messages: what both the
 * applying (full.c) and the undoing (undo.c) of a rule report. */
#include "src/netconf/internal.h"

#include <stdio.h>
#include <linux/rtnetlink.h>

void netconf_rule_text(const struct netlink_rule *rule, char *buf,
		       size_t len)
{
	char mark[24] = "", table[16], sup[40] = "";

	if (rule->has_fwmark)
		snprintf(mark, sizeof(mark), "fwmark %u ", rule->fwmark);
	if (rule->table == RT_TABLE_MAIN)
		snprintf(table, sizeof(table), "main");
	else
		snprintf(table, sizeof(table), "%u", rule->table);
	if (rule->suppress_prefixlen >= 0)
		snprintf(sup, sizeof(sup), " suppress_prefixlength %d",
			 rule->suppress_prefixlen);
	snprintf(buf, len, "%s%slookup %s%s", rule->invert ? "not " : "", mark,
		 table, sup);
}
