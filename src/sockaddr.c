#include "src/sockaddr.h"

#include <arpa/inet.h>
#include <stdio.h>

void sockaddr_to_text(const struct sockaddr_storage *ss,
		      char out[SOCKADDR_TEXT_MAX])
{
	struct sockaddr_storage copy = *ss;
	char host[INET6_ADDRSTRLEN];

	sockaddr_normalize(&copy, sizeof(copy));
	if (copy.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&copy;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(out, SOCKADDR_TEXT_MAX, "%s:%u", host,
			 ntohs(a->sin_port));
	} else if (copy.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&copy;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		if (a->sin6_scope_id)
			snprintf(out, SOCKADDR_TEXT_MAX, "[%s%%%u]:%u", host,
				 a->sin6_scope_id, ntohs(a->sin6_port));
		else
			snprintf(out, SOCKADDR_TEXT_MAX, "[%s]:%u", host,
				 ntohs(a->sin6_port));
	} else {
		snprintf(out, SOCKADDR_TEXT_MAX, "(none)");
	}
}
