/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spl-kmemd: the state its parts share.  One thread, one sd-event loop. */
#ifndef SPLKMEMD_DAEMON_H
#define SPLKMEMD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "metrics.h"
#include "policy.h"
#include "pressure.h"
#include "splkmem.h"

struct http;
struct splkmem_watch;

struct daemon {
	sd_event *event;
	struct config *cfg;		/* in force */
	char config_path[256];
	bool config_explicit;		/* -c given: the file must exist */
	struct daemon_stats stats;
	bool starting;			/* in main()'s setup */

	/* module.c: the connection to spl_kmem.ko */
	struct splkmem_watch *watch;
	sd_event_source *watch_src;
	struct splkmem *h;		/* NULL while the module is not loaded */
	sd_event_source *events_src;

	/* pressure */
	struct pressure *psi;
	struct pressure_spec psi_spec;	/* in force (armed or waited for) */
	sd_event_source *psi_retry;	/* looking for a missing cgroup again */
	struct ratelimit reap_rl;

	/* metrics */
	sd_event_source *metrics_timer;
	struct http *http;
	sd_event_source *http_retry;	/* binding the listen address again */
	char textfile_written[256];	/* the textfile we wrote, to remove */
	char *metrics_buf;
	size_t metrics_len;
	uint64_t metrics_at_us;		/* CLOCK_MONOTONIC of metrics_buf */
	int textfile_err;		/* last textfile error, to log changes only */
	int dump_err;			/* same for the cache dump */
	char last_reap[128];		/* for STATUS= */
};

/* main.c */
void daemon_status(struct daemon *d);
uint64_t daemon_now_us(struct daemon *d);
/* Regenerate the metrics (and the textfile). */
void daemon_metrics_refresh(struct daemon *d);

/* module.c */
/* libsplkmem's last error on @h as text, with a hint on EPERM. */
const char *daemon_lib_error(struct splkmem *h, char *buf, size_t len);
int module_start(struct daemon *d);
void module_stop(struct daemon *d);
/* Check @cfg's tunables against the module's own ranges (0 when the
 * module is not loaded); each problem is logged.  0 or -EINVAL. */
int module_check_config(struct daemon *d, const struct config *cfg);
/* Put d->cfg's tunables and magazine sizes in force (if connected). */
void module_apply_config(struct daemon *d);

/* reap.c: a pressure event: reap per policy, unless within the cooldown. */
void reap_on_pressure(struct daemon *d);

#endif /* SPLKMEMD_DAEMON_H */
