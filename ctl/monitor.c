// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * monitor [-c COUNT] [-w]: print the module's events as they happen, one
 * line (or one JSON document) each, with the time it was received, until
 * interrupted or COUNT were printed.
 *
 * Besides the module's events, two of our own: "lost" when the kernel
 * dropped events we were too slow for (the socket overflowed), and
 * "module-unloaded" / "module-loaded" from the generic netlink
 * controller.  Without -w the monitor ends (status 0) when the module is
 * unloaded; with -w it waits for it to come back and goes on.  Every
 * JSON document has "timestamp", "event" and "cache" (null for our own
 * events), then the event's own keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

struct monitor {
	unsigned long count, seen;
	bool wait;
};

/* "2026-12-02T08:40:01.123+0000": local time, milliseconds. */
static const char *timestamp(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	char date[32], zone[8];

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	snprintf(buf, len, "%s.%03ld%s", date, (long)(tv.tv_usec / 1000), zone);
	return buf;
}

/* The envelope every event has: time, event name, cache (or null). */
static void begin_event(const char *event, const char *cache)
{
	char ts[64];

	print_begin();
	open_json_object(NULL);
	print_string(PRINT_ANY, "timestamp", "%s ", timestamp(ts, sizeof(ts)));
	print_string(PRINT_ANY, "event", "%-15s", event);
	if (cache)
		print_string(PRINT_ANY, "cache", " %s", cache);
	else
		print_null("cache");
}

static int end_event(struct monitor *m, bool counts)
{
	print_text("\n");
	close_json_object();
	if (print_end())
		return -EPIPE;
	return counts && m->count && ++m->seen >= m->count;
}

/* One of our own events; @what (text only) says more. */
static int own_event(struct monitor *m, const char *event, const char *what)
{
	begin_event(event, NULL);
	if (what)
		print_string(PRINT_FP, NULL, " %s", what);
	return end_event(m, false);
}

static int on_event(const struct splkmem_event *ev, void *arg)
{
	const struct splkmem_cache_info *c = &ev->cache;
	struct monitor *m = arg;

	begin_event(splkmem_event_name(ev->type), c->name);
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
	return end_event(m, true);
}

/* Connect and subscribe; NULL (and the error printed) on failure. */
static struct splkmem *subscribe(void)
{
	struct splkmem *h = ctl_open();
	int fd;

	if (!h)
		return NULL;
	if (splkmem_events_subscribe(h)) {
		ctl_lib_fail(h, "subscribing to events");
		splkmem_close(h);
		return NULL;
	}
	/* Read what is there; poll() says when there is more. */
	fd = splkmem_events_fd(h);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return h;
}

/* Until the module is registered again (or an error). */
static int wait_for_module(struct splkmem_watch *w)
{
	struct pollfd p = { .fd = splkmem_watch_fd(w), .events = POLLIN };
	unsigned int what = 0;

	for (;;) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -errno;
		if (splkmem_watch_read(w, &what))
			return -EIO;
		if (what & (SPLKMEM_WATCH_NEW | SPLKMEM_WATCH_LOST))
			return 0;
	}
}

int cmd_monitor(int argc, char **argv)
{
	struct monitor m = { 0, 0, false };
	struct splkmem_watch *w = NULL;
	struct splkmem_error e;
	struct splkmem *h = NULL;
	struct pollfd p[2];
	unsigned int what;
	char *end, err[400];
	int opt, rc = 0;

	opterr = 0;
	optind = 0;
	while ((opt = getopt(argc, argv, "c:w")) != -1) {
		switch (opt) {
		case 'c':
			m.count = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || !m.count)
				return ctl_usage_error("-c wants a count above 0");
			break;
		case 'w':
			m.wait = true;
			break;
		default:
			return ctl_usage_error("unknown option or missing argument: -%c",
					       optopt);
		}
	}
	if (optind != argc)
		return ctl_usage_error("too many arguments");
	/* Watch first: an unload between the two is not missed. */
	if (splkmem_watch_open(&w, &e))
		return ctl_fail("watching for the module: %s",
				splkmem_error_str(&e, err, sizeof(err)));
	if (m.wait && splkmem_open(&h, NULL) == -ENOENT) {
		fprintf(stderr, "%s: monitor: waiting for the spl_kmem module\n", PROG);
		if (wait_for_module(w)) {
			splkmem_watch_close(w);
			return ctl_fail("waiting for the module failed");
		}
	}
	splkmem_close(h);
	h = subscribe();
	if (!h) {
		splkmem_watch_close(w);
		return EXIT_FAIL;
	}
	/* On stderr, so that scripts know when to start causing events. */
	fprintf(stderr, "%s: monitor: listening\n", PROG);
	for (;;) {
		p[0] = (struct pollfd){ .fd = splkmem_events_fd(h), .events = POLLIN };
		p[1] = (struct pollfd){ .fd = splkmem_watch_fd(w), .events = POLLIN };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = ctl_fail("poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents) {
			rc = splkmem_events_read(h, on_event, &m);
			if (rc == -ENOBUFS) {
				/* Too slow for the kernel: say so, in the
				 * output itself, and go on. */
				rc = own_event(&m, "lost",
					       "events were lost (the socket overflowed)");
			} else if (rc == -EAGAIN) {
				rc = 0;
			} else if (rc < 0 && rc != -EPIPE) {
				rc = ctl_lib_fail(h, NULL);
				break;
			}
			if (rc == -EPIPE) {
				rc = EXIT_FAIL;
				break;
			}
			if (rc == 1) {
				rc = 0;
				break;
			}
		}
		if (!p[1].revents)
			continue;
		if (splkmem_watch_read(w, &what)) {
			rc = ctl_fail("reading controller notifications failed");
			break;
		}
		if (!(what & (SPLKMEM_WATCH_DEL | SPLKMEM_WATCH_LOST)))
			continue;
		/* LOST: look for ourselves whether the family is still there. */
		if (!(what & SPLKMEM_WATCH_DEL)) {
			struct splkmem *probe = NULL;

			if (splkmem_open(&probe, NULL) != -ENOENT) {
				splkmem_close(probe);
				continue;
			}
		}
		splkmem_close(h);
		h = NULL;
		if (own_event(&m, "module-unloaded",
			      m.wait ? "(waiting for it)" : NULL) < 0) {
			rc = EXIT_FAIL;
			break;
		}
		if (!m.wait) {
			rc = 0;
			break;
		}
		if (wait_for_module(w) || !(h = subscribe())) {
			rc = EXIT_FAIL;
			break;
		}
		if (own_event(&m, "module-loaded", NULL) < 0) {
			rc = EXIT_FAIL;
			break;
		}
	}
	splkmem_close(h);
	splkmem_watch_close(w);
	return rc;
}
