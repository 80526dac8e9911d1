// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spl-kmemd configuration parsing: every error path names the right line
 * and says what is wrong; nothing of a bad file is returned; good files
 * give the values they say.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* Parse @text; return the config (NULL on errors, kept in *errs). */
static struct config *parse(const char *text, struct config_errors *errs)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct config *cfg;
	int rc;

	assert_non_null(f);
	rc = config_parse(f, "test.conf", &cfg, errs);
	fclose(f);
	if (rc)
		assert_null(cfg);
	else
		assert_non_null(cfg);
	return cfg;
}

/* @text must parse without error. */
static struct config *parse_ok(const char *text)
{
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);

	if (!cfg) {
		char buf[600];

		config_error_format(&errs, 0, buf, sizeof(buf));
		fprintf(stderr, "unexpected error: %s\n", buf);
		fail();
	}
	return cfg;
}

/* @text must fail with exactly one error, at @line, containing @what. */
static void expect_error(const char *text, unsigned int line, const char *what)
{
	struct config_errors errs;
	char buf[600];
	struct config *cfg = parse(text, &errs);

	if (cfg || errs.n != 1 || errs.v[0].line != line ||
	    !strstr(errs.v[0].msg, what)) {
		size_t i;

		fprintf(stderr, "input:\n%s\nexpected one error at line %u with \"%s\", got %zu:\n",
			text, line, what, errs.n);
		for (i = 0; i < errs.n; i++) {
			config_error_format(&errs, i, buf, sizeof(buf));
			fprintf(stderr, "  %s\n", buf);
		}
		config_free(cfg);
		fail();
	}
	config_error_format(&errs, 0, buf, sizeof(buf));
	{
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "test.conf:%u: ", line);
		assert_true(!strncmp(buf, prefix, strlen(prefix)));
	}
}

/* ---- good files ---- */

static void defaults(void **state)
{
	struct config_errors errs;
	struct config *cfg = parse("", &errs);
	size_t i;

	(void)state;
	assert_int_equal(errs.n, 0);
	for (i = 0; i < TUNABLE_COUNT; i++)
		assert_false(cfg->tunable_set[i]);
	assert_int_equal(cfg->ncaches, 0);
	assert_true(cfg->pressure.enabled);
	assert_int_equal(cfg->pressure.kind, PSI_SOME);
	assert_int_equal(cfg->pressure.threshold_us, 100000);
	assert_int_equal(cfg->pressure.window_us, 1000000);
	assert_int_equal(cfg->pressure.cooldown_us, 10000000);
	assert_int_equal(cfg->pressure.ncaches, 0);
	assert_string_equal(cfg->pressure.cgroup, "");
	assert_false(cfg->pressure.systemd_watch);
	assert_string_equal(cfg->metrics.textfile, CONFIG_DEFAULT_TEXTFILE);
	assert_string_equal(cfg->metrics.listen, "");
	assert_int_equal(cfg->metrics.interval_us, 15000000);
	config_free(cfg);
}

static void full_file(void **state)
{
	static const char text[] =
		"\xEF\xBB\xBF# a comment\n"
		"; another\n"
		"\n"
		"[tunables]\r\n"
		"magazine_size = auto\n"
		"  obj_per_slab = 16   ; indented, inline comment\n"
		"max_size: 64\n"
		"slab_limit = 0\n"
		"kmem_threads = 64\n"
		"[ cache zio_buf_* ]   # comment after a header\n"
		"magazine_size = 128\n"
		"[cache \"dnode_t\"]\n"
		"magazine_size = 0\n"
		"[cache empty_section]\n"
		"[pressure]\n"
		"enabled = on\n"
		"type = full\n"
		"threshold = 500000us\n"
		"window = 2s\n"
		"cooldown = 0\n"
		"caches = zio_* arc_buf\n"
		"caches = dnode_t\n"
		"cgroup = system.slice/foo.service\n"
		"systemd_watch = yes\n"
		"[metrics]\n"
		"textfile = /run/x/spl.prom\n"
		"listen = [::1]:9882\n"
		"interval = 1min\n";
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);

	(void)state;
	assert_true(cfg->tunable_set[TUNABLE_MAGAZINE_SIZE]);
	assert_int_equal(cfg->tunable[TUNABLE_MAGAZINE_SIZE], 0);
	assert_int_equal(cfg->tunable_line[TUNABLE_MAGAZINE_SIZE], 5);
	assert_int_equal(cfg->tunable[TUNABLE_OBJ_PER_SLAB], 16);
	assert_int_equal(cfg->tunable_line[TUNABLE_OBJ_PER_SLAB], 6);
	assert_int_equal(cfg->tunable[TUNABLE_MAX_SIZE], 64);
	assert_true(cfg->tunable_set[TUNABLE_SLAB_LIMIT]);
	assert_int_equal(cfg->tunable[TUNABLE_SLAB_LIMIT], 0);
	assert_int_equal(cfg->tunable[TUNABLE_KMEM_THREADS], 64);

	assert_int_equal(cfg->ncaches, 3);
	assert_string_equal(cfg->caches[0].pattern, "zio_buf_*");
	assert_true(cfg->caches[0].glob);
	assert_true(cfg->caches[0].has_mag);
	assert_int_equal(cfg->caches[0].mag_size, 128);
	assert_int_equal(cfg->caches[0].line, 10);
	assert_string_equal(cfg->caches[1].pattern, "dnode_t");
	assert_false(cfg->caches[1].glob);
	assert_int_equal(cfg->caches[1].mag_size, 0);
	assert_string_equal(cfg->caches[2].pattern, "empty_section");
	assert_false(cfg->caches[2].has_mag);

	assert_true(cfg->pressure.enabled);
	assert_int_equal(cfg->pressure.kind, PSI_FULL);
	assert_int_equal(cfg->pressure.threshold_us, 500000);
	assert_int_equal(cfg->pressure.window_us, 2000000);
	assert_int_equal(cfg->pressure.cooldown_us, 0);
	assert_int_equal(cfg->pressure.ncaches, 3);
	assert_string_equal(cfg->pressure.caches[0], "zio_*");
	assert_string_equal(cfg->pressure.caches[1], "arc_buf");
	assert_string_equal(cfg->pressure.caches[2], "dnode_t");
	assert_string_equal(cfg->pressure.cgroup, "system.slice/foo.service");
	assert_true(cfg->pressure.systemd_watch);
	assert_string_equal(cfg->metrics.textfile, "/run/x/spl.prom");
	assert_string_equal(cfg->metrics.listen, "[::1]:9882");
	assert_int_equal(cfg->metrics.interval_us, 60000000);
	config_free(cfg);
}

static void empty_values_allowed(void **state)
{
	struct config_errors errs;
	struct config *cfg = parse("[metrics]\ntextfile =\nlisten=\n"
				   "[pressure]\ncgroup =\ncaches = all\n", &errs);

	(void)state;
	assert_string_equal(cfg->metrics.textfile, "");
	assert_string_equal(cfg->metrics.listen, "");
	assert_string_equal(cfg->pressure.cgroup, "");
	assert_int_equal(cfg->pressure.ncaches, 0);
	config_free(cfg);
}

/* ---- the file as a whole ---- */

static void syntax_errors(void **state)
{
	(void)state;
	expect_error("[metrics]\njust words\n", 2,
		     "expected 'key = value', a [section] or a comment");
	expect_error("interval = 1s\n", 1, "'interval' is outside any section");
}

static void nul_byte(void **state)
{
	static const char text[] = "[metrics]\ninterval = 1s\0x\n";
	struct config_errors errs;
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct config *cfg;

	(void)state;
	assert_int_equal(config_parse(f, "test.conf", &cfg, &errs), -EINVAL);
	fclose(f);
	assert_null(cfg);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 2);
	assert_non_null(strstr(errs.v[0].msg, "NUL byte"));
}

static void long_line(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "[pressure]\ncaches = %0300d\n", 1);
	expect_error(text, 2, "line is longer than");
}

static void many_errors(void **state)
{
	char text[4096] = "[metrics]\n";
	struct config_errors errs;
	struct config *cfg;
	int i;

	(void)state;
	for (i = 0; i < CONFIG_MAX_ERRORS + 5; i++)
		strcat(text, "nope = 1\n");
	cfg = parse(text, &errs);
	assert_null(cfg);
	assert_int_equal(errs.n, CONFIG_MAX_ERRORS);
	assert_int_equal(errs.dropped, 5);
	assert_int_equal(errs.v[0].line, 2);
	assert_int_equal(errs.v[CONFIG_MAX_ERRORS - 1].line, CONFIG_MAX_ERRORS + 1);
}

static void errors_sorted_by_line(void **state)
{
	struct config_errors errs;
	struct config *cfg;

	(void)state;
	/* The threshold check runs last but reports line 2. */
	cfg = parse("[pressure]\nthreshold = 3s\nwindow = 2s\nbogus = 1\n",
		    &errs);
	assert_null(cfg);
	assert_int_equal(errs.n, 2);
	assert_int_equal(errs.v[0].line, 2);
	assert_non_null(strstr(errs.v[0].msg, "longer than the window"));
	assert_int_equal(errs.v[1].line, 4);
}

/* ---- sections ---- */

static void section_errors(void **state)
{
	(void)state;
	expect_error("[metrics\n", 1, "section header without ']'");
	expect_error("[metrics] junk\n", 1, "unexpected text after the section header");
	expect_error("[bogus]\n", 1, "unknown section [bogus]");
	expect_error("[Metrics]\n", 1, "unknown section [Metrics]");
	expect_error("[cache]\n", 1, "[cache] needs a cache name or glob");
	expect_error("[cache \"\"]\n", 1, "[cache] needs a cache name or glob");
	expect_error("[metrics]\n[pressure]\n[metrics]\n", 3,
		     "section [metrics] appears twice (first on line 1)");
	expect_error("[cache a]\n[cache b*]\n[cache b*]\n", 3,
		     "section [cache b*] appears twice (first on line 2)");
	/* Keys under a rejected header are not reported again. */
	expect_error("[bogus]\nx = 1\ny = 2\n", 1, "unknown section");
}

static void cache_pattern_errors(void **state)
{
	char text[256];

	(void)state;
	expect_error("[cache \"a b\"]\n", 1, "blank, quote or control character");
	expect_error("[cache a\"b]\n", 1, "blank, quote or control character");
	expect_error("[cache zio_[ab]\n", 1, "section header without ']'");
	expect_error("[cache zio_[ab]]]\n", 1, "unexpected text after the section header");
	expect_error("[cache \"zio_[ab\"]\n", 1, "section header without ']'");
	snprintf(text, sizeof(text), "[cache %032d]\n", 0);
	expect_error(text, 1, "is too long");
	snprintf(text, sizeof(text), "[cache %031d]\n", 0);	/* 31: fine */
	{
		struct config_errors errs;
		struct config *cfg = parse(text, &errs);

		config_free(cfg);
	}
	snprintf(text, sizeof(text), "[cache *%063d]\n", 0);
	expect_error(text, 1, "is too long");
}

/* ---- keys ---- */

static void key_errors(void **state)
{
	(void)state;
	expect_error("[tunables]\nbogus = 1\n", 2,
		     "unknown key 'bogus' in [tunables] (known: magazine_size,");
	expect_error("[cache x]\nobj_per_slab = 1\n", 2,
		     "unknown key 'obj_per_slab' in [cache] (known: magazine_size)");
	expect_error("[pressure]\nthreshhold = 1s\n", 2,
		     "unknown key 'threshhold' in [pressure]");
	expect_error("[metrics]\nport = 1\n", 2, "unknown key 'port' in [metrics]");
	expect_error("[metrics]\ninterval = 5s\n\ninterval = 6s\n", 4,
		     "duplicate key 'interval' (first set on line 2)");
	expect_error("[cache a]\nmagazine_size = 4\nmagazine_size = 8\n", 3,
		     "duplicate key 'magazine_size'");
	expect_error("[tunables]\nmax_size =\n", 2, "missing value for max_size");
	expect_error("[pressure]\ntype=\n", 2, "missing value for type");
}

/*
 * Tunable values are numbers; their ranges are the loaded module's (it
 * reports them with TUNABLE_GET and the daemon asks before setting), not
 * a table here that could disagree with it (slab_limit on 64 KiB pages).
 */
static void tunable_values(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = parse_ok("[tunables]\nslab_limit = 262144\nkmem_threads = 1000\n"
		       "magazine_size = 1\nobj_per_slab = 0\n");
	assert_int_equal(cfg->tunable[TUNABLE_SLAB_LIMIT], 262144);
	assert_int_equal(cfg->tunable[TUNABLE_KMEM_THREADS], 1000);
	assert_int_equal(cfg->tunable_line[TUNABLE_KMEM_THREADS], 3);
	assert_int_equal(cfg->tunable[TUNABLE_MAGAZINE_SIZE], 1);
	assert_true(cfg->tunable_set[TUNABLE_OBJ_PER_SLAB]);
	config_free(cfg);
	cfg = parse_ok("[tunables]\nmagazine_size = auto\n");
	assert_true(cfg->tunable_set[TUNABLE_MAGAZINE_SIZE]);
	assert_int_equal(cfg->tunable[TUNABLE_MAGAZINE_SIZE], 0);
	config_free(cfg);
	expect_error("[tunables]\nkmem_threads = auto\n", 2,
		     "invalid value 'auto' for kmem_threads: expected a number (the loaded module checks its range)");
	expect_error("[tunables]\nmagazine_size = big\n", 2,
		     "expected auto or a number");
	expect_error("[tunables]\nkmem_threads = -1\n", 2, "invalid value '-1'");
	expect_error("[tunables]\nkmem_threads = 4x\n", 2, "invalid value '4x'");
	expect_error("[tunables]\nkmem_threads = 99999999999999999999999\n", 2,
		     "invalid value");
	expect_error("[tunables]\nkmem_threads = 4294967296\n", 2, "invalid value");
	/* [cache] magazine sizes: the family's limits from its UAPI header. */
	expect_error("[cache a]\nmagazine_size = big\n", 2,
		     "invalid value 'big' for magazine_size");
	expect_error("[cache a]\nmagazine_size = 1\n", 2,
		     "expected auto, 0 (automatic) or 2..256");
	expect_error("[cache a]\nmagazine_size = 257\n", 2, "2..256");
}

static void pressure_values(void **state)
{
	(void)state;
	expect_error("[pressure]\nenabled = maybe\n", 2,
		     "invalid value 'maybe' for enabled: expected yes or no");
	expect_error("[pressure]\ntype = partial\n", 2,
		     "invalid value 'partial' for type: expected some or full");
	expect_error("[pressure]\nthreshold = 0\n", 2, "1us to 10s");
	expect_error("[pressure]\nthreshold = 11s\n", 2, "1us to 10s");
	expect_error("[pressure]\nthreshold = 100 parsecs\n", 2,
		     "invalid value '100 parsecs' for threshold");
	expect_error("[pressure]\nwindow = 499ms\n", 2, "500ms to 10s");
	expect_error("[pressure]\nwindow = 10001ms\n", 2, "500ms to 10s");
	expect_error("[pressure]\ncooldown = 2h\n", 2, "invalid value '2h'");
	expect_error("[pressure]\ncooldown = 61min\n", 2, "0 to 1h");
	expect_error("[pressure]\ncooldown = -1s\n", 2, "invalid value");
	/* threshold against window: the threshold's line, else the window's */
	expect_error("[pressure]\nwindow = 1s\nthreshold = 2s\n", 3,
		     "threshold 2000000 us is longer than the window 1000000 us");
	expect_error("[pressure]\nthreshold = 600ms\nwindow = 500ms\n", 2,
		     "threshold 600000 us is longer than the window 500000 us");
}

static void pressure_window_default_threshold(void **state)
{
	struct config_errors errs;
	struct config *cfg;

	(void)state;
	/* 100 ms default threshold within a 500 ms window: fine. */
	cfg = parse("[pressure]\nwindow = 500ms\n", &errs);
	assert_non_null(cfg);
	config_free(cfg);
}

static void caches_values(void **state)
{
	(void)state;
	expect_error("[pressure]\ncaches = a b a\n", 2, "cache 'a' is listed twice");
	expect_error("[pressure]\ncaches = a\ncaches = a\n", 3, "listed twice");
	expect_error("[pressure]\ncaches = a\ncaches = all\n", 3,
		     "caches = all cannot be combined");
	expect_error("[pressure]\ncaches = all\ncaches = a\n", 3,
		     "caches = all cannot be combined");
	expect_error("[pressure]\ncaches = all\ncaches = all\n", 3,
		     "caches = all cannot be combined");
	expect_error("[pressure]\ncaches = ok x[y\n", 2, "unterminated '['");
	expect_error("[pressure]\ncaches = a\"b\n", 2, "blank, quote or control");
	expect_error("[pressure]\ncaches = 0123456789012345678901234567890123\n",
		     2, "is too long");
}

static void cgroup_values(void **state)
{
	(void)state;
	expect_error("[pressure]\ncgroup = /etc/foo\n", 2,
		     "invalid value '/etc/foo' for cgroup: expected a cgroup under /sys/fs/cgroup/");
	expect_error("[pressure]\ncgroup = /sys/fs/cgroupx\n", 2, "cgroup under");
	expect_error("[pressure]\ncgroup = a/../../etc\n", 2, "cgroup under");
	expect_error("[pressure]\ncgroup = ..\n", 2, "cgroup under");
	expect_error("[pressure]\ncgroup = a b\n", 2, "cgroup under");
	expect_error("[pressure]\nsystemd_watch = sometimes\n", 2,
		     "invalid value 'sometimes' for systemd_watch");
}

static void glob_with_brackets(void **state)
{
	struct config_errors errs;
	struct config *cfg;

	(void)state;
	cfg = parse("[cache zio_buf_[0-9]*]\nmagazine_size = 8\n", &errs);
	assert_string_equal(cfg->caches[0].pattern, "zio_buf_[0-9]*");
	assert_true(cfg->caches[0].glob);
	config_free(cfg);
}

static void cgroup_ok(void **state)
{
	struct config_errors errs;
	struct config *cfg;

	(void)state;
	cfg = parse("[pressure]\ncgroup = /sys/fs/cgroup/a..b/c.slice\n", &errs);
	assert_string_equal(cfg->pressure.cgroup, "/sys/fs/cgroup/a..b/c.slice");
	config_free(cfg);
}

static void metrics_values(void **state)
{
	(void)state;
	expect_error("[metrics]\ntextfile = spl.prom\n", 2,
		     "invalid value 'spl.prom' for textfile: expected an absolute path");
	expect_error("[metrics]\ntextfile = /var/lib/x/spl.txt\n", 2,
		     "a file name ending in .prom");
	expect_error("[metrics]\ntextfile = /var/lib/x/.prom\n", 2, "ending in .prom");
	expect_error("[metrics]\ntextfile = /a\n", 2, "ending in .prom");
	expect_error("[metrics]\nlisten = 9882\n", 2,
		     "invalid value '9882' for listen: expected ADDRESS:PORT");
	expect_error("[metrics]\nlisten = 127.0.0.1:0\n", 2, "invalid value");
	expect_error("[metrics]\nlisten = 127.0.0.1:65536\n", 2, "invalid value");
	expect_error("[metrics]\nlisten = 127.0.0.1:http\n", 2, "invalid value");
	expect_error("[metrics]\nlisten = ::1:9882\n", 2, "invalid value");
	expect_error("[metrics]\nlisten = [::1:9882\n", 2, "invalid value");
	expect_error("[metrics]\nlisten = []:9882\n", 2, "invalid value");
	expect_error("[metrics]\nlisten = [::1]9882\n", 2, "invalid value");
	expect_error("[metrics]\ninterval = 500ms\n", 2, "1s to 1h");
	expect_error("[metrics]\ninterval = 2h\n", 2, "invalid value '2h'");
	expect_error("[metrics]\ncaches = all\ncaches = a*\n", 3,
		     "caches = all cannot be combined");
	expect_error("[metrics]\ncaches = a b a\n", 2, "listed twice");
}

/* [metrics] caches: the caches that get per-cache series. */
static void metrics_caches(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = parse_ok("[metrics]\ncaches = zio_buf_* dnode_t\ncaches = arc_*\n");
	assert_int_equal(cfg->metrics.ncaches, 3);
	assert_string_equal(cfg->metrics.caches[0], "zio_buf_*");
	assert_string_equal(cfg->metrics.caches[2], "arc_*");
	assert_int_equal(cfg->pressure.ncaches, 0);
	config_free(cfg);
	cfg = parse_ok("[metrics]\ncaches = all\n");
	assert_int_equal(cfg->metrics.ncaches, 0);
	config_free(cfg);
}

/* '#' after a blank starts a comment, in list values too. */
static void comments_after_values(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = parse_ok("[pressure]\ncaches = zio_* dnode_t # the big ones\n"
		       "cooldown = 1h # hours work\n"
		       "[metrics]\ncaches = a* #b*\n"
		       "interval = 30s	# a tab before it\n"
		       "[tunables]\nkmem_threads = 8 # more\n");
	assert_int_equal(cfg->pressure.ncaches, 2);
	assert_string_equal(cfg->pressure.caches[1], "dnode_t");
	assert_int_equal(cfg->pressure.cooldown_us, 3600000000ULL);
	assert_int_equal(cfg->metrics.ncaches, 1);
	assert_string_equal(cfg->metrics.caches[0], "a*");
	assert_int_equal(cfg->metrics.interval_us, 30000000);
	assert_int_equal(cfg->tunable[TUNABLE_KMEM_THREADS], 8);
	config_free(cfg);
	/* Without a blank before it, '#' is part of the value. */
	expect_error("[pressure]\ncooldown = 1s#x\n", 2, "invalid value '1s#x'");
}

static void value_too_long(void **state)
{
	char text[512];

	(void)state;
	/* A value longer than its field, on a line inih still takes. */
	snprintf(text, sizeof(text), "[metrics]\nlisten = %0130d:1\n", 0);
	expect_error(text, 2, "invalid value");
}

/* ---- value parsers ---- */

static void parsers(void **state)
{
	char host[16];
	uint16_t port;
	uint64_t us;
	uint32_t v;
	bool b;

	(void)state;
	assert_int_equal(config_parse_u32("0", 1, 5, true, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(config_parse_u32("0", 1, 5, false, &v), -ERANGE);
	assert_int_equal(config_parse_u32("6", 1, 5, false, &v), -ERANGE);
	assert_int_equal(config_parse_u32("", 1, 5, false, &v), -EINVAL);
	assert_int_equal(config_parse_u32("+1", 1, 5, false, &v), -EINVAL);
	assert_int_equal(config_parse_u32(" 1", 1, 5, false, &v), -EINVAL);
	assert_int_equal(config_parse_u32("4294967296", 0, UINT32_MAX, false, &v),
			 -ERANGE);
	assert_int_equal(config_parse_u32("4294967295", 0, UINT32_MAX, false, &v), 0);

	assert_int_equal(config_parse_bool("Yes", &b), 0);
	assert_true(b);
	assert_int_equal(config_parse_bool("OFF", &b), 0);
	assert_false(b);
	assert_int_equal(config_parse_bool("2", &b), -EINVAL);

	assert_int_equal(config_parse_duration("7", &us), 0);
	assert_int_equal(us, 7000000);
	assert_int_equal(config_parse_duration("7 ms", &us), 0);
	assert_int_equal(us, 7000);
	assert_int_equal(config_parse_duration("2h", &us), 0);
	assert_int_equal(us, 7200000000ULL);
	assert_int_equal(config_parse_duration("24h", &us), 0);
	assert_int_equal(config_parse_duration("25h", &us), -ERANGE);
	assert_int_equal(config_parse_duration("3min", &us), 0);
	assert_int_equal(us, 180000000);
	assert_int_equal(config_parse_duration("1.5s", &us), -EINVAL);
	assert_int_equal(config_parse_duration("s", &us), -EINVAL);
	assert_int_equal(config_parse_duration("86401s", &us), -ERANGE);
	assert_int_equal(config_parse_duration("99999999999999999999999", &us),
			 -ERANGE);

	assert_int_equal(config_parse_listen("1.2.3.4:80", host, sizeof(host),
					     &port), 0);
	assert_string_equal(host, "1.2.3.4");
	assert_int_equal(port, 80);
	assert_int_equal(config_parse_listen(":9", host, sizeof(host), &port), 0);
	assert_string_equal(host, "");
	assert_int_equal(config_parse_listen("[fe80::1]:65535", host,
					     sizeof(host), &port), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(config_parse_listen("localhost:1", host, sizeof(host),
					     &port), 0);
	assert_int_equal(config_parse_listen("a-very-long-host-name:1", host,
					     sizeof(host), &port), -ERANGE);
}

/* ---- files ---- */

static void load_files(void **state)
{
	char dir[] = "/tmp/spl-kmemd-test.XXXXXX", path[256];
	struct config_errors errs;
	struct config *cfg;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	/* Missing and optional: the defaults. */
	assert_int_equal(config_load(path, false, &cfg, &errs), 0);
	assert_non_null(cfg);
	assert_int_equal(errs.n, 0);
	config_free(cfg);
	/* Missing and required: an error naming the file. */
	assert_int_equal(config_load(path, true, &cfg, &errs), -ENOENT);
	assert_null(cfg);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 0);
	assert_string_equal(errs.file, path);
	assert_non_null(strstr(errs.v[0].msg, "cannot open"));
	/* A directory: opens, but cannot be read. */
	assert_int_equal(config_load(dir, true, &cfg, &errs), -EINVAL);
	assert_null(cfg);
	assert_non_null(strstr(errs.v[0].msg, "read error"));
	/* A real file with an error. */
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[metrics]\ninterval = 1s\n[nope]\n", f);
	fclose(f);
	assert_int_equal(config_load(path, true, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.v[0].line, 3);
	{
		char buf[600], want[300];

		config_error_format(&errs, 0, buf, sizeof(buf));
		snprintf(want, sizeof(want), "%s:3: unknown section [nope]", path);
		assert_true(!strncmp(buf, want, strlen(want)));
	}
	/* Unreadable, when not root can tell. */
	if (geteuid() != 0) {
		chmod(path, 0);
		assert_int_equal(config_load(path, true, &cfg, &errs), -EACCES);
	}
	unlink(path);
	rmdir(dir);
}

/* The example configuration in etc/ must be valid. */
static void example_file(void **state)
{
	struct config_errors errs;
	struct config *cfg;

	(void)state;
	assert_int_equal(config_load(SPLKMEMD_EXAMPLE_CONF, true, &cfg, &errs), 0);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(full_file),
		cmocka_unit_test(empty_values_allowed),
		cmocka_unit_test(syntax_errors),
		cmocka_unit_test(nul_byte),
		cmocka_unit_test(long_line),
		cmocka_unit_test(many_errors),
		cmocka_unit_test(errors_sorted_by_line),
		cmocka_unit_test(section_errors),
		cmocka_unit_test(cache_pattern_errors),
		cmocka_unit_test(key_errors),
		cmocka_unit_test(tunable_values),
		cmocka_unit_test(pressure_values),
		cmocka_unit_test(pressure_window_default_threshold),
		cmocka_unit_test(caches_values),
		cmocka_unit_test(cgroup_values),
		cmocka_unit_test(cgroup_ok),
		cmocka_unit_test(glob_with_brackets),
		cmocka_unit_test(metrics_values),
		cmocka_unit_test(metrics_caches),
		cmocka_unit_test(comments_after_values),
		cmocka_unit_test(value_too_long),
		cmocka_unit_test(parsers),
		cmocka_unit_test(load_files),
		cmocka_unit_test(example_file),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
