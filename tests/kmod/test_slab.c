// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Object-level tests: random caches of every backing type (slab_small,
 * slab_large, slab_align), constructor failures (ctor_fail) and rejected
 * create arguments (bad_args).
 */
#include "spl_kmem_test.h"

#include <linux/align.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/string.h>

#define KT_CD_MAGIC	0x6b745f63645f6d67ULL

/* The cache's priv: what its ctor and dtor saw. */
struct kt_cd {
	u64 magic;
	u64 cookie;		/* ctor stamps it on each object it builds */
	size_t size;
	int kmflags;		/* flags of the allocation in progress */
	unsigned int fail_every;	/* ctor fails every Nth call; 0: never */
	atomic_t ctor;
	atomic_t ctor_failed;
	atomic_t dtor;
	atomic_t bad_flags;
	atomic_t bad_obj;
};

/* Bumped when a ctor/dtor gets a priv that is not one of ours. */
static atomic_t kt_cd_wrong_priv = ATOMIC_INIT(0);

static int kt_ctor(void *obj, void *priv, int kmflags)
{
	struct kt_cd *cd = priv;
	unsigned int n;

	if (!cd || cd->magic != KT_CD_MAGIC) {
		atomic_inc(&kt_cd_wrong_priv);
		return 0;
	}
	n = atomic_inc_return(&cd->ctor);
	if ((kmflags & SPLKMEM_KM_NOSLEEP) !=
	    (READ_ONCE(cd->kmflags) & SPLKMEM_KM_NOSLEEP))
		atomic_inc(&cd->bad_flags);
	if (cd->fail_every && n % cd->fail_every == 0) {
		atomic_inc(&cd->ctor_failed);
		return -ENOMEM;
	}
	memcpy(obj, &cd->cookie, min_t(size_t, cd->size, sizeof(cd->cookie)));
	return 0;
}

static void kt_dtor(void *obj, void *priv)
{
	struct kt_cd *cd = priv;
	u32 head, tail;

	if (!cd || cd->magic != KT_CD_MAGIC) {
		atomic_inc(&kt_cd_wrong_priv);
		return;
	}
	atomic_inc(&cd->dtor);
	/* The dtor must get the object the caller freed, still intact. */
	memcpy(&head, obj, sizeof(head));
	memcpy(&tail, obj + cd->size - sizeof(tail), sizeof(tail));
	if (head != tail ||
	    (cd->size <= SZ_16K && !kt_verify(obj, cd->size, head)))
		atomic_inc(&cd->bad_obj);
}

static struct kt_cd *kt_cd_new(size_t size, u64 cookie)
{
	struct kt_cd *cd = kzalloc(sizeof(*cd), GFP_KERNEL);

	if (cd) {
		cd->magic = KT_CD_MAGIC;
		cd->cookie = cookie;
		cd->size = size;
	}
	return cd;
}

struct kt_spec {
	size_t size;
	size_t align;
	unsigned int flags;
};

struct kt_totals {
	unsigned int caches;
	u64 objs;
	size_t max_size;
	unsigned int kvmem, slab;
};

/*
 * One cache through its whole life: create, allocate @n objects and check
 * each is aligned, constructed by our ctor with our priv and fully
 * writable without touching its neighbours, free, reap, destroy.  At most
 * @mem_cap bytes of objects are held at once.
 */
static void kt_exercise(struct kt_ctx *t, const char *tag, unsigned int idx,
			const struct kt_spec *sp, size_t mem_cap,
			struct kt_totals *tot)
{
	size_t align = sp->align ? sp->align : SPLKMEM_MIN_ALIGN;
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache;
	char name[SPLKMEM_NAME_MAX];
	unsigned int n, got = 0, i;
	void **objs = NULL;
	struct kt_cd *cd;
	u64 cookie;

	snprintf(name, sizeof(name), "kt_%s_%u", tag, idx);
	cookie = ((u64)kt_rand(t) << 32) | kt_rand(t);
	cd = kt_cd_new(sp->size, cookie);
	if (!cd) {
		kt_fail(t, "%s: no memory", name);
		return;
	}
	cache = splkmem_cache_create(name, sp->size, sp->align, kt_ctor,
				     kt_dtor, cd, sp->flags);
	if (IS_ERR(cache)) {
		kt_fail(t, "%s: create(size %zu, align %zu, %s) = %ld", name,
			sp->size, sp->align, kt_backing_name(sp->flags),
			PTR_ERR(cache));
		goto out_cd;
	}

	kt_stats(cache, &st);
	if (!kt_check(t, !!(st.flags & SPLKMEM_KMC_KVMEM) !=
		      !!(st.flags & SPLKMEM_KMC_SLAB),
		      "%s: flags 0x%x must have exactly one of KVMEM/SLAB",
		      name, st.flags) ||
	    !kt_check(t, !(sp->flags & (SPLKMEM_KMC_KVMEM | SPLKMEM_KMC_SLAB)) ||
		      (st.flags & sp->flags) == sp->flags,
		      "%s: asked for %s, got flags 0x%x", name,
		      kt_backing_name(sp->flags), st.flags) ||
	    !kt_check(t, st.obj_size == sp->size && st.obj_align == align,
		      "%s: stats size %u align %u, created with %zu/%zu",
		      name, st.obj_size, st.obj_align, sp->size, align))
		goto out_destroy;
	if (kt_is_kvmem(&st))
		tot->kvmem++;
	else
		tot->slab++;

	/* Several slabs' worth, and SLAB-backed caches allocate too. */
	n = max_t(unsigned int, 4 * st.slab_objs, 32);
	n = min_t(size_t, n, max_t(size_t, mem_cap / sp->size, 8));
	objs = kvcalloc(n, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		kt_fail(t, "%s: no memory for %u pointers", name, n);
		goto out_destroy;
	}

	WRITE_ONCE(cd->kmflags, SPLKMEM_KM_SLEEP);
	for (i = 0; i < n; i++) {
		void *obj = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
		u64 seen = 0;

		if (!kt_check(t, obj, "%s: KM_SLEEP alloc %u of %u returned NULL",
			      name, i, n))
			break;
		objs[got++] = obj;
		memcpy(&seen, obj, min_t(size_t, sp->size, sizeof(seen)));
		if (!kt_check(t, IS_ALIGNED((unsigned long)obj, align),
			      "%s: object %p not aligned to %zu", name, obj,
			      align) ||
		    !kt_check(t, !memcmp(&seen, &cookie,
					 min_t(size_t, sp->size, sizeof(seen))),
			      "%s: object %u lacks the ctor's stamp (%llx, want %llx)",
			      name, i, seen, cookie))
			break;
		kt_fill(obj, sp->size, idx << 20 | i);
		if (i % 64 == 63)
			cond_resched();
	}

	if (got == n) {
		kt_stats(cache, &st);
		kt_check(t, atomic_read(&cd->ctor) == n,
			 "%s: ctor ran %d times for %u allocations", name,
			 atomic_read(&cd->ctor), n);
		kt_check(t, kt_is_kvmem(&st) ? kt_live(&st) == n :
			 st.linux_objs == n,
			 "%s: %u objects out but stats say live %llu (obj_alloc %llu mag_objs %llu linux_objs %llu)",
			 name, n, kt_live(&st), st.obj_alloc, st.mag_objs,
			 st.linux_objs);
	}

	/* Verify everything only now: a later object may overlap an earlier. */
	for (i = 0; i < got; i++) {
		if (!kt_verify(objs[i], sp->size, idx << 20 | i))
			kt_fail(t, "%s: object %u of %u (%p, %zu bytes) overwritten while live",
				name, i, got, objs[i], sp->size);
		splkmem_cache_free(cache, objs[i]);
		if (i % 64 == 63)
			cond_resched();
	}

	kt_check(t, atomic_read(&cd->dtor) == got,
		 "%s: dtor ran %d times for %u frees", name,
		 atomic_read(&cd->dtor), got);
	kt_check(t, atomic_read(&cd->ctor) == atomic_read(&cd->dtor),
		 "%s: %d objects constructed but not destructed", name,
		 atomic_read(&cd->ctor) - atomic_read(&cd->dtor));
	kt_check(t, !atomic_read(&cd->bad_obj),
		 "%s: dtor saw %d objects not as freed", name,
		 atomic_read(&cd->bad_obj));
	kt_check(t, !atomic_read(&cd->bad_flags),
		 "%s: ctor saw wrong kmflags %d times", name,
		 atomic_read(&cd->bad_flags));
	kt_check(t, !atomic_read(&kt_cd_wrong_priv),
		 "%s: ctor/dtor got a foreign priv %d times", name,
		 atomic_read(&kt_cd_wrong_priv));
	kt_reap_to_empty(t, cache, name);

	tot->caches++;
	tot->objs += got;
	tot->max_size = max(tot->max_size, sp->size);
	kvfree(objs);
out_destroy:
	splkmem_cache_destroy(cache);
out_cd:
	kfree(cd);
}

static const unsigned int kt_backings[] = {
	0, SPLKMEM_KMC_KVMEM, SPLKMEM_KMC_SLAB,
};

static void kt_report(struct kt_ctx *t, const struct kt_totals *tot)
{
	kt_detail(t, "%u caches (%u kvmem, %u slab), %llu objects, max size %zu",
		  tot->caches, tot->kvmem, tot->slab, tot->objs, tot->max_size);
}

void kt_slab_small(struct kt_ctx *t)
{
	struct kt_totals tot = {};
	unsigned int i;

	for (i = 0; i < 30 * ARRAY_SIZE(kt_backings) && !t->failed; i++) {
		struct kt_spec sp = {
			.size = kt_rand_log(t, 32, PAGE_SIZE),
			.align = 1UL << kt_rand_range(t, 3, PAGE_SHIFT),
			.flags = kt_backings[i % ARRAY_SIZE(kt_backings)],
		};

		kt_exercise(t, "small", i, &sp, SZ_16M, &tot);
	}
	kt_report(t, &tot);
}

/*
 * Large objects, fewer of them: at most 32 MiB of objects per cache and
 * one cache at a time.  Forced Linux-slab caches stop at 1 MiB objects:
 * beyond that every object is an order-9/10 page block, which tests the
 * page allocator's fragmentation rather than this allocator.
 */
void kt_slab_large(struct kt_ctx *t)
{
	struct kt_totals tot = {};
	unsigned int i;

	for (i = 0; i < 6 * ARRAY_SIZE(kt_backings) && !t->failed; i++) {
		unsigned int flags = kt_backings[i % ARRAY_SIZE(kt_backings)];
		struct kt_spec sp = {
			.size = kt_rand_log(t, PAGE_SIZE,
					    flags & SPLKMEM_KMC_SLAB ? SZ_1M :
					    SZ_4M),
			.align = 1UL << kt_rand_range(t, 3, PAGE_SHIFT),
			.flags = flags,
		};

		kt_exercise(t, "large", i, &sp, SZ_32M, &tot);
	}
	kt_report(t, &tot);
}

void kt_slab_align(struct kt_ctx *t)
{
	struct kt_totals tot = {};
	unsigned int shift, b;

	for (shift = 3; shift <= PAGE_SHIFT && !t->failed; shift++) {
		for (b = 0; b < ARRAY_SIZE(kt_backings) && !t->failed; b++) {
			struct kt_spec sp = {
				.size = kt_rand_log(t, 16, 2 * PAGE_SIZE),
				.align = 1UL << shift,
				.flags = kt_backings[b],
			};

			kt_exercise(t, "align", shift * 4 + b, &sp, SZ_16M,
				    &tot);
		}
	}
	/* The default alignment (0) must behave as 8. */
	for (b = 0; b < ARRAY_SIZE(kt_backings) && !t->failed; b++) {
		struct kt_spec sp = {
			.size = kt_rand_log(t, 16, 2 * PAGE_SIZE),
			.align = 0,
			.flags = kt_backings[b],
		};

		kt_exercise(t, "align", 100 + b, &sp, SZ_16M, &tot);
	}
	kt_report(t, &tot);
}

/*
 * A failing constructor must turn into a NULL allocation with no dtor
 * call and no leaked object, on both backings and on the emergency path
 * (KM_NOSLEEP).  Single-threaded, so the failures are exactly every Nth.
 */
#define KT_CTOR_FAIL_EVERY	7
#define KT_CTOR_ATTEMPTS	300

static void kt_ctor_fail_one(struct kt_ctx *t, unsigned int flags)
{
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache;
	unsigned int i, got = 0, nulls = 0, want_nulls;
	const char *name = flags & SPLKMEM_KMC_KVMEM ? "kt_ctorfail_kv" :
						       "kt_ctorfail_slab";
	void **objs;
	struct kt_cd *cd;

	cd = kt_cd_new(512, 0x0123456789abcdefULL);
	objs = kcalloc(KT_CTOR_ATTEMPTS, sizeof(*objs), GFP_KERNEL);
	if (!cd || !objs) {
		kt_fail(t, "no memory");
		goto out;
	}
	cd->fail_every = KT_CTOR_FAIL_EVERY;
	cache = splkmem_cache_create(name, cd->size, 0, kt_ctor, kt_dtor, cd,
				     flags);
	if (IS_ERR(cache)) {
		kt_fail(t, "%s: create = %ld", name, PTR_ERR(cache));
		goto out;
	}

	for (i = 0; i < KT_CTOR_ATTEMPTS; i++) {
		/* Every third attempt takes the never-sleeping path. */
		int kmflags = i % 3 == 2 ? SPLKMEM_KM_NOSLEEP : SPLKMEM_KM_SLEEP;
		void *obj;

		WRITE_ONCE(cd->kmflags, kmflags);
		obj = splkmem_cache_alloc(cache, kmflags);
		if (!obj) {
			nulls++;
			continue;
		}
		kt_fill(obj, cd->size, i);
		objs[got++] = obj;
	}

	want_nulls = KT_CTOR_ATTEMPTS / KT_CTOR_FAIL_EVERY;
	kt_stats(cache, &st);
	kt_check(t, atomic_read(&cd->ctor) == KT_CTOR_ATTEMPTS,
		 "%s: ctor ran %d times for %d allocations", name,
		 atomic_read(&cd->ctor), KT_CTOR_ATTEMPTS);
	kt_check(t, nulls == want_nulls &&
		 atomic_read(&cd->ctor_failed) == want_nulls,
		 "%s: %u NULL returns, %d ctor failures, want %u of each",
		 name, nulls, atomic_read(&cd->ctor_failed), want_nulls);
	kt_check(t, atomic_read(&cd->dtor) == 0,
		 "%s: dtor ran %d times before any free", name,
		 atomic_read(&cd->dtor));
	kt_check(t, kt_is_kvmem(&st) ? kt_live(&st) == got :
		 st.linux_objs == got,
		 "%s: %u objects out, stats say live %llu (obj_alloc %llu mag_objs %llu) linux_objs %llu",
		 name, got, kt_live(&st), st.obj_alloc, st.mag_objs,
		 st.linux_objs);
	kt_check(t, !atomic_read(&cd->bad_flags),
		 "%s: ctor saw the wrong kmflags %d times", name,
		 atomic_read(&cd->bad_flags));

	for (i = 0; i < got; i++) {
		u32 tag;

		memcpy(&tag, objs[i], sizeof(tag));
		if (!kt_verify(objs[i], cd->size, tag))
			kt_fail(t, "%s: object %u overwritten", name, i);
		splkmem_cache_free(cache, objs[i]);
	}

	kt_check(t, atomic_read(&cd->dtor) == got,
		 "%s: dtor ran %d times for %u frees", name,
		 atomic_read(&cd->dtor), got);
	kt_check(t, !atomic_read(&cd->bad_obj),
		 "%s: dtor saw %d damaged objects", name,
		 atomic_read(&cd->bad_obj));
	kt_reap_to_empty(t, cache, name);

	kt_detail(t, "%s: %u ok %u failed", kt_backing_name(flags), got,
		  nulls);
	splkmem_cache_destroy(cache);
out:
	kfree(objs);
	kfree(cd);
}

void kt_ctor_fail(struct kt_ctx *t)
{
	kt_ctor_fail_one(t, SPLKMEM_KMC_KVMEM);
	kt_ctor_fail_one(t, SPLKMEM_KMC_SLAB);
}

/* ---- bad_args ------------------------------------------------------ */

struct kt_badcase {
	const char *what;
	const char *name;
	size_t size;
	size_t align;
	unsigned int flags;
};

#define KT_NAME_31 "kt_name_0123456789abcdefghijklm"	/* 31 chars */
#define KT_NAME_32 KT_NAME_31 "n"
#define KT_NAME_40 KT_NAME_32 "opqrstuv"

static const struct kt_badcase kt_bad[] = {
	{ "KVMEM|SLAB", "kt_bad", 64, 0,
	  SPLKMEM_KMC_KVMEM | SPLKMEM_KMC_SLAB },
	{ "unknown flag 0x10", "kt_bad", 64, 0, 0x10 },
	{ "unknown flag 0x80000000", "kt_bad", 64, 0, 0x80000000u },
	{ "size 0", "kt_bad", 0, 0, 0 },
	{ "size 0 kvmem", "kt_bad", 0, 0, SPLKMEM_KMC_KVMEM },
	{ "name of NAME_MAX chars", KT_NAME_32, 64, 0, 0 },
	{ "name longer than NAME_MAX", KT_NAME_40, 64, 0, 0 },
	{ "empty name", "", 64, 0, 0 },
	{ "name with '/'", "kt/bad", 64, 0, SPLKMEM_KMC_SLAB },
	{ "name with a blank", "kt bad", 64, 0, 0 },
	{ "name with a newline", "kt_bad\n", 64, 0, SPLKMEM_KMC_KVMEM },
	{ "align 1", "kt_bad", 64, 1, 0 },
	{ "align 4", "kt_bad", 64, 4, SPLKMEM_KMC_KVMEM },
	{ "align 3", "kt_bad", 64, 3, 0 },
	{ "align 24", "kt_bad", 64, 24, SPLKMEM_KMC_KVMEM },
	{ "align 2*PAGE_SIZE", "kt_bad", 64, 2 * PAGE_SIZE, 0 },
	{ "align 2*PAGE_SIZE kvmem", "kt_bad", 64, 2 * PAGE_SIZE,
	  SPLKMEM_KMC_KVMEM },
	{ "align PAGE_SIZE+8 slab", "kt_bad", 64, PAGE_SIZE + 8,
	  SPLKMEM_KMC_SLAB },
};

/* The boundary values just inside the limits must be accepted. */
static const struct kt_badcase kt_good[] = {
	{ "name of NAME_MAX-1 chars", KT_NAME_31, 64, 0, 0 },
	{ "size 1", "kt_good", 1, 0, SPLKMEM_KMC_KVMEM },
	{ "size 1 slab", "kt_good", 1, 0, SPLKMEM_KMC_SLAB },
	{ "align 8", "kt_good", 64, 8, SPLKMEM_KMC_KVMEM },
	{ "align PAGE_SIZE", "kt_good", 64, PAGE_SIZE, SPLKMEM_KMC_KVMEM },
	{ "align PAGE_SIZE slab", "kt_good", 64, PAGE_SIZE, SPLKMEM_KMC_SLAB },
	{ "all public flags but SLAB", "kt_good", 64, 0,
	  SPLKMEM_KMC_PUBLIC & ~SPLKMEM_KMC_SLAB },
};

/*
 * A rejected create must not leave anything behind.  The API has no list
 * of caches, so repeat every rejection many times: a leak of even 100
 * bytes per call would then show as megabytes of lost free memory.
 */
#define KT_BAD_REPEAT		2000
#define KT_BAD_LEAK_MIB		2

void kt_bad_args(struct kt_ctx *t)
{
	unsigned long before, after;
	unsigned int i, r;
	ktime_t start;

	for (i = 0; i < ARRAY_SIZE(kt_good); i++) {
		const struct kt_badcase *c = &kt_good[i];
		struct splkmem_cache *cache;
		void *obj;

		cache = splkmem_cache_create(c->name, c->size, c->align, NULL,
					     NULL, NULL, c->flags);
		if (!kt_check(t, !IS_ERR(cache), "%s: rejected with %ld",
			      c->what, PTR_ERR(cache)))
			return;
		kt_check(t, !strcmp(splkmem_cache_name(cache), c->name),
			 "%s: name '%s', created as '%s'", c->what,
			 splkmem_cache_name(cache), c->name);
		obj = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
		if (kt_check(t, obj, "%s: alloc returned NULL", c->what)) {
			kt_check(t, IS_ALIGNED((unsigned long)obj,
					       c->align ?: SPLKMEM_MIN_ALIGN),
				 "%s: object %p misaligned", c->what, obj);
			memset(obj, 0xa5, c->size);
			splkmem_cache_free(cache, obj);
		}
		splkmem_cache_destroy(cache);
	}

	/* Names are unique across backings; a destroyed name is free again. */
	for (i = 0; i < 2; i++) {
		unsigned int flags = i ? SPLKMEM_KMC_SLAB : SPLKMEM_KMC_KVMEM;
		struct splkmem_cache *first, *dup;

		first = splkmem_cache_create("kt_dup", 64, 0, NULL, NULL, NULL,
					     flags);
		if (!kt_check(t, !IS_ERR(first), "dup: first create failed %ld",
			      PTR_ERR(first)))
			return;
		dup = splkmem_cache_create("kt_dup", 128, 0, NULL, NULL, NULL,
					   flags ^ (SPLKMEM_KMC_SLAB |
						    SPLKMEM_KMC_KVMEM));
		if (!IS_ERR(dup))
			splkmem_cache_destroy(dup);
		splkmem_cache_destroy(first);
		if (!kt_check(t, PTR_ERR(dup) == -EEXIST,
			      "dup: second 'kt_dup' gave %ld, want %d",
			      IS_ERR(dup) ? PTR_ERR(dup) : 0L, -EEXIST))
			return;
	}

	before = kt_free_pages();
	start = ktime_get();
	for (r = 0; r < KT_BAD_REPEAT && !t->failed; r++) {
		for (i = 0; i < ARRAY_SIZE(kt_bad); i++) {
			const struct kt_badcase *c = &kt_bad[i];
			struct splkmem_cache *cache;

			cache = splkmem_cache_create(c->name, c->size,
						     c->align, NULL, NULL,
						     NULL, c->flags);
			if (!IS_ERR(cache)) {
				kt_fail(t, "%s: accepted", c->what);
				splkmem_cache_destroy(cache);
				break;
			}
			if (PTR_ERR(cache) != -EINVAL) {
				kt_fail(t, "%s: returned %ld, want %d",
					c->what, PTR_ERR(cache), -EINVAL);
				break;
			}
		}
		cond_resched();
	}
	if (t->failed)
		return;

	/* Give per-CPU page lists a moment to drain before comparing. */
	for (i = 0; i < 10; i++) {
		after = kt_free_pages();
		if (after + (KT_BAD_LEAK_MIB << (20 - PAGE_SHIFT)) >= before)
			break;
		msleep(100);
	}
	kt_check(t, after + (KT_BAD_LEAK_MIB << (20 - PAGE_SHIFT)) >= before,
		 "free memory fell %lu KiB over %u rejected creates",
		 (before - after) << (PAGE_SHIFT - 10),
		 KT_BAD_REPEAT * (unsigned int)ARRAY_SIZE(kt_bad));
	kt_detail(t, "%zu cases x %u rejected in %lld ms, free %+ld KiB",
		  ARRAY_SIZE(kt_bad), KT_BAD_REPEAT, kt_ms_since(start),
		  ((long)after - (long)before) * (long)(PAGE_SIZE / 1024));
}
