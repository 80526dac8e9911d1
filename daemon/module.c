// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The connection to spl_kmem.ko, through libsplkmem only.
 *
 * The module may be absent at start and may be unloaded and loaded again
 * while we run.  The generic netlink controller announces the family's
 * registration and removal (splkmem_watch_*), so we connect when it
 * appears and drop the connection when it goes, without polling.  While
 * connected we listen to the family's events: a cache created later gets
 * its configured magazine size as soon as it exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

const char *daemon_lib_error(struct splkmem *h, char *buf, size_t len)
{
	const struct splkmem_error *e = splkmem_last_error(h);
	size_t n;

	splkmem_error_str(e, buf, len);
	n = strlen(buf);
	/* The module allows statistics, events and every change only with
	 * CAP_NET_ADMIN: say which capability, not just "not permitted". */
	if (e->code == EPERM && n < len)
		snprintf(buf + n, len - n,
			 " (spl_kmem requires CAP_NET_ADMIN: keep it in the unit's CapabilityBoundingSet= and run as root)");
	return buf;
}


/* ---- putting the configuration in force ---- */

/* What the module says of @cfg's tunable @i, given its list @t: NULL if
 * it takes the value, else why not (into @buf). */
static const char *judge_tunable(const struct config *cfg, size_t i,
				 const struct splkmem_tunable *t, size_t n,
				 char *buf, size_t len)
{
	const char *name = config_tunables[i].name;
	uint32_t v = cfg->tunable[i];
	size_t j;

	for (j = 0; j < n && strcmp(t[j].name, name); j++)
		;
	if (j == n)
		snprintf(buf, len, "%s:%u: the loaded module has no tunable '%s'",
			 cfg->path, cfg->tunable_line[i], name);
	else if (!(v == 0 && t[j].zero_ok) && (v < t[j].min || v > t[j].max))
		snprintf(buf, len, "%s:%u: %s = %u is outside the loaded module's range %s%u..%u",
			 cfg->path, cfg->tunable_line[i], name, v,
			 t[j].zero_ok ? "0 or " : "", t[j].min, t[j].max);
	else
		return NULL;
	return buf;
}

int module_check_config(struct daemon *d, const struct config *cfg)
{
	struct splkmem_tunable *t = NULL;
	char err[400], why[400];
	size_t n, i;
	int rc, bad = 0;

	if (!d->h)
		return 0;
	rc = splkmem_tunables_get(d->h, &t, &n);
	if (rc) {
		/* Not the configuration's fault: judge it when applying. */
		log_warn("cannot read the module's tunables to check the configuration: %s",
			 daemon_lib_error(d->h, err, sizeof(err)));
		return 0;
	}
	for (i = 0; i < TUNABLE_COUNT; i++) {
		if (cfg->tunable_set[i] &&
		    judge_tunable(cfg, i, t, n, why, sizeof(why))) {
			log_err("%s", why);
			bad = 1;
		}
	}
	free(t);
	return bad ? -EINVAL : 0;
}

/*
 * Each tunable the module takes is set; one it refuses (its own range,
 * from TUNABLE_GET) is logged and counted and left as the module has
 * it.  Nothing here stops the daemon: reaping matters more.
 */
static void apply_tunables(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	struct splkmem_tunable *t = NULL, *cur, now;
	char err[400], why[400];
	size_t n, i, j;

	if (splkmem_tunables_get(d->h, &t, &n)) {
		log_err("cannot read the module's tunables: %s; not setting any",
			daemon_lib_error(d->h, err, sizeof(err)));
		d->stats.errors[ERR_TUNABLE]++;
		return;
	}
	for (i = 0; i < TUNABLE_COUNT; i++) {
		const char *name = config_tunables[i].name;

		if (!cfg->tunable_set[i])
			continue;
		if (judge_tunable(cfg, i, t, n, why, sizeof(why))) {
			log_err("%s; not setting it", why);
			d->stats.errors[ERR_TUNABLE]++;
			continue;
		}
		for (j = 0; strcmp(t[j].name, name); j++)
			;
		cur = &t[j];
		if (cur->value == cfg->tunable[i])
			continue;
		if (splkmem_tunable_set(d->h, name, cfg->tunable[i], &now)) {
			log_err("tunable %s: setting %u (from %u) failed: %s", name,
				cfg->tunable[i], cur->value,
				daemon_lib_error(d->h, err, sizeof(err)));
			d->stats.errors[ERR_TUNABLE]++;
			continue;
		}
		d->stats.tunable_changes++;
		log_notice("tunable %s: %u -> %u", name, cur->value, now.value);
	}
	free(t);
}

static void mag_name(uint32_t size, bool is_auto, char *buf, size_t len)
{
	if (is_auto)
		snprintf(buf, len, "auto (%u)", size);
	else
		snprintf(buf, len, "%u", size);
}

/* Set @c's magazine if the configuration wants another size. */
static void apply_magazine(struct daemon *d, const struct splkmem_cache_info *c)
{
	const struct config_cache *sec;
	struct splkmem_cache_info now;
	char err[400], from[32], to[32];
	uint32_t size;

	if (!policy_magazine_change(d->cfg, c, &size, &sec))
		return;
	mag_name(c->mag_size, c->mag_auto, from, sizeof(from));
	if (splkmem_cache_set_magazine(d->h, c->name, size, &now)) {
		log_err("cache %s: setting magazine size %u ([cache %s], line %u) failed: %s",
			c->name, size, sec->pattern, sec->line,
			daemon_lib_error(d->h, err, sizeof(err)));
		d->stats.errors[ERR_MAGAZINE]++;
		return;
	}
	mag_name(now.mag_size, now.mag_auto, to, sizeof(to));
	d->stats.magazine_changes++;
	log_notice("cache %s: magazine size %s -> %s ([cache %s], line %u)",
		   c->name, from, to, sec->pattern, sec->line);
}

static void apply_magazines(struct daemon *d)
{
	struct splkmem_cache_info *v = NULL;
	char err[400];
	size_t n, i;

	if (!d->cfg->ncaches)
		return;
	if (splkmem_cache_dump(d->h, &v, &n, 3, NULL)) {
		log_err("listing caches to set their magazines failed: %s",
			daemon_lib_error(d->h, err, sizeof(err)));
		d->stats.errors[ERR_DUMP]++;
		return;
	}
	for (i = 0; i < n; i++)
		apply_magazine(d, &v[i]);
	free(v);
}

void module_apply_config(struct daemon *d)
{
	if (!d->h)
		return;
	apply_tunables(d);
	apply_magazines(d);
}

/* ---- events of the family ---- */

static int on_event(const struct splkmem_event *ev, void *arg)
{
	const struct splkmem_cache_info *c = &ev->cache;
	struct daemon *d = arg;
	char b[32];

	switch (ev->type) {
	case SPLKMEM_EVENT_CACHE_NEW:
		log_debug("cache %s created", c->name);
		apply_magazine(d, c);
		break;
	case SPLKMEM_EVENT_CACHE_DEL:
		log_debug("cache %s destroyed", c->name);
		break;
	case SPLKMEM_EVENT_DEADLOCK:
		log_warn("cache %s: a slab growth was declared deadlocked (%llu so far)",
			 c->name, (unsigned long long)c->obj_deadlock);
		break;
	case SPLKMEM_EVENT_EMERGENCY:
		log_info("cache %s: emergency objects in use: %llu (%u more not reported)",
			 c->name, (unsigned long long)c->obj_emergency,
			 ev->missed);
		break;
	case SPLKMEM_EVENT_REAP:
		log_debug("cache %s reaped: %llu slabs, %s", c->name,
			  (unsigned long long)ev->reap.slabs,
			  fmt_bytes(ev->reap.bytes, b, sizeof(b)));
		break;
	}
	return 0;
}

static int on_events_io(sd_event_source *s, int fd, uint32_t revents,
			void *arg)
{
	struct daemon *d = arg;
	char err[400];
	int rc;

	(void)s;
	(void)fd;
	(void)revents;
	rc = splkmem_events_read(d->h, on_event, d);
	if (rc == -EAGAIN || rc >= 0)
		return 0;
	if (rc == -ENOBUFS) {
		/* A CACHE_NEW may be among the lost: look at every cache. */
		log_warn("module events were lost; checking every cache's magazine");
		d->stats.errors[ERR_EVENTS]++;
		apply_magazines(d);
		return 0;
	}
	log_err("reading module events failed: %s",
		daemon_lib_error(d->h, err, sizeof(err)));
	d->stats.errors[ERR_EVENTS]++;
	return 0;
}

/* ---- connecting ---- */

static void connect_module(struct daemon *d)
{
	struct splkmem_error e;
	char err[400];
	int rc, fd;

	if (d->h)
		return;
	rc = splkmem_open(&d->h, &e);
	if (rc == -ENOENT) {
		log_notice("spl_kmem module not loaded; waiting for it to appear");
		daemon_status(d);
		return;
	}
	if (rc) {
		log_err("cannot connect to the spl_kmem module: %s; waiting for it to appear again",
			splkmem_error_str(&e, err, sizeof(err)));
		d->stats.errors[ERR_CONNECT]++;
		daemon_status(d);
		return;
	}
	rc = splkmem_events_subscribe(d->h);
	if (!rc) {
		fd = splkmem_events_fd(d->h);
		/* Read only what is there: a spurious wakeup must not block. */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		rc = sd_event_add_io(d->event, &d->events_src, fd, EPOLLIN,
				     on_events_io, d);
		if (rc < 0)
			log_err("cannot watch module events: %s", strerror(-rc));
	} else {
		log_err("cannot subscribe to module events (caches created later will keep their magazine size): %s",
			daemon_lib_error(d->h, err, sizeof(err)));
	}
	if (rc)
		d->stats.errors[ERR_EVENTS]++;
	d->stats.module_loaded = true;
	d->stats.module_connects++;
	log_notice("connected to the spl_kmem module");
	module_apply_config(d);
	daemon_status(d);
	daemon_metrics_refresh(d);
}

static void disconnect(struct daemon *d)
{
	if (!d->h)
		return;
	d->events_src = sd_event_source_disable_unref(d->events_src);
	splkmem_close(d->h);
	d->h = NULL;
	d->stats.module_loaded = false;
}

static int on_watch_io(sd_event_source *s, int fd, uint32_t revents,
		       void *arg)
{
	struct daemon *d = arg;
	unsigned int what;
	int rc;

	(void)s;
	(void)fd;
	(void)revents;
	rc = splkmem_watch_read(d->watch, &what);
	if (rc) {
		log_err("reading generic netlink controller notifications failed: %s",
			strerror(-rc));
		d->stats.errors[ERR_CONNECT]++;
		return 0;
	}
	if (what & SPLKMEM_WATCH_LOST)
		log_warn("controller notifications were lost; reconnecting to be sure");
	if (what & (SPLKMEM_WATCH_DEL | SPLKMEM_WATCH_LOST) && d->h) {
		if (what & SPLKMEM_WATCH_DEL)
			log_warn("spl_kmem module unloaded; waiting for it to come back");
		disconnect(d);
		daemon_status(d);
		daemon_metrics_refresh(d);
	}
	if (what & (SPLKMEM_WATCH_NEW | SPLKMEM_WATCH_LOST)) {
		if (what & SPLKMEM_WATCH_NEW)
			log_info("spl_kmem module loaded");
		connect_module(d);
	}
	return 0;
}

int module_start(struct daemon *d)
{
	struct splkmem_error e;
	char err[400];
	int rc;

	/* Watch first: a module loaded between the two is not missed. */
	rc = splkmem_watch_open(&d->watch, &e);
	if (rc) {
		log_err("cannot watch for the spl_kmem module: %s",
			splkmem_error_str(&e, err, sizeof(err)));
		return rc;
	}
	rc = sd_event_add_io(d->event, &d->watch_src,
			     splkmem_watch_fd(d->watch), EPOLLIN, on_watch_io, d);
	if (rc < 0) {
		log_err("cannot watch for the spl_kmem module: %s", strerror(-rc));
		return rc;
	}
	connect_module(d);
	return 0;
}

void module_stop(struct daemon *d)
{
	disconnect(d);
	d->watch_src = sd_event_source_disable_unref(d->watch_src);
	splkmem_watch_close(d->watch);
	d->watch = NULL;
}
