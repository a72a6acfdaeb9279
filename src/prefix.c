#include "src/prefix.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "src/decimal.h"

size_t prefix_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* The address part, of family (0: either); out->family set. */
static bool parse_address(struct prefix *out, const char *s, size_t len,
			  int family)
{
	char text[INET6_ADDRSTRLEN];

	if (!len || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	if (family != AF_INET6 && inet_pton(AF_INET, text, out->addr) == 1)
		out->family = AF_INET;
	else if (family != AF_INET && inet_pton(AF_INET6, text, out->addr) == 1)
		out->family = AF_INET6;
	return out->family != 0;
}

static bool parse_len(struct prefix *out, const char *s, unsigned rules)
{
	uint64_t cidr;

	if ((rules & PREFIX_LEN_CANONICAL) && s[0] == '0' && s[1])
		return false;
	if (!decimal_parse(s, prefix_addr_len(out->family) * 8, &cidr))
		return false;
	out->cidr = (uint8_t)cidr;
	return true;
}

bool prefix_parse(struct prefix *out, const char *text, int family,
		  unsigned rules)
{
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	bool ok;

	memset(out, 0, sizeof(*out));
	ok = parse_address(out, text, len, family);
	if (ok && slash)
		ok = parse_len(out, slash + 1, rules);
	else if (ok)
		ok = rules & PREFIX_LEN_OPTIONAL;
	if (ok && !slash)
		out->cidr = (uint8_t)(prefix_addr_len(out->family) * 8);
	if (!ok)
		memset(out, 0, sizeof(*out));
	return ok;
}

/* The bits of byte i that lie past cidr. */
static uint8_t host_bits(size_t i, unsigned cidr)
{
	unsigned keep = cidr > i * 8 ? cidr - (unsigned)i * 8 : 0;

	return keep >= 8 ? 0 : (uint8_t)(0xffu >> keep);
}

void prefix_clear_host_bits(uint8_t *addr, size_t len, unsigned cidr)
{
	for (size_t i = 0; i < len; i++)
		addr[i] &= (uint8_t)~host_bits(i, cidr);
}

struct prefix prefix_masked(const struct prefix *p)
{
	struct prefix m = *p;

	prefix_clear_host_bits(m.addr, prefix_addr_len(p->family), p->cidr);
	return m;
}

bool prefix_host_bits_clear(const uint8_t *addr, size_t len, unsigned cidr)
{
	for (size_t i = 0; i < len; i++)
		if (addr[i] & host_bits(i, cidr))
			return false;
	return true;
}
