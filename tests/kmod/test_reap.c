// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Returning memory: reaping after a burst (slab_reap, slab_age), reaping
 * objects parked in other CPUs' magazines (reap_all_cpus) and destroying a
 * cache hands its pages back to the system (destroy_returns_pages).
 */
#include "spl_kmem_test.h"

#include <linux/delay.h>
#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/smp.h>

/* Allocate @n tagged objects into @objs; returns how many it got. */
static unsigned int kt_alloc_n(struct kt_ctx *t, struct splkmem_cache *cache,
			       void **objs, unsigned int n, size_t size,
			       u32 salt, s64 budget_ms)
{
	ktime_t start = ktime_get();
	unsigned int i;

	for (i = 0; i < n; i++) {
		objs[i] = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
		if (!kt_check(t, objs[i], "KM_SLEEP alloc %u of %u returned NULL",
			      i, n))
			break;
		kt_fill(objs[i], size, salt + i);
		if (i % 256 == 255) {
			cond_resched();
			if (budget_ms && kt_ms_since(start) > budget_ms) {
				i++;
				break;
			}
		}
	}
	return i;
}

static void kt_free_n(struct kt_ctx *t, struct splkmem_cache *cache,
		      void **objs, unsigned int n, size_t size, u32 salt)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!kt_verify(objs[i], size, salt + i))
			kt_fail(t, "object %u of %u (%p) overwritten while live",
				i, n, objs[i]);
		splkmem_cache_free(cache, objs[i]);
		if (i % 256 == 255)
			cond_resched();
	}
}

/* ---- slab_reap ----------------------------------------------------- */

#define KT_REAP_OBJS	1024
#define KT_REAP_SIZE	256

void kt_slab_reap(struct kt_ctx *t)
{
	struct splkmem_cache_stats st, before;
	struct splkmem_cache *cache;
	unsigned int got, reaps = 0;
	size_t freed = 0;
	ktime_t start;
	void **objs;

	objs = kvcalloc(KT_REAP_OBJS, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		kt_fail(t, "no memory");
		return;
	}
	cache = splkmem_cache_create("kt_reap", KT_REAP_SIZE, 0, NULL, NULL,
				     NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(cache));
		goto out;
	}

	got = kt_alloc_n(t, cache, objs, KT_REAP_OBJS, KT_REAP_SIZE, 0, 0);
	kt_free_n(t, cache, objs, got, KT_REAP_SIZE, 0);
	if (t->failed)
		goto out_destroy;

	kt_settled(t, cache, &before, "after free");
	if (!kt_check_counts(t, "after free", &before) ||
	    !kt_check(t, kt_live(&before) == 0,
		      "%llu objects live after all freed", kt_live(&before)))
		goto out_destroy;

	/* Reap every 100 ms, as the historical test did, for up to 10 s. */
	start = ktime_get();
	for (;;) {
		freed += splkmem_cache_reap_now(cache);
		reaps++;
		kt_stats(cache, &st);
		if (st.slab_total == 0 || kt_ms_since(start) > 10000)
			break;
		msleep(100);
	}
	kt_check(t, st.slab_total == 0 && st.obj_total == 0,
		 "after %u reaps in %lld ms: slab_total %llu obj_total %llu (mag_objs %llu)",
		 reaps, kt_ms_since(start), st.slab_total, st.obj_total,
		 st.mag_objs);
	kt_check(t, freed == before.bytes,
		 "reaps returned %zu bytes, cache held %llu", freed,
		 before.bytes);
	kt_check(t, st.reap == reaps, "reap counter %llu after %u reaps",
		 st.reap, reaps);
	kt_check_counts(t, "after reap", &st);
	kt_detail(t, "%u objs, %llu slabs (%llu parked in magazines) freed by %u reap(s)",
		  got, before.slab_total, before.mag_objs, reaps);
out_destroy:
	splkmem_cache_destroy(cache);
out:
	kvfree(objs);
}

/* ---- slab_age ------------------------------------------------------ */

#define KT_AGE_OBJS	131072
#define KT_AGE_SIZE	256
#define KT_AGE_BUDGET_MS 20000	/* allocation phase, for slow emulation */

void kt_slab_age(struct kt_ctx *t)
{
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache;
	s64 alloc_ms, free_ms, reap_ms;
	ktime_t start;
	unsigned int got;
	void **objs;

	objs = kvcalloc(KT_AGE_OBJS, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		kt_fail(t, "no memory");
		return;
	}
	cache = splkmem_cache_create("kt_age", KT_AGE_SIZE, 0, NULL, NULL,
				     NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(cache));
		goto out;
	}

	start = ktime_get();
	got = kt_alloc_n(t, cache, objs, KT_AGE_OBJS, KT_AGE_SIZE, 0,
			 KT_AGE_BUDGET_MS);
	alloc_ms = kt_ms_since(start);
	kt_stats(cache, &st);
	kt_check(t, kt_live(&st) == got,
		 "%u objects out, stats say live %llu (obj_alloc %llu mag_objs %llu)",
		 got, kt_live(&st), st.obj_alloc, st.mag_objs);

	start = ktime_get();
	kt_free_n(t, cache, objs, got, KT_AGE_SIZE, 0);
	free_ms = kt_ms_since(start);

	start = ktime_get();
	kt_reap_to_empty(t, cache, "after free");
	reap_ms = kt_ms_since(start);

	kt_detail(t, "%u%s objs in %llu slabs: alloc %lld ms, free %lld ms, reap %lld ms",
		  got, got < KT_AGE_OBJS ? " (time-limited)" : "",
		  st.slab_total, alloc_ms, free_ms, reap_ms);
	splkmem_cache_destroy(cache);
out:
	kvfree(objs);
}

/* ---- reap_all_cpus ------------------------------------------------- */

#define KT_RAC_SIZE	2048

struct kt_rac {
	struct kt_ctx *t;
	struct splkmem_cache *cache;
	unsigned int cpu;
	unsigned int n;
	unsigned int ran_on;
	void **objs;
};

/*
 * Runs on @rac->cpu: what it frees fills that CPU's two magazines and
 * gives the depot full ones.
 */
static void kt_rac_worker(struct kt_worker *w)
{
	struct kt_rac *rac = w->arg;
	unsigned int got;

	got = kt_alloc_n(rac->t, rac->cache, rac->objs, rac->n, KT_RAC_SIZE,
			 rac->cpu << 16, 0);
	kt_free_n(rac->t, rac->cache, rac->objs, got, KT_RAC_SIZE,
		  rac->cpu << 16);
	rac->ran_on = raw_smp_processor_id();
}

static unsigned int kt_rac_cpu(unsigned int id, void *arg)
{
	return ((struct kt_rac *)arg)->cpu;
}

void kt_reap_all_cpus(struct kt_ctx *t)
{
	struct splkmem_cache_stats st, prev;
	struct splkmem_cache *cache;
	struct kt_rac rac = { .t = t };
	char percpu[96] = "";
	size_t freed, len = 0;
	unsigned int cpu, cpus = 0;

	cache = splkmem_cache_create("kt_reap_cpus", KT_RAC_SIZE, 0, NULL,
				     NULL, NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(cache));
		return;
	}
	kt_stats(cache, &prev);
	/*
	 * Three magazines' worth per CPU: freeing them fills the CPU's
	 * loaded and previous magazines and trades at least one full one to
	 * the depot, so the reap must return both kinds.
	 */
	rac.n = 3 * prev.mag_size;
	rac.cache = cache;
	rac.objs = kcalloc(rac.n, sizeof(*rac.objs), GFP_KERNEL);
	if (!rac.objs) {
		kt_fail(t, "no memory");
		goto out;
	}

	/* One CPU at a time, so each magazine's share shows in mag_objs. */
	for_each_online_cpu(cpu) {
		struct kt_team team;
		u64 parked;

		rac.cpu = cpu;
		rac.ran_on = UINT_MAX;
		if (kt_team_start(&team, t, 1, kt_rac_worker, &rac,
				  kt_rac_cpu))
			goto out;
		kt_team_wait(&team, 60000);
		kt_team_stop(&team);
		if (t->failed)
			goto out;

		kt_stats(cache, &st);
		parked = st.mag_objs - prev.mag_objs;
		if (len < sizeof(percpu))
			len += scnprintf(percpu + len, sizeof(percpu) - len,
					 " %u:%llu", cpu, parked);
		if (!kt_check(t, rac.ran_on == cpu,
			      "worker bound to CPU %u ran on %u", cpu,
			      rac.ran_on) ||
		    !kt_check(t, st.mag_objs > prev.mag_objs,
			      "CPU %u freed %u objects but mag_objs went %llu -> %llu",
			      cpu, rac.n, prev.mag_objs, st.mag_objs))
			goto out;
		prev = st;
		cpus++;
	}

	kt_settled(t, cache, &st, "before reap");
	if (!kt_check_counts(t, "before reap", &st) ||
	    !kt_check(t, kt_live(&st) == 0 && st.mag_objs > 0 &&
		      st.slab_total > 0 && st.depot_full > 0,
		      "before reap: live %llu mag_objs %llu slab_total %llu depot_full %llu",
		      kt_live(&st), st.mag_objs, st.slab_total, st.depot_full))
		goto out;

	/* One reap from this thread must drain every CPU's magazine. */
	freed = splkmem_cache_reap_now(cache);
	prev = st;
	kt_stats(cache, &st);
	kt_check(t, st.slab_total == 0 && st.obj_total == 0 &&
		 st.obj_alloc == 0 && st.mag_objs == 0 &&
		 st.depot_full == 0 && st.depot_empty == 0,
		 "one reap on CPU %u left slab_total %llu obj_total %llu obj_alloc %llu mag_objs %llu depot %llu full %llu empty (had %llu parked on %u CPUs, %llu full in the depot)",
		 raw_smp_processor_id(), st.slab_total, st.obj_total,
		 st.obj_alloc, st.mag_objs, st.depot_full, st.depot_empty,
		 prev.mag_objs, cpus, prev.depot_full);
	kt_check(t, freed == prev.bytes, "reap returned %zu, cache held %llu",
		 freed, prev.bytes);
	kt_detail(t, "%u CPUs x %u objs, parked per CPU:%s, %llu slabs reaped",
		  cpus, rac.n, percpu, prev.slab_total);
out:
	kfree(rac.objs);
	splkmem_cache_destroy(cache);
}

/* ---- destroy_returns_pages ----------------------------------------- */

#define KT_DRP_SIZE	SZ_64K
#define KT_DRP_BYTES	SZ_64M
/* Expect to see at least this much of the 64 MiB leave the free pool. */
#define KT_DRP_SEEN_MIB	56
/*
 * Tolerance after destroy.  kt_free_pages() counts the per-CPU free lists,
 * so what stays missing is the vmalloc page tables (one page per 2 MiB of
 * address space: 128 KiB for 64 MiB, kept for reuse) plus whatever the
 * rest of the system allocated meanwhile; 2 MiB covers both with room.
 */
#define KT_DRP_TOL_MIB	2

void kt_destroy_returns_pages(struct kt_ctx *t)
{
	const unsigned int n = KT_DRP_BYTES / KT_DRP_SIZE;
	const long tol = KT_DRP_TOL_MIB << (20 - PAGE_SHIFT);
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache;
	unsigned long before, mid, after = 0;
	unsigned int got;
	ktime_t start;
	void **objs;
	s64 ms;

	objs = kvcalloc(n, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		kt_fail(t, "no memory");
		return;
	}

	before = kt_free_pages();
	cache = splkmem_cache_create("kt_pages", KT_DRP_SIZE, 0, NULL, NULL,
				     NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(cache));
		goto out;
	}
	got = kt_alloc_n(t, cache, objs, n, KT_DRP_SIZE, 0, 0);
	mid = kt_free_pages();
	kt_stats(cache, &st);
	kt_check(t, before > mid &&
		 before - mid >= (KT_DRP_SEEN_MIB << (20 - PAGE_SHIFT)),
		 "64 MiB of objects but free memory fell only %ld KiB (%lu -> %lu pages)",
		 ((long)before - (long)mid) * (long)(PAGE_SIZE / 1024), before,
		 mid);
	kt_free_n(t, cache, objs, got, KT_DRP_SIZE, 0);
	splkmem_cache_destroy(cache);

	start = ktime_get();
	do {
		after = kt_free_pages();
		if ((long)before - (long)after <= tol)
			break;
		msleep(100);
	} while (kt_ms_since(start) < 5000);
	ms = kt_ms_since(start);
	kt_check(t, (long)before - (long)after <= tol,
		 "free memory %ld KiB below its start after destroy (%lu -> %lu -> %lu pages, tolerance %d MiB, waited %lld ms)",
		 ((long)before - (long)after) * (long)(PAGE_SIZE / 1024),
		 before, mid, after, KT_DRP_TOL_MIB, ms);
	kt_detail(t, "free %lu -> %lu -> %lu MiB (after-before %+ld KiB, cache held %llu MiB), back within %lld ms, vmalloc counter n/a",
		  before >> (20 - PAGE_SHIFT), mid >> (20 - PAGE_SHIFT),
		  after >> (20 - PAGE_SHIFT),
		  ((long)after - (long)before) * (long)(PAGE_SIZE / 1024),
		  st.bytes >> 20, ms);
out:
	kvfree(objs);
}
