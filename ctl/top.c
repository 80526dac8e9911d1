// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * top [-d SECS] [-n COUNT] [-s FIELD] [-l ROWS]: the biggest caches,
 * refreshed, like slabtop.  On a terminal each refresh redraws the
 * screen; otherwise (or with -j) refreshes follow each other, which suits
 * scripts together with -n.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

struct top_opts {
	double delay;
	unsigned long count;
	const char *sort;
	unsigned long rows;
};

static int refresh(struct splkmem *h, const struct top_opts *o, bool clear)
{
	uint64_t bytes = 0, used = 0, objs = 0;
	struct splkmem_cache_info *v;
	size_t n, i;
	bool intr;

	if (splkmem_cache_dump(h, &v, &n, 3, &intr))
		return ctl_lib_fail(h, "listing caches");
	for (i = 0; i < n; i++) {
		uint64_t live = splkmem_live_objs(&v[i]);

		bytes += v[i].bytes;
		used += live * v[i].obj_size;
		objs += live;
	}
	cache_sort(v, n, o->sort, false);
	if (clear)
		print_text("\033[H\033[2J");
	print_begin();
	open_json_object(NULL);
	print_u64(PRINT_ANY, "caches", "spl_kmem: %llu caches", n);
	print_size(PRINT_ANY, "bytes", ", %s held", bytes);
	print_size(PRINT_ANY, "used_bytes", ", %s in use", used);
	print_u64(PRINT_ANY, "live_objs", " by %llu objects\n\n", objs);
	open_json_array("caches_top");
	cache_print_header();
	for (i = 0; i < n && i < o->rows; i++)
		cache_print(&v[i], CACHE_ROW);
	close_json_array();
	close_json_object();
	free(v);
	return print_end() ? EXIT_FAIL : 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_opts o = { 2.0, 0, "bytes", 20 };
	struct timespec ts;
	unsigned long i;
	struct splkmem *h;
	char *end;
	int opt, rc = 0;
	bool clear;

	opterr = 0;
	optind = 0;
	while ((opt = getopt(argc, argv, "+d:n:s:l:")) != -1) {
		switch (opt) {
		case 'd':
			o.delay = strtod(optarg, &end);
			if (*end || !optarg[0] || !(o.delay >= 0.1 && o.delay <= 3600))
				return ctl_usage_error("-d wants 0.1 to 3600 seconds");
			break;
		case 'n':
			o.count = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || !o.count)
				return ctl_usage_error("-n wants a count above 0");
			break;
		case 'l':
			o.rows = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || !o.rows)
				return ctl_usage_error("-l wants a row count above 0");
			break;
		case 's':
			o.sort = optarg;
			break;
		default:
			return ctl_usage_error("unknown option or missing argument: -%c",
					       optopt);
		}
	}
	if (optind != argc)
		return ctl_usage_error("too many arguments");
	if (!cache_sort(NULL, 0, o.sort, false))
		return ctl_usage_error("cannot sort by '%s'; fields: %s", o.sort,
				       cache_sort_keys());
	clear = isatty(STDOUT_FILENO) && !print_is_json();
	h = ctl_open();
	if (!h)
		return EXIT_FAIL;
	for (i = 0; !o.count || i < o.count; i++) {
		if (i) {
			ts.tv_sec = (time_t)o.delay;
			ts.tv_nsec = (long)((o.delay - ts.tv_sec) * 1e9);
			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
			if (!clear)
				print_text("\n");
		}
		rc = refresh(h, &o, clear);
		if (rc)
			break;
	}
	splkmem_close(h);
	return rc;
}
