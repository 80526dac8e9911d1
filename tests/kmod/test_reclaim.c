// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * slab_reclaim: empty slabs kept back after a large free must go back to
 * the system when the page allocator runs short, through the allocator's
 * shrinker, without anyone calling reap.
 */
#include "spl_kmem_test.h"

#include <linux/delay.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sizes.h>

#define KT_RCL_SIZE		SZ_128K
#define KT_RCL_WAIT_MS		10000
#define KT_RCL_PRESSURE_MS	60000	/* ~35 MiB/s on a busy emulating host */
/*
 * Pressure comes in order-3 blocks: not "costly" for the page allocator,
 * so they reclaim like single pages, yet 8x fewer calls under emulation.
 */
#define KT_RCL_ORDER		3

/* What slab_total - slab_alloc counts: slabs holding no object at all. */
static u64 kt_empty_slabs(const struct splkmem_cache_stats *st)
{
	return st->slab_total - st->slab_alloc;
}

struct kt_pressure {
	struct list_head pages;
	unsigned long blocks;
	unsigned long min_free;
	bool alloc_failed;
	bool shrunk;		/* the empty slabs went while we pushed */
	s64 ms;
};

/*
 * Take pages until the cache's empty slabs are gone, the page allocator
 * refuses, or time runs out.  Shrinkers only run from reclaim, so free
 * memory has to cross the low watermark (kswapd) or the min watermark
 * (direct reclaim by our own allocation); a fixed floor such as 64 MiB
 * would stay above both and never reach the shrinker.  __GFP_NORETRY
 * makes our own allocations give up after one reclaim attempt instead of
 * invoking the OOM killer, and we stop as soon as the shrinker has acted,
 * so the system spends only moments near its watermarks.
 */
static void kt_push(struct splkmem_cache *cache, struct kt_pressure *p)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;
	unsigned long limit = totalram_pages() >> KT_RCL_ORDER;
	struct splkmem_cache_stats st;
	ktime_t start = ktime_get();

	INIT_LIST_HEAD(&p->pages);
	p->min_free = kt_free_pages();
	while (p->blocks < limit) {
		struct page *page = alloc_pages(gfp, KT_RCL_ORDER);

		if (!page) {
			p->alloc_failed = true;
			break;
		}
		list_add(&page->lru, &p->pages);
		p->blocks++;
		if (p->blocks % 32)
			continue;
		p->min_free = min(p->min_free, kt_free_pages());
		kt_stats(cache, &st);
		/* Idle memory: empty slabs, and full depot magazines. */
		if (!kt_empty_slabs(&st) && !st.depot_full) {
			p->shrunk = true;
			break;
		}
		if (kt_ms_since(start) > KT_RCL_PRESSURE_MS)
			break;
		cond_resched();
	}
	p->min_free = min(p->min_free, kt_free_pages());
	p->ms = kt_ms_since(start);
}

static void kt_release(struct kt_pressure *p)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, &p->pages, lru) {
		list_del(&page->lru);
		__free_pages(page, KT_RCL_ORDER);
	}
}

void kt_slab_reclaim(struct kt_ctx *t)
{
	struct splkmem_cache_stats st, peak;
	struct kt_pressure p = {};
	struct splkmem_cache *cache;
	unsigned int n, got, i;
	u64 empty, depot;
	ktime_t start;
	void **objs;
	s64 wait_ms;
	unsigned long allowed;

	/* An eighth of RAM in 128 KiB objects. */
	n = (totalram_pages() << PAGE_SHIFT) / 8 / KT_RCL_SIZE;
	objs = kvcalloc(n, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		kt_fail(t, "no memory");
		return;
	}
	cache = splkmem_cache_create("kt_reclaim", KT_RCL_SIZE, 0, NULL, NULL,
				     NULL, SPLKMEM_KMC_KVMEM |
				     SPLKMEM_KMC_RECLAIMABLE);
	if (IS_ERR(cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(cache));
		goto out;
	}

	for (got = 0; got < n; got++) {
		objs[got] = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
		if (!kt_check(t, objs[got], "alloc %u of %u returned NULL",
			      got, n))
			break;
		/* Touch both ends: the pages are real, and ours. */
		*(u64 *)objs[got] = got;
		*(u64 *)(objs[got] + KT_RCL_SIZE - 8) = got;
		if (got % 64 == 63)
			cond_resched();
	}
	kt_settle(cache, &peak, 5000);
	for (i = 0; i < got; i++) {
		if (*(u64 *)objs[i] != i ||
		    *(u64 *)(objs[i] + KT_RCL_SIZE - 8) != i)
			kt_fail(t, "object %u overwritten", i);
		splkmem_cache_free(cache, objs[i]);
		if (i % 64 == 63)
			cond_resched();
	}
	if (t->failed)
		goto out_destroy;

	kt_settle(cache, &st, 5000);
	if (!kt_check_counts(t, "after free", &st) ||
	    !kt_check(t, kt_live(&st) == 0, "%llu objects live after free",
		      kt_live(&st)))
		goto out_destroy;
	empty = kt_empty_slabs(&st);
	depot = st.depot_full;

	kt_push(cache, &p);
	kt_release(&p);

	/*
	 * The shrinker may also run late, from kswapd: give it 10 s.  Its
	 * asynchronous reap of the magazines can empty a few slabs after its
	 * last call; at most the cache's empty reserve (half a magazine per
	 * CPU, the trim's own reserve) may be left for the next reap.
	 */
	allowed = DIV_ROUND_UP((st.mag_size + 1) / 2 * num_online_cpus(),
			       st.slab_objs ? st.slab_objs : 1);
	start = ktime_get();
	for (;;) {
		kt_stats(cache, &st);
		if ((kt_empty_slabs(&st) <= allowed && st.slab_total * 4 <= peak.slab_total) ||
		    kt_ms_since(start) > KT_RCL_WAIT_MS)
			break;
		msleep(100);
	}
	wait_ms = kt_ms_since(start);
	kt_check(t, kt_empty_slabs(&st) <= allowed,
		 "%llu empty slabs left (at most %lu may be; slab_total %llu slab_alloc %llu) %lld ms after pressure; had %llu, pressure took %lu MiB down to %lu MiB free%s",
		 kt_empty_slabs(&st), allowed, st.slab_total, st.slab_alloc, wait_ms,
		 empty, (p.blocks << (KT_RCL_ORDER + PAGE_SHIFT)) >> 20,
		 p.min_free >> (20 - PAGE_SHIFT),
		 p.alloc_failed ? " (allocation refused)" : "");
	kt_check(t, st.slab_total * 4 <= peak.slab_total,
		 "slab_total %llu after pressure, more than 1/4 of its peak %llu (mag_objs %llu)",
		 st.slab_total, peak.slab_total, st.mag_objs);
	kt_check_counts(t, "after pressure", &st);

	kt_detail(t, "%u objs, peak %llu slabs, %s%llu empty and %llu full depot magazines after free, %llu slabs after pressure of %lu MiB (min free %lu MiB, %s in %lld ms)",
		  got, peak.slab_total,
		  empty || depot ? "" : "NOTHING IDLE TO RECLAIM: ", empty,
		  depot,
		  st.slab_total,
		  (p.blocks << (KT_RCL_ORDER + PAGE_SHIFT)) >> 20,
		  p.min_free >> (20 - PAGE_SHIFT),
		  p.shrunk ? "shrunk during pressure" :
		  p.alloc_failed ? "allocation refused" : "stopped", p.ms);

	if (!t->failed)
		kt_reap_to_empty(t, cache, "final");
out_destroy:
	splkmem_cache_destroy(cache);
out:
	kvfree(objs);
}

/*
 * shrink_drain: when empty slabs are not enough, the shrinker drains the
 * magazines from a worker and frees the slabs that leaves empty.  Run
 * after a synchronous reap, as a consumer's reap and reclaim interleave in
 * the field: on a lockdep kernel this is the order that showed the
 * shrinker's worker waiting for work of its own workqueue.
 */
#define KT_SD_OBJS	64

static void kt_sd_fill(struct splkmem_cache *cache, void **objs)
{
	unsigned int i;

	for (i = 0; i < KT_SD_OBJS; i++)
		objs[i] = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
	for (i = 0; i < KT_SD_OBJS; i++)
		if (objs[i])
			splkmem_cache_free(cache, objs[i]);
}

void kt_shrink_drain(struct kt_ctx *t)
{
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache;
	void **objs;
	int round;

	objs = kcalloc(KT_SD_OBJS, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		kt_fail(t, "no memory");
		return;
	}
	cache = splkmem_cache_create("kt_shrink_drain", 512, 0, NULL, NULL,
				     NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(cache));
		goto out;
	}
	for (round = 0; round < 2 && !t->failed; round++) {
		kt_sd_fill(cache, objs);
		kt_stats(cache, &st);
		if (!kt_check(t, st.mag_objs > 0,
			      "round %d: no objects in the magazines after %d frees",
			      round, KT_SD_OBJS))
			break;
		if (round == 0)
			splkmem_cache_reap_now(cache);
		else
			splkmem_cache_inject_shrink(cache);
		kt_stats(cache, &st);
		kt_check(t, st.mag_objs == 0 && st.slab_total == st.slab_alloc,
			 "after the %s: %llu objects in magazines, %llu of %llu slabs empty",
			 round ? "shrinker's drain" : "reap", st.mag_objs,
			 st.slab_total - st.slab_alloc, st.slab_total);
		kt_check_counts(t, round ? "after shrink" : "after reap", &st);
	}
	splkmem_cache_destroy(cache);
out:
	kfree(objs);
}
