// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stats: a scripted sequence on one KVMEM and one SLAB-backed cache in
 * which every field of struct splkmem_cache_stats has an expected value
 * or relation at every step.
 */
#include "spl_kmem_test.h"

#include <linux/align.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#define KT_ZERO(t, where, st, field)					\
	kt_check(t, (st)->field == 0, "%s: " #field " %llu, want 0",	\
		 where, (u64)(st)->field)

/* Every counter of a cache that holds nothing and never did. */
static bool kt_all_zero(struct kt_ctx *t, const char *where,
			const struct splkmem_cache_stats *st)
{
	return KT_ZERO(t, where, st, mag_objs) &&
	       KT_ZERO(t, where, st, slab_total) &&
	       KT_ZERO(t, where, st, slab_alloc) &&
	       KT_ZERO(t, where, st, slab_max) &&
	       KT_ZERO(t, where, st, obj_total) &&
	       KT_ZERO(t, where, st, obj_alloc) &&
	       KT_ZERO(t, where, st, obj_max) &&
	       KT_ZERO(t, where, st, obj_emergency) &&
	       KT_ZERO(t, where, st, obj_emergency_max) &&
	       KT_ZERO(t, where, st, obj_deadlock) &&
	       KT_ZERO(t, where, st, linux_objs) &&
	       KT_ZERO(t, where, st, slab_create) &&
	       KT_ZERO(t, where, st, slab_destroy) &&
	       KT_ZERO(t, where, st, slab_fail) &&
	       KT_ZERO(t, where, st, grow) &&
	       KT_ZERO(t, where, st, growing) &&
	       KT_ZERO(t, where, st, reap) &&
	       KT_ZERO(t, where, st, bytes);
}

/* KM_NOSLEEP allocations are made under it to prove they never sleep. */
static DEFINE_SPINLOCK(kt_stats_lock);

static bool kt_mag_size_valid(u32 n)
{
	return n == 4 || n == 16 || n == 64 || n == 128 || n == 256;
}

#define KT_KV_SIZE	1000
#define KT_KV_ALIGN	64

static void kt_stats_kvmem(struct kt_ctx *t)
{
	const unsigned int flags = SPLKMEM_KMC_KVMEM | SPLKMEM_KMC_RECLAIMABLE;
	struct splkmem_cache_stats st, peak;
	struct splkmem_cache *cache;
	unsigned int k = 0, i, min_slabs;
	void **objs = NULL;
	size_t freed;
	void *obj;

	cache = splkmem_cache_create("kt_stats_kv", KT_KV_SIZE, KT_KV_ALIGN,
				     NULL, NULL, NULL, flags);
	if (IS_ERR(cache)) {
		kt_fail(t, "kvmem: create = %ld", PTR_ERR(cache));
		return;
	}

	/* Layout as created, and nothing counted yet. */
	kt_stats(cache, &st);
	if (!kt_check(t, (st.flags & flags) == flags &&
		      !(st.flags & SPLKMEM_KMC_SLAB),
		      "kvmem: flags 0x%x, created with 0x%x", st.flags, flags) ||
	    !kt_check(t, st.obj_size == KT_KV_SIZE && st.obj_align == KT_KV_ALIGN,
		      "kvmem: obj_size %u obj_align %u, want %u/%u",
		      st.obj_size, st.obj_align, KT_KV_SIZE, KT_KV_ALIGN) ||
	    !kt_check(t, st.slab_objs >= 8 && PAGE_ALIGNED(st.slab_size) &&
		      (u64)st.slab_objs * KT_KV_SIZE <= st.slab_size &&
		      st.slab_size <= (32 << 20),
		      "kvmem: slab_objs %u slab_size %u: want >= 8 objects of %u in whole pages, <= 32 MiB",
		      st.slab_objs, st.slab_size, KT_KV_SIZE) ||
	    !kt_check(t, kt_mag_size_valid(st.mag_size) &&
		      st.mag_refill == (st.mag_size + 1) / 2,
		      "kvmem: mag_size %u mag_refill %u", st.mag_size,
		      st.mag_refill) ||
	    !kt_all_zero(t, "kvmem new", &st) ||
	    !kt_check(t, splkmem_cache_inuse(cache) == 0 &&
		      splkmem_cache_entry_size(cache) == KT_KV_SIZE,
		      "kvmem new: inuse %llu entry_size %llu",
		      splkmem_cache_inuse(cache),
		      splkmem_cache_entry_size(cache)) ||
	    !kt_check(t, !strcmp(splkmem_cache_name(cache), "kt_stats_kv"),
		      "kvmem: name '%s'", splkmem_cache_name(cache)))
		goto out;

	/* K objects: three full slabs and one more. */
	k = 3 * st.slab_objs + 1;
	min_slabs = DIV_ROUND_UP(k, st.slab_objs);
	objs = kcalloc(k, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		kt_fail(t, "no memory");
		goto out;
	}
	for (i = 0; i < k; i++) {
		objs[i] = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
		if (!kt_check(t, objs[i], "kvmem: alloc %u returned NULL", i)) {
			k = i;
			goto out_free;
		}
	}
	kt_settled(t, cache, &st, "kvmem after K allocs");
	peak = st;
	/* Checked in one go: the frees below are needed either way. */
	kt_check_counts(t, "kvmem after K allocs", &st);
	kt_check(t, kt_live(&st) == k,
		 "kvmem: %u allocated, obj_alloc %llu - mag_objs %llu = %llu",
		 k, st.obj_alloc, st.mag_objs, kt_live(&st));
	kt_check(t, st.slab_total >= min_slabs &&
		 st.slab_alloc >= min_slabs,
		 "kvmem: %u objects in %llu slabs (%llu allocated), need >= %u",
		 k, st.slab_total, st.slab_alloc, min_slabs);
	kt_check(t, st.obj_max >= k && st.slab_max >= min_slabs,
		 "kvmem: obj_max %llu slab_max %llu after %u allocs",
		 st.obj_max, st.slab_max, k);
	KT_ZERO(t, "kvmem after K allocs", &st, slab_destroy);
	KT_ZERO(t, "kvmem after K allocs", &st, obj_emergency);
	KT_ZERO(t, "kvmem after K allocs", &st, obj_emergency_max);
	KT_ZERO(t, "kvmem after K allocs", &st, obj_deadlock);
	KT_ZERO(t, "kvmem after K allocs", &st, slab_fail);
	KT_ZERO(t, "kvmem after K allocs", &st, reap);
	kt_check(t, splkmem_cache_inuse(cache) == st.obj_total,
		 "kvmem: inuse %llu, obj_total %llu",
		 splkmem_cache_inuse(cache), st.obj_total);

out_free:
	for (i = 0; i < k; i++)
		splkmem_cache_free(cache, objs[i]);
	k = 0;
	if (t->failed)
		goto out;

	/* Freed: nothing live, high-water marks kept. */
	kt_settled(t, cache, &st, "kvmem after free");
	if (!kt_check_counts(t, "kvmem after free", &st) ||
	    !kt_check(t, kt_live(&st) == 0,
		      "kvmem after free: obj_alloc %llu mag_objs %llu",
		      st.obj_alloc, st.mag_objs) ||
	    !kt_check(t, st.obj_max == peak.obj_max &&
		      st.slab_max == peak.slab_max,
		      "kvmem after free: obj_max %llu slab_max %llu, were %llu/%llu",
		      st.obj_max, st.slab_max, peak.obj_max, peak.slab_max))
		goto out;

	freed = splkmem_cache_reap_now(cache);
	peak = st;
	kt_stats(cache, &st);
	if (!kt_check(t, freed == peak.bytes,
		      "kvmem reap returned %zu, cache held %llu", freed,
		      peak.bytes) ||
	    !kt_check(t, st.reap == 1, "kvmem: reap %llu after one reap",
		      st.reap) ||
	    !kt_check(t, st.slab_destroy == st.slab_create &&
		      st.slab_create == peak.slab_create,
		      "kvmem after reap: slab_create %llu slab_destroy %llu",
		      st.slab_create, st.slab_destroy) ||
	    !kt_check(t, st.slab_total == 0 && st.slab_alloc == 0 &&
		      st.obj_total == 0 && st.obj_alloc == 0 &&
		      st.mag_objs == 0 && st.bytes == 0,
		      "kvmem after reap: slab_total %llu slab_alloc %llu obj_total %llu obj_alloc %llu mag_objs %llu bytes %llu",
		      st.slab_total, st.slab_alloc, st.obj_total,
		      st.obj_alloc, st.mag_objs, st.bytes) ||
	    !kt_check(t, st.obj_max == peak.obj_max &&
		      st.slab_max == peak.slab_max,
		      "kvmem after reap: high-water marks moved (obj_max %llu slab_max %llu)",
		      st.obj_max, st.slab_max) ||
	    !kt_check(t, splkmem_cache_inuse(cache) == 0,
		      "kvmem after reap: inuse %llu",
		      splkmem_cache_inuse(cache)) ||
	    !kt_check_counts(t, "kvmem after reap", &st))
		goto out;

	/* The global reap counts once per cache. */
	splkmem_reap();
	kt_stats(cache, &st);
	if (!kt_check(t, st.reap == 2, "kvmem: reap %llu after splkmem_reap()",
		      st.reap))
		goto out;

	/*
	 * Nothing is free now, so a KM_NOSLEEP allocation must be an
	 * emergency object: counted in obj_total and bytes, not in slabs.
	 */
	spin_lock(&kt_stats_lock);
	obj = splkmem_cache_alloc(cache, SPLKMEM_KM_NOSLEEP);
	spin_unlock(&kt_stats_lock);
	if (!kt_check(t, obj, "kvmem: KM_NOSLEEP on an empty cache returned NULL"))
		goto out;
	kt_stats(cache, &st);
	kt_check(t, st.obj_emergency == 1 && st.obj_emergency_max == 1,
		 "kvmem emergency: obj_emergency %llu max %llu, want 1/1",
		 st.obj_emergency, st.obj_emergency_max);
	kt_check(t, st.obj_total == st.slab_total * st.slab_objs + 1,
		 "kvmem emergency: obj_total %llu, slab_total %llu * %u + 1",
		 st.obj_total, st.slab_total, st.slab_objs);
	/* It is live, and once its growth is done the counts add up. */
	kt_check(t, kt_live(&st) == 1,
		 "kvmem emergency: live %llu (obj_alloc %llu mag_objs %llu), want 1",
		 kt_live(&st), st.obj_alloc, st.mag_objs);
	if (kt_settled(t, cache, &st, "kvmem emergency"))
		kt_check_counts(t, "kvmem emergency", &st);
	splkmem_cache_free(cache, obj);
	kt_stats(cache, &st);
	kt_check(t, st.obj_emergency == 0 && st.obj_emergency_max == 1,
		 "kvmem emergency freed: obj_emergency %llu max %llu, want 0/1",
		 st.obj_emergency, st.obj_emergency_max);
	kt_check(t, st.bytes == st.slab_total * st.slab_size,
		 "kvmem emergency freed: bytes %llu, slabs %llu x %u",
		 st.bytes, st.slab_total, st.slab_size);
	kt_reap_to_empty(t, cache, "kvmem final");
	kt_stats(cache, &st);
	kt_detail(t, "kvmem slab %u B x %u objs, mag %u/%u, K %u, reap %llu",
		  st.slab_size, st.slab_objs, st.mag_size, st.mag_refill,
		  3 * st.slab_objs + 1, st.reap);
out:
	for (i = 0; i < k; i++)
		splkmem_cache_free(cache, objs[i]);
	kfree(objs);
	splkmem_cache_destroy(cache);
}

#define KT_SL_SIZE	200
#define KT_SL_ALIGN	16
#define KT_SL_COUNT	50

static void kt_stats_slab(struct kt_ctx *t)
{
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache;
	void *objs[KT_SL_COUNT + 1];
	unsigned int n = 0, i;

	cache = splkmem_cache_create("kt_stats_slab", KT_SL_SIZE, KT_SL_ALIGN,
				     NULL, NULL, NULL, SPLKMEM_KMC_SLAB);
	if (IS_ERR(cache)) {
		kt_fail(t, "slab: create = %ld", PTR_ERR(cache));
		return;
	}
	kt_stats(cache, &st);
	if (!kt_check(t, (st.flags & SPLKMEM_KMC_SLAB) &&
		      !(st.flags & SPLKMEM_KMC_KVMEM),
		      "slab: flags 0x%x", st.flags) ||
	    !kt_check(t, st.obj_size == KT_SL_SIZE &&
		      st.obj_align == KT_SL_ALIGN,
		      "slab: obj_size %u obj_align %u, want %u/%u",
		      st.obj_size, st.obj_align, KT_SL_SIZE, KT_SL_ALIGN) ||
	    !kt_check(t, !st.slab_size && !st.slab_objs && !st.mag_size,
		      "slab: slab_size %u slab_objs %u mag_size %u, want 0",
		      st.slab_size, st.slab_objs, st.mag_size) ||
	    !kt_all_zero(t, "slab new", &st))
		goto out;

	for (n = 0; n < KT_SL_COUNT; n++) {
		objs[n] = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
		if (!kt_check(t, objs[n], "slab: alloc %u returned NULL", n))
			goto out;
	}
	/* The Linux slab serves KM_NOSLEEP directly: no emergency object. */
	spin_lock(&kt_stats_lock);
	objs[n] = splkmem_cache_alloc(cache, SPLKMEM_KM_NOSLEEP);
	spin_unlock(&kt_stats_lock);
	if (!kt_check(t, objs[n], "slab: KM_NOSLEEP alloc returned NULL"))
		goto out;
	n++;

	kt_stats(cache, &st);
	if (!kt_check(t, st.linux_objs == n, "slab: linux_objs %llu, %u allocated",
		      st.linux_objs, n) ||
	    !kt_check(t, splkmem_cache_inuse(cache) == n &&
		      splkmem_cache_entry_size(cache) == KT_SL_SIZE,
		      "slab: inuse %llu entry_size %llu, want %u/%u",
		      splkmem_cache_inuse(cache),
		      splkmem_cache_entry_size(cache), n, KT_SL_SIZE) ||
	    !kt_check_counts(t, "slab with objects", &st) ||
	    !KT_ZERO(t, "slab", &st, obj_emergency) ||
	    !KT_ZERO(t, "slab", &st, obj_deadlock) ||
	    !KT_ZERO(t, "slab", &st, slab_create))
		goto out;

	for (i = 0; i < n; i++)
		splkmem_cache_free(cache, objs[i]);
	n = 0;
	splkmem_cache_reap_now(cache);
	kt_stats(cache, &st);
	kt_check(t, st.linux_objs == 0, "slab after free: linux_objs %llu",
		 st.linux_objs);
	kt_check(t, st.reap == 1, "slab: reap %llu after one reap", st.reap);
	kt_check(t, splkmem_cache_inuse(cache) == 0,
		 "slab after free: inuse %llu", splkmem_cache_inuse(cache));
	kt_check_counts(t, "slab after free", &st);
	kt_detail(t, "slab %u objs", KT_SL_COUNT + 1);
out:
	for (i = 0; i < n; i++)
		splkmem_cache_free(cache, objs[i]);
	splkmem_cache_destroy(cache);
}

void kt_stats_test(struct kt_ctx *t)
{
	kt_stats_kvmem(t);
	if (!t->failed)
		kt_stats_slab(t);
}
