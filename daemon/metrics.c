// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Prometheus text format.  The per-cache metrics are a table: each row
 * says which field of struct splkmem_cache_info it reports, so a field
 * the dump gains needs one row here.  Names follow node_exporter's
 * slabinfo collector where one applies (objects, object_size_bytes,
 * objects_per_slab).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"

#include "util.h"

enum mtype { GAUGE, COUNTER, HISTOGRAM };

struct cache_metric {
	const char *name;
	enum mtype type;
	const char *help;
	uint16_t off;
	uint8_t size;		/* 1 (bool), 4 or 8 */
};

#define M(_name, _type, _field, _help)					\
	{ "spl_kmem_cache_" _name, _type, _help,			\
	  offsetof(struct splkmem_cache_info, _field),			\
	  sizeof(((struct splkmem_cache_info *)0)->_field) }

/*
 * What may change while a cache lives.  Its constant facts (object size,
 * alignment, slab size, objects per slab, backing, flags) are labels of
 * one spl_kmem_cache_info series instead: a series per cache per fact
 * would cost a fleet's Prometheus for values that never move.
 */
static const struct cache_metric cache_metrics[] = {
	M("magazine_size", GAUGE, mag_size,
	  "Capacity of each per-CPU magazine, in objects."),
	M("magazine_refill", GAUGE, mag_refill,
	  "Objects moved per magazine refill or flush."),
	M("magazine_auto", GAUGE, mag_auto,
	  "1 when the magazine size is chosen automatically."),
	M("magazine_objects", GAUGE, mag_objs,
	  "Objects held in the magazines of all CPUs and the depot."),
	M("depot_full_magazines", GAUGE, depot_full,
	  "Full magazines in the cache's depot."),
	M("depot_empty_magazines", GAUGE, depot_empty,
	  "Empty magazines in the cache's depot."),
	M("depot_lock_acquisitions_total", COUNTER, depot_locks,
	  "Acquisitions of the depot lock (one per whole magazine traded)."),
	M("depot_lock_contentions_total", COUNTER, depot_contended,
	  "Depot lock acquisitions that found the lock held."),
	M("slab_lock_acquisitions_total", COUNTER, slab_locks,
	  "Acquisitions of the slab lock by magazine refills, flushes and drains."),
	M("slab_lock_contentions_total", COUNTER, slab_contended,
	  "Slab lock acquisitions by allocations and frees that found it held."),
	M("slabs", GAUGE, slab_total, "Slabs held by the cache."),
	M("slabs_in_use", GAUGE, slab_alloc,
	  "Slabs with at least one object allocated."),
	M("slabs_in_use_max", GAUGE, slab_max,
	  "High-water mark of slabs in use."),
	M("objects", GAUGE, obj_total,
	  "Objects in all slabs, emergency objects included."),
	M("objects_allocated", GAUGE, obj_alloc,
	  "Objects handed out (live or in magazines), emergency objects included."),
	M("objects_allocated_max", GAUGE, obj_max,
	  "High-water mark of objects allocated."),
	M("emergency_objects", GAUGE, obj_emergency,
	  "Emergency objects outstanding."),
	M("emergency_objects_max", GAUGE, obj_emergency_max,
	  "High-water mark of emergency objects outstanding."),
	M("deadlocks_total", COUNTER, obj_deadlock,
	  "Slab growths declared deadlocked."),
	M("linux_objects", GAUGE, linux_objs,
	  "Objects allocated from the Linux slab cache backing the cache."),
	M("slabs_created_total", COUNTER, slab_create, "Slabs created."),
	M("slabs_destroyed_total", COUNTER, slab_destroy, "Slabs freed."),
	M("slab_alloc_failures_total", COUNTER, slab_fail,
	  "Slab allocations that failed."),
	M("growths_total", COUNTER, grow,
	  "Asynchronous growths that added slabs."),
	M("reaps_total", COUNTER, reap, "Reaps of the cache."),
	M("memory_bytes", GAUGE, bytes,
	  "Memory held by the cache (slabs and emergency objects)."),
};

#undef M

static const char *const error_names[ERR_COUNT] = {
	[ERR_CONNECT] = "connect",
	[ERR_DUMP] = "dump",
	[ERR_EVENTS] = "events",
	[ERR_MAGAZINE] = "magazine",
	[ERR_TUNABLE] = "tunable",
	[ERR_REAP] = "reap",
	[ERR_PRESSURE] = "pressure",
	[ERR_TEXTFILE] = "textfile",
	[ERR_HTTP] = "http",
};

const char *daemon_error_name(enum daemon_error e)
{
	return (unsigned int)e < ERR_COUNT ? error_names[e] : "unknown";
}

static const char *type_name(enum mtype t)
{
	return t == COUNTER ? "counter" : t == HISTOGRAM ? "histogram" : "gauge";
}

static void header(FILE *out, const char *name, enum mtype type,
		   const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
		type_name(type));
}

void metrics_escape_label(FILE *out, const char *value)
{
	const char *c;

	for (c = value; *c; c++) {
		if (*c == '\\')
			fputs("\\\\", out);
		else if (*c == '"')
			fputs("\\\"", out);
		else if (*c == '\n')
			fputs("\\n", out);
		else
			fputc(*c, out);
	}
}

static uint64_t field(const struct splkmem_cache_info *c,
		      const struct cache_metric *m)
{
	const char *p = (const char *)c + m->off;
	uint32_t v32;
	uint64_t v64;

	switch (m->size) {
	case 1:
		return *(const bool *)p;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v64, p, 8);
		return v64;
	}
}

/* "0.05", "1", "2.5": microseconds as seconds, for label values. */
static void fmt_seconds(uint64_t us, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%llu.%06llu", (unsigned long long)(us / 1000000),
		 (unsigned long long)(us % 1000000));
	n = strlen(buf);
	while (n && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n && buf[n - 1] == '.')
		buf[--n] = '\0';
}

static void cache_series(FILE *out, const struct splkmem_cache_info *caches,
			 size_t n)
{
	char flags[64];
	size_t i, j;

	header(out, "spl_kmem_caches", GAUGE, "Caches that exist.");
	fprintf(out, "spl_kmem_caches %zu\n", n);
	if (!n)
		return;
	header(out, "spl_kmem_cache_info", GAUGE,
	       "Constant 1, labelled with the cache's constant facts: backing, creation flags, object size and alignment, slab size and objects per slab (bytes; 0 for caches backed by the Linux slab).");
	for (i = 0; i < n; i++) {
		const struct splkmem_cache_info *c = &caches[i];

		splkmem_flags_str(c->flags, flags, sizeof(flags));
		fputs("spl_kmem_cache_info{cache=\"", out);
		metrics_escape_label(out, c->name);
		fprintf(out, "\",backing=\"%s\",flags=\"%s\",object_size=\"%u\",object_align=\"%u\",slab_size=\"%u\",objects_per_slab=\"%u\"} 1\n",
			splkmem_backing_name(c->backing), flags, c->obj_size,
			c->obj_align, c->slab_size, c->slab_objs);
	}
	for (j = 0; j < ARRAY_SIZE(cache_metrics); j++) {
		const struct cache_metric *m = &cache_metrics[j];

		header(out, m->name, m->type, m->help);
		for (i = 0; i < n; i++) {
			fprintf(out, "%s{cache=\"", m->name);
			metrics_escape_label(out, caches[i].name);
			fprintf(out, "\"} %llu\n",
				(unsigned long long)field(&caches[i], m));
		}
	}
}

size_t metrics_series_per_cache(void)
{
	return 1 + ARRAY_SIZE(cache_metrics);
}

const uint64_t metrics_reap_buckets_us[METRICS_REAP_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000,
};

void metrics_observe_reap(struct daemon_stats *st, uint64_t us,
			  uint64_t unix_s)
{
	size_t i;

	for (i = 0; i < METRICS_REAP_BUCKETS; i++)
		if (us <= metrics_reap_buckets_us[i])
			st->reap_hist[i]++;
	st->reap_count++;
	st->reap_sum_us += us;
	st->last_reap_unix = unix_s;
}

static void reap_histogram(FILE *out, const struct daemon_stats *st)
{
	static const char *const name = "spl_kmemd_reap_duration_seconds";
	char le[32];
	size_t i;

	header(out, name, HISTOGRAM,
	       "Time from a memory pressure event's arrival to the end of the reap it caused.");
	for (i = 0; i < METRICS_REAP_BUCKETS; i++) {
		fmt_seconds(metrics_reap_buckets_us[i], le, sizeof(le));
		fprintf(out, "%s_bucket{le=\"%s\"} %llu\n", name, le,
			(unsigned long long)st->reap_hist[i]);
	}
	fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name,
		(unsigned long long)st->reap_count);
	fprintf(out, "%s_sum %llu.%06llu\n", name,
		(unsigned long long)(st->reap_sum_us / 1000000),
		(unsigned long long)(st->reap_sum_us % 1000000));
	fprintf(out, "%s_count %llu\n", name,
		(unsigned long long)st->reap_count);
}

static void pressure_info(FILE *out, const struct daemon_stats *st)
{
	char th[32], win[32];

	header(out, "spl_kmemd_pressure_info", GAUGE,
	       "Constant 1 while a memory pressure trigger is armed, labelled with its source (system, cgroup or systemd), the file watched and the trigger.");
	if (!st->pressure_active)
		return;
	fmt_seconds(st->pressure_threshold_us, th, sizeof(th));
	fmt_seconds(st->pressure_window_us, win, sizeof(win));
	fprintf(out, "spl_kmemd_pressure_info{source=\"%s\",path=\"",
		st->pressure_source);
	metrics_escape_label(out, st->pressure_path);
	fprintf(out, "\",type=\"%s\",threshold_seconds=\"%s\",window_seconds=\"%s\"} 1\n",
		st->pressure_kind, st->pressure_kind[0] ? th : "",
		st->pressure_kind[0] ? win : "");
}

static void one(FILE *out, const char *name, enum mtype type,
		const char *help, uint64_t v)
{
	header(out, name, type, help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void daemon_series(FILE *out, const struct daemon_stats *st)
{
	size_t i;

	header(out, "spl_kmemd_build_info", GAUGE,
	       "Constant 1, labelled with the daemon's version.");
	fputs("spl_kmemd_build_info{version=\"", out);
	metrics_escape_label(out, st->version ? st->version : "unknown");
	fputs("\"} 1\n", out);
	one(out, "spl_kmemd_module_loaded", GAUGE,
	    "1 when the spl_kmem module is loaded and the daemon is connected to it.",
	    st->module_loaded);
	one(out, "spl_kmemd_module_connections_total", COUNTER,
	    "Times the daemon connected to the module (at start and after each reload of it).",
	    st->module_connects);
	one(out, "spl_kmemd_pressure_trigger_active", GAUGE,
	    "1 when a memory pressure (PSI) trigger is armed.",
	    st->pressure_active);
	pressure_info(out, st);
	one(out, "spl_kmemd_pressure_events_total", COUNTER,
	    "Memory pressure events received from the PSI trigger.",
	    st->pressure_events);
	one(out, "spl_kmemd_pressure_events_ratelimited_total", COUNTER,
	    "Memory pressure events that caused no reap because of the cooldown.",
	    st->pressure_ratelimited);
	one(out, "spl_kmemd_reaps_total", COUNTER,
	    "Reap requests the module carried out.", st->reaps);
	one(out, "spl_kmemd_reaped_bytes_total", COUNTER,
	    "Bytes the reaps returned to the system.", st->reaped_bytes);
	one(out, "spl_kmemd_reaped_slabs_total", COUNTER,
	    "Slabs the reaps freed.", st->reaped_slabs);
	one(out, "spl_kmemd_last_reap_timestamp_seconds", GAUGE,
	    "Unix time of the last reap on memory pressure that succeeded (0: none yet).",
	    st->last_reap_unix);
	reap_histogram(out, st);
	one(out, "spl_kmemd_textfile_write_timestamp_seconds", GAUGE,
	    "Unix time the textfile was last written successfully (0: never).",
	    st->textfile_write_unix);
	one(out, "spl_kmemd_magazine_changes_total", COUNTER,
	    "Cache magazine sizes set from the configuration.",
	    st->magazine_changes);
	one(out, "spl_kmemd_tunable_changes_total", COUNTER,
	    "Module tunables set from the configuration.",
	    st->tunable_changes);
	header(out, "spl_kmemd_config_reloads_total", COUNTER,
	       "Configuration reloads (SIGHUP), by result.");
	fprintf(out, "spl_kmemd_config_reloads_total{result=\"success\"} %llu\n"
		"spl_kmemd_config_reloads_total{result=\"failure\"} %llu\n",
		(unsigned long long)st->reloads_ok,
		(unsigned long long)st->reloads_failed);
	one(out, "spl_kmemd_config_last_reload_successful", GAUGE,
	    "1 when the last configuration reload (or the start) succeeded.",
	    st->last_reload_ok);
	header(out, "spl_kmemd_errors_total", COUNTER,
	       "Operations that failed, by operation.");
	for (i = 0; i < ERR_COUNT; i++)
		fprintf(out, "spl_kmemd_errors_total{operation=\"%s\"} %llu\n",
			error_names[i], (unsigned long long)st->errors[i]);
}

int metrics_format(FILE *out, const struct splkmem_cache_info *caches,
		   size_t ncaches, const struct daemon_stats *st)
{
	if (caches)
		cache_series(out, caches, ncaches);
	daemon_series(out, st);
	return ferror(out) ? -EIO : 0;
}

char *metrics_render(const struct splkmem_cache_info *caches, size_t ncaches,
		     const struct daemon_stats *st, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	int rc;

	if (!out)
		return NULL;
	rc = metrics_format(out, caches, ncaches, st);
	if (fclose(out) || rc) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

int metrics_write_textfile(const char *path, const char *buf, size_t len,
			   const char **what)
{
	size_t plen = strlen(path), done = 0;
	const char *step = "creating a temporary file";
	char *tmp = malloc(plen + 8);
	int fd, rc = 0;

	if (!tmp) {
		rc = -ENOMEM;
		goto out;
	}
	/* node_exporter reads only *.prom: it never sees the temporary. */
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	step = "writing";
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		done += (size_t)n;
	}
	if (!rc && fchmod(fd, 0644))
		step = "making it readable", rc = -errno;
	/*
	 * No fsync: this runs in the event loop, and a slow disk must not
	 * hold up pressure handling or the watchdog.  rename() is atomic for
	 * readers; after a crash the file is rewritten within an interval.
	 */
	if (close(fd) && !rc)
		step = "closing", rc = -errno;
	if (!rc && rename(tmp, path))
		step = "renaming it into place", rc = -errno;
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	if (what)
		*what = rc ? step : NULL;
	return rc;
}
