// SPDX-License-Identifier: GPL-2.0-or-later
/* show NAME: every statistic of one cache. */
#include <stdio.h>
#include <unistd.h>

#include "ctl.h"

int cmd_show(int argc, char **argv)
{
	struct splkmem_cache_info info;
	struct splkmem *h;
	char what[64];
	int rc;

	int nopt = ctl_no_options(argc, argv);

	if (nopt)
		return nopt;
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 2)
		return ctl_usage_error(argc < 2 ? "missing cache name" :
					"too many arguments");
	h = ctl_open();
	if (!h)
		return EXIT_FAIL;
	rc = splkmem_cache_get(h, argv[1], &info);
	if (rc) {
		snprintf(what, sizeof(what), "cache %s", argv[1]);
		rc = ctl_lib_fail(h, what);
		splkmem_close(h);
		return rc;
	}
	splkmem_close(h);
	print_begin();
	cache_print(&info, CACHE_DETAIL);
	print_end();
	return 0;
}
