// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Memory: what an allocator holds for its live objects, from its own
 * counters (spl_kmem: splkmem_cache_get_stats(); SLUB: /sys/kernel/slab/),
 * and what one reap gives back after a burst has been freed.
 *
 *   steady state  L live objects (about 16 MiB, 16..65536 objects), then
 *                 four rounds that each free a random quarter and allocate
 *                 it again; held bytes / (L * object size)
 *   burst         with the L objects still live, B more (about 64 MiB)
 *                 are allocated and all freed; held bytes at the peak,
 *                 after the frees (once deferred work has run), after one
 *                 reap (splkmem_cache_reap_now() or kmem_cache_shrink()),
 *                 and the reap's own cost in guest ns
 */
#include "bench.h"

#include <linux/delay.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/vmalloc.h>

static const char *const kb_mem_allocs[] = { "spl-kvmem", "spl-slab", "slub" };

static unsigned long kb_count(size_t bytes, size_t size, unsigned long lo,
			      unsigned long hi)
{
	return clamp_t(unsigned long, bytes / size, lo, hi);
}

static int kb_fill(struct kb_inst *bi, void **objs, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		objs[i] = bi->a->alloc(bi);
		if (!objs[i]) {
			while (i--)
				bi->a->free(bi, objs[i]);
			return -ENOMEM;
		}
		if (i % 64 == 63)
			cond_resched();
	}
	return 0;
}

static void kb_drain(struct kb_inst *bi, void **objs, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		bi->a->free(bi, objs[i]);
		if (i % 64 == 63)
			cond_resched();
	}
}

static long long kb_settled_bytes(struct kb_inst *bi, u64 *live)
{
	msleep(50);	/* deferred trims and frees run now */
	return kb_held_bytes(bi, live);
}

static int kb_mem_one(struct kb_inst *bi, struct rnd_state *rnd)
{
	unsigned long live_n = kb_count(SZ_16M, bi->size, 16, 65536);
	unsigned long burst_n = kb_count(SZ_64M, bi->size, 64, 65536);
	long long held, peak, after_free, after_reap;
	void **live = NULL, **burst = NULL;
	unsigned long i, r;
	u64 counted, t0, reap_ns;
	size_t returned = 0;
	int rc = -ENOMEM;

	live = kvmalloc_array(live_n, sizeof(*live), GFP_KERNEL);
	burst = kvmalloc_array(burst_n, sizeof(*burst), GFP_KERNEL);
	if (!live || !burst)
		goto out;
	if (kb_fill(bi, live, live_n))
		goto out;
	for (r = 0; r < 4; r++) {
		for (i = 0; i < live_n / 4; i++) {
			unsigned long k = prandom_u32_state(rnd) % live_n;

			bi->a->free(bi, live[k]);
			live[k] = bi->a->alloc(bi);
			if (!live[k]) {
				/* Give back the others; k is already gone. */
				live[k] = live[--live_n];
				kb_drain(bi, live, live_n);
				goto out;
			}
		}
		cond_resched();
	}
	held = kb_settled_bytes(bi, &counted);
	pr_info("R mem alloc=%s size=%zu live=%lu live_bytes=%llu held=%lld counted_live=%llu\n",
		bi->a->name, bi->size, live_n, (u64)live_n * bi->size, held,
		counted);

	if (kb_fill(bi, burst, burst_n)) {
		kb_drain(bi, live, live_n);
		goto out;
	}
	peak = kb_held_bytes(bi, NULL);
	kb_drain(bi, burst, burst_n);
	after_free = kb_settled_bytes(bi, NULL);
	t0 = ktime_get_ns();
	if (bi->a->spl)
		returned = splkmem_cache_reap_now(bi->spl);
	else
		kmem_cache_shrink(bi->kc);
	reap_ns = ktime_get_ns() - t0;
	after_reap = kb_settled_bytes(bi, NULL);
	pr_info("R reap alloc=%s size=%zu live=%lu burst=%lu burst_bytes=%llu peak=%lld after_free=%lld returned=%zu after_reap=%lld reap_ns=%llu\n",
		bi->a->name, bi->size, live_n, burst_n,
		(u64)burst_n * bi->size, peak, after_free, returned, after_reap,
		reap_ns);
	kb_drain(bi, live, live_n);
	rc = 0;
out:
	kvfree(burst);
	kvfree(live);
	return rc;
}

int kb_mem(void)
{
	struct rnd_state rnd;
	unsigned int si, ai;
	struct kb_inst bi;

	prandom_seed_state(&rnd, 42);
	for (si = 0; si < kb_nr_sizes; si++) {
		size_t size = kb_sizes[si];

		if (!kb_size_wanted(size))
			continue;
		for (ai = 0; ai < ARRAY_SIZE(kb_mem_allocs); ai++) {
			const struct kb_alloc *a = kb_alloc_find(kb_mem_allocs[ai]);
			int rc;

			if (!a || !kb_alloc_wanted(a->name))
				continue;
			if (kb_inst_setup(&bi, a, size))
				continue;
			rc = kb_mem_one(&bi, &rnd);
			if (rc)
				pr_err("R error section=mem alloc=%s size=%zu rc=%d\n",
				       a->name, size, rc);
			kb_inst_teardown(&bi);
			msleep(20);
		}
	}
	return 0;
}
