/* SPDX-License-Identifier: GPL-2.0-or-later */
/* splkmemctl: what the subcommand files share. */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "print.h"
#include "splkmem.h"

#define PROG "splkmemctl"

/* Exit statuses (documented in splkmemctl.8). */
#define EXIT_FAIL	1	/* the operation failed */
#define EXIT_USAGE	2	/* bad command line */

struct ctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the name */
	const char *args;			/* for usage */
	const char *help;
};

/* splkmemctl.c */
extern const char *ctl_cmd_name;	/* the subcommand running */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report h's last error for @what ("cache foo"), return EXIT_FAIL. */
int ctl_lib_fail(struct splkmem *h, const char *what);
/* Connect, or print why not; NULL then. */
struct splkmem *ctl_open(void);
bool ctl_help_asked(int argc, char **argv);
/* For commands without options: a usage error for any option given (a
 * lone "-" and what follows "--" are arguments); else 0 with optind at
 * the first argument (getopt permutes: arguments follow in argv). */
int ctl_no_options(int argc, char **argv);
int ctl_parse_u32(const char *s, uint32_t *v);

/* cache_print.c: one cache, as a table row or in full. */
enum cache_layout { CACHE_ROW, CACHE_DETAIL };
void cache_print(const struct splkmem_cache_info *c, enum cache_layout l);
void cache_print_header(void);
/* Sort by a field key ("bytes", "name"...); false if there is none such. */
bool cache_sort(struct splkmem_cache_info *v, size_t n, const char *key,
		bool reverse);
const char *cache_sort_keys(void);

/* get.c: one tunable, for get and set. */
void tunable_print(const struct splkmem_tunable *t);

/* The subcommands, one file each. */
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_magazine(int argc, char **argv);
int cmd_reap(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif /* CTL_H */
