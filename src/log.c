#include "src/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

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

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	va_list ap;

	if (level > max_level)
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
