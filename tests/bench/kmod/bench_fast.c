// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fast path, one CPU: the cost of one allocation plus one free.
 *
 *   pair   alloc, free, alloc, free... (for spl_kmem KVMEM: a magazine hit)
 *   batch  N allocs then the N frees, in allocation order: N = 256, 64 for
 *          objects of 1 MiB and more.  Bursts like this overflow spl_kmem's
 *          magazines and reach its slow path (slab lists, growth, trim).
 *
 * Each allocator is measured on its own (no interleaving): deferred work it
 * queues (spl_kmem's growth and trim workers, vmalloc's lazy purge) runs in
 * its own measurement, which cond_resched()s between batches, and not in
 * the next allocator's.  Under -icount the guest clock counts the
 * instructions of every thread on the CPU, workers included.
 */
#include "bench.h"

#include <linux/delay.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#define KB_BATCH	256
#define KB_BATCH_HUGE	64	/* objects of 1 MiB and more */

static unsigned int kb_batch_n(size_t size)
{
	return size >= (1u << 20) ? KB_BATCH_HUGE : KB_BATCH;
}

/* Elapsed ns, or U64_MAX when an allocation failed. */
static u64 kb_pair(struct kb_inst *bi, unsigned long iters)
{
	const struct kb_alloc *a = bi->a;
	unsigned long i;
	u64 t0 = ktime_get_ns();

	for (i = 0; i < iters; i++) {
		void *p = a->alloc(bi);

		if (unlikely(!p))
			return U64_MAX;
		a->free(bi, p);
	}
	return ktime_get_ns() - t0;
}

static u64 kb_batch(struct kb_inst *bi, void **objs, unsigned int n,
		    unsigned int batches)
{
	const struct kb_alloc *a = bi->a;
	unsigned int b, i, j;
	u64 t0 = ktime_get_ns();

	for (b = 0; b < batches; b++) {
		for (i = 0; i < n; i++) {
			objs[i] = a->alloc(bi);
			if (unlikely(!objs[i])) {
				for (j = 0; j < i; j++)
					a->free(bi, objs[j]);
				return U64_MAX;
			}
		}
		for (i = 0; i < n; i++)
			a->free(bi, objs[i]);
		if (b + 1 < batches)
			cond_resched();
	}
	return ktime_get_ns() - t0;
}

static void kb_report(struct kb_inst *bi, const char *op, unsigned long n,
		      unsigned int batches, u64 *v, unsigned int reps)
{
	struct kb_summary s;
	char buf[160];

	kb_summarize(v, reps, &s);
	kb_fmt_summary(buf, sizeof(buf), &s);
	pr_info("R fast alloc=%s size=%zu op=%s n=%lu batches=%u %s\n",
		bi->a->name, bi->size, op, n, batches, buf);
}

static int kb_fast_pair(struct kb_inst *bi)
{
	unsigned long iters;
	u64 t, v[KB_MAX_REPS];
	unsigned int r;

	if (kb_pair(bi, 8) == U64_MAX)
		return -ENOMEM;
	t = kb_pair(bi, 32);
	if (t == U64_MAX)
		return -ENOMEM;
	iters = clamp_t(u64, div64_u64(kb_target_ns * 32, max(t, 1ull)),
			32, 1ul << 22);
	for (r = 0; r < kb_reps; r++) {
		t = kb_pair(bi, iters);
		if (t == U64_MAX)
			return -ENOMEM;
		v[r] = kb_per_op(t, iters);
	}
	kb_report(bi, "pair", iters, 1, v, kb_reps);
	return 0;
}

static void kb_spl_counters(struct kb_inst *bi, struct splkmem_cache_stats *st)
{
	if (bi->a->spl)
		splkmem_cache_get_stats(bi->spl, st);
	else
		memset(st, 0, sizeof(*st));
}

static int kb_fast_batch(struct kb_inst *bi)
{
	unsigned int n = kb_batch_n(bi->size), batches, r;
	struct splkmem_cache_stats st0, st1;
	u64 t, v[KB_MAX_REPS];
	void **objs;
	int rc = -ENOMEM;

	objs = kvmalloc_array(n, sizeof(*objs), GFP_KERNEL);
	if (!objs)
		return -ENOMEM;
	/* The first batch grows the allocator; the second calibrates. */
	if (kb_batch(bi, objs, n, 1) == U64_MAX)
		goto out;
	cond_resched();
	t = kb_batch(bi, objs, n, 1);
	if (t == U64_MAX)
		goto out;
	batches = clamp_t(u64, div64_u64(kb_target_ns, max(t, 1ull)), 1, 64);

	kb_spl_counters(bi, &st0);
	for (r = 0; r < kb_reps; r++) {
		cond_resched();
		t = kb_batch(bi, objs, n, batches);
		if (t == U64_MAX)
			goto out;
		v[r] = kb_per_op(t, (u64)n * batches);
	}
	kb_spl_counters(bi, &st1);
	kb_report(bi, "batch", n, batches, v, kb_reps);
	if (bi->a->spl && !(st1.flags & SPLKMEM_KMC_SLAB))
		pr_info("R faststat alloc=%s size=%zu op=batch batches=%u slab_create=%llu slab_destroy=%llu grow=%llu emergency=%llu slab_size=%u slab_objs=%u mag_size=%u\n",
			bi->a->name, bi->size, batches * kb_reps,
			st1.slab_create - st0.slab_create,
			st1.slab_destroy - st0.slab_destroy,
			st1.grow - st0.grow,
			st1.obj_emergency_max, st1.slab_size, st1.slab_objs,
			st1.mag_size);
	rc = 0;
out:
	kvfree(objs);
	return rc;
}

int kb_fast(void)
{
	unsigned int si, ai;
	struct kb_inst bi;
	int rc;

	for (si = 0; si < kb_nr_sizes; si++) {
		size_t size = kb_sizes[si];

		if (!kb_size_wanted(size))
			continue;
		for (ai = 0; ai < kb_nr_allocs; ai++) {
			const struct kb_alloc *a = &kb_allocs[ai];

			if (!kb_alloc_wanted(a->name))
				continue;
			if (kb_inst_setup(&bi, a, size))
				continue;
			rc = kb_fast_pair(&bi);
			if (!rc)
				rc = kb_fast_batch(&bi);
			if (rc)
				pr_err("R error section=fast alloc=%s size=%zu rc=%d\n",
				       a->name, size, rc);
			/* Let deferred work run now, not in the next test. */
			msleep(20);
			kb_inst_teardown(&bi);
			msleep(20);
		}
	}
	return 0;
}
