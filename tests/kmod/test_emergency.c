// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The never-sleeping path (emergency_nosleep) and growth-deadlock
 * detection (deadlock): both end in emergency objects, which come from the
 * page allocator rather than from vmalloc'ed slabs.
 */
#include "spl_kmem_test.h"

#include <linux/delay.h>
#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>

#define KT_EM_SIZE	SZ_16K
#define KT_EM_ALIGN	512
#define KT_EM_BURST	64

/*
 * KM_NOSLEEP allocations happen under this spinlock: on a non-RT kernel a
 * sleep in there is "BUG: scheduling while atomic".  On PREEMPT_RT a
 * spinlock_t may sleep legitimately, as the allocator's local_lock may.
 */
static DEFINE_SPINLOCK(kt_em_lock);

static unsigned long kt_switches(void)
{
	return current->nvcsw + current->nivcsw;
}

/* Wait up to @ms for the cache to own at least one slab. */
static bool kt_wait_slab(struct splkmem_cache *cache,
			 struct splkmem_cache_stats *st, unsigned int ms)
{
	ktime_t start = ktime_get();

	for (;;) {
		kt_stats(cache, st);
		if (st->slab_total >= 1)
			return true;
		if (kt_ms_since(start) > ms)
			return false;
		usleep_range(5000, 10000);
	}
}

static struct splkmem_cache *kt_em_cache(struct kt_ctx *t, const char *name)
{
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache;

	cache = splkmem_cache_create(name, KT_EM_SIZE, KT_EM_ALIGN, NULL, NULL,
				     NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(cache)) {
		kt_fail(t, "%s: create = %ld", name, PTR_ERR(cache));
		return NULL;
	}
	kt_stats(cache, &st);
	if (!kt_check(t, st.slab_total == 0 && st.obj_total == 0,
		      "%s: new cache already has %llu slabs, %llu objects",
		      name, st.slab_total, st.obj_total)) {
		splkmem_cache_destroy(cache);
		return NULL;
	}
	return cache;
}

void kt_emergency_nosleep(struct kt_ctx *t)
{
	unsigned int i, avail, from_slab = 0, emergency = 0, nulls = 0;
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache;
	void *burst[KT_EM_BURST];
	unsigned long sw;
	void **objs = NULL;
	bool grown;
	void *obj;
	ktime_t start;
	s64 grow_ms;

	cache = kt_em_cache(t, "kt_nosleep");
	if (!cache)
		return;

	/* Nothing free anywhere: the first allocation is an emergency one. */
	sw = kt_switches();
	spin_lock(&kt_em_lock);
	obj = splkmem_cache_alloc(cache, SPLKMEM_KM_NOSLEEP);
	spin_unlock(&kt_em_lock);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		kt_check(t, kt_switches() == sw,
			 "KM_NOSLEEP allocation under a spinlock scheduled %lu times",
			 kt_switches() - sw);
	start = ktime_get();
	if (!kt_check(t, obj, "first KM_NOSLEEP alloc returned NULL"))
		goto out;
	kt_stats(cache, &st);
	kt_check(t, !is_vmalloc_addr(obj),
		 "emergency object %p is a vmalloc address", obj);
	kt_check(t, IS_ALIGNED((unsigned long)obj, KT_EM_ALIGN),
		 "emergency object %p not aligned to %u", obj, KT_EM_ALIGN);
	kt_check(t, st.obj_emergency == 1 && st.obj_emergency_max == 1,
		 "after one emergency alloc: obj_emergency %llu max %llu",
		 st.obj_emergency, st.obj_emergency_max);
	kt_fill(obj, KT_EM_SIZE, 1);
	kt_check(t, kt_verify(obj, KT_EM_SIZE, 1),
		 "emergency object not fully writable");

	spin_lock(&kt_em_lock);
	splkmem_cache_free(cache, obj);
	spin_unlock(&kt_em_lock);
	kt_stats(cache, &st);
	if (!kt_check(t, st.obj_emergency == 0 && st.obj_emergency_max == 1,
		      "emergency freed: obj_emergency %llu max %llu, want 0/1",
		      st.obj_emergency, st.obj_emergency_max))
		goto out;

	/* The emergency allocation must have kicked a growth. */
	grown = kt_wait_slab(cache, &st, 5000);
	if (!kt_check(t, grown,
		      "no slab 5 s after the emergency allocation (slab_create %llu grow %llu slab_fail %llu)",
		      st.slab_create, st.grow, st.slab_fail))
		goto out;
	grow_ms = kt_ms_since(start);
	kt_settle(cache, &st, 5000);

	/* Now every free object in the slabs is served without emergency. */
	avail = st.obj_total - kt_live(&st);
	objs = kcalloc(avail, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		kt_fail(t, "no memory");
		goto out;
	}
	sw = kt_switches();
	spin_lock(&kt_em_lock);
	for (i = 0; i < avail; i++)
		objs[i] = splkmem_cache_alloc(cache, SPLKMEM_KM_NOSLEEP);
	spin_unlock(&kt_em_lock);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		kt_check(t, kt_switches() == sw,
			 "KM_NOSLEEP allocations under a spinlock scheduled %lu times",
			 kt_switches() - sw);
	kt_stats(cache, &st);
	for (i = 0; i < avail; i++) {
		if (!kt_check(t, objs[i] && is_vmalloc_addr(objs[i]),
			      "KM_NOSLEEP alloc %u of %u free in slabs: %p is not from a slab",
			      i, avail, objs[i]))
			break;
	}
	kt_check(t, st.obj_emergency == 0,
		 "%u KM_NOSLEEP allocs with %u free in slabs made %llu emergency objects",
		 avail, avail, st.obj_emergency);

	/* A burst past what the slabs hold, all under one spinlock hold. */
	sw = kt_switches();
	spin_lock(&kt_em_lock);
	for (i = 0; i < KT_EM_BURST; i++)
		burst[i] = splkmem_cache_alloc(cache, SPLKMEM_KM_NOSLEEP);
	spin_unlock(&kt_em_lock);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		kt_check(t, kt_switches() == sw,
			 "KM_NOSLEEP burst under a spinlock scheduled %lu times",
			 kt_switches() - sw);
	kt_stats(cache, &st);
	for (i = 0; i < KT_EM_BURST; i++) {
		if (!burst[i]) {
			nulls++;
			continue;
		}
		if (is_vmalloc_addr(burst[i]))
			from_slab++;
		else
			emergency++;
		kt_check(t, IS_ALIGNED((unsigned long)burst[i], KT_EM_ALIGN),
			 "burst object %p not aligned to %u", burst[i],
			 KT_EM_ALIGN);
		kt_fill(burst[i], KT_EM_SIZE, i);
	}
	kt_check(t, !nulls, "%u of %u KM_NOSLEEP burst allocations returned NULL",
		 nulls, KT_EM_BURST);
	kt_check(t, st.obj_emergency == emergency &&
		 st.obj_emergency_max >= emergency,
		 "burst: %u objects outside vmalloc space, stats obj_emergency %llu max %llu",
		 emergency, st.obj_emergency, st.obj_emergency_max);

	spin_lock(&kt_em_lock);
	for (i = 0; i < KT_EM_BURST; i++) {
		if (!burst[i])
			continue;
		if (!kt_verify(burst[i], KT_EM_SIZE, i))
			kt_fail(t, "burst object %u damaged", i);
		splkmem_cache_free(cache, burst[i]);
	}
	for (i = 0; i < avail; i++)
		if (objs[i])
			splkmem_cache_free(cache, objs[i]);
	spin_unlock(&kt_em_lock);

	kt_stats(cache, &st);
	kt_check(t, st.obj_emergency == 0,
		 "obj_emergency %llu after freeing everything",
		 st.obj_emergency);
	kt_reap_to_empty(t, cache, "after free");
	kt_detail(t, "first slab %lld ms after the emergency alloc, burst of %u: %u from slabs, %u emergency",
		  grow_ms, KT_EM_BURST, from_slab, emergency);
out:
	kfree(objs);
	splkmem_cache_destroy(cache);
}

#define KT_DL_DELAY_MS		1000
#define KT_DL_MAX_MS		800
#define KT_DL_EXTRA		3

void kt_deadlock(struct kt_ctx *t)
{
	void *first[1 + KT_DL_EXTRA] = {}, **objs = NULL;
	unsigned int i, n = 0, avail = 0, emergency = 0;
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache;
	s64 ms[1 + KT_DL_EXTRA] = {}, slab_ms = 0, next_ms = 0;
	ktime_t start, t0;
	bool grown;

	cache = kt_em_cache(t, "kt_deadlock");
	if (!cache)
		return;
	splkmem_cache_inject_grow_delay(cache, KT_DL_DELAY_MS);

	/*
	 * The growth sleeps 1 s, so the sleeping allocation must give up on
	 * it after ~HZ/10, declare it deadlocked and hand out an emergency
	 * object; the ones after it must not wait at all.
	 */
	start = ktime_get();
	for (n = 0; n < ARRAY_SIZE(first); n++) {
		t0 = ktime_get();
		first[n] = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
		ms[n] = kt_ms_since(t0);
		if (!kt_check(t, first[n], "KM_SLEEP alloc %u returned NULL", n))
			goto out;
		if (!is_vmalloc_addr(first[n]))
			emergency++;
		if (n == 0) {
			kt_stats(cache, &st);
			kt_check(t, st.obj_deadlock >= 1 &&
				 st.obj_emergency >= 1,
				 "first alloc on a cache whose growth sleeps %u ms: obj_deadlock %llu obj_emergency %llu",
				 KT_DL_DELAY_MS, st.obj_deadlock,
				 st.obj_emergency);
			kt_check(t, !is_vmalloc_addr(first[0]),
				 "first alloc %p is a vmalloc address, not an emergency object",
				 first[0]);
		}
		kt_check(t, ms[n] < KT_DL_MAX_MS,
			 "alloc %u during a stuck growth took %lld ms (limit %u, growth delay %u)",
			 n, ms[n], KT_DL_MAX_MS, KT_DL_DELAY_MS);
		if (t->failed)
			goto out;
	}
	kt_stats(cache, &st);
	kt_check(t, st.obj_emergency == emergency,
		 "%u emergency objects out, stats say %llu", emergency,
		 st.obj_emergency);

	/* The delayed growth finishes and clears the deadlocked state. */
	grown = kt_wait_slab(cache, &st, KT_DL_DELAY_MS + 5000);
	if (!kt_check(t, grown,
		      "no slab %u ms after the growth was kicked (slab_create %llu grow %llu slab_fail %llu)",
		      KT_DL_DELAY_MS + 5000, st.slab_create, st.grow,
		      st.slab_fail))
		goto out;
	slab_ms = kt_ms_since(start);
	kt_settle(cache, &st, 5000);

	/* With the delay still set: served from the new slab, no waiting. */
	avail = st.obj_total - kt_live(&st);
	objs = kcalloc(avail, sizeof(*objs), GFP_KERNEL);
	if (!objs || !avail) {
		kt_fail(t, "%u free objects after growth (or no memory)", avail);
		goto out;
	}
	t0 = ktime_get();
	objs[0] = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
	next_ms = kt_ms_since(t0);
	if (!kt_check(t, objs[0] && is_vmalloc_addr(objs[0]),
		      "first alloc after the growth completed is %p, not a slab object (took %lld ms, obj_deadlock now %llu)",
		      objs[0], next_ms, st.obj_deadlock))
		goto out;

	splkmem_cache_inject_grow_delay(cache, 0);
	for (i = 1; i < avail; i++) {
		objs[i] = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
		if (!kt_check(t, objs[i] && is_vmalloc_addr(objs[i]),
			      "alloc %u of %u free in slabs returned %p, not a slab object",
			      i, avail, objs[i]))
			goto out;
	}

out:
	splkmem_cache_inject_grow_delay(cache, 0);
	for (i = 0; i < ARRAY_SIZE(first); i++)
		if (first[i])
			splkmem_cache_free(cache, first[i]);
	for (i = 0; i < avail && objs; i++)
		if (objs[i])
			splkmem_cache_free(cache, objs[i]);
	kfree(objs);
	if (!t->failed) {
		kt_stats(cache, &st);
		kt_check(t, st.obj_emergency == 0 &&
			 st.obj_emergency_max >= emergency,
			 "after free: obj_emergency %llu max %llu",
			 st.obj_emergency, st.obj_emergency_max);
		kt_reap_to_empty(t, cache, "after free");
		kt_detail(t, "stuck-growth allocs took %lld/%lld/%lld/%lld ms, %u emergency, deadlocks %llu, slab after %lld ms, next alloc %lld ms",
			  ms[0], ms[1], ms[2], ms[3], emergency,
			  st.obj_deadlock, slab_ms, next_ms);
	} else {
		/* Let a still-sleeping growth finish before destroying. */
		msleep(KT_DL_DELAY_MS);
		kt_settle(cache, &st, 5000);
	}
	splkmem_cache_destroy(cache);
}
