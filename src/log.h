/* Logging at the program's boundary: to stderr in the foreground, to
 * syslog when daemonized. Lower layers return -errno and never log.
 *
 * What is logged at which level:
 *   error  the daemon cannot go on, or `up` failed;
 *   warn   something was skipped or could not be undone;
 *   info   one line per event a person cares about: up and down, a
 *          handshake completed, an endpoint changed, a peer unreachable,
 *          a reload or a UAPI change;
 *   debug  packet-level trouble (bad MACs, failed decryption, unknown
 *          messages), rate-limited: the counters in `ringvpn show` have
 *          the totals.
 * silent (wireguard-go's LOG_LEVEL=silent) lets nothing through. */
#ifndef RINGVPN_SRC_LOG_H
#define RINGVPN_SRC_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_SILENT = -1, /* only as the level in force, never a line's */
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_setup(enum log_level level, bool to_syslog, const char *ident);
/* The level in force (log_setup's, LOG_LEVEL_INFO before). */
enum log_level log_level(void);
/* "error", "warn", "info" or "debug" (also "warning"), and
 * wireguard-go's names: "verbose" (debug) and "silent"; -EINVAL else. */
int log_level_parse(const char *name, enum log_level *level);
/* The level a command runs at: LOG_LEVEL from the environment if it is
 * valid, else info; then -v (verbose > 0: debug) or -q (verbose < 0:
 * warn) win. A bad LOG_LEVEL is reported on stderr once. */
enum log_level log_level_choose(int verbose);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* At most LOG_BURST lines a second per limiter; one limiter per kind of
 * message and per thread (no locking: each is owned by one thread). */
#define LOG_BURST 5

struct log_ratelimit {
	uint64_t second;
	unsigned int count;
	unsigned long long suppressed;
};

/* Whether a line may go out now; counts the ones that may not and says
 * how many were suppressed on the next line that may. */
bool log_ratelimit_ok(struct log_ratelimit *rl);

#define log_debug_ratelimited(rl, ...)                                       \
	do {                                                                 \
		if (log_level() >= LOG_LEVEL_DEBUG && log_ratelimit_ok(rl)) \
			log_debug(__VA_ARGS__);                              \
	} while (0)

#endif
