// SPDX-License-Identifier: GPL-2.0-or-later
/* get [TUNABLE]: the module parameters, with their ranges. */
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>

#include "ctl.h"

void tunable_print(const struct splkmem_tunable *t)
{
	char range[48];

	snprintf(range, sizeof(range), "%s%u..%u", t->zero_ok ? "0 or " : "",
		 t->min, t->max);
	open_json_object(NULL);
	print_string(PRINT_ANY, "name", "%-16s ", t->name);
	print_u64(PRINT_ANY, "value", "%-8llu ", t->value);
	print_u64(PRINT_JSON, "min", NULL, t->min);
	print_u64(PRINT_JSON, "max", NULL, t->max);
	print_bool(PRINT_JSON, "zero_ok", NULL, t->zero_ok);
	print_string(PRINT_FP, NULL, "(%s)\n", range);
	close_json_object();
}

int cmd_get(int argc, char **argv)
{
	struct splkmem_tunable one, *v = &one;
	struct splkmem *h;
	size_t n = 1, i;
	int rc;

	int nopt = ctl_no_options(argc, argv);

	if (nopt)
		return nopt;
	argc -= optind - 1;
	argv += optind - 1;
	if (argc > 2)
		return ctl_usage_error("too many arguments");
	h = ctl_open();
	if (!h)
		return EXIT_FAIL;
	if (argc == 2)
		rc = splkmem_tunable_get(h, argv[1], &one);
	else
		rc = splkmem_tunables_get(h, &v, &n);
	if (rc) {
		char what[64];

		snprintf(what, sizeof(what), "tunable%s%s", argc == 2 ? " " : "s",
			 argc == 2 ? argv[1] : "");
		rc = ctl_lib_fail(h, what);
		splkmem_close(h);
		return rc;
	}
	splkmem_close(h);

	print_begin();
	/* JSON: an array, of one tunable or of all (the same shape). */
	open_json_array(NULL);
	for (i = 0; i < n; i++)
		tunable_print(&v[i]);
	close_json_array();
	if (v != &one)
		free(v);
	print_end();
	return 0;
}
