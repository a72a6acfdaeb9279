/* libFuzzer target: the sticky source address's parser,
 * source_addr_from_cmsg(), on control data as recvmsg leaves it, walked
 * as the receive path walks it (CMSG_FIRSTHDR, CMSG_NXTHDR, beside
 * UDP_GRO's message). Whatever it accepts names an address of its
 * family, never the unspecified one, and writes back through
 * source_addr_put_cmsg() into a message that says the same (an IPv6 one
 * parses back to it; IPv4's is the sender's form, checked by its bytes);
 * a refusal leaves the output untouched. source_addr_strip_cmsg() leaves
 * a walk that finds no source message. */
#include "tests/fuzz/fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/source_addr.h"

#define CONTROL_MAX 256

union control {
	uint8_t buf[CONTROL_MAX];
	struct cmsghdr align;
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_cmsg: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static bool unspecified(const struct source_addr *s)
{
	return s->family == AF_INET ? s->addr.v4.s_addr == INADDR_ANY :
				      IN6_IS_ADDR_UNSPECIFIED(&s->addr.v6);
}

/* s, written as sendmsg takes it, says s again. */
static void check_written(const struct source_addr *s)
{
	union control c;
	struct msghdr msg = { .msg_control = c.buf };
	struct source_addr back;
	struct in_pktinfo p4;

	msg.msg_controllen = source_addr_put_cmsg(s, c.buf, sizeof(c.buf));
	if (!msg.msg_controllen || msg.msg_controllen > SOURCE_ADDR_CMSG_SPACE)
		die("an accepted address does not write back");
	if (s->family == AF_INET) {
		memcpy(&p4, CMSG_DATA(&c.align), sizeof(p4));
		if (memcmp(&p4.ipi_spec_dst, &s->addr.v4, 4) || p4.ipi_ifindex)
			die("IP_PKTINFO written wrong");
		return;
	}
	if (!source_addr_from_cmsg(&msg, &c.align, &back))
		die("a written IPV6_PKTINFO does not parse");
	back.ifindex = s->ifindex;
	if (!source_addr_equal(&back, s))
		die("IPV6_PKTINFO does not round-trip");
}

static void check_one(const struct msghdr *msg, const struct cmsghdr *cm)
{
	struct source_addr s, before;

	memset(&s, 0xa5, sizeof(s));
	before = s;
	if (!source_addr_from_cmsg(msg, cm, &s)) {
		if (memcmp(&s, &before, sizeof(s)))
			die("a refusal changed the output");
		return;
	}
	if ((s.family != AF_INET && s.family != AF_INET6) || unspecified(&s))
		die("accepted no address");
	check_written(&s);
}

static void check_stripped(union control *c, size_t len)
{
	struct msghdr msg = { .msg_control = c->buf, .msg_controllen = len };
	struct source_addr s;
	struct cmsghdr *cm;

	if (!source_addr_strip_cmsg(&msg))
		return;
	if (msg.msg_controllen >= len)
		die("strip did not shorten");
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (source_addr_from_cmsg(&msg, cm, &s))
			die("a source message is left after strip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union control c;
	struct msghdr msg = { .msg_control = c.buf };
	struct cmsghdr *cm;

	if (size > CONTROL_MAX)
		return 0;
	memcpy(c.buf, data, size);
	msg.msg_controllen = size;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		check_one(&msg, cm);
	check_stripped(&c, size);
	return 0;
}
