// SPDX-License-Identifier: GPL-2.0-or-later
/* list [-s FIELD] [-r] [GLOB...]: every cache, one row each. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ctl.h"

static bool wanted(const char *name, int nglobs, char **globs)
{
	int i;

	if (!nglobs)
		return true;
	for (i = 0; i < nglobs; i++)
		if (!fnmatch(globs[i], name, 0))
			return true;
	return false;
}

int cmd_list(int argc, char **argv)
{
	struct splkmem_cache_info *v;
	const char *sort = "name";
	bool reverse = false, intr;
	struct splkmem *h;
	size_t n, i, kept;
	int opt;

	opterr = 0;
	optind = 0;
	while ((opt = getopt(argc, argv, "s:r")) != -1) {
		switch (opt) {
		case 's':
			sort = optarg;
			break;
		case 'r':
			reverse = true;
			break;
		default:
			return ctl_usage_error("unknown option or missing argument: -%c",
					       optopt);
		}
	}
	if (!cache_sort(NULL, 0, sort, reverse))
		return ctl_usage_error("cannot sort by '%s'; fields: %s", sort,
				       cache_sort_keys());

	h = ctl_open();
	if (!h)
		return EXIT_FAIL;
	if (splkmem_cache_dump(h, &v, &n, 3, &intr)) {
		int rc = ctl_lib_fail(h, "listing caches");

		splkmem_close(h);
		return rc;
	}
	splkmem_close(h);

	for (i = kept = 0; i < n; i++)
		if (wanted(v[i].name, argc - optind, argv + optind))
			v[kept++] = v[i];
	cache_sort(v, kept, sort, reverse);

	print_begin();
	open_json_array(NULL);
	cache_print_header();
	for (i = 0; i < kept; i++)
		cache_print(&v[i], CACHE_ROW);
	close_json_array();
	print_end();
	free(v);
	if (intr)
		fprintf(stderr, "%s: list: warning: caches were created or destroyed while listing\n",
			PROG);
	return 0;
}
