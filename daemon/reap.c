// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Acting on memory pressure: reap every cache in one request, or the
 * listed ones one by one, at most once per cooldown.  Every reap is
 * logged with what the module returned, and how long after the event's
 * arrival (the event loop's wake-up) it finished.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "daemon.h"
#include "log.h"

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * Microseconds from @since_us (CLOCK_MONOTONIC) until now, counted in the
 * reap duration histogram; "1.234" (milliseconds) into @buf for the log.
 */
static const char *took(struct daemon *d, uint64_t since_us, char *buf,
			size_t len)
{
	uint64_t now_us = mono_us(), us = 0;

	if (now_us > since_us)
		us = now_us - since_us;
	metrics_observe_reap(&d->stats, us, (uint64_t)time(NULL));
	snprintf(buf, len, "%llu.%03llu", (unsigned long long)(us / 1000),
		 (unsigned long long)(us % 1000));
	return buf;
}

static void account(struct daemon *d, const struct splkmem_reap_result *r)
{
	d->stats.reaps++;
	d->stats.reaped_bytes += r->bytes;
	d->stats.reaped_slabs += r->slabs;
}

static void reap_all(struct daemon *d, uint64_t since_us)
{
	struct splkmem_reap_result r;
	char err[400], b[32], t[32];

	if (splkmem_reap(d->h, NULL, &r)) {
		log_err("memory pressure: reaping every cache failed: %s",
			daemon_lib_error(d->h, err, sizeof(err)));
		d->stats.errors[ERR_REAP]++;
		return;
	}
	took(d, since_us, t, sizeof(t));
	account(d, &r);
	log_notice("memory pressure: reaped every cache: %llu slabs, %s (%llu bytes) returned in %s ms",
		   (unsigned long long)r.slabs, fmt_bytes(r.bytes, b, sizeof(b)),
		   (unsigned long long)r.bytes, t);
	snprintf(d->last_reap, sizeof(d->last_reap), "last reap returned %s",
		 b);
}

static void reap_listed(struct daemon *d, uint64_t since_us)
{
	const struct config_pressure *pr = &d->cfg->pressure;
	struct splkmem_reap_result r, sum = { 0, 0 };
	struct splkmem_cache_info *v = NULL;
	char err[400], b[32], t[32];
	size_t n, i, done = 0;

	if (splkmem_cache_dump(d->h, &v, &n, 3, NULL)) {
		log_err("memory pressure: listing caches to reap failed: %s",
			daemon_lib_error(d->h, err, sizeof(err)));
		d->stats.errors[ERR_DUMP]++;
		return;
	}
	for (i = 0; i < n; i++) {
		if (!policy_reaps_cache(pr, v[i].name))
			continue;
		if (splkmem_reap(d->h, v[i].name, &r)) {
			log_err("memory pressure: reaping cache %s failed: %s",
				v[i].name, daemon_lib_error(d->h, err, sizeof(err)));
			d->stats.errors[ERR_REAP]++;
			continue;
		}
		account(d, &r);
		sum.slabs += r.slabs;
		sum.bytes += r.bytes;
		done++;
		log_info("memory pressure: reaped cache %s: %llu slabs, %llu bytes returned",
			 v[i].name, (unsigned long long)r.slabs,
			 (unsigned long long)r.bytes);
	}
	if (done)
		took(d, since_us, t, sizeof(t));
	else
		snprintf(t, sizeof(t), "-");
	free(v);
	log_notice("memory pressure: reaped %zu listed cache(s): %llu slabs, %s (%llu bytes) returned in %s ms",
		   done, (unsigned long long)sum.slabs,
		   fmt_bytes(sum.bytes, b, sizeof(b)), (unsigned long long)sum.bytes, t);
	snprintf(d->last_reap, sizeof(d->last_reap), "last reap returned %s",
		 b);
}

void reap_on_pressure(struct daemon *d)
{
	const struct config_pressure *pr = &d->cfg->pressure;
	/* When the loop woke up for the event (sd_event_now()). */
	uint64_t now_us = daemon_now_us(d);

	d->stats.pressure_events++;
	/* The cooldown first: it also limits the "not loaded" line. */
	if (!ratelimit_allow(&d->reap_rl, now_us, pr->cooldown_us)) {
		d->stats.pressure_ratelimited++;
		log_debug("memory pressure: within the %llu ms cooldown, not reaping",
			  (unsigned long long)pr->cooldown_us / 1000);
		return;
	}
	if (!d->h) {
		log_info("memory pressure, but the spl_kmem module is not loaded: nothing to reap");
		return;
	}
	if (policy_reap_all(pr))
		reap_all(d, now_us);
	else
		reap_listed(d, now_us);
	daemon_status(d);
	daemon_metrics_refresh(d);
}
