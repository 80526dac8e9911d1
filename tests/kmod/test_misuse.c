// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Consumers that get things wrong, and races on names and statistics:
 *
 *   name_race         many threads create one name at once: one wins
 *   name_leaked       a Linux-slab cache destroyed with an object still
 *                     allocated keeps its name: creating it again is -EEXIST
 *   double_free       an object freed twice is not handed out twice
 *   wrong_cache_free  objects of another cache, or of none, are refused
 *   mag_resize_race   concurrent resizes: the recorded size is the real one
 *   stats_snapshot    a snapshot never has more objects in magazines than
 *                     allocated
 *
 * spl_kmem reports the misuse in the kernel log (checked by the
 * control-plane suite, which can read it); here the cache must stay whole.
 */
#include "spl_kmem_test.h"

#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kmemleak.h>
#include <linux/slab.h>

#define KT_MISUSE_TIMEOUT_MS	60000
#define SKC_TEST_MAG_MAX	256	/* largest magazine */

/* ---- name_race ------------------------------------------------------- */

#define KT_RACE_ROUNDS		16
#define KT_RACE_MAX		64

struct kt_race {
	unsigned int flags;
	struct splkmem_cache *won[KT_RACE_MAX];
	long err[KT_RACE_MAX];
};

static void kt_race_worker(struct kt_worker *w)
{
	struct kt_race *r = w->arg;
	struct splkmem_cache *c;

	c = splkmem_cache_create("kt_name_race", 64, 0, NULL, NULL, NULL,
				 r->flags);
	if (IS_ERR(c))
		r->err[w->id] = PTR_ERR(c);
	else
		r->won[w->id] = c;
}

void kt_name_race(struct kt_ctx *t)
{
	unsigned int nthreads = clamp(4 * num_online_cpus(), 8u,
				      (unsigned int)KT_RACE_MAX);
	unsigned int round, i, winners, eexist, other;
	struct kt_team team;
	struct kt_race *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r) {
		kt_fail(t, "no memory");
		return;
	}
	for (round = 0; round < KT_RACE_ROUNDS && !t->failed; round++) {
		memset(r, 0, sizeof(*r));
		/* Mostly Linux-slab backed: that is where sysfs names clash. */
		r->flags = round % 4 == 3 ? SPLKMEM_KMC_KVMEM : SPLKMEM_KMC_SLAB;
		if (kt_team_start(&team, t, nthreads, kt_race_worker, r, NULL))
			break;
		kt_team_wait(&team, KT_MISUSE_TIMEOUT_MS);
		kt_team_stop(&team);

		winners = eexist = other = 0;
		for (i = 0; i < nthreads; i++) {
			if (r->won[i]) {
				winners++;
				splkmem_cache_destroy(r->won[i]);
			} else if (r->err[i] == -EEXIST) {
				eexist++;
			} else {
				other++;
				kt_check(t, false, "round %u: a create returned %ld",
					 round, r->err[i]);
			}
		}
		kt_check(t, winners == 1 && eexist == nthreads - 1,
			 "round %u (%s): %u creates won, %u got -EEXIST, %u failed otherwise, of %u",
			 round, kt_backing_name(r->flags), winners, eexist,
			 other, nthreads);
	}
	kt_detail(t, "%u rounds of %u racing creates", round, nthreads);
	kfree(r);
}

/* ---- name_leaked ----------------------------------------------------- */

void kt_name_leaked(struct kt_ctx *t)
{
	struct splkmem_cache *c, *again;
	void *obj;

	c = splkmem_cache_create("kt_name_leak", 96, 0, NULL, NULL, NULL,
				 SPLKMEM_KMC_SLAB);
	if (IS_ERR(c)) {
		kt_fail(t, "create = %ld", PTR_ERR(c));
		return;
	}
	obj = splkmem_cache_alloc(c, SPLKMEM_KM_SLEEP);
	if (!kt_check(t, obj, "alloc returned NULL")) {
		splkmem_cache_destroy(c);
		return;
	}
	/* Leaked on purpose, with its Linux cache: kmemleak knows. */
	kmemleak_not_leak(obj);
	splkmem_cache_destroy(c);

	/* Its Linux cache, and its sysfs entry, are still there. */
	again = splkmem_cache_create("kt_name_leak", 96, 0, NULL, NULL, NULL,
				     SPLKMEM_KMC_SLAB);
	if (!IS_ERR(again)) {
		splkmem_cache_destroy(again);
		kt_fail(t, "create after a leaking destroy succeeded");
		return;
	}
	kt_check(t, PTR_ERR(again) == -EEXIST,
		 "create after a leaking destroy = %ld, want %d",
		 PTR_ERR(again), -EEXIST);
}

/* ---- double_free ----------------------------------------------------- */

#define KT_DF_OBJS	64

void kt_double_free(struct kt_ctx *t)
{
	struct splkmem_cache_stats st;
	struct splkmem_cache *c;
	void **objs;
	unsigned int i, j;

	objs = kcalloc(KT_DF_OBJS, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		kt_fail(t, "no memory");
		return;
	}
	c = splkmem_cache_create("kt_double_free", 512, 0, NULL, NULL, NULL,
				 SPLKMEM_KMC_KVMEM);
	if (IS_ERR(c)) {
		kt_fail(t, "create = %ld", PTR_ERR(c));
		kfree(objs);
		return;
	}
	objs[0] = splkmem_cache_alloc(c, SPLKMEM_KM_SLEEP);
	if (!kt_check(t, objs[0], "alloc returned NULL"))
		goto out;
	splkmem_cache_free(c, objs[0]);
	splkmem_cache_free(c, objs[0]);		/* the mistake */
	splkmem_cache_free(c, objs[0]);		/* and again */

	/* Every object handed out now is a different one. */
	for (i = 0; i < KT_DF_OBJS && !t->failed; i++) {
		objs[i] = splkmem_cache_alloc(c, SPLKMEM_KM_SLEEP);
		if (!kt_check(t, objs[i], "alloc %u returned NULL", i))
			break;
		for (j = 0; j < i; j++)
			if (!kt_check(t, objs[j] != objs[i],
				      "object %p handed out twice after a double free (allocations %u and %u)",
				      objs[i], j, i))
				break;
	}
	/* On a failure objs[i - 1] is a duplicate or NULL: not freed. */
	if (t->failed)
		i--;
	kt_stats(c, &st);
	kt_check(t, t->failed || kt_live(&st) == i,
		 "%llu objects live, %u allocated", kt_live(&st), i);
	for (j = 0; j < i; j++)
		splkmem_cache_free(c, objs[j]);
	if (!t->failed)
		kt_reap_to_empty(t, c, "after a double free");
out:
	splkmem_cache_destroy(c);
	kfree(objs);
}

/* ---- wrong_cache_free ------------------------------------------------ */

void kt_wrong_cache_free(struct kt_ctx *t)
{
	struct splkmem_cache_stats before, after;
	struct splkmem_cache *a, *b;
	void *big, *small, *kbuf;

	a = splkmem_cache_create("kt_wrong_a", 4096, 0, NULL, NULL, NULL,
				 SPLKMEM_KMC_KVMEM);
	b = splkmem_cache_create("kt_wrong_b", 512, 0, NULL, NULL, NULL,
				 SPLKMEM_KMC_KVMEM);
	kbuf = kmalloc(512, GFP_KERNEL);
	if (IS_ERR(a) || IS_ERR(b) || !kbuf) {
		kt_fail(t, "setup: create %d %d, kmalloc %p",
			PTR_ERR_OR_ZERO(a), PTR_ERR_OR_ZERO(b), kbuf);
		goto out;
	}
	big = splkmem_cache_alloc(a, SPLKMEM_KM_SLEEP);
	small = splkmem_cache_alloc(b, SPLKMEM_KM_SLEEP);
	if (!kt_check(t, big && small, "alloc returned NULL"))
		goto out;
	kt_fill(big, 4096, 0xb16);
	kt_fill(small, 512, 0x5a1);

	kt_stats(b, &before);
	splkmem_cache_free(b, big);	/* a's object to b */
	splkmem_cache_free(b, kbuf);	/* nobody's */
	splkmem_cache_free(b, big);	/* and once more */
	kt_stats(b, &after);
	kt_check(t, after.obj_alloc == before.obj_alloc &&
		 after.mag_objs == before.mag_objs,
		 "foreign frees changed cache b: obj_alloc %llu -> %llu, mag_objs %llu -> %llu",
		 before.obj_alloc, after.obj_alloc, before.mag_objs,
		 after.mag_objs);
	kt_check(t, kt_verify(big, 4096, 0xb16) && kt_verify(small, 512, 0x5a1),
		 "objects changed by the foreign frees");

	/* Both caches still work and give everything back. */
	splkmem_cache_free(a, big);
	splkmem_cache_free(b, small);
	if (!t->failed)
		kt_reap_to_empty(t, a, "cache a");
	if (!t->failed)
		kt_reap_to_empty(t, b, "cache b");
out:
	kfree(kbuf);
	if (!IS_ERR(b))
		splkmem_cache_destroy(b);
	if (!IS_ERR(a))
		splkmem_cache_destroy(a);
}

/* ---- mag_resize_race ------------------------------------------------- */

#define KT_MRR_ITER		100

struct kt_mrr {
	struct splkmem_cache *cache;
	atomic_t errors;
};

static void kt_mrr_worker(struct kt_worker *w)
{
	struct kt_mrr *m = w->arg;
	unsigned int i;

	/* Each thread its own sizes: 2 + 3 * id + ... */
	for (i = 0; i < KT_MRR_ITER; i++)
		if (splkmem_cache_set_magazine(m->cache,
					       2 + (w->id * 7 + i * 13) % 120))
			atomic_inc(&m->errors);
}

struct kt_probe {
	struct splkmem_cache *cache;
	unsigned int n;
	void **objs;
};

/* Free everything on one CPU: its magazine fills to its real size. */
static void kt_probe_free(struct kt_worker *w)
{
	struct kt_probe *p = w->arg;
	unsigned int i;

	for (i = 0; i < p->n; i++)
		splkmem_cache_free(p->cache, p->objs[i]);
}

void kt_mag_resize_race(struct kt_ctx *t)
{
	unsigned int nthreads = 2 * num_online_cpus(), size, i, round, tries;
	struct splkmem_cache_stats st;
	struct kt_probe probe = { 0 };
	struct kt_team team;
	struct kt_mrr m = { 0 };

	m.cache = splkmem_cache_create("kt_mag_race", 256, 0, NULL, NULL, NULL,
				       SPLKMEM_KMC_KVMEM);
	if (IS_ERR(m.cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(m.cache));
		return;
	}
	probe.cache = m.cache;
	probe.objs = kcalloc(2 * SKC_TEST_MAG_MAX + 1, sizeof(void *),
			     GFP_KERNEL);
	if (!probe.objs) {
		kt_fail(t, "no memory");
		goto out;
	}
	for (round = 0; round < 4 && !t->failed; round++) {
		if (kt_team_start(&team, t, nthreads, kt_mrr_worker, &m, NULL))
			break;
		kt_team_wait(&team, KT_MISUSE_TIMEOUT_MS);
		kt_team_stop(&team);
		kt_check(t, !atomic_read(&m.errors), "%d resizes failed",
			 atomic_read(&m.errors));

		/*
		 * 2 * size + 1 frees on one CPU with empty magazines: the
		 * loaded and previous magazines fill to their real size,
		 * then the last free trades one full magazine to the depot,
		 * which took none of the old size.  The shrinker's drain
		 * (memory pressure: the debug kernel has it) may empty the
		 * magazines in the middle, which can only leave fewer: up
		 * to three tries, and a real size mismatch fails them all.
		 */
		kt_stats(m.cache, &st);
		size = st.mag_size;
		probe.n = 2 * size + 1;
		for (tries = 0; tries < 3; tries++) {
			for (i = 0; i < probe.n; i++)
				probe.objs[i] = splkmem_cache_alloc(m.cache,
							SPLKMEM_KM_SLEEP);
			splkmem_cache_reap_now(m.cache);
			if (kt_team_start(&team, t, 1, kt_probe_free, &probe,
					  NULL))
				goto out;
			kt_team_wait(&team, KT_MISUSE_TIMEOUT_MS);
			kt_team_stop(&team);
			kt_stats(m.cache, &st);
			splkmem_cache_reap_now(m.cache);
			if (st.mag_objs == probe.n && st.depot_full == 1)
				break;
		}
		kt_check(t, st.mag_refill == (size + 1) / 2 &&
			 st.mag_objs == probe.n && st.depot_full == 1,
			 "round %u: recorded magazine size %u refill %u, but %u frees on one CPU left %llu objects in magazines, %llu full in the depot (want %u, 1; %u tries)",
			 round, size, st.mag_refill, probe.n, st.mag_objs,
			 st.depot_full, probe.n, tries);
	}
	kt_detail(t, "%u rounds of %u threads x %u resizes", round, nthreads,
		  KT_MRR_ITER);
	if (!t->failed)
		kt_reap_to_empty(t, m.cache, "after the resizes");
out:
	kfree(probe.objs);
	splkmem_cache_destroy(m.cache);
}

/* ---- stats_snapshot -------------------------------------------------- */

#define KT_SNAP_PAIRS		8

/*
 * Producer and consumer pairs on different CPUs, one object in flight at a
 * time: a consumer's magazine fills and flushes to the slabs while almost
 * no object is live, which is when a snapshot that counts magazines apart
 * from the flush shows more in magazines than allocated.
 */
struct kt_snap {
	struct splkmem_cache *cache;
	bool stop;
	atomic64_t ops;
	void *slot[KT_SNAP_PAIRS];
};

static void kt_snap_worker(struct kt_worker *w)
{
	struct kt_snap *s = w->arg;
	void **slot = &s->slot[w->id / 2];
	unsigned long n = 0;
	void *obj;

	while (!READ_ONCE(s->stop) && !kt_stopping(w)) {
		if (w->id % 2) {
			obj = xchg(slot, NULL);
			if (obj) {
				splkmem_cache_free(s->cache, obj);
				n++;
			}
		} else if (!READ_ONCE(*slot)) {
			obj = splkmem_cache_alloc(s->cache, SPLKMEM_KM_SLEEP);
			if (obj && cmpxchg(slot, NULL, obj))
				splkmem_cache_free(s->cache, obj);
		}
		if (!(++n % 256))
			cond_resched();
	}
	atomic64_add(n, &s->ops);
}

void kt_stats_snapshot(struct kt_ctx *t)
{
	struct splkmem_cache_stats st;
	struct kt_snap s = { 0 };
	unsigned long snaps = 0, bad = 0;
	struct kt_team team;
	unsigned int i;
	ktime_t start;

	s.cache = splkmem_cache_create("kt_snapshot", 256, 0, NULL, NULL, NULL,
				       SPLKMEM_KMC_KVMEM);
	if (IS_ERR(s.cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(s.cache));
		return;
	}
	splkmem_cache_set_magazine(s.cache, 16);
	if (kt_team_start(&team, t, 2 * clamp(num_online_cpus() / 2, 1u,
					       (unsigned int)KT_SNAP_PAIRS),
			  kt_snap_worker, &s, NULL))
		goto out;
	start = ktime_get();
	while (kt_ms_since(start) < 3000) {
		kt_stats(s.cache, &st);
		snaps++;
		if (st.mag_objs > st.obj_alloc && !bad++)
			kt_fail(t, "snapshot %lu: mag_objs %llu > obj_alloc %llu",
				snaps, st.mag_objs, st.obj_alloc);
		cond_resched();
	}
	WRITE_ONCE(s.stop, true);
	kt_team_wait(&team, KT_MISUSE_TIMEOUT_MS);
	kt_team_stop(&team);
	for (i = 0; i < KT_SNAP_PAIRS; i++)
		if (s.slot[i])
			splkmem_cache_free(s.cache, s.slot[i]);
	kt_detail(t, "%lu snapshots (%lu bad) over %lld operations", snaps,
		  bad, (s64)atomic64_read(&s.ops));
	if (!t->failed)
		kt_reap_to_empty(t, s.cache, "after the snapshots");
out:
	splkmem_cache_destroy(s.cache);
}
