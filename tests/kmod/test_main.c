// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spl_kmem_test: in-kernel test suite for spl_kmem.ko.
 *
 * The whole suite runs from module_init and the log is the result: one
 * "PASS <test>" or "FAIL <test>: <reason>" line per test, then
 * "DONE <n> passed, <m> failed".  module_init returns 0 even when tests
 * fail so the harness can read the log and unload both modules.
 */
#include "spl_kmem_test.h"

#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/percpu.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *run;
module_param(run, charp, 0444);
MODULE_PARM_DESC(run, "Comma-separated tests to run (default: all)");

static ulong seed;
module_param(seed, ulong, 0444);
MODULE_PARM_DESC(seed, "Random seed (0: pick one and print it)");

static const struct kt_test kt_tests[] = {
	{ "bad_args",			kt_bad_args },
	{ "stats",			kt_stats_test },
	{ "slab_small",			kt_slab_small },
	{ "slab_large",			kt_slab_large },
	{ "slab_align",			kt_slab_align },
	{ "ctor_fail",			kt_ctor_fail },
	{ "slab_reap",			kt_slab_reap },
	{ "slab_age",			kt_slab_age },
	{ "emergency_nosleep",		kt_emergency_nosleep },
	{ "deadlock",			kt_deadlock },
	{ "reap_all_cpus",		kt_reap_all_cpus },
	{ "cross_cpu_free",		kt_cross_cpu_free },
	{ "slab_lock",			kt_slab_lock },
	{ "magazine_resize",		kt_magazine_resize },
	{ "destroy_returns_pages",	kt_destroy_returns_pages },
	{ "slab_reclaim",		kt_slab_reclaim },
	{ "shrink_drain",		kt_shrink_drain },
	{ "kmflags",			kt_kmflags },
	{ "grow_fail",			kt_grow_fail },
	{ "reap_fresh",			kt_reap_fresh },
	{ "reap_churn",			kt_reap_churn },
	{ "cpu_hotplug",		kt_cpu_hotplug },
	{ "shrinker_reap",		kt_shrinker_reap },
	{ "create_fail",		kt_create_fail },
	{ "name_race",			kt_name_race },
	{ "name_leaked",		kt_name_leaked },
	{ "double_free",		kt_double_free },
	{ "wrong_cache_free",		kt_wrong_cache_free },
	{ "mag_resize_race",		kt_mag_resize_race },
	{ "stats_snapshot",		kt_stats_snapshot },
};

/* ---- reporting ---------------------------------------------------- */

static __printf(4, 0) void kt_vset(struct kt_ctx *t, char *buf, bool append,
		    const char *fmt, va_list ap)
{
	size_t len = append ? strlen(buf) : 0;

	if (len && len < KT_MSG_LEN - 2) {
		buf[len++] = ',';
		buf[len++] = ' ';
		buf[len] = '\0';
	}
	if (len < KT_MSG_LEN - 1)
		vsnprintf(buf + len, KT_MSG_LEN - len, fmt, ap);
}

void kt_fail(struct kt_ctx *t, const char *fmt, ...)
{
	unsigned long flags;
	va_list ap;

	spin_lock_irqsave(&t->lock, flags);
	if (!t->failed) {
		t->failed = true;
		va_start(ap, fmt);
		kt_vset(t, t->reason, false, fmt, ap);
		va_end(ap);
	}
	spin_unlock_irqrestore(&t->lock, flags);
}

bool kt_check(struct kt_ctx *t, bool ok, const char *fmt, ...)
{
	unsigned long flags;
	va_list ap;

	if (ok)
		return true;
	spin_lock_irqsave(&t->lock, flags);
	if (!t->failed) {
		t->failed = true;
		va_start(ap, fmt);
		kt_vset(t, t->reason, false, fmt, ap);
		va_end(ap);
	}
	spin_unlock_irqrestore(&t->lock, flags);
	return false;
}

void kt_detail(struct kt_ctx *t, const char *fmt, ...)
{
	unsigned long flags;
	va_list ap;

	spin_lock_irqsave(&t->lock, flags);
	va_start(ap, fmt);
	kt_vset(t, t->detail, true, fmt, ap);
	va_end(ap);
	spin_unlock_irqrestore(&t->lock, flags);
}

void kt_skip(struct kt_ctx *t, const char *fmt, ...)
{
	unsigned long flags;
	va_list ap;

	spin_lock_irqsave(&t->lock, flags);
	t->skipped = true;
	va_start(ap, fmt);
	kt_vset(t, t->reason, false, fmt, ap);
	va_end(ap);
	spin_unlock_irqrestore(&t->lock, flags);
}

/* A progress line for long or stuck phases; never parsed as a verdict. */
void kt_note(struct kt_ctx *t, const char *fmt, ...)
{
	struct va_format vaf;
	va_list ap;

	va_start(ap, fmt);
	vaf.fmt = fmt;
	vaf.va = &ap;
	pr_info("%s: %pV\n", t->name, &vaf);
	va_end(ap);
}

/* ---- small helpers ---------------------------------------------------- */

u32 kt_rand(struct kt_ctx *t)
{
	return prandom_u32_state(&t->rnd);
}

u32 kt_rand_range(struct kt_ctx *t, u32 lo, u32 hi)
{
	if (hi <= lo)
		return lo;
	return lo + (u32)(((u64)kt_rand(t) * ((u64)hi - lo + 1)) >> 32);
}

/* Uniform in log2(size), so small and large sizes are equally likely. */
u32 kt_rand_log(struct kt_ctx *t, u32 lo, u32 hi)
{
	unsigned int lo_bit = ilog2(lo), hi_bit = ilog2(hi);
	unsigned int b = kt_rand_range(t, lo_bit, hi_bit);
	u64 from = max_t(u64, lo, 1ULL << b);
	u64 to = min_t(u64, hi, (2ULL << b) - 1);

	return kt_rand_range(t, from, to);
}

s64 kt_ms_since(ktime_t start)
{
	return ktime_ms_delta(ktime_get(), start);
}

const char *kt_backing_name(unsigned int flags)
{
	if (flags & SPLKMEM_KMC_KVMEM)
		return "kvmem";
	if (flags & SPLKMEM_KMC_SLAB)
		return "slab";
	return "default";
}

bool kt_is_kvmem(const struct splkmem_cache_stats *st)
{
	return st->flags & SPLKMEM_KMC_KVMEM;
}

/* Objects held by callers: allocated out of the slabs, not parked. */
u64 kt_live(const struct splkmem_cache_stats *st)
{
	return st->obj_alloc - st->mag_objs;
}

void kt_stats(struct splkmem_cache *cache, struct splkmem_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	splkmem_cache_get_stats(cache, st);
}

/*
 * Wait until no growth is in flight: no growth queued or running, and
 * nothing changed over two polls.  Exact slab counts
 * are only meaningful after this.
 */
bool kt_settle(struct splkmem_cache *cache, struct splkmem_cache_stats *st,
	       unsigned int timeout_ms)
{
	ktime_t start = ktime_get();
	struct splkmem_cache_stats prev;
	int stable = 0;

	kt_stats(cache, &prev);
	for (;;) {
		usleep_range(5000, 10000);
		kt_stats(cache, st);
		if (!st->growing &&
		    st->slab_create == prev.slab_create &&
		    st->slab_destroy == prev.slab_destroy &&
		    st->obj_emergency == prev.obj_emergency)
			stable++;
		else
			stable = 0;
		if (stable >= 2)
			return true;
		if (kt_ms_since(start) > timeout_ms)
			return false;
		prev = *st;
	}
}

/* kt_settle() within 5 s, or a failure naming @where and the counters. */
bool kt_settled(struct kt_ctx *t, struct splkmem_cache *cache,
		struct splkmem_cache_stats *st, const char *where)
{
	if (kt_settle(cache, st, 5000))
		return true;
	kt_fail(t, "%s: growth still running after 5 s (growing %llu slab_create %llu grow %llu)",
		where, st->growing, st->slab_create, st->grow);
	return false;
}

/*
 * Relations between the counters of a KVMEM cache that hold whenever no
 * growth is in flight (see kt_settle()).  Records the first broken one and
 * returns false.
 */
bool kt_check_counts(struct kt_ctx *t, const char *where,
		     const struct splkmem_cache_stats *st)
{
	u64 slab_bytes = st->slab_total * st->slab_size;

	if (!kt_is_kvmem(st))
		return kt_check(t, st->slab_total == 0 && st->obj_total == 0 &&
				st->obj_alloc == 0 && st->mag_objs == 0 &&
				st->bytes == 0,
				"%s: slab-backed cache has slab counters: slab_total %llu obj_total %llu obj_alloc %llu mag_objs %llu bytes %llu",
				where, st->slab_total, st->obj_total,
				st->obj_alloc, st->mag_objs, st->bytes);

	return kt_check(t, st->obj_alloc >= st->mag_objs,
			"%s: obj_alloc %llu < mag_objs %llu", where,
			st->obj_alloc, st->mag_objs) &&
	       kt_check(t, st->mag_objs >= st->depot_full * st->mag_size,
			"%s: mag_objs %llu < %llu full depot magazines of %u",
			where, st->mag_objs, st->depot_full, st->mag_size) &&
	       kt_check(t, st->depot_contended <= st->depot_locks &&
			st->slab_contended <= st->slab_locks,
			"%s: contended more often than locked: depot %llu/%llu slab %llu/%llu",
			where, st->depot_contended, st->depot_locks,
			st->slab_contended, st->slab_locks) &&
	       kt_check(t, st->slab_alloc <= st->slab_total,
			"%s: slab_alloc %llu > slab_total %llu", where,
			st->slab_alloc, st->slab_total) &&
	       kt_check(t, st->slab_max >= st->slab_alloc,
			"%s: slab_max %llu < slab_alloc %llu", where,
			st->slab_max, st->slab_alloc) &&
	       kt_check(t, st->obj_max >= st->obj_alloc,
			"%s: obj_max %llu < obj_alloc %llu", where,
			st->obj_max, st->obj_alloc) &&
	       kt_check(t, st->obj_emergency_max >= st->obj_emergency,
			"%s: obj_emergency_max %llu < obj_emergency %llu",
			where, st->obj_emergency_max, st->obj_emergency) &&
	       kt_check(t, st->obj_total ==
			st->slab_total * st->slab_objs + st->obj_emergency,
			"%s: obj_total %llu != slab_total %llu * slab_objs %u + emergency %llu",
			where, st->obj_total, st->slab_total, st->slab_objs,
			st->obj_emergency) &&
	       kt_check(t, st->obj_alloc <= st->slab_alloc * st->slab_objs +
			st->obj_emergency,
			"%s: obj_alloc %llu > slab_alloc %llu * slab_objs %u + emergency %llu",
			where, st->obj_alloc, st->slab_alloc, st->slab_objs,
			st->obj_emergency) &&
	       kt_check(t, st->slab_create - st->slab_destroy ==
			st->slab_total,
			"%s: slab_create %llu - slab_destroy %llu != slab_total %llu",
			where, st->slab_create, st->slab_destroy,
			st->slab_total) &&
	       /* One growth creates 1..32 slabs. */
	       kt_check(t, st->grow <= st->slab_create &&
			st->slab_create <= st->grow * 32,
			"%s: slab_create %llu not within 1..32 x grow %llu",
			where, st->slab_create, st->grow) &&
	       kt_check(t, !st->growing, "%s: growing %llu when settled",
			where, st->growing) &&
	       kt_check(t, st->bytes == slab_bytes + st->obj_emergency *
			(PAGE_SIZE << get_order(st->obj_size)),
			"%s: bytes %llu != slab_total %llu * slab_size %u + %llu emergency objects' pages",
			where, st->bytes, st->slab_total, st->slab_size,
			st->obj_emergency) &&
	       kt_check(t, st->linux_objs == 0,
			"%s: kvmem cache has linux_objs %llu", where,
			st->linux_objs);
}

/*
 * After every object is freed, one reap must hand back everything the
 * cache holds, from every CPU's magazine, and exactly the bytes it held.
 */
bool kt_reap_to_empty(struct kt_ctx *t, struct splkmem_cache *cache,
		      const char *where)
{
	struct splkmem_cache_stats st;
	size_t freed;

	if (!kt_settled(t, cache, &st, where))
		return false;
	if (!kt_is_kvmem(&st)) {
		splkmem_cache_reap_now(cache);
		kt_stats(cache, &st);
		return kt_check(t, st.linux_objs == 0,
				"%s: linux_objs %llu after all freed", where,
				st.linux_objs);
	}
	if (!kt_check_counts(t, where, &st) ||
	    !kt_check(t, kt_live(&st) == 0,
		      "%s: %llu objects live after all freed (obj_alloc %llu mag_objs %llu)",
		      where, kt_live(&st), st.obj_alloc, st.mag_objs) ||
	    !kt_check(t, st.obj_emergency == 0,
		      "%s: obj_emergency %llu after all freed", where,
		      st.obj_emergency))
		return false;

	freed = splkmem_cache_reap_now(cache);
	{
		struct splkmem_cache_stats after;

		kt_stats(cache, &after);
		return kt_check(t, after.slab_total == 0 &&
				after.obj_total == 0 && after.obj_alloc == 0 &&
				after.mag_objs == 0 && after.slab_alloc == 0 &&
				after.bytes == 0 && after.depot_full == 0 &&
				after.depot_empty == 0,
				"%s: after reap slab_total %llu obj_total %llu obj_alloc %llu mag_objs %llu slab_alloc %llu bytes %llu depot %llu full %llu empty",
				where, after.slab_total, after.obj_total,
				after.obj_alloc, after.mag_objs,
				after.slab_alloc, after.bytes,
				after.depot_full, after.depot_empty) &&
		       kt_check(t, freed == st.bytes,
				"%s: reap returned %zu, cache held %llu bytes",
				where, freed, st.bytes) &&
		       kt_check_counts(t, where, &after);
	}
}

/* The memory node whose free pages we count; set once at load. */
static struct pglist_data *kt_pgdat;

/*
 * Free pages parked on the per-CPU lists of kt_pgdat's zones.  They are
 * free, but not counted in freeram until the lists drain, and those lists
 * can hold megabytes (more with 6.7's auto-tuned pcp->high): leaving them
 * out makes freeram swing by that much whenever someone frees in bulk.
 */
static unsigned long kt_pcp_pages(void)
{
	unsigned long sum = 0;
	unsigned int cpu;
	int z;

	if (!kt_pgdat)
		return 0;
	for (z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &kt_pgdat->node_zones[z];

		if (!populated_zone(zone))
			continue;
		for_each_online_cpu(cpu)
			sum += max(READ_ONCE(per_cpu_ptr(zone->per_cpu_pageset,
							 cpu)->count), 0);
	}
	return sum;
}

/* Free pages, counting those on per-CPU lists (one-node systems). */
unsigned long kt_free_pages(void)
{
	struct sysinfo si;

	si_meminfo(&si);
	return si.freeram + kt_pcp_pages();	/* mem_unit is PAGE_SIZE */
}

unsigned long kt_free_mib(void)
{
	return kt_free_pages() >> (20 - PAGE_SHIFT);
}

/*
 * Tag layout: the tag at both ends, a tag-derived byte everywhere between.
 * A neighbour that overlaps, or an allocator that writes into a live
 * object, breaks one of the three.
 */
static u8 kt_pattern(u32 tag)
{
	return (u8)(tag * 31 + 0x5a) | 1;
}

void kt_fill(void *obj, size_t size, u32 tag)
{
	memset(obj, kt_pattern(tag), size);
	if (size >= 8) {
		memcpy(obj, &tag, sizeof(tag));
		memcpy(obj + size - sizeof(tag), &tag, sizeof(tag));
	}
}

bool kt_verify(const void *obj, size_t size, u32 tag)
{
	u32 head, tail;

	if (size < 8)
		return !memchr_inv(obj, kt_pattern(tag), size);
	memcpy(&head, obj, sizeof(head));
	memcpy(&tail, obj + size - sizeof(tail), sizeof(tail));
	return head == tag && tail == tag &&
	       !memchr_inv(obj + 4, kt_pattern(tag), size - 8);
}

/* ---- runner --------------------------------------------------------- */

/* @list is comma-separated; NULL or empty selects everything. */
static bool kt_selected(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (!list || !*list)
		return true;
	while (p && *p) {
		p = skip_spaces(p);
		if (!strncmp(p, name, len) &&
		    (p[len] == ',' || p[len] == '\0' || isspace(p[len])))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static bool kt_known(const char *word, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kt_tests); i++)
		if (strlen(kt_tests[i].name) == len &&
		    !strncmp(kt_tests[i].name, word, len))
			return true;
	return false;
}

/* A typo in `run` must not turn into an empty, "passing" run. */
static unsigned int kt_unknown_names(const char *list)
{
	const char *p = list;
	unsigned int bad = 0;

	while (p && *p) {
		const char *end;
		size_t len;

		p = skip_spaces(p);
		end = strchrnul(p, ',');
		len = end - p;
		while (len && isspace(p[len - 1]))
			len--;
		if (len && !kt_known(p, len)) {
			pr_info("FAIL run: unknown test '%.*s'\n", (int)len, p);
			bad++;
		}
		p = *end ? end + 1 : NULL;
	}
	return bad;
}

static int __init spl_kmem_test_init(void)
{
	unsigned int passed = 0, failed = 0, skipped = 0, i;
	struct page *page;
	struct kt_ctx *t;
	u64 base_seed = seed ? seed : get_random_u64();

	page = alloc_page(GFP_KERNEL);
	if (page) {
		kt_pgdat = page_pgdat(page);
		__free_page(page);
	}

	pr_info("START seed=%llu cpus=%u free=%lu MiB\n", base_seed,
		num_online_cpus(), kt_free_mib());

	failed += kt_unknown_names(run);

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t) {
		pr_info("FAIL run: out of memory\n");
		pr_info("DONE %u passed, %u failed\n", passed, failed + 1);
		return 0;
	}

	for (i = 0; i < ARRAY_SIZE(kt_tests); i++) {
		const struct kt_test *kt = &kt_tests[i];
		ktime_t start;
		s64 ms;

		if (!kt_selected(run, kt->name))
			continue;

		memset(t, 0, sizeof(*t));
		spin_lock_init(&t->lock);
		t->name = kt->name;
		/* Each test gets its own stream so a subset reproduces. */
		prandom_seed_state(&t->rnd, base_seed + i);

		start = ktime_get();
		kt->run(t);
		ms = kt_ms_since(start);

		if (t->failed) {
			pr_info("FAIL %s: %s (%lld ms)\n", kt->name, t->reason,
				ms);
			failed++;
		} else if (t->skipped) {
			/* Neither passed nor failed: DONE does not count it. */
			pr_info("SKIP %s: %s\n", kt->name, t->reason);
			skipped++;
		} else {
			pr_info("PASS %s %s%s%lld ms\n", kt->name, t->detail,
				t->detail[0] ? ", " : "", ms);
			passed++;
		}
	}

	kfree(t);
	if (skipped)
		pr_info("%u test(s) skipped on this kernel\n", skipped);
	pr_info("DONE %u passed, %u failed\n", passed, failed);
	return 0;
}

static void __exit spl_kmem_test_exit(void)
{
}

module_init(spl_kmem_test_init);
module_exit(spl_kmem_test_exit);

MODULE_DESCRIPTION("In-kernel test suite for spl_kmem (not for shipping)");
MODULE_AUTHOR("spl-kmem developers");
MODULE_LICENSE("GPL");
