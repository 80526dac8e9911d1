// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spl-kmemd metrics: the exposition text, label escaping, and the atomic
 * textfile write.  With $SPLKMEMD_METRICS_SAMPLE set, also writes a
 * realistic sample there for `promtool check metrics` (make check).
 */
#include <dirent.h>
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

#include "metrics.h"

static void fill(struct splkmem_cache_info *c, const char *name, int k)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->backing = k % 2 ? SPLKMEM_BACKING_SLAB : SPLKMEM_BACKING_KVMEM;
	c->flags = k % 2 ? SPLKMEM_CACHE_F_SLAB :
		   SPLKMEM_CACHE_F_KVMEM | SPLKMEM_CACHE_F_RECLAIMABLE;
	c->obj_size = 512u * (unsigned)(k + 1);
	c->obj_align = 8;
	c->slab_size = k % 2 ? 0 : 1u << 20;
	c->slab_objs = k % 2 ? 0 : 1800;
	c->mag_size = k % 2 ? 0 : 64;
	c->mag_refill = k % 2 ? 0 : 32;
	c->mag_auto = k == 0;
	c->mag_objs = 100;
	c->slab_total = 7;
	c->slab_alloc = 5;
	c->slab_max = 9;
	c->obj_total = 12600;
	c->obj_alloc = 9000;
	c->obj_max = 11000;
	c->obj_emergency = 1;
	c->obj_emergency_max = 3;
	c->obj_deadlock = 2;
	c->linux_objs = k % 2 ? 4242 : 0;
	c->slab_create = 40;
	c->slab_destroy = 33;
	c->slab_fail = 0;
	c->depot_full = 3;
	c->depot_empty = 4;
	c->depot_locks = 500;
	c->depot_contended = 6;
	c->slab_locks = 700;
	c->slab_contended = 8;
	c->grow = 12;
	c->reap = 4;
	c->bytes = 7ull << 20;
}

static struct daemon_stats sample_stats(void)
{
	struct daemon_stats st;

	memset(&st, 0, sizeof(st));
	st.pressure_events = 17;
	st.pressure_ratelimited = 9;
	st.reaps = 8;
	st.reaped_bytes = 123456789012ull;
	st.reaped_slabs = 321;
	st.magazine_changes = 3;
	st.tunable_changes = 1;
	st.reloads_ok = 2;
	st.reloads_failed = 1;
	st.module_connects = 2;
	st.errors[ERR_REAP] = 1;
	st.errors[ERR_TEXTFILE] = 5;
	st.module_loaded = true;
	st.pressure_active = true;
	st.last_reload_ok = false;
	st.version = "1.2.3";
	snprintf(st.pressure_source, sizeof(st.pressure_source), "system");
	snprintf(st.pressure_path, sizeof(st.pressure_path), "/proc/pressure/memory");
	snprintf(st.pressure_kind, sizeof(st.pressure_kind), "some");
	st.pressure_threshold_us = 150000;
	st.pressure_window_us = 1000000;
	metrics_observe_reap(&st, 800, 1700000000);	/* 0.8 ms */
	metrics_observe_reap(&st, 30000, 1700000001);	/* 30 ms */
	metrics_observe_reap(&st, 9000000, 1700000002);	/* 9 s: +Inf only */
	st.textfile_write_unix = 1700000003;
	return st;
}

static char *render(const struct splkmem_cache_info *c, size_t n,
		    const struct daemon_stats *st)
{
	size_t len;
	char *buf = metrics_render(c, n, st, &len);

	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static void has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n'))
			return;
		p += n;
	}
	fprintf(stderr, "missing line: %s\n", line);
	fail();
}

static void cache_series(void **state)
{
	struct splkmem_cache_info c[2];
	struct daemon_stats st = sample_stats();
	char *out;

	(void)state;
	fill(&c[0], "zio_buf_512", 0);
	fill(&c[1], "dnode_t", 1);
	out = render(c, 2, &st);
	has_line(out, "# HELP spl_kmem_caches Caches that exist.");
	has_line(out, "# TYPE spl_kmem_caches gauge");
	has_line(out, "spl_kmem_caches 2");
	/* The constant facts: labels of one info series per cache. */
	has_line(out, "spl_kmem_cache_info{cache=\"zio_buf_512\",backing=\"kvmem\",flags=\"kvmem,reclaimable\",object_size=\"512\",object_align=\"8\",slab_size=\"1048576\",objects_per_slab=\"1800\"} 1");
	has_line(out, "spl_kmem_cache_info{cache=\"dnode_t\",backing=\"slab\",flags=\"slab\",object_size=\"1024\",object_align=\"8\",slab_size=\"0\",objects_per_slab=\"0\"} 1");
	assert_null(strstr(out, "spl_kmem_cache_object_size_bytes"));
	assert_null(strstr(out, "spl_kmem_cache_objects_per_slab"));
	has_line(out, "spl_kmem_cache_magazine_size{cache=\"zio_buf_512\"} 64");
	has_line(out, "spl_kmem_cache_magazine_refill{cache=\"zio_buf_512\"} 32");
	has_line(out, "spl_kmem_cache_magazine_auto{cache=\"zio_buf_512\"} 1");
	has_line(out, "spl_kmem_cache_magazine_auto{cache=\"dnode_t\"} 0");
	has_line(out, "spl_kmem_cache_magazine_objects{cache=\"dnode_t\"} 100");
	has_line(out, "spl_kmem_cache_depot_full_magazines{cache=\"dnode_t\"} 3");
	has_line(out, "spl_kmem_cache_depot_empty_magazines{cache=\"dnode_t\"} 4");
	has_line(out, "# TYPE spl_kmem_cache_depot_lock_acquisitions_total counter");
	has_line(out, "spl_kmem_cache_depot_lock_acquisitions_total{cache=\"dnode_t\"} 500");
	has_line(out, "spl_kmem_cache_depot_lock_contentions_total{cache=\"dnode_t\"} 6");
	has_line(out, "spl_kmem_cache_slab_lock_acquisitions_total{cache=\"dnode_t\"} 700");
	has_line(out, "spl_kmem_cache_slab_lock_contentions_total{cache=\"dnode_t\"} 8");
	has_line(out, "spl_kmem_cache_slabs{cache=\"dnode_t\"} 7");
	has_line(out, "spl_kmem_cache_slabs_in_use{cache=\"dnode_t\"} 5");
	has_line(out, "spl_kmem_cache_slabs_in_use_max{cache=\"dnode_t\"} 9");
	has_line(out, "spl_kmem_cache_objects{cache=\"dnode_t\"} 12600");
	has_line(out, "spl_kmem_cache_objects_allocated{cache=\"dnode_t\"} 9000");
	has_line(out, "spl_kmem_cache_objects_allocated_max{cache=\"dnode_t\"} 11000");
	has_line(out, "spl_kmem_cache_emergency_objects{cache=\"dnode_t\"} 1");
	has_line(out, "spl_kmem_cache_emergency_objects_max{cache=\"dnode_t\"} 3");
	has_line(out, "# TYPE spl_kmem_cache_deadlocks_total counter");
	has_line(out, "spl_kmem_cache_deadlocks_total{cache=\"dnode_t\"} 2");
	has_line(out, "spl_kmem_cache_linux_objects{cache=\"dnode_t\"} 4242");
	has_line(out, "# TYPE spl_kmem_cache_slabs_created_total counter");
	has_line(out, "spl_kmem_cache_slabs_created_total{cache=\"dnode_t\"} 40");
	has_line(out, "spl_kmem_cache_slabs_destroyed_total{cache=\"dnode_t\"} 33");
	has_line(out, "spl_kmem_cache_slab_alloc_failures_total{cache=\"dnode_t\"} 0");
	has_line(out, "spl_kmem_cache_growths_total{cache=\"dnode_t\"} 12");
	has_line(out, "spl_kmem_cache_reaps_total{cache=\"dnode_t\"} 4");
	has_line(out, "# TYPE spl_kmem_cache_memory_bytes gauge");
	has_line(out, "spl_kmem_cache_memory_bytes{cache=\"dnode_t\"} 7340032");
	/* One HELP and TYPE per family, all of a family's series together. */
	assert_null(strstr(strstr(out, "# TYPE spl_kmem_cache_reaps_total") + 1,
			   "# TYPE spl_kmem_cache_reaps_total"));
	free(out);
}

/*
 * Every numeric field of the dump has a series or an info label: count
 * the series a cache costs, which the documentation states (27).
 */
static void every_statistic(void **state)
{
	struct splkmem_cache_info c;
	struct daemon_stats st = sample_stats();
	char *out, *p;
	int families = 0, series = 0;

	(void)state;
	fill(&c, "x", 0);
	out = render(&c, 1, &st);
	for (p = out; (p = strstr(p, "# TYPE spl_kmem_cache_")); p++)
		families++;
	for (p = out; (p = strstr(p, "\nspl_kmem_cache_")); p++)
		series++;
	/* info + 26 statistics: every field of struct splkmem_cache_info
	 * but name, backing, flags, obj_size, obj_align, slab_size and
	 * slab_objs, which are labels of info. */
	assert_int_equal(families, 1 + 26);
	assert_int_equal(series, 27);
	assert_int_equal(metrics_series_per_cache(), 27);
	free(out);
}

static void daemon_series(void **state)
{
	struct daemon_stats st = sample_stats();
	char *out;

	(void)state;
	out = render(NULL, 0, &st);
	/* Module not loaded: no cache series at all. */
	assert_null(strstr(out, "spl_kmem_cache"));
	has_line(out, "# TYPE spl_kmemd_module_loaded gauge");
	has_line(out, "spl_kmemd_module_loaded 1");
	has_line(out, "spl_kmemd_module_connections_total 2");
	has_line(out, "spl_kmemd_pressure_trigger_active 1");
	has_line(out, "# TYPE spl_kmemd_pressure_events_total counter");
	has_line(out, "spl_kmemd_pressure_events_total 17");
	has_line(out, "spl_kmemd_pressure_events_ratelimited_total 9");
	has_line(out, "spl_kmemd_reaps_total 8");
	has_line(out, "spl_kmemd_reaped_bytes_total 123456789012");
	has_line(out, "spl_kmemd_reaped_slabs_total 321");
	has_line(out, "spl_kmemd_magazine_changes_total 3");
	has_line(out, "spl_kmemd_tunable_changes_total 1");
	has_line(out, "spl_kmemd_config_reloads_total{result=\"success\"} 2");
	has_line(out, "spl_kmemd_config_reloads_total{result=\"failure\"} 1");
	has_line(out, "spl_kmemd_config_last_reload_successful 0");
	has_line(out, "spl_kmemd_errors_total{operation=\"reap\"} 1");
	has_line(out, "spl_kmemd_errors_total{operation=\"textfile\"} 5");
	has_line(out, "spl_kmemd_errors_total{operation=\"connect\"} 0");
	has_line(out, "spl_kmemd_errors_total{operation=\"http\"} 0");
	has_line(out, "# TYPE spl_kmemd_build_info gauge");
	has_line(out, "spl_kmemd_build_info{version=\"1.2.3\"} 1");
	has_line(out, "spl_kmemd_pressure_info{source=\"system\",path=\"/proc/pressure/memory\",type=\"some\",threshold_seconds=\"0.15\",window_seconds=\"1\"} 1");
	has_line(out, "spl_kmemd_last_reap_timestamp_seconds 1700000002");
	has_line(out, "spl_kmemd_textfile_write_timestamp_seconds 1700000003");
	has_line(out, "# TYPE spl_kmemd_reap_duration_seconds histogram");
	has_line(out, "spl_kmemd_reap_duration_seconds_bucket{le=\"0.001\"} 1");
	has_line(out, "spl_kmemd_reap_duration_seconds_bucket{le=\"0.025\"} 1");
	has_line(out, "spl_kmemd_reap_duration_seconds_bucket{le=\"0.05\"} 2");
	has_line(out, "spl_kmemd_reap_duration_seconds_bucket{le=\"2.5\"} 2");
	has_line(out, "spl_kmemd_reap_duration_seconds_bucket{le=\"+Inf\"} 3");
	has_line(out, "spl_kmemd_reap_duration_seconds_sum 9.030800");
	has_line(out, "spl_kmemd_reap_duration_seconds_count 3");
	free(out);

	/* No trigger armed: the info series is absent, not a stale one. */
	st.pressure_active = false;
	out = render(NULL, 0, &st);
	has_line(out, "# TYPE spl_kmemd_pressure_info gauge");
	assert_null(strstr(out, "spl_kmemd_pressure_info{"));
	has_line(out, "spl_kmemd_pressure_trigger_active 0");
	free(out);
}

static void no_caches(void **state)
{
	struct daemon_stats st = sample_stats();
	struct splkmem_cache_info dummy;
	char *out;

	(void)state;
	out = render(&dummy, 0, &st);
	has_line(out, "spl_kmem_caches 0");
	assert_null(strstr(out, "spl_kmem_cache_"));
	free(out);
}

static void label_escaping(void **state)
{
	struct splkmem_cache_info c;
	struct daemon_stats st = sample_stats();
	char *buf = NULL, *out;
	size_t size = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &size);
	assert_non_null(f);
	metrics_escape_label(f, "a\\b\"c\nd");
	fclose(f);
	assert_string_equal(buf, "a\\\\b\\\"c\\nd");
	free(buf);

	fill(&c, "we\"ird\\na\nme", 0);
	out = render(&c, 1, &st);
	has_line(out, "spl_kmem_cache_reaps_total{cache=\"we\\\"ird\\\\na\\nme\"} 4");
	free(out);
}

static void large_values(void **state)
{
	struct splkmem_cache_info c;
	struct daemon_stats st = sample_stats();
	char *out;

	(void)state;
	fill(&c, "big", 0);
	c.bytes = UINT64_MAX;
	c.obj_size = UINT32_MAX;
	out = render(&c, 1, &st);
	has_line(out, "spl_kmem_cache_memory_bytes{cache=\"big\"} 18446744073709551615");
	has_line(out, "spl_kmem_cache_info{cache=\"big\",backing=\"kvmem\",flags=\"kvmem,reclaimable\",object_size=\"4294967295\",object_align=\"8\",slab_size=\"1048576\",objects_per_slab=\"1800\"} 1");
	free(out);
}

static void format_error(void **state)
{
	struct daemon_stats st = sample_stats();
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(metrics_format(f, NULL, 0, &st), -EIO);
	fclose(f);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void textfile_atomic(void **state)
{
	char dir[] = "/tmp/spl-kmemd-metrics.XXXXXX", path[256], buf[64];
	const char *what = "unset";
	struct stat st;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/spl_kmem.prom", dir);
	/* Replaces an existing file; the result is world-readable. */
	f = fopen(path, "w");
	fputs("old\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(metrics_write_textfile(path, "new 1\n", 6, &what), 0);
	assert_null(what);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	f = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf, "new 1\n");
	/* No temporary left behind. */
	assert_int_equal(count_entries(dir), 1);
	unlink(path);
	rmdir(dir);
}

static void textfile_errors(void **state)
{
	char dir[] = "/tmp/spl-kmemd-metrics.XXXXXX", path[256];
	const char *what = NULL;

	(void)state;
	/* The directory does not exist. */
	assert_int_equal(metrics_write_textfile("/nonexistent-dir/x.prom", "a\n",
						2, &what), -ENOENT);
	assert_string_equal(what, "creating a temporary file");
	/* The target is a directory: the rename fails, the temporary goes. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/d.prom", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(metrics_write_textfile(path, "a\n", 2, &what), -EISDIR);
	assert_string_equal(what, "renaming it into place");
	assert_int_equal(count_entries(dir), 1);
	rmdir(path);
	rmdir(dir);
}

static void error_names(void **state)
{
	(void)state;
	assert_string_equal(daemon_error_name(ERR_CONNECT), "connect");
	assert_string_equal(daemon_error_name(ERR_HTTP), "http");
	assert_string_equal(daemon_error_name(ERR_COUNT), "unknown");
}

/* A realistic exposition for promtool (see daemon/Makefile's check). */
static void write_sample(void **state)
{
	const char *path = getenv("SPLKMEMD_METRICS_SAMPLE");
	static const char *const names[] = {
		"zio_buf_512", "zio_data_buf_131072", "dnode_t", "we\"ird\\name",
	};
	struct splkmem_cache_info c[4];
	struct daemon_stats st = sample_stats();
	size_t i, len;
	char *out;

	(void)state;
	if (!path)
		skip();
	for (i = 0; i < 4; i++)
		fill(&c[i], names[i], (int)i);
	out = metrics_render(c, 4, &st, &len);
	assert_non_null(out);
	assert_int_equal(metrics_write_textfile(path, out, len, NULL), 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cache_series),
		cmocka_unit_test(every_statistic),
		cmocka_unit_test(daemon_series),
		cmocka_unit_test(no_caches),
		cmocka_unit_test(label_escaping),
		cmocka_unit_test(large_values),
		cmocka_unit_test(format_error),
		cmocka_unit_test(textfile_atomic),
		cmocka_unit_test(textfile_errors),
		cmocka_unit_test(error_names),
		cmocka_unit_test(write_sample),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
