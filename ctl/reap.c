// SPDX-License-Identifier: GPL-2.0-or-later
/* reap [NAME]: return idle memory to the system; says how much. */
#include <stdio.h>
#include <unistd.h>

#include "ctl.h"

int cmd_reap(int argc, char **argv)
{
	int nopt = ctl_no_options(argc, argv);
	struct splkmem_reap_result res;
	const char *name;
	struct splkmem *h;
	char what[64];
	int rc;

	if (nopt)
		return nopt;
	argc -= optind - 1;
	argv += optind - 1;
	name = argc == 2 ? argv[1] : NULL;
	if (argc > 2)
		return ctl_usage_error("too many arguments");
	h = ctl_open();
	if (!h)
		return EXIT_FAIL;
	rc = splkmem_reap(h, name, &res);
	if (rc) {
		snprintf(what, sizeof(what), "cache %s", name ? name : "");
		rc = ctl_lib_fail(h, name ? what : NULL);
		splkmem_close(h);
		return rc;
	}
	splkmem_close(h);

	print_begin();
	open_json_object(NULL);
	/* JSON: "cache" is always there, null for every cache. */
	if (name) {
		print_string(PRINT_ANY, "cache", "reaped %s: ", name);
	} else {
		print_null("cache");
		print_string(PRINT_FP, NULL, "%s", "reaped every cache: ");
	}
	print_u64(PRINT_ANY, "slabs", "%llu slabs, ", res.slabs);
	print_size(PRINT_ANY, "bytes", "%s", res.bytes);
	print_u64(PRINT_FP, NULL, " (%llu bytes)\n", res.bytes);
	close_json_object();
	print_end();
	return 0;
}
