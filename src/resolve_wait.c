#include "src/resolve_wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESOLVE_MAX_RETRIES 1000000L

int resolve_retries_parse(const char *value, long *retries)
{
	char *end;

	if (!value) {
		*retries = RESOLVE_RETRIES_DEFAULT;
		return 0;
	}
	if (!strcmp(value, "infinity")) {
		*retries = RESOLVE_RETRIES_INFINITE;
		return 0;
	}
	if (*value < '0' || *value > '9')
		return -EINVAL;
	errno = 0;
	*retries = strtol(value, &end, 10);
	if (errno || *end || *retries > RESOLVE_MAX_RETRIES)
		return -EINVAL;
	return 0;
}

unsigned resolve_wait_ms(unsigned n)
{
	unsigned ms = RESOLVE_FIRST_WAIT_MS;

	while (n-- && ms < RESOLVE_MAX_WAIT_MS)
		ms = ms * 6 / 5;
	return ms < RESOLVE_MAX_WAIT_MS ? ms : RESOLVE_MAX_WAIT_MS;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* 0 when every Endpoint resolves, else the first failure. Each answer
 * is kept in the peer, so the name is asked no more: not on a retry,
 * nor by `up` after (config_resolve_endpoint returns it). */
static int try_all(struct config *cfg, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t len;

	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct config_peer *p = &cfg->peers[i];
		int ret;

		if (!p->endpoint_host || p->endpoint_len)
			continue;
		ret = config_resolve_endpoint(p, &ss, &len, err, err_len);
		if (ret)
			return ret;
		if (len <= sizeof(p->endpoint_addr)) {
			memcpy(&p->endpoint_addr, &ss, len);
			p->endpoint_len = len;
		}
	}
	return 0;
}

int resolve_wait(struct config *cfg, long retries,
		 void (*say)(const char *line), char *err, size_t err_len)
{
	char line[640];
	int ret;

	for (unsigned n = 0;; n++) {
		unsigned ms = resolve_wait_ms(n);

		ret = try_all(cfg, err, err_len);
		if (!ret || ret == -ENOMEM ||
		    (retries != RESOLVE_RETRIES_INFINITE && n >= retries))
			return ret;
		if (say) {
			snprintf(line, sizeof(line), "%s; trying again in "
				 "%u.%02u s", err, ms / 1000, ms % 1000 / 10);
			say(line);
		}
		sleep_ms(ms);
	}
}
