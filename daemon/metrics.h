/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Metrics in the Prometheus text exposition format (version 0.0.4):
 * a series per cache for every statistic the module's dump reports,
 * labelled cache="NAME", and the daemon's own counters.  Gauges carry
 * no suffix, counters end in _total, sizes are in bytes.  No timestamps
 * (the textfile collector forbids them).
 */
#ifndef SPLKMEMD_METRICS_H
#define SPLKMEMD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "splkmem.h"

/* Buckets of spl_kmemd_reap_duration_seconds, +Inf not counted. */
#define METRICS_REAP_BUCKETS 11

/* What failed, for spl_kmemd_errors_total{operation="..."}. */
enum daemon_error {
	ERR_CONNECT,
	ERR_DUMP,
	ERR_EVENTS,
	ERR_MAGAZINE,
	ERR_TUNABLE,
	ERR_REAP,
	ERR_PRESSURE,
	ERR_TEXTFILE,
	ERR_HTTP,
	ERR_COUNT
};

struct daemon_stats {
	uint64_t pressure_events;	/* trigger firings */
	uint64_t pressure_ratelimited;	/* ...that the cooldown held back */
	uint64_t reaps;			/* reap requests that succeeded */
	uint64_t reaped_bytes;
	uint64_t reaped_slabs;
	uint64_t magazine_changes;
	uint64_t tunable_changes;
	uint64_t reloads_ok;
	uint64_t reloads_failed;
	uint64_t module_connects;
	uint64_t errors[ERR_COUNT];
	bool module_loaded;
	bool pressure_active;		/* a trigger is armed */
	bool last_reload_ok;
	const char *version;		/* spl_kmemd_build_info */
	/* Reaps on pressure: duration histogram, last success. */
	uint64_t reap_hist[METRICS_REAP_BUCKETS];		/* per bucket, cumulative */
	uint64_t reap_count, reap_sum_us;
	uint64_t last_reap_unix;	/* seconds; 0 = none */
	uint64_t textfile_write_unix;	/* seconds; 0 = never */
	/* The pressure source and trigger in force (kind "" if unknown). */
	char pressure_source[16];	/* "system", "cgroup", "systemd" */
	char pressure_path[512];
	char pressure_kind[8];
	uint64_t pressure_threshold_us, pressure_window_us;
};

const char *daemon_error_name(enum daemon_error e);

/* Their upper bounds, in microseconds. */
extern const uint64_t metrics_reap_buckets_us[METRICS_REAP_BUCKETS];
/* Count a reap that took @us and ended at Unix time @unix_s. */
void metrics_observe_reap(struct daemon_stats *st, uint64_t us,
			  uint64_t unix_s);
/* Series per cache (the info series included), for the documentation. */
size_t metrics_series_per_cache(void);

/*
 * Write every metric to @out.  @caches (NULL when the module is not
 * loaded) are the module's caches.  0, or -EIO if @out failed.
 */
int metrics_format(FILE *out, const struct splkmem_cache_info *caches,
		   size_t ncaches, const struct daemon_stats *st);

/* The same into a malloc'ed, NUL-terminated buffer; NULL if no memory. */
char *metrics_render(const struct splkmem_cache_info *caches, size_t ncaches,
		     const struct daemon_stats *st, size_t *len);

/*
 * Replace @path atomically with @buf: a temporary file in the same
 * directory, written, made world-readable and renamed over @path (no
 * fsync: see metrics.c).  0 or a negative errno; @what (if not NULL)
 * then names the step that failed.
 */
int metrics_write_textfile(const char *path, const char *buf, size_t len,
			   const char **what);

/* Label value escaping (backslash, double quote, newline). */
void metrics_escape_label(FILE *out, const char *value);

#endif /* SPLKMEMD_METRICS_H */
