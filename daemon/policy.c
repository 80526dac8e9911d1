// SPDX-License-Identifier: GPL-2.0-or-later
/* Policy decisions: cache sections, magazine sizes, what to reap, when. */
#include <fnmatch.h>
#include <string.h>

#include "policy.h"

static bool pattern_matches(const char *pattern, const char *name)
{
	return !fnmatch(pattern, name, 0);
}

const struct config_cache *policy_cache_section(const struct config *cfg,
						const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ncaches; i++)
		if (!cfg->caches[i].glob && !strcmp(cfg->caches[i].pattern, name))
			return &cfg->caches[i];
	for (i = 0; i < cfg->ncaches; i++)
		if (cfg->caches[i].glob &&
		    pattern_matches(cfg->caches[i].pattern, name))
			return &cfg->caches[i];
	return NULL;
}

bool policy_magazine_change(const struct config *cfg,
			    const struct splkmem_cache_info *c, uint32_t *size,
			    const struct config_cache **sec)
{
	const struct config_cache *s = policy_cache_section(cfg, c->name);

	if (!s || !s->has_mag || c->backing == SPLKMEM_BACKING_SLAB)
		return false;
	if (s->mag_size == 0 ? c->mag_auto :
	    (!c->mag_auto && c->mag_size == s->mag_size))
		return false;
	*size = s->mag_size;
	*sec = s;
	return true;
}

bool policy_reap_all(const struct config_pressure *pr)
{
	return pr->ncaches == 0;
}

bool policy_reaps_cache(const struct config_pressure *pr, const char *name)
{
	size_t i;

	for (i = 0; i < pr->ncaches; i++)
		if (pattern_matches(pr->caches[i], name))
			return true;
	return false;
}

bool ratelimit_allow(struct ratelimit *rl, uint64_t now_us,
		     uint64_t cooldown_us)
{
	if (rl->used && now_us - rl->last_us < cooldown_us)
		return false;
	rl->used = true;
	rl->last_us = now_us;
	return true;
}

bool policy_metrics_cache(const struct config_metrics *m, const char *name)
{
	size_t i;

	if (!m->ncaches)
		return true;
	for (i = 0; i < m->ncaches; i++)
		if (pattern_matches(m->caches[i], name))
			return true;
	return false;
}
