// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reaping: give idle memory back to the system, on request (reap) or
 * under memory pressure (the shrinker).
 *
 * A reap drains the magazines of every CPU, then frees every empty slab.
 * The shrinker only frees empty slabs: reclaim may call it thousands of
 * times a second (openzfs/zfs#1598), so its count is one atomic read and
 * its scan stops as soon as it has freed what it was asked for.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

#include "skc.h"
#include "spl_kmem_config.h"

/* Reap one cache whose magazines were already drained. */
static void skc_reap_drained(struct splkmem_cache *c,
			     struct skc_reap_result *res)
{
	struct skc_reap_result one = { 0 };
	unsigned long flags;

	if (skc_is_slab(c)) {
		kmem_cache_shrink(c->linux_cache);
	} else {
		one.bytes = skc_slab_reclaim(c, 0, ULONG_MAX, 0);
		one.slabs = one.bytes / c->slab_size;
	}

	spin_lock_irqsave(&c->lock, flags);
	c->reap++;
	spin_unlock_irqrestore(&c->lock, flags);
	skc_notify(SKC_EVENT_REAP, c, &one);
	res->slabs += one.slabs;
	res->bytes += one.bytes;
}

/**
 * skc_reap - reap one cache
 * @c: the cache
 * @res: what was returned is added here
 */
void skc_reap(struct splkmem_cache *c, struct skc_reap_result *res)
{
	if (!skc_is_slab(c))
		skc_mag_drain(c);
	skc_reap_drained(c, res);
}

/**
 * skc_reap_all - reap every cache
 * @res: what was returned is added here
 *
 * One pass over the CPUs drains the magazines of every cache.
 */
void skc_reap_all(struct skc_reap_result *res)
{
	struct splkmem_cache *c;

	down_read(&skc_caches_sem);
	skc_mag_drain_all();
	list_for_each_entry(c, &skc_caches, link)
		skc_reap_drained(c, res);
	up_read(&skc_caches_sem);
}

/* Documented in <spl_kmem/cache.h>, as is every exported function. */
size_t splkmem_cache_reap_now(struct splkmem_cache *cache)
{
	struct skc_reap_result res = { 0 };

	might_sleep();
	skc_reap(cache, &res);
	return res.bytes;
}
EXPORT_SYMBOL_GPL(splkmem_cache_reap_now);

size_t splkmem_reap(void)
{
	struct skc_reap_result res = { 0 };

	might_sleep();
	skc_reap_all(&res);
	return res.bytes;
}
EXPORT_SYMBOL_GPL(splkmem_reap);

static unsigned long skc_shrink_count(struct shrinker *s,
				      struct shrink_control *sc)
{
	long pages = atomic_long_read(&skc_empty_pages);

	return pages > 0 ? pages : SHRINK_EMPTY;
}

static unsigned long skc_shrink_scan(struct shrinker *s,
				     struct shrink_control *sc)
{
	unsigned long freed = 0;
	struct splkmem_cache *c;

	/* Never wait for a cache being created or destroyed. */
	if (!down_read_trylock(&skc_caches_sem))
		return SHRINK_STOP;
	list_for_each_entry(c, &skc_caches, link) {
		if (freed >= sc->nr_to_scan)
			break;
		if (!skc_is_slab(c) && READ_ONCE(c->nr_empty))
			freed += skc_slab_reclaim(c, 0,
						  sc->nr_to_scan - freed, 0) >>
				 PAGE_SHIFT;
	}
	up_read(&skc_caches_sem);
	return freed;
}

#ifdef HAVE_SHRINKER_ALLOC
static struct shrinker *skc_shrinker;

int skc_shrinker_init(void)
{
	skc_shrinker = shrinker_alloc(0, "spl_kmem");
	if (!skc_shrinker)
		return -ENOMEM;
	skc_shrinker->count_objects = skc_shrink_count;
	skc_shrinker->scan_objects = skc_shrink_scan;
	skc_shrinker->seeks = DEFAULT_SEEKS;
	shrinker_register(skc_shrinker);
	return 0;
}

void skc_shrinker_fini(void)
{
	shrinker_free(skc_shrinker);
}
#else
static struct shrinker skc_shrinker = {
	.count_objects = skc_shrink_count,
	.scan_objects = skc_shrink_scan,
	.seeks = DEFAULT_SEEKS,
};

int skc_shrinker_init(void)
{
#ifdef HAVE_REGISTER_SHRINKER_NAME
	return register_shrinker(&skc_shrinker, "spl_kmem");
#else
	return register_shrinker(&skc_shrinker);
#endif
}

void skc_shrinker_fini(void)
{
	unregister_shrinker(&skc_shrinker);
}
#endif
