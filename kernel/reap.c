// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reaping: give idle memory back to the system, on request (reap) or
 * under memory pressure (the shrinker).
 *
 * A reap drains the magazines of every CPU, then frees every empty slab.
 * The shrinker frees empty slabs and the depots' magazines: reclaim may
 * call it thousands of times a second (openzfs/zfs#1598), so its count is
 * two atomic reads and its scan
 * stops as soon as it has freed what it was asked for.
 *
 * Both may run in reclaim (a consumer's shrinker may reap): nothing here
 * takes cpus_read_lock(), skc_caches_sem or any global mutex, and freed
 * pages are credited to the reclaiming task (slab.c).
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/srcu.h>

#include "skc.h"
#include "spl_kmem_config.h"

/* Reap one cache whose magazines were already drained. */
static void skc_reap_drained(struct splkmem_cache *c,
			     struct skc_reap_result *res)
{
	struct skc_reap_result one = { 0 };
	unsigned long flags;

	if (skc_is_slab(c)) {
		/*
		 * SLUB's shrink takes cpus_read_lock(): never under reclaim,
		 * where CPU bring-up (allocating with that lock held) could
		 * be waiting for us.  A worker does it instead.
		 */
		if (current->flags & PF_MEMALLOC)
			skc_linux_shrink_kick(c);
		else
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
 * Walks the caches under SRCU, not skc_caches_sem: a reap from reclaim
 * must not wait behind a create or destroy (which may allocate), and a
 * destroy waits for the walk instead.
 */
void skc_reap_all(struct skc_reap_result *res)
{
	struct splkmem_cache *c;
	int idx;

	idx = srcu_read_lock(&skc_caches_srcu);
	list_for_each_entry_srcu(c, &skc_caches, link,
				 srcu_read_lock_held(&skc_caches_srcu))
		skc_reap(c, res);
	srcu_read_unlock(&skc_caches_srcu, idx);
}

/*
 * The caches a reap, the shrinker or the CPU hotplug callback walk without
 * waiting for create or destroy (which may allocate, or be waited on by
 * someone reclaiming).
 */
DEFINE_SRCU(skc_caches_srcu);

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
	long pages = atomic_long_read(&skc_empty_pages) +
		     atomic_long_read(&skc_depot_pages);

	return pages > 0 ? pages : SHRINK_EMPTY;
}

/*
 * Free empty slabs until nr_to_scan pages are freed, after returning the
 * depots' magazines (their objects empty slabs).  If that is not
 * enough, objects idle in magazines are the next source: start (without
 * waiting, at most once a second per cache) a drain of the caches' busy
 * magazines, whose emptied slabs the next call can free.
 */
static unsigned long skc_shrink_scan(struct shrinker *s,
				     struct shrink_control *sc)
{
	unsigned long freed = 0;
	struct splkmem_cache *c;
	int idx;

	idx = srcu_read_lock(&skc_caches_srcu);
	list_for_each_entry_srcu(c, &skc_caches, link,
				 srcu_read_lock_held(&skc_caches_srcu)) {
		if (freed >= sc->nr_to_scan)
			break;
		if (skc_is_slab(c))
			continue;
		/* Full depot magazines are idle objects: slabs to empty. */
		skc_depot_flush(c);
		if (READ_ONCE(c->nr_empty))
			freed += skc_slab_reclaim(c, 0,
						  sc->nr_to_scan - freed, 0) >>
				 PAGE_SHIFT;
		if (freed < sc->nr_to_scan)
			skc_mag_drain_async(c);
	}
	srcu_read_unlock(&skc_caches_srcu, idx);
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
