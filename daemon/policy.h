/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decisions, kept apart from the actions so they can be tested alone:
 * which [cache] section applies to a cache, whether its magazine must
 * change, which caches a pressure event reaps, and the cooldown between
 * reaps.
 */
#ifndef SPLKMEMD_POLICY_H
#define SPLKMEMD_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "splkmem.h"

/* The section for @name: its exact-name section, else the first glob
 * section (in file order) that matches, else NULL. */
const struct config_cache *policy_cache_section(const struct config *cfg,
						const char *name);

/*
 * Whether @c's magazine must be set to match @cfg: true with the size in
 * *@size and the deciding section in *@sec.  Caches backed by the Linux
 * slab have no magazines and never match.
 */
bool policy_magazine_change(const struct config *cfg,
			    const struct splkmem_cache_info *c, uint32_t *size,
			    const struct config_cache **sec);

/* Whether pressure reaps every cache in one request (no list given). */
bool policy_reap_all(const struct config_pressure *pr);
/* With a list: whether @name is in it (exact name or glob). */
bool policy_reaps_cache(const struct config_pressure *pr, const char *name);

/* Whether @name gets per-cache series ([metrics] caches; none = all). */
bool policy_metrics_cache(const struct config_metrics *m, const char *name);

/* At most one reap per cooldown. */
struct ratelimit {
	uint64_t last_us;
	bool used;
};

/* Whether an action may run at @now_us; if so it is counted as run. */
bool ratelimit_allow(struct ratelimit *rl, uint64_t now_us,
		     uint64_t cooldown_us);

#endif /* SPLKMEMD_POLICY_H */
