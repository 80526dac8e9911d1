/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory pressure: a PSI trigger (Documentation/accounting/psi.rst) on
 * /proc/pressure/memory or a cgroup's memory.pressure, or what systemd
 * hands the service in $MEMORY_PRESSURE_WATCH / $MEMORY_PRESSURE_WRITE,
 * watched in the event loop.  Without PSI, or without the right to set a
 * trigger, it says so in one log line and the daemon carries on.
 */
#ifndef SPLKMEMD_PRESSURE_H
#define SPLKMEMD_PRESSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"

#define PSI_SYSTEM_PATH "/proc/pressure/memory"

/* Where the pressure comes from. */
enum pressure_source {
	PSI_SRC_SYSTEM,		/* /proc/pressure/memory */
	PSI_SRC_CGROUP,		/* [pressure] cgroup= */
	PSI_SRC_SYSTEMD,	/* $MEMORY_PRESSURE_WATCH, systemd_watch = yes */
};

/* What the daemon was started with (environment, its own cgroup). */
struct pressure_env {
	const char *watch;	/* $MEMORY_PRESSURE_WATCH, or NULL */
	const char *write;	/* $MEMORY_PRESSURE_WRITE, or NULL */
	const char *own_cgroup;	/* "/system.slice/spl-kmemd.service" (from
				 * /proc/self/cgroup), or NULL if unknown */
};

/* What to watch and what to write there, worked out from the
 * configuration and the environment. */
struct pressure_spec {
	bool enabled;
	bool from_systemd;	/* $MEMORY_PRESSURE_WATCH */
	enum pressure_source source;
	char path[512];
	char trigger[160];	/* bytes to write, NUL included */
	size_t trigger_len;	/* 0: write nothing */
	char desc[600];		/* for log lines */
	char note[700];		/* "" or a line to log about what was ignored */
	/* The trigger in force, for the metrics (parsed back from
	 * $MEMORY_PRESSURE_WRITE when systemd gave it; kind "" if unknown). */
	char kind[8];
	uint64_t threshold_us, window_us;
};

/*
 * Fill @spec from @cfg and @env.  $MEMORY_PRESSURE_WATCH is followed only
 * with systemd_watch = yes, and never when it names the daemon's own
 * cgroup (what systemd 254 and later set by themselves): that pressure is
 * the daemon's, not the system's; spec->note then says so.  Return 0, or
 * -EINVAL with *@why set when $MEMORY_PRESSURE_WRITE is not valid base64
 * or too long.
 */
int pressure_resolve(const struct config_pressure *cfg,
		     const struct pressure_env *env, struct pressure_spec *spec,
		     char *why, size_t whylen);

/* "system", "cgroup" or "systemd". */
const char *pressure_source_name(enum pressure_source s);

/* The cgroup of this process ("/a/b.service") from /proc/self/cgroup
 * (the unified hierarchy's "0::" line) into @buf; 0 or -errno. */
int pressure_own_cgroup(char *buf, size_t len);

/* RFC 4648 base64 (padding optional, no blanks); 0 or -EINVAL/-ENOBUFS. */
int base64_decode(const char *in, unsigned char *out, size_t outlen,
		  size_t *n);

struct pressure;
typedef void (*pressure_fn)(void *arg);
/* Called once when the source goes away (POLLERR, socket closed). */
typedef void (*pressure_gone_fn)(void *arg);

/*
 * Arm @spec and call @fn on each event.  Return 0 (armed, *@pp set),
 * 1 (not available: logged, *@pp NULL, the daemon goes on without), or a
 * negative errno for a failure of our own (no memory, event loop).
 * With @quiet the "not available" line is logged at debug priority (a
 * caller retrying after a first warning).  *@err (if not NULL) gets the
 * errno of a source that was not available.
 */
int pressure_start(struct pressure **pp, sd_event *e,
		   const struct pressure_spec *spec, pressure_fn fn,
		   pressure_gone_fn gone, void *arg, bool quiet, int *err);
void pressure_stop(struct pressure *p);

#endif /* SPLKMEMD_PRESSURE_H */
