// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Parsing spl-kmemd.conf.
 *
 * inih splits "key = value" lines and strips comments; what it cannot do
 * with Debian's build (no INI_HANDLER_LINENO) is tell the handler which
 * line it is on.  So the file is fed to ini_parse_stream() through a
 * reader of our own that counts lines: inih asks for one line, then
 * handles it, before asking for the next, so the reader's count is the
 * handler's line.  The reader also does what inih would do silently or
 * not at all: it checks section headers (so an empty [bogus] section is
 * an error too), rejects over-long lines instead of letting inih split
 * them, and strips leading blanks so an indented line is never taken for
 * a continuation of the previous value.
 *
 * Everything is parsed into a fresh struct config and checked in full;
 * the caller puts it in force only if there was no error at all.
 */
#include <errno.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include <spl_kmem/genl.h>

#include "config.h"

#include "util.h"

/* Names only: the loaded module says which values it takes (TUNABLE_GET
 * reports each tunable's range), and is asked before anything is set. */
const struct config_tunable_desc config_tunables[TUNABLE_COUNT] = {
	[TUNABLE_MAGAZINE_SIZE] = { "magazine_size" },
	[TUNABLE_OBJ_PER_SLAB] = { "obj_per_slab" },
	[TUNABLE_MAX_SIZE] = { "max_size" },
	[TUNABLE_SLAB_LIMIT] = { "slab_limit" },
	[TUNABLE_KMEM_THREADS] = { "kmem_threads" },
};

enum section {
	SEC_NONE,	/* before the first header */
	SEC_BAD,	/* a header we rejected: its keys are not checked */
	SEC_TUNABLES,
	SEC_CACHE,
	SEC_PRESSURE,
	SEC_METRICS,
	SEC_COUNT
};

static const char *const section_names[SEC_COUNT] = {
	[SEC_TUNABLES] = "tunables",
	[SEC_CACHE] = "cache",
	[SEC_PRESSURE] = "pressure",
	[SEC_METRICS] = "metrics",
};

struct parser;
typedef int (*setter_fn)(struct parser *p, const char *value);

struct key {
	enum section sec;
	const char *name;
	setter_fn set;
	bool repeatable;	/* each occurrence adds to a list */
};

struct parser {
	FILE *f;
	char *line;
	size_t cap;
	int max_line;		/* what inih can hold, newline and NUL included */
	unsigned int lineno;
	struct config *cfg;
	struct config_errors *errs;
	enum section sec;
	size_t cache;		/* index of the current [cache] section */
	unsigned int sec_line[SEC_COUNT];
	unsigned int key_line[32];	/* by index in keys[], current section */
	unsigned int caches_all_line;	/* "caches = all" seen there */
	unsigned int threshold_line, window_line;
	const char *key;	/* the key being set, for messages */
	bool oom;
};

/* ---- errors ---- */

__attribute__((format(printf, 3, 4)))
static int error_at(struct config_errors *errs, unsigned int line,
		    const char *fmt, ...)
{
	struct config_error *e;
	va_list ap;

	if (errs->n == CONFIG_MAX_ERRORS) {
		errs->dropped++;
		return -EINVAL;
	}
	e = &errs->v[errs->n++];
	e->line = line;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define perr(p, ...) error_at((p)->errs, (p)->lineno, __VA_ARGS__)

void config_error_format(const struct config_errors *errs, size_t i,
			 char *buf, size_t len)
{
	const struct config_error *e = &errs->v[i];

	if (e->line)
		snprintf(buf, len, "%s:%u: %s", errs->file, e->line, e->msg);
	else
		snprintf(buf, len, "%s: %s", errs->file, e->msg);
}

static int cmp_error(const void *a, const void *b)
{
	const struct config_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* ---- values ---- */

int config_parse_u32(const char *s, uint32_t min, uint32_t max, bool zero_ok,
		     uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > UINT32_MAX)
		return -ERANGE;
	if (!(v == 0 && zero_ok) && (v < min || v > max))
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int config_parse_duration(const char *s, uint64_t *us)
{
	static const struct { const char *unit; uint64_t us; } units[] = {
		{ "us", 1 }, { "ms", 1000 }, { "s", 1000000 },
		{ "min", 60000000 }, { "h", 3600000000ULL }, { "", 1000000 },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	while (*end == ' ')
		end++;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		/* Nothing sensible here is longer than a day. */
		if (v > 86400ULL * 1000000 / units[i].us)
			return -ERANGE;
		*us = v * units[i].us;
		return 0;
	}
	return -EINVAL;
}

int config_parse_listen(const char *s, char *host, size_t hostlen,
			uint16_t *port)
{
	const char *colon;
	size_t hl;
	uint32_t p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		if (!hl)
			return -EINVAL;
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl))	/* a bare IPv6 address */
			return -EINVAL;
	}
	if (hl >= hostlen)
		return -ERANGE;
	if (config_parse_u32(colon + 1, 1, 65535, false, &p))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* ---- cache names and globs ---- */

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* 0, or an error recorded at the current line about @what. */
static int check_pattern(struct parser *p, const char *s, const char *what)
{
	const char *c;
	bool in_bracket = false;

	if (!s[0])
		return perr(p, "empty %s", what);
	if (strlen(s) > (is_glob(s) ? CONFIG_PATTERN_MAX : CONFIG_NAME_MAX))
		return perr(p, "%s '%s' is too long (at most %d characters for a name, %d for a glob)",
			    what, s, CONFIG_NAME_MAX, CONFIG_PATTERN_MAX);
	for (c = s; *c; c++) {
		if (!isgraph((unsigned char)*c) || *c == '"')
			return perr(p, "%s '%s' has a blank, quote or control character",
				    what, s);
		if (*c == '[')
			in_bracket = true;
		else if (*c == ']')
			in_bracket = false;
	}
	if (in_bracket)
		return perr(p, "%s '%s' has an unterminated '['", what, s);
	return 0;
}

/* ---- setters ---- */

static int bad_value(struct parser *p, const char *value, const char *expect)
{
	return perr(p, "invalid value '%s' for %s: expected %s", value, p->key,
		    expect);
}

static int set_string(struct parser *p, char *dst, size_t len,
		      const char *value)
{
	if (strlen(value) >= len)
		return perr(p, "value of %s is too long (at most %zu characters)",
			    p->key, len - 1);
	strcpy(dst, value);
	return 0;
}

/* [cache] magazine_size: the family's own limits (<spl_kmem/genl.h>). */
static int parse_mag(struct parser *p, const char *value, uint32_t *out)
{
	char expect[64];

	if (!strcmp(value, "auto")) {
		*out = 0;
		return 0;
	}
	if (config_parse_u32(value, SPLKMEM_MAG_MIN, SPLKMEM_MAG_MAX, true, out)) {
		snprintf(expect, sizeof(expect), "auto, 0 (automatic) or %d..%d",
			 SPLKMEM_MAG_MIN, SPLKMEM_MAG_MAX);
		return bad_value(p, value, expect);
	}
	return 0;
}

/* A number the module will judge ("auto" = 0 for magazine_size). */
static int set_tunable(struct parser *p, const char *value)
{
	struct config *cfg = p->cfg;
	uint32_t v;
	size_t i;

	for (i = 0; i < TUNABLE_COUNT; i++)
		if (!strcmp(config_tunables[i].name, p->key))
			break;
	if (i == TUNABLE_COUNT)
		return -ENOENT;	/* not reached: keys come from the table */
	if (i == TUNABLE_MAGAZINE_SIZE && !strcmp(value, "auto"))
		v = 0;
	else if (config_parse_u32(value, 0, UINT32_MAX, true, &v))
		return bad_value(p, value, i == TUNABLE_MAGAZINE_SIZE ?
				 "auto or a number (the loaded module checks its range)" :
				 "a number (the loaded module checks its range)");
	cfg->tunable_set[i] = true;
	cfg->tunable[i] = v;
	cfg->tunable_line[i] = p->lineno;
	return 0;
}

static int set_cache_mag(struct parser *p, const char *value)
{
	struct config_cache *c = &p->cfg->caches[p->cache];

	if (parse_mag(p, value, &c->mag_size))
		return -EINVAL;
	c->has_mag = true;
	return 0;
}

static int set_enabled(struct parser *p, const char *value)
{
	if (config_parse_bool(value, &p->cfg->pressure.enabled))
		return bad_value(p, value, "yes or no");
	return 0;
}

static int set_type(struct parser *p, const char *value)
{
	if (!strcmp(value, "some"))
		p->cfg->pressure.kind = PSI_SOME;
	else if (!strcmp(value, "full"))
		p->cfg->pressure.kind = PSI_FULL;
	else
		return bad_value(p, value, "some or full");
	return 0;
}

static int set_duration(struct parser *p, const char *value, uint64_t min,
			uint64_t max, const char *range, uint64_t *out)
{
	uint64_t us;
	char expect[96];

	snprintf(expect, sizeof(expect), "a duration from %s (e.g. 150ms, 2s)",
		 range);
	if (config_parse_duration(value, &us) || us < min || us > max)
		return bad_value(p, value, expect);
	*out = us;
	return 0;
}

/* PSI: a window of 500 ms..10 s, a threshold above 0 and within it. */
static int set_threshold(struct parser *p, const char *value)
{
	p->threshold_line = p->lineno;
	return set_duration(p, value, 1, 10000000, "1us to 10s",
			    &p->cfg->pressure.threshold_us);
}

static int set_window(struct parser *p, const char *value)
{
	p->window_line = p->lineno;
	return set_duration(p, value, 500000, 10000000, "500ms to 10s",
			    &p->cfg->pressure.window_us);
}

static int set_cooldown(struct parser *p, const char *value)
{
	return set_duration(p, value, 0, 3600000000ULL, "0 to 1h",
			    &p->cfg->pressure.cooldown_us);
}

/* The list the current section's caches = lines add to. */
static void cache_list(struct parser *p, char ****list, size_t **n)
{
	if (p->sec == SEC_METRICS) {
		*list = &p->cfg->metrics.caches;
		*n = &p->cfg->metrics.ncaches;
	} else {
		*list = &p->cfg->pressure.caches;
		*n = &p->cfg->pressure.ncaches;
	}
}

static int add_cache(struct parser *p, const char *name)
{
	char ***list, **v;
	size_t *n, i;

	cache_list(p, &list, &n);
	for (i = 0; i < *n; i++)
		if (!strcmp((*list)[i], name))
			return perr(p, "cache '%s' is listed twice", name);
	v = realloc(*list, (*n + 1) * sizeof(*v));
	if (!v)
		goto oom;
	*list = v;
	v[*n] = strdup(name);
	if (!v[*n])
		goto oom;
	(*n)++;
	return 0;
oom:
	p->oom = true;
	return -ENOMEM;
}

/* "all", or names and globs separated by blanks; may be repeated. */
static int set_caches(struct parser *p, const char *value)
{
	char buf[512], *tok, *save = NULL, ***list;
	size_t *n;
	int rc = 0;

	cache_list(p, &list, &n);
	if (p->caches_all_line || (!strcmp(value, "all") && *n))
		return perr(p, "caches = all cannot be combined with other caches lines");
	if (!strcmp(value, "all")) {
		p->caches_all_line = p->lineno;
		return 0;
	}
	if (set_string(p, buf, sizeof(buf), value))
		return -EINVAL;
	if (!strtok_r(buf, " \t", &save))
		return bad_value(p, value, "all, or cache names and globs");
	strcpy(buf, value);
	save = NULL;
	for (tok = strtok_r(buf, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (check_pattern(p, tok, "cache name or glob"))
			rc = -EINVAL;
		else if (add_cache(p, tok))
			rc = -EINVAL;
	}
	return rc;
}

/* "" (system-wide), "a/b.slice" or "/sys/fs/cgroup/a/b.slice". */
static int set_cgroup(struct parser *p, const char *value)
{
	static const char *const expect =
		"a cgroup under /sys/fs/cgroup/ (absolute or relative to it), or nothing";
	const char *c;

	if (value[0] == '/' && strncmp(value, "/sys/fs/cgroup/", 15))
		return bad_value(p, value, expect);
	for (c = value; *c; c++)
		if (!isgraph((unsigned char)*c))
			return bad_value(p, value, expect);
	for (c = value; (c = strstr(c, "..")); c += 2)
		if ((c == value || c[-1] == '/') && (c[2] == '/' || !c[2]))
			return bad_value(p, value, expect);
	return set_string(p, p->cfg->pressure.cgroup,
			  sizeof(p->cfg->pressure.cgroup), value);
}

static int set_systemd_watch(struct parser *p, const char *value)
{
	if (config_parse_bool(value, &p->cfg->pressure.systemd_watch))
		return bad_value(p, value, "yes or no");
	return 0;
}

static int set_textfile(struct parser *p, const char *value)
{
	size_t n = strlen(value);

	if (n && value[0] != '/')
		return bad_value(p, value, "an absolute path, or nothing");
	if (n && (n < 6 || strcmp(value + n - 5, ".prom") || value[n - 6] == '/'))
		return bad_value(p, value,
				 "a file name ending in .prom (node_exporter reads only those)");
	return set_string(p, p->cfg->metrics.textfile,
			  sizeof(p->cfg->metrics.textfile), value);
}

static int set_listen(struct parser *p, const char *value)
{
	char host[128];
	uint16_t port;

	if (value[0] && config_parse_listen(value, host, sizeof(host), &port))
		return bad_value(p, value,
				 "ADDRESS:PORT, [IPV6-ADDRESS]:PORT, :PORT, or nothing");
	return set_string(p, p->cfg->metrics.listen,
			  sizeof(p->cfg->metrics.listen), value);
}

static int set_interval(struct parser *p, const char *value)
{
	return set_duration(p, value, 1000000, 3600000000ULL, "1s to 1h",
			    &p->cfg->metrics.interval_us);
}

static const struct key keys[] = {
	{ SEC_TUNABLES, "magazine_size", set_tunable, false },
	{ SEC_TUNABLES, "obj_per_slab", set_tunable, false },
	{ SEC_TUNABLES, "max_size", set_tunable, false },
	{ SEC_TUNABLES, "slab_limit", set_tunable, false },
	{ SEC_TUNABLES, "kmem_threads", set_tunable, false },
	{ SEC_CACHE, "magazine_size", set_cache_mag, false },
	{ SEC_PRESSURE, "enabled", set_enabled, false },
	{ SEC_PRESSURE, "type", set_type, false },
	{ SEC_PRESSURE, "threshold", set_threshold, false },
	{ SEC_PRESSURE, "window", set_window, false },
	{ SEC_PRESSURE, "cooldown", set_cooldown, false },
	{ SEC_PRESSURE, "caches", set_caches, true },
	{ SEC_PRESSURE, "cgroup", set_cgroup, false },
	{ SEC_PRESSURE, "systemd_watch", set_systemd_watch, false },
	{ SEC_METRICS, "textfile", set_textfile, false },
	{ SEC_METRICS, "listen", set_listen, false },
	{ SEC_METRICS, "interval", set_interval, false },
	{ SEC_METRICS, "caches", set_caches, true },
};

_Static_assert(ARRAY_SIZE(keys) <= ARRAY_SIZE(((struct parser *)0)->key_line),
	       "parser.key_line has a slot per key");

/* ---- sections ---- */

static int new_cache_section(struct parser *p, const char *pattern)
{
	struct config *cfg = p->cfg;
	struct config_cache *c;
	size_t i;

	if (check_pattern(p, pattern, "cache name or glob"))
		return -EINVAL;
	for (i = 0; i < cfg->ncaches; i++)
		if (!strcmp(cfg->caches[i].pattern, pattern))
			return perr(p, "section [cache %s] appears twice (first on line %u)",
				    pattern, cfg->caches[i].line);
	c = realloc(cfg->caches, (cfg->ncaches + 1) * sizeof(*c));
	if (!c) {
		p->oom = true;
		return -ENOMEM;
	}
	cfg->caches = c;
	c = &cfg->caches[cfg->ncaches];
	memset(c, 0, sizeof(*c));
	strcpy(c->pattern, pattern);
	c->glob = is_glob(pattern);
	c->line = p->lineno;
	p->cache = cfg->ncaches++;
	return 0;
}

/* The ']' that closes the '[' at @s: globs may hold brackets too. */
static char *closing_bracket(char *s)
{
	int depth = 0;

	for (; *s; s++) {
		if (*s == '[')
			depth++;
		else if (*s == ']' && !--depth)
			return s;
	}
	return NULL;
}

/* @s: the line from '[', blanks stripped at both ends. */
static void section_header(struct parser *p, char *s)
{
	char *end = closing_bracket(s), *name, *rest;
	enum section sec;

	memset(p->key_line, 0, sizeof(p->key_line));
	p->caches_all_line = 0;
	p->sec = SEC_BAD;
	if (!end) {
		perr(p, "section header without ']'");
		return;
	}
	for (rest = end + 1; isspace((unsigned char)*rest); rest++)
		;
	if (*rest && *rest != ';' && *rest != '#') {
		perr(p, "unexpected text after the section header: '%s'", rest);
		return;
	}
	*end = '\0';
	for (name = s + 1; isspace((unsigned char)*name); name++)
		;
	while (end > name && isspace((unsigned char)end[-1]))
		*--end = '\0';

	if (!strncmp(name, "cache", 5) &&
	    (isspace((unsigned char)name[5]) || !name[5])) {
		char *pat = name + 5;
		size_t n;

		while (isspace((unsigned char)*pat))
			pat++;
		n = strlen(pat);
		if (n >= 2 && pat[0] == '"' && pat[n - 1] == '"') {
			pat[n - 1] = '\0';
			pat++;
		}
		if (!pat[0]) {
			perr(p, "section [cache] needs a cache name or glob: [cache NAME]");
			return;
		}
		if (!new_cache_section(p, pat))
			p->sec = SEC_CACHE;
		return;
	}
	for (sec = SEC_TUNABLES; sec < SEC_COUNT; sec++)
		if (sec != SEC_CACHE && !strcmp(name, section_names[sec]))
			break;
	if (sec == SEC_COUNT) {
		perr(p, "unknown section [%s] (known: [tunables], [cache NAME], [pressure], [metrics])",
		     name);
		return;
	}
	if (p->sec_line[sec]) {
		perr(p, "section [%s] appears twice (first on line %u)", name,
		     p->sec_line[sec]);
		return;
	}
	p->sec_line[sec] = p->lineno;
	p->sec = sec;
}

/* ---- inih callbacks ---- */

/*
 * Hand inih one line.  Blank lines, comments and lines we already judged
 * go to it as a bare newline, so it neither reports them again nor
 * misreads them.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	ssize_t n = getline(&p->line, &p->cap, p->f);
	char *s, *e;

	if (n < 0)
		return NULL;
	p->lineno++;
	p->max_line = num;
	s = p->line;
	if (p->lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
		s += 3, n -= 3;		/* UTF-8 byte order mark */
	if (memchr(s, '\0', (size_t)n)) {
		perr(p, "line contains a NUL byte");
		goto skip;
	}
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (!*s || *s == '#' || *s == ';')
		goto skip;
	if ((size_t)(e - s) + 2 > (size_t)num) {
		perr(p, "line is longer than %d characters", num - 2);
		goto skip;
	}
	if (*s == '[') {
		section_header(p, s);
		goto skip;
	}
	if (!strpbrk(s, "=:")) {
		perr(p, "expected 'key = value', a [section] or a comment");
		goto skip;
	}
	/* A '#' after a blank starts a comment, as ';' does for inih. */
	for (e = s + 1; *e; e++) {
		if (*e == '#' && isspace((unsigned char)e[-1])) {
			*e = '\0';
			while (e > s && isspace((unsigned char)e[-1]))
				*--e = '\0';
			break;
		}
	}
	snprintf(str, (size_t)num, "%s\n", s);
	return str;
skip:
	snprintf(str, (size_t)num, "\n");
	return str;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parser *p = user;
	size_t i;

	(void)section;		/* the reader tracks sections itself */
	if (p->oom)
		return 0;
	if (p->sec == SEC_BAD)
		return 1;	/* the header was reported */
	if (p->sec == SEC_NONE) {
		perr(p, "'%s' is outside any section", name);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].sec == p->sec && !strcmp(keys[i].name, name))
			break;
	if (i == ARRAY_SIZE(keys)) {
		char list[256] = "";
		size_t len = 0;

		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (keys[i].sec == p->sec && len < sizeof(list))
				len += (size_t)snprintf(list + len, sizeof(list) - len,
							"%s%s", len ? ", " : "",
							keys[i].name);
		perr(p, "unknown key '%s' in [%s] (known: %s)", name,
		     section_names[p->sec], list);
		return 0;
	}
	if (!keys[i].repeatable && p->key_line[i]) {
		perr(p, "duplicate key '%s' (first set on line %u)", name,
		     p->key_line[i]);
		return 0;
	}
	p->key_line[i] = p->lineno;
	p->key = name;
	if (!value[0] && keys[i].set != set_textfile &&
	    keys[i].set != set_listen && keys[i].set != set_cgroup) {
		perr(p, "missing value for %s", name);
		return 0;
	}
	return keys[i].set(p, value) ? 0 : 1;
}

/* ---- the whole file ---- */

struct config *config_new_default(const char *path)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->pressure.enabled = true;
	cfg->pressure.kind = PSI_SOME;
	cfg->pressure.threshold_us = 100000;
	cfg->pressure.window_us = 1000000;
	cfg->pressure.cooldown_us = 10000000;
	cfg->pressure.systemd_watch = false;
	snprintf(cfg->metrics.textfile, sizeof(cfg->metrics.textfile), "%s",
		 CONFIG_DEFAULT_TEXTFILE);
	cfg->metrics.interval_us = 15000000;
	return cfg;
}

void config_free(struct config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->pressure.ncaches; i++)
		free(cfg->pressure.caches[i]);
	free(cfg->pressure.caches);
	for (i = 0; i < cfg->metrics.ncaches; i++)
		free(cfg->metrics.caches[i]);
	free(cfg->metrics.caches);
	free(cfg->caches);
	free(cfg);
}

/* What can only be judged once the whole file is read. */
static void check_whole(struct parser *p)
{
	struct config_pressure *pr = &p->cfg->pressure;

	if (pr->threshold_us > pr->window_us)
		error_at(p->errs, p->threshold_line ? p->threshold_line :
			 p->window_line,
			 "pressure threshold %llu us is longer than the window %llu us",
			 (unsigned long long)pr->threshold_us,
			 (unsigned long long)pr->window_us);
}

int config_parse(FILE *f, const char *name, struct config **out,
		 struct config_errors *errs)
{
	struct parser p = { .f = f, .errs = errs };
	int rc;

	*out = NULL;
	memset(errs, 0, sizeof(*errs));
	snprintf(errs->file, sizeof(errs->file), "%s", name);
	p.cfg = config_new_default(name);
	if (!p.cfg) {
		error_at(errs, 0, "out of memory");
		return -ENOMEM;
	}
	rc = ini_parse_stream(read_line, &p, on_key, &p);
	if (ferror(f))
		error_at(errs, 0, "read error: %s", strerror(errno));
	else if (p.oom || rc == -2)
		error_at(errs, 0, "out of memory");
	else if (rc > 0 && !errs->n)
		error_at(errs, (unsigned int)rc, "syntax error");
	check_whole(&p);
	free(p.line);
	if (errs->n) {
		qsort(errs->v, errs->n, sizeof(errs->v[0]), cmp_error);
		config_free(p.cfg);
		return p.oom ? -ENOMEM : -EINVAL;
	}
	*out = p.cfg;
	return 0;
}

int config_load(const char *path, bool must_exist, struct config **out,
		struct config_errors *errs)
{
	FILE *f = fopen(path, "re");
	int rc;

	if (!f) {
		rc = -errno;
		if (rc == -ENOENT && !must_exist) {
			memset(errs, 0, sizeof(*errs));
			*out = config_new_default(path);
			return *out ? 0 : -ENOMEM;
		}
		memset(errs, 0, sizeof(*errs));
		snprintf(errs->file, sizeof(errs->file), "%s", path);
		error_at(errs, 0, "cannot open: %s", strerror(-rc));
		*out = NULL;
		return rc;
	}
	rc = config_parse(f, path, out, errs);
	fclose(f);
	return rc;
}
