// SPDX-License-Identifier: GPL-2.0-or-later
/* set TUNABLE VALUE: change a module parameter; prints its new state. */
#include <stdio.h>
#include <unistd.h>

#include "ctl.h"

int cmd_set(int argc, char **argv)
{
	struct splkmem_tunable t;
	struct splkmem *h;
	uint32_t value;
	int rc;

	int nopt = ctl_no_options(argc, argv);

	if (nopt)
		return nopt;
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 3)
		return ctl_usage_error(argc < 3 ? "missing tunable or value" :
					"too many arguments");
	if (ctl_parse_u32(argv[2], &value))
		return ctl_usage_error("'%s' is not a number from 0 to %u",
				       argv[2], UINT32_MAX);
	h = ctl_open();
	if (!h)
		return EXIT_FAIL;
	rc = splkmem_tunable_set(h, argv[1], value, &t);
	if (rc) {
		char what[64];

		snprintf(what, sizeof(what), "tunable %s", argv[1]);
		rc = ctl_lib_fail(h, what);
		splkmem_close(h);
		return rc;
	}
	splkmem_close(h);
	print_begin();
	tunable_print(&t);
	print_end();
	return 0;
}
