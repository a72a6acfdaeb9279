/* Log levels (names, LOG_LEVEL against -v/-q, what each level lets
 * through to stderr) and the rate limiter of packet-level debug lines. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/log.h"
#include "tests/unit/check_main.h"

#define UNSET 99 /* no level: log_level_parse left it alone */

START_TEST(parse_names)
{
	static const struct { const char *name; int ret, level; } t[] = {
		/* 1 */ { "error", 0, LOG_LEVEL_ERROR },
		/* 2 */ { "warn", 0, LOG_LEVEL_WARN },
		/* 3 */ { "warning", 0, LOG_LEVEL_WARN },
		/* 4 */ { "info", 0, LOG_LEVEL_INFO },
		/* 5 */ { "debug", 0, LOG_LEVEL_DEBUG },
		/* 6 */ { "DEBUG", -EINVAL, UNSET },
		/* 7 */ { "", -EINVAL, UNSET },
		/* 8 */ { "debugx", -EINVAL, UNSET },
		/* 9 */ { "3", -EINVAL, UNSET },
		/* wireguard-go's names */
		/* 10 */ { "verbose", 0, LOG_LEVEL_DEBUG },
		/* 11 */ { "silent", 0, LOG_LEVEL_SILENT },
		/* 12 */ { "Verbose", -EINVAL, UNSET },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum log_level level = (enum log_level)UNSET;

		ck_assert_msg(log_level_parse(t[i].name, &level) == t[i].ret,
			      "line %zu", i + 1);
		ck_assert_msg((int)level == t[i].level, "line %zu", i + 1);
	}
}
END_TEST

/* LOG_LEVEL sets the default; -v and -q win over it. */
START_TEST(choose_level)
{
	static const struct { const char *env; int verbose, level; } t[] = {
		/* 1 */ { NULL, 0, LOG_LEVEL_INFO },
		/* 2 */ { NULL, 1, LOG_LEVEL_DEBUG },
		/* 3 */ { NULL, -1, LOG_LEVEL_WARN },
		/* 4 */ { "warn", 0, LOG_LEVEL_WARN },
		/* 5 */ { "error", 0, LOG_LEVEL_ERROR },
		/* 6 */ { "debug", 0, LOG_LEVEL_DEBUG },
		/* 7 */ { "debug", -1, LOG_LEVEL_WARN },
		/* 8 */ { "error", 1, LOG_LEVEL_DEBUG },
		/* 9 */ { "loud", 0, LOG_LEVEL_INFO },
		/* 10 */ { "", 0, LOG_LEVEL_INFO },
		/* 11 */ { "verbose", 0, LOG_LEVEL_DEBUG },
		/* 12 */ { "silent", 0, LOG_LEVEL_SILENT },
		/* 13 */ { "silent", 1, LOG_LEVEL_DEBUG },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].env)
			setenv("LOG_LEVEL", t[i].env, 1);
		else
			unsetenv("LOG_LEVEL");
		ck_assert_msg((int)log_level_choose(t[i].verbose) ==
			      t[i].level, "line %zu", i + 1);
	}
	unsetenv("LOG_LEVEL");
}
END_TEST

/* stderr into a file until captured_text() gives back what was written. */
struct capture {
	FILE *f;
	int saved;
};

static void capture_stderr(struct capture *c)
{
	c->f = tmpfile();
	c->saved = dup(STDERR_FILENO);
	ck_assert_ptr_nonnull(c->f);
	ck_assert_int_ge(c->saved, 0);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(c->f), STDERR_FILENO), 0);
}

static char *captured_text(struct capture *c, char *out, size_t len)
{
	size_t n;

	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	rewind(c->f);
	n = fread(out, 1, len - 1, c->f);
	out[n] = '\0';
	fclose(c->f);
	return out;
}

/* Runs one line at each level with stderr in a file; returns the text. */
static char *log_all_levels(enum log_level level, char *out, size_t len)
{
	struct capture c;

	capture_stderr(&c);
	log_setup(level, false, "ringvpn");
	log_error("E%d", 1);
	log_warn("W%d", 2);
	log_info("I%d", 3);
	log_debug("D%d", 4);
	captured_text(&c, out, len);
	log_setup(LOG_LEVEL_INFO, false, "ringvpn");
	return out;
}

/* wireguard-go's LOG_LEVEL values are no mistake: no warning for them,
 * while a value neither program knows still gets one. */
START_TEST(wggo_names_not_warned)
{
	static const char *quiet[] = { "verbose", "error", "silent", "debug" };
	struct capture c;
	char buf[256];

	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		setenv("LOG_LEVEL", quiet[i], 1);
		capture_stderr(&c);
		log_level_choose(0);
		ck_assert_msg(!strcmp(captured_text(&c, buf, sizeof(buf)), ""),
			      "LOG_LEVEL=%s: %s", quiet[i], buf);
	}
	setenv("LOG_LEVEL", "loud", 1);
	capture_stderr(&c);
	log_level_choose(0);
	ck_assert_ptr_nonnull(strstr(captured_text(&c, buf, sizeof(buf)),
				     "LOG_LEVEL `loud' is not"));
	unsetenv("LOG_LEVEL");
}
END_TEST

START_TEST(levels_filter)
{
	char buf[256];

	ck_assert_str_eq(log_all_levels(LOG_LEVEL_SILENT, buf, sizeof(buf)),
			 "");
	ck_assert_str_eq(log_all_levels(LOG_LEVEL_ERROR, buf, sizeof(buf)),
			 "ringvpn: E1\n");
	ck_assert_str_eq(log_all_levels(LOG_LEVEL_WARN, buf, sizeof(buf)),
			 "ringvpn: E1\nringvpn: W2\n");
	ck_assert_str_eq(log_all_levels(LOG_LEVEL_INFO, buf, sizeof(buf)),
			 "ringvpn: E1\nringvpn: W2\nringvpn: I3\n");
	ck_assert_str_eq(log_all_levels(LOG_LEVEL_DEBUG, buf, sizeof(buf)),
			 "ringvpn: E1\nringvpn: W2\nringvpn: I3\n"
			 "ringvpn: D4\n");
}
END_TEST

/* LOG_BURST lines a second, then silence and a count; a new second (here
 * forced by moving the limiter's second back) opens the gate again. */
START_TEST(ratelimit_burst)
{
	struct log_ratelimit rl = { 0 };
	unsigned passed = 0;

	for (int i = 0; i < 3 * LOG_BURST; i++)
		passed += log_ratelimit_ok(&rl);
	/* The clock may tick once during the loop: then two bursts. */
	ck_assert_uint_ge(passed, LOG_BURST);
	ck_assert_uint_le(passed, 2 * LOG_BURST);
	ck_assert_uint_eq(rl.suppressed + passed, 3 * LOG_BURST);
	rl.second--;
	ck_assert(log_ratelimit_ok(&rl));
	ck_assert_uint_eq(rl.suppressed, 0);
	ck_assert_uint_eq(rl.count, 1);
}
END_TEST

/* Below debug the macro does not even look at the limiter. */
START_TEST(ratelimit_only_at_debug)
{
	struct log_ratelimit rl = { 0 };

	log_setup(LOG_LEVEL_INFO, false, "ringvpn");
	for (int i = 0; i < 2 * LOG_BURST; i++)
		log_debug_ratelimited(&rl, "never %d", i);
	ck_assert_uint_eq(rl.count, 0);
	ck_assert_uint_eq(rl.suppressed, 0);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, parse_names);
	tcase_add_test(tc, choose_level);
	tcase_add_test(tc, levels_filter);
	tcase_add_test(tc, wggo_names_not_warned);
	tcase_add_test(tc, ratelimit_burst);
	tcase_add_test(tc, ratelimit_only_at_debug);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(log_suite());
}
