// SPDX-License-Identifier: GPL-2.0-or-later
/* magazine NAME SIZE|auto: resize a cache's per-CPU magazines. */
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include "ctl.h"

int cmd_magazine(int argc, char **argv)
{
	struct splkmem_cache_info info;
	struct splkmem *h;
	uint32_t size;
	char what[64];
	int rc;

	int nopt = ctl_no_options(argc, argv);

	if (nopt)
		return nopt;
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 3)
		return ctl_usage_error(argc < 3 ? "missing cache name or size" :
					"too many arguments");
	if (!strcmp(argv[2], "auto"))
		size = 0;
	else if (ctl_parse_u32(argv[2], &size))
		return ctl_usage_error("'%s' is not a size: give %d..%d or auto",
				       argv[2], SPLKMEM_MAG_MIN, SPLKMEM_MAG_MAX);
	/* The kernel checks the range; it says so better than we could. */
	h = ctl_open();
	if (!h)
		return EXIT_FAIL;
	rc = splkmem_cache_set_magazine(h, argv[1], size, &info);
	if (rc) {
		snprintf(what, sizeof(what), "cache %s", argv[1]);
		rc = ctl_lib_fail(h, what);
		splkmem_close(h);
		return rc;
	}
	splkmem_close(h);

	print_begin();
	open_json_object(NULL);
	print_string(PRINT_ANY, "name", "cache %s: ", info.name);
	print_u64(PRINT_ANY, "mag_size", "magazine size %llu", info.mag_size);
	print_bool(PRINT_JSON, "mag_auto", NULL, info.mag_auto);
	print_string(PRINT_FP, NULL, "%s", info.mag_auto ? " (automatic)" : "");
	print_u64(PRINT_ANY, "mag_refill", ", refill %llu", info.mag_refill);
	print_u64(PRINT_ANY, "mag_objs", ", %llu objects in magazines\n",
		  info.mag_objs);
	close_json_object();
	print_end();
	return 0;
}
