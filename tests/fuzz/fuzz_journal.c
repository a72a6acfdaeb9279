/* libFuzzer target: netconf_journal_parse() on arbitrary bytes, the text
 * that netconf_down trusts after a crash.
 *
 * A journal refused for its header must come back empty. An accepted one
 * must hold only entries that netconf_entry_format takes, each formatted
 * as one line that parses back, alone after the header, to the same
 * entry: nothing accepted is misread, and nothing written is unreadable.
 * The counts must fit the input's lines. netconf_journal_free must release
 * everything (LeakSanitizer). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/netconf/netconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER "ringvpn-journal 1\n"

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_journal: %s: %s\n", what, detail);
	abort();
}

static bool rule_eq(const struct netlink_rule *a, const struct netlink_rule *b)
{
	return a->family == b->family && a->priority == b->priority &&
	       a->table == b->table && a->fwmark == b->fwmark &&
	       a->has_fwmark == b->has_fwmark && a->invert == b->invert &&
	       a->suppress_prefixlen == b->suppress_prefixlen;
}

static bool entry_eq(const struct netconf_entry *a,
		     const struct netconf_entry *b)
{
	bool prefix = a->kind == NETCONF_ADDR || a->kind == NETCONF_ROUTE;

	return a->kind == b->kind && !strcmp(a->ifname, b->ifname) &&
	       a->ifindex == b->ifindex && a->family == b->family &&
	       (!prefix || (a->prefixlen == b->prefixlen &&
			    !memcmp(a->addr, b->addr, sizeof(a->addr)))) &&
	       a->table == b->table && a->mtu == b->mtu &&
	       a->metric == b->metric &&
	       rule_eq(&a->rule, &b->rule) && a->sysctl == b->sysctl &&
	       a->value == b->value && !strcmp(a->record, b->record);
}

/* e's line, alone after the header, parses back to e. */
static void check_round_trip(const struct netconf_entry *e)
{
	char text[sizeof(HEADER) + NETCONF_LINE_MAX + 2];
	char *line = text + strlen(HEADER);
	struct netconf_journal again;
	int n;

	memcpy(text, HEADER, strlen(HEADER));
	n = netconf_entry_format(e, line, NETCONF_LINE_MAX + 2);
	if (n <= 0)
		die("an accepted entry does not format", e->ifname);
	if (n > NETCONF_LINE_MAX + 1 || line[n - 1] != '\n' ||
	    memchr(line, '\n', (size_t)n - 1))
		die("a formatted entry is not one line", line);
	if (netconf_journal_parse(&again, text, strlen(HEADER) + (size_t)n))
		die("a formatted journal is refused", line);
	if (again.n != 1 || again.bad_lines)
		die("a formatted line does not parse", line);
	if (!entry_eq(e, &again.v[0]))
		die("a formatted line parses differently", line);
	netconf_journal_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netconf_journal j;
	size_t lines = 0;
	int ret;

	ret = netconf_journal_parse(&j, (const char *)data, size);
	if (ret == -EBADMSG) {
		if (j.v || j.n || j.bad_lines || j.first_bad_line)
			die("a refused journal left something behind", "");
		return 0;
	}
	if (ret)
		die("unexpected error", strerror(-ret));
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	/* The header takes a line, and a torn last one counts for nothing. */
	if (j.n + j.bad_lines + (size ? 1 : 0) > lines + (lines ? 0 : 1))
		die("more entries than lines", "");
	if (!j.bad_lines != !j.first_bad_line || j.first_bad_line == 1 ||
	    j.first_bad_line > lines)
		die("bad line numbers", "");
	for (size_t i = 0; i < j.n; i++)
		check_round_trip(&j.v[i]);
	netconf_journal_free(&j);
	return 0;
}
