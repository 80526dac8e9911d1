// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * splkmemctl: inspect and tune the spl_kmem allocator.  The subcommands
 * are a table, each in a file of its own; they talk to the module only
 * through libsplkmem.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#ifndef SPL_KMEM_VERSION
#define SPL_KMEM_VERSION "unknown"
#endif

static const struct ctl_cmd cmds[] = {
	{ "list", cmd_list, "[-s FIELD] [-r] [GLOB...]",
	  "list caches, like /proc/spl/kmem/slab" },
	{ "show", cmd_show, "NAME", "every statistic of a cache" },
	{ "get", cmd_get, "[TUNABLE]", "show tunables" },
	{ "set", cmd_set, "TUNABLE VALUE", "change a tunable" },
	{ "magazine", cmd_magazine, "NAME SIZE|auto",
	  "resize a cache's per-CPU magazines" },
	{ "reap", cmd_reap, "[NAME]",
	  "return idle memory of one cache, or all" },
	{ "monitor", cmd_monitor, "[-c COUNT] [-w]",
	  "print events as they happen, with their time" },
	{ "top", cmd_top, "[-d SECS] [-n COUNT] [-s FIELD] [-l ROWS]",
	  "live view of the biggest caches (keys: q quits, s/r sort)" },
};

const char *ctl_cmd_name = "";

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s [-j|--json] [-p|--pretty] COMMAND [ARGS] [OPTIONS]\n\n"
		"Commands:\n", PROG);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %-9s %-32s %s\n", cmds[i].name, cmds[i].args,
			cmds[i].help);
	fprintf(f, "\nOptions:\n"
		"  -j, --json     JSON output\n"
		"  -p, --pretty   indented JSON\n"
		"  -V, --version  print the version\n"
		"  -h, --help     this help\n"
		"\nOptions may follow the command and its arguments (-j too), as with ip(8).\n"
		"'%s COMMAND --help' describes a command; see splkmemctl(8).\n",
		PROG);
}

static const struct ctl_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

int ctl_usage_error(const char *fmt, ...)
{
	const struct ctl_cmd *c = find_cmd(ctl_cmd_name);
	va_list ap;

	fprintf(stderr, "%s: ", PROG);
	if (ctl_cmd_name[0])
		fprintf(stderr, "%s: ", ctl_cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c)
		fprintf(stderr, "Usage: %s %s %s\n", PROG, c->name, c->args);
	else
		usage(stderr);
	return EXIT_USAGE;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", PROG);
	if (ctl_cmd_name[0])
		fprintf(stderr, "%s: ", ctl_cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

static int report(const struct splkmem_error *e, const char *what)
{
	char buf[512];

	splkmem_error_str(e, buf, sizeof(buf));
	/*
	 * Every request but reading the tunables, and joining the events
	 * group, needs CAP_NET_ADMIN: say so, not only "not permitted".
	 */
	if (e->code == EPERM)
		return ctl_fail("%s%s%s: needs CAP_NET_ADMIN (run as root)",
				what ? what : "", what ? ": " : "", buf);
	return ctl_fail("%s%s%s", what ? what : "", what ? ": " : "", buf);
}

int ctl_lib_fail(struct splkmem *h, const char *what)
{
	return report(splkmem_last_error(h), what);
}

struct splkmem *ctl_open(void)
{
	struct splkmem_error err;
	struct splkmem *h;

	if (splkmem_open(&h, &err)) {
		report(&err, NULL);
		return NULL;
	}
	return h;
}

bool ctl_help_asked(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

int ctl_no_options(int argc, char **argv)
{
	int opt;

	opterr = 0;
	optind = 0;
	while ((opt = getopt(argc, argv, "")) != -1)
		return ctl_usage_error("unknown option: %s", argv[optind - 1]);
	return 0;
}

/*
 * Take the global options out of @argv (from @from on, up to a "--"),
 * wherever they are: "splkmemctl list -j" is "splkmemctl -j list".
 * Returns the new argc, or -1 after a usage message.
 */
static int take_global_options(int argc, char **argv, int from, bool *json,
			       bool *pretty)
{
	int i, n = from;

	for (i = from; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			*json = true;
		} else if (!strcmp(a, "-p") || !strcmp(a, "--pretty")) {
			*pretty = true;
		} else if (!strcmp(a, "-jp") || !strcmp(a, "-pj")) {
			*json = *pretty = true;
		} else {
			argv[n++] = argv[i];
		}
	}
	argv[n] = NULL;
	return n;
}

int ctl_parse_u32(const char *s, uint32_t *v)
{
	unsigned long long x;
	char *end;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, pretty = false;
	const struct ctl_cmd *c;
	int opt, rc;

	/* '+': options end at the command; its own options are its own. */
	while ((opt = getopt_long(argc, argv, "+jpVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'p':
			pretty = true;
			break;
		case 'V':
			printf("%s %s\n", PROG, SPL_KMEM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "%s: no command given\n", PROG);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		usage(stdout);
		return 0;
	}
	c = find_cmd(argv[optind]);
	if (!c) {
		fprintf(stderr, "%s: unknown command '%s'\n", PROG, argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	ctl_cmd_name = c->name;
	argc = take_global_options(argc, argv, optind + 1, &json, &pretty);
	if (ctl_help_asked(argc - optind, argv + optind)) {
		printf("Usage: %s %s %s\n  %s\n", PROG, c->name, c->args,
		       c->help);
		return 0;
	}
	/* As in iproute2, -p only changes JSON output. */
	print_set_mode(json, pretty);
	rc = c->run(argc - optind, argv + optind);
	if (fflush(stdout) && !rc)
		rc = ctl_fail("writing the output: %s", strerror(errno));
	return rc;
}
