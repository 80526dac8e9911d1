/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spl-kmemd.conf: parsed into a fresh struct config, validated in full,
 * and only then put in force by the caller (never half-applied).  Every
 * error names the file and the line.  The format is in spl-kmemd.conf(5).
 */
#ifndef SPLKMEMD_CONFIG_H
#define SPLKMEMD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH	"/etc/spl-kmem/spl-kmemd.conf"
/*
 * node_exporter's textfile directory differs between distributions:
 * Debian's prometheus-node-exporter reads /var/lib/prometheus/node-exporter;
 * the RPM builds (Fedora/EPEL's golang-github-prometheus-node-exporter and
 * the usual RPMs of upstream's release) use
 * /var/lib/node_exporter/textfile_collector.  The build picks one
 * (daemon/Makefile TEXTFILE_DIR=; packaging/rpm passes the RPM one).
 */
#ifndef CONFIG_DEFAULT_TEXTFILE_DIR
#define CONFIG_DEFAULT_TEXTFILE_DIR "/var/lib/prometheus/node-exporter"
#endif
#define CONFIG_DEFAULT_TEXTFILE	CONFIG_DEFAULT_TEXTFILE_DIR "/spl_kmem.prom"

/* Longest cache name (SPLKMEM_NAME_LEN) and longest glob we accept. */
#define CONFIG_NAME_MAX		31
#define CONFIG_PATTERN_MAX	63

enum config_tunable {
	TUNABLE_MAGAZINE_SIZE,
	TUNABLE_OBJ_PER_SLAB,
	TUNABLE_MAX_SIZE,
	TUNABLE_SLAB_LIMIT,
	TUNABLE_KMEM_THREADS,
	TUNABLE_COUNT
};

struct config_tunable_desc {
	const char *name;	/* the module parameter's name */
};

/* The tunables the [tunables] section knows.  Their ranges are the
 * module's own (TUNABLE_GET), checked before anything is applied. */
extern const struct config_tunable_desc config_tunables[TUNABLE_COUNT];

/* A [cache NAME] or [cache GLOB] section. */
struct config_cache {
	char pattern[CONFIG_PATTERN_MAX + 1];
	bool glob;		/* has * ? or [ */
	bool has_mag;
	uint32_t mag_size;	/* 0 = automatic */
	unsigned int line;	/* of the section header */
};

enum psi_kind { PSI_SOME, PSI_FULL };

struct config_pressure {
	bool enabled;
	enum psi_kind kind;
	uint64_t threshold_us;
	uint64_t window_us;
	uint64_t cooldown_us;
	/* Caches to reap: none listed = every cache (one request). */
	char **caches;
	size_t ncaches;
	char cgroup[256];	/* "" = system-wide /proc/pressure/memory */
	bool systemd_watch;	/* honour $MEMORY_PRESSURE_WATCH/_WRITE */
};

struct config_metrics {
	/* Caches with per-cache series: none listed = every cache. */
	char **caches;
	size_t ncaches;
	char textfile[256];	/* "" = none */
	char listen[128];	/* "" = no HTTP server */
	uint64_t interval_us;
};

struct config {
	char path[256];
	bool tunable_set[TUNABLE_COUNT];
	uint32_t tunable[TUNABLE_COUNT];
	unsigned int tunable_line[TUNABLE_COUNT];
	struct config_cache *caches;
	size_t ncaches;
	struct config_pressure pressure;
	struct config_metrics metrics;
};

struct config_error {
	unsigned int line;	/* 0 = the file as a whole */
	char msg[240];
};

#define CONFIG_MAX_ERRORS 32

struct config_errors {
	char file[256];
	struct config_error v[CONFIG_MAX_ERRORS];
	size_t n;
	size_t dropped;		/* errors beyond CONFIG_MAX_ERRORS */
};

/* Defaults, as if from an empty file. NULL if out of memory. */
struct config *config_new_default(const char *path);

/*
 * Parse @path.  Return 0 and a new config in *@out, or a negative errno
 * (-EINVAL: the file has errors, all in @errs; -ENOENT...: it could not be
 * read, also in @errs) and *@out NULL.  A missing file is an error only if
 * @must_exist; otherwise the defaults are returned.
 */
int config_load(const char *path, bool must_exist, struct config **out,
		struct config_errors *errs);
/* The same from an open stream, named @name in messages. */
int config_parse(FILE *f, const char *name, struct config **out,
		 struct config_errors *errs);
void config_free(struct config *cfg);

/* "FILE:LINE: message" (or "FILE: message" for line 0). */
void config_error_format(const struct config_errors *errs, size_t i,
			 char *buf, size_t len);

/* Value parsers, shared with the unit tests. 0 or -EINVAL/-ERANGE. */
int config_parse_u32(const char *s, uint32_t min, uint32_t max, bool zero_ok,
		     uint32_t *out);
int config_parse_bool(const char *s, bool *out);
/* "150ms", "1s", "2min", "1h", "500us"; a bare number is seconds. */
int config_parse_duration(const char *s, uint64_t *us);
/* "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (every address). */
int config_parse_listen(const char *s, char *host, size_t hostlen,
			uint16_t *port);

#endif /* SPLKMEMD_CONFIG_H */
