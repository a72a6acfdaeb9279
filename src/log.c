#include "src/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

/* Process-wide by nature: one program, one log destination. */
static enum log_level max_level = LOG_LEVEL_INFO;
static bool use_syslog;

void log_setup(enum log_level level, bool to_syslog, const char *ident)
{
	max_level = level;
	use_syslog = to_syslog;
	if (to_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

enum log_level log_level(void)
{
	return max_level;
}

int log_level_parse(const char *name, enum log_level *level)
{
	static const struct { const char *name; enum log_level level; } n[] = {
		{ "error", LOG_LEVEL_ERROR }, { "warn", LOG_LEVEL_WARN },
		{ "warning", LOG_LEVEL_WARN }, { "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
		/* wireguard-go's, so that one environment serves both. */
		{ "verbose", LOG_LEVEL_DEBUG }, { "silent", LOG_LEVEL_SILENT },
	};

	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		if (!strcmp(name, n[i].name)) {
			*level = n[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

enum log_level log_level_choose(int verbose)
{
	const char *env = getenv("LOG_LEVEL");
	enum log_level level = LOG_LEVEL_INFO;

	if (env && *env && log_level_parse(env, &level))
		fprintf(stderr, "ringvpn: LOG_LEVEL `%s' is not silent, error, "
			"warn, info, debug or verbose: using info\n", env);
	if (verbose > 0)
		level = LOG_LEVEL_DEBUG;
	else if (verbose < 0)
		level = LOG_LEVEL_WARN;
	return level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	va_list ap;

	if (level > max_level || level < LOG_LEVEL_ERROR)
		return;
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio[level], fmt, ap);
	} else {
		fputs("ringvpn: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

bool log_ratelimit_ok(struct log_ratelimit *rl)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec;
	if (now != rl->second) {
		if (rl->suppressed)
			log_debug("(%llu similar lines suppressed)",
				  rl->suppressed);
		rl->second = now;
		rl->count = 0;
		rl->suppressed = 0;
	}
	if (rl->count < LOG_BURST) {
		rl->count++;
		return true;
	}
	rl->suppressed++;
	return false;
}
