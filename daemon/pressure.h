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

#include <systemd/sd-event.h>

#include "config.h"

#define PSI_SYSTEM_PATH "/proc/pressure/memory"

/* What to watch and what to write there, worked out from the
 * configuration and the environment. */
struct pressure_spec {
	bool enabled;
	bool from_systemd;	/* $MEMORY_PRESSURE_WATCH */
	char path[512];
	char trigger[160];	/* bytes to write, NUL included */
	size_t trigger_len;	/* 0: write nothing */
	char desc[600];		/* for log lines */
};

/*
 * Fill @spec from @cfg and the two environment values (NULL when unset).
 * Return 0, or -EINVAL with *@why set when $MEMORY_PRESSURE_WRITE is not
 * valid base64 or too long.
 */
int pressure_resolve(const struct config_pressure *cfg, const char *env_watch,
		     const char *env_write, struct pressure_spec *spec,
		     char *why, size_t whylen);

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
 */
int pressure_start(struct pressure **pp, sd_event *e,
		   const struct pressure_spec *spec, pressure_fn fn,
		   pressure_gone_fn gone, void *arg);
void pressure_stop(struct pressure *p);

#endif /* SPLKMEMD_PRESSURE_H */
