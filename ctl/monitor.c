// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * monitor [-c COUNT]: print the module's events as they happen, one line
 * (or one JSON document) each, until interrupted or COUNT were printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ctl.h"

struct monitor {
	unsigned long count, seen;
};

static int on_event(const struct splkmem_event *ev, void *arg)
{
	const struct splkmem_cache_info *c = &ev->cache;
	struct monitor *m = arg;

	print_begin();
	open_json_object(NULL);
	print_string(PRINT_ANY, "event", "%-10s ", splkmem_event_name(ev->type));
	print_string(PRINT_ANY, "cache", "%s", c->name);
	switch (ev->type) {
	case SPLKMEM_EVENT_CACHE_NEW:
		print_string(PRINT_ANY, "backing", " %s",
			     splkmem_backing_name(c->backing));
		print_size(PRINT_ANY, "obj_size", " objsize %s", c->obj_size);
		break;
	case SPLKMEM_EVENT_CACHE_DEL:
		break;
	case SPLKMEM_EVENT_DEADLOCK:
		print_u64(PRINT_ANY, "obj_deadlock", " deadlocks %llu",
			  c->obj_deadlock);
		break;
	case SPLKMEM_EVENT_EMERGENCY:
		print_u64(PRINT_ANY, "obj_emergency", " emergency objects %llu",
			  c->obj_emergency);
		print_u64(PRINT_ANY, "missed", " (%llu not reported)",
			  ev->missed);
		break;
	case SPLKMEM_EVENT_REAP:
		print_u64(PRINT_ANY, "slabs", " %llu slabs", ev->reap.slabs);
		print_size(PRINT_ANY, "bytes", " %s", ev->reap.bytes);
		break;
	}
	print_text("\n");
	close_json_object();
	if (print_end())
		return -EPIPE;
	return m->count && ++m->seen >= m->count;
}

int cmd_monitor(int argc, char **argv)
{
	struct monitor m = { 0, 0 };
	struct splkmem *h;
	char *end;
	int opt, rc;

	opterr = 0;
	optind = 0;
	while ((opt = getopt(argc, argv, "+c:")) != -1) {
		switch (opt) {
		case 'c':
			m.count = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || !m.count)
				return ctl_usage_error("-c wants a count above 0");
			break;
		default:
			return ctl_usage_error("unknown option or missing argument: -%c",
					       optopt);
		}
	}
	if (optind != argc)
		return ctl_usage_error("too many arguments");
	h = ctl_open();
	if (!h)
		return EXIT_FAIL;
	if (splkmem_events_subscribe(h)) {
		rc = ctl_lib_fail(h, "subscribing to events");
		splkmem_close(h);
		return rc;
	}
	/* On stderr, so that scripts know when to start causing events. */
	fprintf(stderr, "%s: monitor: listening\n", PROG);
	for (;;) {
		rc = splkmem_events_read(h, on_event, &m);
		if (rc == 1)
			break;
		if (rc == -ENOBUFS) {
			/* Too slow for the kernel: say so, and go on. */
			fprintf(stderr, "%s: monitor: events were lost\n", PROG);
			continue;
		}
		if (rc < 0) {
			rc = rc == -EPIPE ? EXIT_FAIL : ctl_lib_fail(h, NULL);
			splkmem_close(h);
			return rc;
		}
	}
	splkmem_close(h);
	return 0;
}
