/* IP prefixes (src/prefix.c): the three rule sets that the config file,
 * the UAPI and the journal use, masking, and the match the AllowedIPs
 * trie runs per packet, checked against a bit-by-bit reference. */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "src/prefix.h"
#include "tests/unit/check_main.h"

static const struct {
	const char *text;
	int family;
	unsigned rules;
	bool ok;
	unsigned cidr;
} cases[] = {
	{ "10.1.2.3/24", 0, 0, true, 24 },
	{ "10.1.2.3", 0, 0, false, 0 },
	{ "10.1.2.3", 0, PREFIX_LEN_OPTIONAL, true, 32 },
	{ "fd00::1", 0, PREFIX_LEN_OPTIONAL, true, 128 },
	{ "fd00::/64", AF_INET, 0, false, 0 },
	{ "fd00::/64", AF_INET6, 0, true, 64 },
	{ "10.0.0.0/8", AF_INET6, 0, false, 0 },
	{ "10.0.0.0/08", 0, 0, true, 8 },
	{ "10.0.0.0/08", 0, PREFIX_LEN_CANONICAL, false, 0 },
	{ "10.0.0.0/0", 0, PREFIX_LEN_CANONICAL, true, 0 },
	{ "10.0.0.0/33", 0, 0, false, 0 },
	{ "::/129", 0, 0, false, 0 },
	{ "10.0.0.0/", 0, 0, false, 0 },
	{ "10.0.0.0/+8", 0, 0, false, 0 },
	{ "10.0.0.0/8 ", 0, 0, false, 0 },
	{ "/8", 0, 0, false, 0 },
	{ "10.0.0/8", 0, 0, false, 0 },
	{ "", 0, PREFIX_LEN_OPTIONAL, false, 0 },
};

START_TEST(parse_rules)
{
	struct prefix p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = prefix_parse(&p, cases[i].text, cases[i].family,
				       cases[i].rules);

		ck_assert_msg(ok == cases[i].ok, "case %zu `%s'", i,
			      cases[i].text);
		if (ok)
			ck_assert_uint_eq(p.cidr, cases[i].cidr);
		else
			ck_assert_int_eq(p.family, 0);
	}
}
END_TEST

START_TEST(mask_and_host_bits)
{
	struct prefix p, m;

	ck_assert(prefix_parse(&p, "10.1.255.3/20", 0, 0));
	ck_assert(!prefix_host_bits_clear(p.addr, 4, p.cidr));
	m = prefix_masked(&p);
	ck_assert_uint_eq(m.addr[1], 1);
	ck_assert_uint_eq(m.addr[2], 0xf0);
	ck_assert_uint_eq(m.addr[3], 0);
	ck_assert(prefix_host_bits_clear(m.addr, 4, m.cidr));
	ck_assert(prefix_parse(&p, "fd00:ffff::/17", 0, 0));
	m = prefix_masked(&p);
	ck_assert_uint_eq(m.addr[2], 0x80);
	ck_assert_uint_eq(m.addr[3], 0);
}
END_TEST

static bool reference_contains(const uint8_t *net, const uint8_t *addr,
			       unsigned cidr)
{
	for (unsigned i = 0; i < cidr; i++) {
		unsigned bit = 7 - i % 8;

		if (((net[i / 8] >> bit) & 1) != ((addr[i / 8] >> bit) & 1))
			return false;
	}
	return true;
}

START_TEST(contains_as_the_reference)
{
	uint8_t net[16], addr[16];

	srand(7);
	for (int n = 0; n < 100000; n++) {
		unsigned cidr = (unsigned)rand() % 129;

		for (int i = 0; i < 16; i++)
			net[i] = addr[i] = (uint8_t)rand();
		/* Differ at one random bit, often inside the prefix. */
		unsigned at = (unsigned)rand() % 128;

		addr[at / 8] ^= (uint8_t)(0x80 >> at % 8);
		ck_assert_int_eq(prefix_contains(net, addr, cidr),
				 reference_contains(net, addr, cidr));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("prefix");
	TCase *tc = tcase_create("prefix");

	tcase_add_test(tc, parse_rules);
	tcase_add_test(tc, mask_and_host_bits);
	tcase_add_test(tc, contains_as_the_reference);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
