// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The paths that only failure and hotplug reach: growth that fails again
 * and again (grow_fail), flag checks (kmflags), reaping while allocating
 * (reap_churn), a CPU going offline with a full magazine and CPUs going
 * off- and online under tagged load, reaps and resizes (cpu_hotplug), and
 * a consumer whose own shrinker reaps under memory pressure while CPUs
 * come and go (shrinker_reap).
 */
#include "spl_kmem_test.h"

#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "spl_kmem_config.h"

/* A kthread running @fn(@arg) once; kt_thread_stop() waits for it. */
struct kt_thread {
	struct task_struct *task;
	struct completion done;
	void (*fn)(void *arg);
	void *arg;
};

static int kt_thread_main(void *data)
{
	struct kt_thread *th = data;

	th->fn(th->arg);
	complete(&th->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 10);
	return 0;
}

static int kt_thread_start(struct kt_thread *th, void (*fn)(void *),
			   void *arg, int cpu, const char *name)
{
	struct task_struct *task;

	init_completion(&th->done);
	th->fn = fn;
	th->arg = arg;
	task = kthread_create(kt_thread_main, th, "%s", name);
	if (IS_ERR(task))
		return PTR_ERR(task);
	if (cpu >= 0)
		kthread_bind(task, cpu);
	get_task_struct(task);
	th->task = task;
	wake_up_process(task);
	return 0;
}

/* Wait up to @ms for the function to return; the thread is gone after. */
static bool kt_thread_stop(struct kt_thread *th, unsigned int ms)
{
	bool done;

	if (!th->task)
		return true;
	done = wait_for_completion_timeout(&th->done, msecs_to_jiffies(ms));
	if (!done)
		wait_for_completion(&th->done);	/* a hang shows as a hung task */
	kthread_stop(th->task);
	put_task_struct(th->task);
	th->task = NULL;
	return done;
}

static int kt_ptr_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* No object handed out twice: every pointer of @objs[0..n) is distinct. */
static bool kt_distinct(struct kt_ctx *t, void **objs, unsigned int n,
			const char *where)
{
	unsigned long *p;
	unsigned int i;
	bool ok = true;

	p = kvmalloc_array(n, sizeof(*p), GFP_KERNEL);
	if (!p) {
		kt_fail(t, "no memory");
		return false;
	}
	for (i = 0; i < n; i++)
		p[i] = (unsigned long)objs[i];
	sort(p, n, sizeof(*p), kt_ptr_cmp, NULL);
	for (i = 1; i < n && ok; i++)
		ok = kt_check(t, p[i] != p[i - 1],
			      "%s: object %lx handed out twice", where, p[i]);
	kvfree(p);
	return ok;
}

/* ---- grow_fail ------------------------------------------------------ */

#define KT_GF_HUGE	SZ_8M	/* no emergency object possible: > MAX_ORDER */
#define KT_GF_SIZE	SZ_64K
#define KT_GF_N		32
#define KT_GF_FAIL_MS	3000
/* A sleeping caller may use this much CPU while growth keeps failing. */
#define KT_GF_CPU_PCT	5

struct kt_gf_sleeper {
	struct splkmem_cache *cache;
	void *obj;
	u64 cpu_ns;
	s64 ms;
};

static void kt_gf_sleep_alloc(void *arg)
{
	struct kt_gf_sleeper *s = arg;
	u64 cpu0 = current->se.sum_exec_runtime;
	ktime_t start = ktime_get();

	s->obj = splkmem_cache_alloc(s->cache, SPLKMEM_KM_SLEEP);
	s->ms = kt_ms_since(start);
	s->cpu_ns = current->se.sum_exec_runtime - cpu0;
}

/*
 * Objects too large for an emergency object: while every slab allocation
 * fails, KM_NOSLEEP gets NULL and KM_SLEEP waits, backing off, without
 * burning CPU; once failures stop it gets its object.
 */
static void kt_grow_fail_huge(struct kt_ctx *t)
{
	struct kt_gf_sleeper s = {};
	struct splkmem_cache_stats st, mid;
	struct splkmem_cache *cache;
	struct kt_thread th = {};
	u64 cpu_mid, pct;
	void *obj;

	cache = splkmem_cache_create("kt_growfail_huge", KT_GF_HUGE, 0, NULL,
				     NULL, NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(cache)) {
		kt_fail(t, "huge: create = %ld", PTR_ERR(cache));
		return;
	}
	splkmem_cache_inject_grow_fail(cache, UINT_MAX);

	obj = splkmem_cache_alloc(cache, SPLKMEM_KM_NOSLEEP);
	kt_check(t, !obj, "huge: KM_NOSLEEP with growth failing returned %p",
		 obj);
	if (obj)
		splkmem_cache_free(cache, obj);

	s.cache = cache;
	if (kt_thread_start(&th, kt_gf_sleep_alloc, &s, -1, "spl_kt_gf")) {
		kt_fail(t, "huge: no thread");
		goto out;
	}
	msleep(KT_GF_FAIL_MS);
	cpu_mid = th.task->se.sum_exec_runtime;
	kt_stats(cache, &mid);
	kt_check(t, !completion_done(&th.done),
		 "huge: KM_SLEEP alloc returned %p while every slab allocation fails",
		 s.obj);
	splkmem_cache_inject_grow_fail(cache, 0);
	if (!kt_thread_stop(&th, 10000))
		kt_fail(t, "huge: KM_SLEEP alloc still waiting 10 s after failures stopped");

	pct = div64_u64(cpu_mid * 100, (u64)KT_GF_FAIL_MS * NSEC_PER_MSEC);
	kt_check(t, pct <= KT_GF_CPU_PCT,
		 "huge: KM_SLEEP caller used %llu ms of CPU in %u ms of failing growth (%llu%%, limit %u%%; slab_fail %llu)",
		 div64_u64(cpu_mid, NSEC_PER_MSEC), KT_GF_FAIL_MS, pct,
		 KT_GF_CPU_PCT, mid.slab_fail);
	kt_check(t, mid.slab_fail >= 2 && mid.grow_fail == mid.slab_fail &&
		 mid.grow_backoff >= 1,
		 "huge: after %u ms of failures slab_fail %llu grow_fail %llu grow_backoff %llu",
		 KT_GF_FAIL_MS, mid.slab_fail, mid.grow_fail,
		 mid.grow_backoff);
	/* Back-off: 100 ms doubling to 1.6 s, so a few attempts, not 1000s. */
	kt_check(t, mid.slab_fail <= 12,
		 "huge: %llu slab allocations attempted in %u ms of failures",
		 mid.slab_fail, KT_GF_FAIL_MS);
	if (kt_check(t, s.obj && is_vmalloc_addr(s.obj),
		     "huge: KM_SLEEP alloc after failures stopped = %p", s.obj)) {
		kt_fill(s.obj, KT_GF_HUGE, 7);
		kt_check(t, kt_verify(s.obj, KT_GF_HUGE, 7), "huge: object damaged");
		splkmem_cache_free(cache, s.obj);
	}
	kt_stats(cache, &st);
	kt_detail(t, "huge: KM_SLEEP caller %llu ms CPU in %u ms, slab_fail %llu, backoffs %llu, object %lld ms after start",
		  div64_u64(cpu_mid, NSEC_PER_MSEC), KT_GF_FAIL_MS,
		  mid.slab_fail, mid.grow_backoff, s.ms);
	kt_reap_to_empty(t, cache, "huge: after free");
out:
	splkmem_cache_inject_grow_fail(cache, 0);
	splkmem_cache_destroy(cache);
}

/*
 * Objects an emergency object can hold: while slab allocations fail,
 * sleeping and non-sleeping callers are served emergency objects at once;
 * once failures stop, slabs come back.  Tagged throughout.
 */
static void kt_grow_fail_emergency(struct kt_ctx *t)
{
	unsigned int i, n = 0, emergency = 0, from_slab = 0;
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache;
	ktime_t start;
	void **objs;
	s64 ms;

	objs = kcalloc(3 * KT_GF_N, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		kt_fail(t, "no memory");
		return;
	}
	cache = splkmem_cache_create("kt_growfail", KT_GF_SIZE, 0, NULL, NULL,
				     NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(cache));
		goto out;
	}
	splkmem_cache_inject_grow_fail(cache, UINT_MAX);

	start = ktime_get();
	for (i = 0; i < KT_GF_N; i++, n++) {
		objs[n] = splkmem_cache_alloc(cache, i & 1 ? SPLKMEM_KM_NOSLEEP :
					      SPLKMEM_KM_SLEEP);
		if (!kt_check(t, objs[n], "alloc %u with growth failing returned NULL",
			      i))
			goto free;
		kt_fill(objs[n], KT_GF_SIZE, n);
	}
	ms = kt_ms_since(start);
	kt_stats(cache, &st);
	kt_check(t, st.obj_emergency == KT_GF_N && st.slab_total == 0,
		 "%u allocs with growth failing: obj_emergency %llu slab_total %llu",
		 KT_GF_N, st.obj_emergency, st.slab_total);
	kt_check(t, ms < 2000, "%u emergency allocs with growth failing took %lld ms",
		 KT_GF_N, ms);
	kt_check(t, st.slab_fail >= 1 && st.slab_fail <= 3,
		 "%u allocs in %lld ms tried %llu slab allocations (want 1..3: back-off)",
		 KT_GF_N, ms, st.slab_fail);

	/* Failures stop: within the longest back-off, slabs serve again. */
	splkmem_cache_inject_grow_fail(cache, 0);
	start = ktime_get();
	while (n < 3 * KT_GF_N) {
		objs[n] = splkmem_cache_alloc(cache, SPLKMEM_KM_SLEEP);
		if (!kt_check(t, objs[n], "alloc after failures stopped returned NULL"))
			goto free;
		kt_fill(objs[n], KT_GF_SIZE, n);
		if (is_vmalloc_addr(objs[n]))
			from_slab++;
		else
			emergency++;
		n++;
		if (!from_slab)
			msleep(20);
		if (!from_slab && kt_ms_since(start) > 5000)
			break;
	}
	kt_check(t, from_slab, "no slab object 5 s after failures stopped (%u emergency)",
		 emergency);
	kt_distinct(t, objs, n, "grow_fail");
free:
	for (i = 0; i < n; i++) {
		if (!kt_verify(objs[i], KT_GF_SIZE, i))
			kt_fail(t, "object %u damaged", i);
		splkmem_cache_free(cache, objs[i]);
	}
	if (!t->failed)
		kt_reap_to_empty(t, cache, "after free");
	kt_stats(cache, &st);
	kt_detail(t, "%u objects, %u from slabs after failures stopped, slab_fail %llu, grow_fail %llu",
		  n, from_slab, st.slab_fail, st.grow_fail);
	splkmem_cache_inject_grow_fail(cache, 0);
	splkmem_cache_destroy(cache);
out:
	kfree(objs);
}

void kt_grow_fail(struct kt_ctx *t)
{
	kt_grow_fail_huge(t);
	if (!t->failed)
		kt_grow_fail_emergency(t);
}

/* ---- kmflags -------------------------------------------------------- */

void kt_kmflags(struct kt_ctx *t)
{
	static const int good[] = { SPLKMEM_KM_SLEEP, SPLKMEM_KM_NOSLEEP,
				    SPLKMEM_KM_PUSHPAGE,
				    SPLKMEM_KM_NOSLEEP | SPLKMEM_KM_PUSHPAGE };
	static const int bad[] = { 0x2, 0x8, 0x100, 0x4000, -1 };
	struct splkmem_cache *cache;
	unsigned int i;
	void *obj;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		kt_check(t, splkmem_kmflags_valid(good[i]),
			 "kmflags 0x%x refused", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		kt_check(t, !splkmem_kmflags_valid(bad[i]),
			 "kmflags 0x%x accepted", bad[i]);

	/* Too large for the Linux slab: refused, with no stack dump. */
	cache = splkmem_cache_create("kt_slab_huge", KMALLOC_MAX_SIZE + 1, 0,
				     NULL, NULL, NULL, SPLKMEM_KMC_SLAB);
	if (!IS_ERR(cache))
		splkmem_cache_destroy(cache);
	kt_check(t, PTR_ERR(cache) == -E2BIG,
		 "forced Linux-slab cache of %lu bytes: create = %ld, want %d",
		 KMALLOC_MAX_SIZE + 1, PTR_ERR(cache), -E2BIG);

	/* KM_PUSHPAGE serves from both backings. */
	for (i = 0; i < 2; i++) {
		cache = splkmem_cache_create("kt_pushpage", SZ_4K, 0, NULL, NULL,
					     NULL, i ? SPLKMEM_KMC_KVMEM :
					     SPLKMEM_KMC_SLAB);
		if (IS_ERR(cache)) {
			kt_fail(t, "create = %ld", PTR_ERR(cache));
			return;
		}
		obj = splkmem_cache_alloc(cache, SPLKMEM_KM_PUSHPAGE);
		if (kt_check(t, obj, "KM_PUSHPAGE alloc returned NULL")) {
			kt_fill(obj, SZ_4K, 3);
			splkmem_cache_free(cache, obj);
		}
		kt_reap_to_empty(t, cache, "pushpage");
		splkmem_cache_destroy(cache);
	}
}

/* ---- reap_churn ----------------------------------------------------- */

#define KT_RC_SIZE	SZ_32K
#define KT_RC_THREADS	3
#define KT_RC_BATCH	48
#define KT_RC_MS	3000

struct kt_rc {
	struct kt_ctx *t;
	struct splkmem_cache *cache;
	atomic_long_t allocs;
	atomic_t worst_ms;
	bool stop;
};

static void kt_rc_worker(struct kt_worker *w)
{
	struct kt_rc *rc = w->arg;
	void *objs[KT_RC_BATCH];
	unsigned int i, round = 0;

	while (!READ_ONCE(rc->stop) && !kt_stopping(w)) {
		u32 salt = (w->id << 24) | (round++ << 8);

		for (i = 0; i < KT_RC_BATCH; i++) {
			ktime_t t0 = ktime_get();
			s64 ms;

			objs[i] = splkmem_cache_alloc(rc->cache,
						      SPLKMEM_KM_SLEEP);
			ms = kt_ms_since(t0);
			if (ms > atomic_read(&rc->worst_ms))
				atomic_set(&rc->worst_ms, ms);
			if (!objs[i]) {
				kt_fail(rc->t, "worker %u: alloc returned NULL",
					w->id);
				break;
			}
			kt_fill(objs[i], KT_RC_SIZE, salt + i);
		}
		atomic_long_add(i, &rc->allocs);
		while (i--) {
			if (!kt_verify(objs[i], KT_RC_SIZE, salt + i))
				kt_fail(rc->t, "worker %u: object damaged", w->id);
			splkmem_cache_free(rc->cache, objs[i]);
		}
		cond_resched();
	}
}

void kt_reap_churn(struct kt_ctx *t)
{
	struct splkmem_cache_stats st0, st;
	struct kt_team team;
	struct kt_rc *rc;
	unsigned long reaps = 0;
	u64 created, per_reap, bound;
	ktime_t start;
	s64 ms;

	rc = kzalloc(sizeof(*rc), GFP_KERNEL);
	if (!rc) {
		kt_fail(t, "no memory");
		return;
	}
	rc->t = t;
	rc->cache = splkmem_cache_create("kt_churn", KT_RC_SIZE, 0, NULL, NULL,
					 NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(rc->cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(rc->cache));
		goto out;
	}
	kt_stats(rc->cache, &st0);
	if (kt_team_start(&team, t, KT_RC_THREADS, kt_rc_worker, rc, NULL))
		goto destroy;

	/* Reap as fast as possible while the workers allocate and free. */
	start = ktime_get();
	while (kt_ms_since(start) < KT_RC_MS) {
		splkmem_cache_reap_now(rc->cache);
		reaps++;
		cond_resched();
	}
	ms = kt_ms_since(start);
	WRITE_ONCE(rc->stop, true);
	kt_team_wait(&team, 30000);
	kt_team_stop(&team);
	kt_stats(rc->cache, &st);

	/*
	 * A reap frees at most the slabs of the working set (every worker's
	 * batch, plus what the magazines held), so growth may have to create
	 * them again, but never more: slabs freed under waiting allocations
	 * would make them grow again and again.
	 */
	created = st.slab_create - st0.slab_create;
	per_reap = div64_u64(created * 100, max(reaps, 1ul));
	bound = DIV_ROUND_UP(KT_RC_THREADS * (KT_RC_BATCH + st.mag_size),
			     st.slab_objs) + KT_RC_THREADS;
	kt_check(t, created <= (u64)reaps * bound,
		 "%llu slabs created in %lu reaps (%llu.%02llu per reap, bound %llu)",
		 created, reaps, per_reap / 100, per_reap % 100, bound);
	kt_check(t, atomic_read(&rc->worst_ms) < 2000,
		 "an allocation took %d ms while reaping", atomic_read(&rc->worst_ms));
	kt_check(t, atomic_long_read(&rc->allocs) >= KT_RC_THREADS * KT_RC_BATCH,
		 "workers made only %ld allocations in %lld ms of reaping",
		 atomic_long_read(&rc->allocs), ms);
	kt_detail(t, "%lu reaps in %lld ms, %ld allocs, %llu slabs created (%llu/s), %llu destroyed, %llu.%02llu created per reap, worst alloc %d ms",
		  reaps, ms, atomic_long_read(&rc->allocs), created,
		  div64_u64(created * 1000, max_t(s64, ms, 1)),
		  st.slab_destroy - st0.slab_destroy, per_reap / 100,
		  per_reap % 100, atomic_read(&rc->worst_ms));
	if (!t->failed)
		kt_reap_to_empty(t, rc->cache, "after churn");
destroy:
	splkmem_cache_destroy(rc->cache);
out:
	kfree(rc);
}

/* ---- cpu_hotplug ---------------------------------------------------- */

#define KT_HP_SIZE	SZ_8K
#define KT_HP_WORKERS	3
#define KT_HP_HOLD	64
#define KT_HP_MS	6000
#define KT_HP_PARK	100

struct kt_hp {
	struct kt_ctx *t;
	struct splkmem_cache *cache;
	atomic_long_t allocs;
	atomic_t reaps, resizes;
	bool stop;
};

struct kt_hp_worker {
	struct kt_hp *hp;
	struct kt_thread th;
	unsigned int id;
	void *objs[KT_HP_HOLD];
	u32 tags[KT_HP_HOLD];
	struct rnd_state rnd;
};

/* Hold KT_HP_HOLD tagged objects; replace random ones, checking tags. */
static void kt_hp_work(void *arg)
{
	struct kt_hp_worker *w = arg;
	struct kt_hp *hp = w->hp;
	u32 tag = w->id << 24;
	unsigned int i;

	for (i = 0; i < KT_HP_HOLD; i++) {
		w->objs[i] = splkmem_cache_alloc(hp->cache, SPLKMEM_KM_SLEEP);
		if (!w->objs[i]) {
			kt_fail(hp->t, "worker %u: alloc returned NULL", w->id);
			return;
		}
		w->tags[i] = ++tag;
		kt_fill(w->objs[i], KT_HP_SIZE, w->tags[i]);
	}
	while (!READ_ONCE(hp->stop)) {
		i = prandom_u32_state(&w->rnd) % KT_HP_HOLD;
		if (!kt_verify(w->objs[i], KT_HP_SIZE, w->tags[i])) {
			kt_fail(hp->t, "worker %u: object %p (tag %x) overwritten",
				w->id, w->objs[i], w->tags[i]);
			return;
		}
		splkmem_cache_free(hp->cache, w->objs[i]);
		w->objs[i] = splkmem_cache_alloc(hp->cache,
						 i & 1 ? SPLKMEM_KM_NOSLEEP :
						 SPLKMEM_KM_SLEEP);
		if (!w->objs[i])	/* KM_NOSLEEP may fail */
			w->objs[i] = splkmem_cache_alloc(hp->cache,
							 SPLKMEM_KM_SLEEP);
		w->tags[i] = ++tag;
		kt_fill(w->objs[i], KT_HP_SIZE, w->tags[i]);
		atomic_long_inc(&hp->allocs);
		if ((tag & 63) == 0)
			cond_resched();
	}
}

/* Reaps and magazine resizes, racing the hotplug. */
static void kt_hp_reaper(void *arg)
{
	static const unsigned int sizes[] = { 0, 2, 16, 256, 7 };
	struct kt_hp *hp = arg;
	unsigned int i = 0;
	int err;

	while (!READ_ONCE(hp->stop)) {
		splkmem_cache_reap_now(hp->cache);
		atomic_inc(&hp->reaps);
		err = splkmem_cache_set_magazine(hp->cache,
						 sizes[i++ % ARRAY_SIZE(sizes)]);
		if (err)
			kt_fail(hp->t, "set_magazine = %d", err);
		atomic_inc(&hp->resizes);
		msleep(5);
	}
}

/* Allocate and free on @cpu so that its magazine holds KT_HP_PARK objects. */
struct kt_hp_park {
	struct splkmem_cache *cache;
	unsigned int got;
	void *objs[KT_HP_PARK];
};

static void kt_hp_park(void *arg)
{
	struct kt_hp_park *p = arg;
	unsigned int i;

	for (p->got = 0; p->got < KT_HP_PARK; p->got++) {
		p->objs[p->got] = splkmem_cache_alloc(p->cache, SPLKMEM_KM_SLEEP);
		if (!p->objs[p->got])
			break;
	}
	for (i = 0; i < p->got; i++)
		splkmem_cache_free(p->cache, p->objs[i]);
}

/* A CPU that goes offline gives both its magazines back at once. */
static void kt_hp_dead_magazine(struct kt_ctx *t, struct splkmem_cache *cache,
				unsigned int cpu)
{
	struct splkmem_cache_stats before, after;
	struct kt_hp_park *p;
	struct kt_thread th = {};
	int err;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		kt_fail(t, "no memory");
		return;
	}
	p->cache = cache;
	splkmem_cache_reap_now(cache);
	if (kt_thread_start(&th, kt_hp_park, p, cpu, "spl_kt_park")) {
		kt_fail(t, "no thread");
		goto out;
	}
	kt_thread_stop(&th, 30000);
	kt_stats(cache, &before);
	/*
	 * 100 objects (and what the refills took besides) with magazines of
	 * 64: more than one magazine's worth, and none in the depot, so both
	 * of the CPU's magazines hold objects.
	 */
	if (!kt_check(t, p->got == KT_HP_PARK &&
		      before.mag_objs >= KT_HP_PARK && before.depot_full == 0 &&
		      before.mag_objs > before.mag_size,
		      "parking on cpu %u: %u allocs, mag_objs %llu, depot_full %llu, mag_size %u",
		      cpu, p->got, before.mag_objs, before.depot_full,
		      before.mag_size))
		goto out;
	err = remove_cpu(cpu);
	if (!kt_check(t, !err, "remove_cpu(%u) = %d", cpu, err))
		goto out;
	kt_stats(cache, &after);
	kt_check(t, after.mag_objs == 0 && kt_live(&after) == 0,
		 "cpu %u offline: its magazine still holds objects (mag_objs %llu, was %llu; live %llu)",
		 cpu, after.mag_objs, before.mag_objs, kt_live(&after));
	err = add_cpu(cpu);
	kt_check(t, !err, "add_cpu(%u) = %d", cpu, err);
out:
	kfree(p);
}

void kt_cpu_hotplug(struct kt_ctx *t)
{
	struct kt_hp_worker *w;
	struct kt_thread reaper = {};
	unsigned int i, cycles = 0, j;
	struct kt_hp *hp;
	ktime_t start;
	int err;

	if (num_online_cpus() < 2) {
		kt_detail(t, "SKIP: needs 2 CPUs");
		return;
	}
	hp = kzalloc(sizeof(*hp), GFP_KERNEL);
	w = kcalloc(KT_HP_WORKERS, sizeof(*w), GFP_KERNEL);
	if (!hp || !w) {
		kt_fail(t, "no memory");
		goto out;
	}
	hp->t = t;
	hp->cache = splkmem_cache_create("kt_hotplug", KT_HP_SIZE, 0, NULL,
					 NULL, NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(hp->cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(hp->cache));
		goto out;
	}

	kt_hp_dead_magazine(t, hp->cache, kt_nth_online_cpu(num_online_cpus() - 1));
	if (t->failed)
		goto destroy;

	for (i = 0; i < KT_HP_WORKERS; i++) {
		w[i].hp = hp;
		w[i].id = i + 1;
		prandom_seed_state(&w[i].rnd, kt_rand(t));
		if (kt_thread_start(&w[i].th, kt_hp_work, &w[i], -1,
				    "spl_kt_hp")) {
			kt_fail(t, "no thread");
			break;
		}
	}
	if (!t->failed &&
	    kt_thread_start(&reaper, kt_hp_reaper, hp, -1, "spl_kt_hpreap"))
		kt_fail(t, "no thread");

	/* Every CPU but the first goes down and up, again and again. */
	start = ktime_get();
	while (!t->failed && kt_ms_since(start) < KT_HP_MS) {
		unsigned int cpu = 1 + cycles % (nr_cpu_ids - 1);

		cycles++;
		if (!cpu_possible(cpu) || !cpu_online(cpu))
			continue;
		err = remove_cpu(cpu);
		if (!kt_check(t, !err, "remove_cpu(%u) = %d", cpu, err))
			break;
		msleep(kt_rand_range(t, 0, 20));
		err = add_cpu(cpu);
		if (!kt_check(t, !err, "add_cpu(%u) = %d", cpu, err))
			break;
	}
	WRITE_ONCE(hp->stop, true);
	if (!kt_thread_stop(&reaper, 30000))
		kt_fail(t, "reaper stuck");
	for (i = 0; i < KT_HP_WORKERS; i++)
		if (!kt_thread_stop(&w[i].th, 30000))
			kt_fail(t, "worker %u stuck", i);

	/* Nothing lost or doubled: every held object intact, all distinct. */
	for (i = 0; i < KT_HP_WORKERS; i++) {
		kt_distinct(t, w[i].objs, KT_HP_HOLD, "hotplug");
		for (j = 0; j < KT_HP_HOLD; j++) {
			if (!w[i].objs[j])
				continue;
			if (!kt_verify(w[i].objs[j], KT_HP_SIZE, w[i].tags[j]))
				kt_fail(t, "worker %u object %u damaged", i, j);
			splkmem_cache_free(hp->cache, w[i].objs[j]);
		}
	}
	if (!t->failed)
		kt_reap_to_empty(t, hp->cache, "after hotplug");
	kt_detail(t, "%u offline/online cycles, %ld allocs, %d reaps, %d resizes",
		  cycles, atomic_long_read(&hp->allocs),
		  atomic_read(&hp->reaps), atomic_read(&hp->resizes));
destroy:
	splkmem_cache_destroy(hp->cache);
out:
	kfree(w);
	kfree(hp);
}

/* ---- shrinker_reap -------------------------------------------------- */

#define KT_SR_SIZE	SZ_128K
#define KT_SR_MS	120000	/* under emulation on a busy host, ~20 MiB/s */
#define KT_SR_CHUNK	SZ_8M
#define KT_SR_SCANS	5

/*
 * The consumer: holds a quarter of RAM in tagged objects and, like ZFS's
 * ARC, gives some back from its own shrinker, then reaps its cache there.
 */
struct kt_sr {
	struct kt_ctx *t;
	struct splkmem_cache *cache;
	void **held;
	atomic_t nheld;
	unsigned int n;
	atomic_t scans;
	atomic_long_t reaped;
	bool stop;
	unsigned long blocks;
	bool refused;
	unsigned int hotplugs;
};

static struct kt_sr *kt_sr_cur;

static unsigned long kt_sr_count(struct shrinker *s, struct shrink_control *sc)
{
	struct kt_sr *sr = READ_ONCE(kt_sr_cur);

	if (!sr)
		return 0;
	return max(atomic_read(&sr->nheld), 0) * (KT_SR_SIZE >> PAGE_SHIFT);
}

static unsigned long kt_sr_scan(struct shrinker *s, struct shrink_control *sc)
{
	struct kt_sr *sr = READ_ONCE(kt_sr_cur);
	unsigned long want, freed = 0;
	size_t bytes;

	if (!sr)
		return SHRINK_STOP;
	atomic_inc(&sr->scans);
	want = DIV_ROUND_UP(sc->nr_to_scan, KT_SR_SIZE >> PAGE_SHIFT);
	while (freed < want) {
		int i = atomic_dec_return(&sr->nheld);
		void *obj;

		if (i < 0) {
			atomic_inc(&sr->nheld);
			break;
		}
		obj = xchg(&sr->held[i], NULL);
		if (!obj)
			continue;
		if (!kt_verify(obj, KT_SR_SIZE, i))
			kt_fail(sr->t, "held object %d damaged", i);
		splkmem_cache_free(sr->cache, obj);
		freed++;
	}
	bytes = splkmem_cache_reap_now(sr->cache);
	atomic_long_add(bytes, &sr->reaped);
	return freed * (KT_SR_SIZE >> PAGE_SHIFT);
}

#ifdef HAVE_SHRINKER_ALLOC
static struct shrinker *kt_sr_shrinker;

static int kt_sr_register(void)
{
	kt_sr_shrinker = shrinker_alloc(0, "spl_kmem_test");
	if (!kt_sr_shrinker)
		return -ENOMEM;
	kt_sr_shrinker->count_objects = kt_sr_count;
	kt_sr_shrinker->scan_objects = kt_sr_scan;
	shrinker_register(kt_sr_shrinker);
	return 0;
}

static void kt_sr_unregister(void)
{
	shrinker_free(kt_sr_shrinker);
}
#else
static struct shrinker kt_sr_shrinker = {
	.count_objects = kt_sr_count,
	.scan_objects = kt_sr_scan,
	.seeks = DEFAULT_SEEKS,
};

static int kt_sr_register(void)
{
#ifdef HAVE_REGISTER_SHRINKER_NAME
	return register_shrinker(&kt_sr_shrinker, "spl_kmem_test");
#else
	return register_shrinker(&kt_sr_shrinker);
#endif
}

static void kt_sr_unregister(void)
{
	unregister_shrinker(&kt_sr_shrinker);
}
#endif

/* Allocate tagged objects and free them, so the magazines hold some. */
static void kt_sr_churn(void *arg)
{
	struct kt_sr *sr = arg;
	void *objs[16];
	unsigned int i, round = 0;

	while (!READ_ONCE(sr->stop)) {
		for (i = 0; i < ARRAY_SIZE(objs); i++) {
			objs[i] = splkmem_cache_alloc(sr->cache, SPLKMEM_KM_SLEEP);
			if (!objs[i]) {
				kt_fail(sr->t, "alloc returned NULL");
				break;
			}
			kt_fill(objs[i], KT_SR_SIZE, round + i);
		}
		while (i--) {
			if (!kt_verify(objs[i], KT_SR_SIZE, round + i))
				kt_fail(sr->t, "object damaged");
			splkmem_cache_free(sr->cache, objs[i]);
		}
		round += 32;
		msleep(1);
	}
}

/* CPUs 1.. go offline and online while the shrinker reaps. */
static void kt_sr_hotplug(void *arg)
{
	struct kt_sr *sr = arg;
	unsigned int n = 0;

	while (!READ_ONCE(sr->stop)) {
		unsigned int cpu = 1 + n++ % (nr_cpu_ids - 1);

		if (!cpu_online(cpu))
			continue;
		if (remove_cpu(cpu))
			continue;
		msleep(10);
		if (add_cpu(cpu))
			kt_fail(sr->t, "add_cpu(%u) failed", cpu);
		sr->hotplugs++;
		msleep(10);
	}
}

/*
 * Take memory in vmalloc chunks (bulk page allocation: fast even under
 * emulation) until reclaim has run our shrinker a few times, allocation
 * is refused, or time runs out.  __GFP_NORETRY: no OOM killer.
 */
struct kt_sr_chunk {
	struct list_head link;
	void *mem;
};

static void kt_sr_pressure(struct kt_sr *sr, struct list_head *chunks)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;
	unsigned long limit = totalram_pages() / (KT_SR_CHUNK >> PAGE_SHIFT);
	ktime_t start = ktime_get();

	while (sr->blocks < limit && kt_ms_since(start) < KT_SR_MS &&
	       atomic_read(&sr->scans) < KT_SR_SCANS) {
		struct kt_sr_chunk *ch = kmalloc(sizeof(*ch), gfp);

		if (ch)
			ch->mem = __vmalloc(KT_SR_CHUNK, gfp);
		if (!ch || !ch->mem) {
			kfree(ch);
			sr->refused = true;
			break;
		}
		list_add(&ch->link, chunks);
		sr->blocks++;
		cond_resched();
	}
}

void kt_shrinker_reap(struct kt_ctx *t)
{
	struct kt_thread churn = {}, hotplug = {};
	struct kt_sr_chunk *ch, *next;
	LIST_HEAD(chunks);
	bool registered = false;
	struct kt_sr *sr;
	unsigned int i;
	ktime_t start;
	s64 ms = 0;

	sr = kzalloc(sizeof(*sr), GFP_KERNEL);
	if (!sr) {
		kt_fail(t, "no memory");
		return;
	}
	sr->t = t;
	atomic_set(&sr->scans, 0);
	sr->cache = splkmem_cache_create("kt_shrinker", KT_SR_SIZE, 0, NULL,
					 NULL, NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(sr->cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(sr->cache));
		goto out;
	}
	/* A quarter of RAM, so that pressure reaches reclaim sooner. */
	sr->n = (totalram_pages() << PAGE_SHIFT) / 4 / KT_SR_SIZE;
	sr->held = kvcalloc(sr->n, sizeof(*sr->held), GFP_KERNEL);
	if (!sr->held) {
		kt_fail(t, "no memory");
		goto destroy;
	}
	for (i = 0; i < sr->n; i++) {
		sr->held[i] = splkmem_cache_alloc(sr->cache, SPLKMEM_KM_SLEEP);
		if (!sr->held[i]) {
			kt_fail(t, "alloc %u returned NULL", i);
			break;
		}
		kt_fill(sr->held[i], KT_SR_SIZE, i);
	}
	atomic_set(&sr->nheld, i);
	WRITE_ONCE(kt_sr_cur, sr);
	registered = !t->failed && !kt_sr_register();
	if (!registered)
		kt_fail(t, "register_shrinker failed");
	if (registered &&
	    (kt_thread_start(&churn, kt_sr_churn, sr, -1, "spl_kt_churn") ||
	     (num_online_cpus() > 1 &&
	      kt_thread_start(&hotplug, kt_sr_hotplug, sr, -1,
			      "spl_kt_hotplug"))))
		kt_fail(t, "no thread");

	start = ktime_get();
	if (!t->failed)
		kt_sr_pressure(sr, &chunks);
	list_for_each_entry_safe(ch, next, &chunks, link) {
		vfree(ch->mem);
		kfree(ch);
	}
	WRITE_ONCE(sr->stop, true);
	ms = kt_ms_since(start);
	if (!kt_thread_stop(&hotplug, 60000))
		kt_fail(t, "hotplug thread stuck");
	if (!kt_thread_stop(&churn, 60000))
		kt_fail(t, "allocating thread stuck");
	if (registered)
		kt_sr_unregister();
	WRITE_ONCE(kt_sr_cur, NULL);

	for (i = 0; i < sr->n; i++) {
		if (!sr->held[i])
			continue;
		if (!kt_verify(sr->held[i], KT_SR_SIZE, i))
			kt_fail(t, "held object %u damaged", i);
		splkmem_cache_free(sr->cache, sr->held[i]);
	}
	if (!registered)
		goto destroy;
	if (!atomic_read(&sr->scans) && !sr->refused && ms >= KT_SR_MS) {
		kt_skip(t, "memory pressure did not reach reclaim: %lu MiB taken in %lld ms (host too slow)",
			sr->blocks * (KT_SR_CHUNK >> 20), ms);
		goto destroy;
	}
	kt_check(t, atomic_read(&sr->scans) >= 1,
		 "the consumer's shrinker never ran (%lu MiB of pressure%s)",
		 sr->blocks * (KT_SR_CHUNK >> 20),
		 sr->refused ? ", allocation refused" : "");
	kt_detail(t, "%d shrinker reaps returned %ld KiB (%u of %u objects given back) under %lu MiB of pressure in %lld ms, %u CPU offline/online cycles",
		  atomic_read(&sr->scans), atomic_long_read(&sr->reaped) >> 10,
		  sr->n - max(atomic_read(&sr->nheld), 0), sr->n,
		  sr->blocks * (KT_SR_CHUNK >> 20), ms,
		  sr->hotplugs);
	if (!t->failed)
		kt_reap_to_empty(t, sr->cache, "after pressure");
destroy:
	WRITE_ONCE(kt_sr_cur, NULL);
	splkmem_cache_destroy(sr->cache);
out:
	kvfree(sr->held);
	kfree(sr);
}

/* ---- create_fail ---------------------------------------------------- */

#ifdef CONFIG_FAULT_INJECTION
/*
 * Does fail-nth reach sleeping slab allocations here?  failslab ignores
 * them unless /sys/kernel/debug/failslab/ignore-gfp-wait is N (the guest
 * sets it; a module cannot write a debugfs bool through kernel_write()).
 */
static bool kt_failnth_works(void)
{
	void *p;

	WRITE_ONCE(current->fail_nth, 1);
	p = kmalloc(64, GFP_KERNEL | __GFP_NOWARN);
	WRITE_ONCE(current->fail_nth, 0);
	kfree(p);
	return !p;
}

#define KT_CF_MAX	400

/*
 * Cache creation failing at each of its allocations in turn (the task's
 * fail-nth, read by failslab and fail_page_alloc): every failure is
 * -ENOMEM, and leaves nothing behind (the name is free again; kmemleak
 * checks the memory).
 */
static void kt_create_fail_one(struct kt_ctx *t, unsigned int flags,
			       size_t size, unsigned int *points)
{
	struct splkmem_cache *c;
	unsigned int n, left;

	for (n = 1; n <= KT_CF_MAX; n++) {
		WRITE_ONCE(current->fail_nth, n);
		c = splkmem_cache_create("kt_createfail", size, 0, NULL, NULL,
					 NULL, flags);
		left = READ_ONCE(current->fail_nth);
		WRITE_ONCE(current->fail_nth, 0);
		if (IS_ERR(c)) {
			if (!kt_check(t, PTR_ERR(c) == -ENOMEM,
				      "%s create failing at allocation %u = %ld, want %d",
				      kt_backing_name(flags), n, PTR_ERR(c),
				      -ENOMEM))
				return;
			continue;
		}
		splkmem_cache_destroy(c);
		if (left)	/* fewer than n allocations: all were tried */
			break;
	}
	*points += n - 1;
	kt_check(t, n <= KT_CF_MAX, "%s create still allocating after %u failures",
		 kt_backing_name(flags), KT_CF_MAX);
	/* Nothing left behind: the name is free. */
	c = splkmem_cache_create("kt_createfail", size, 0, NULL, NULL, NULL,
				 flags);
	if (kt_check(t, !IS_ERR(c), "%s create after the failures = %ld",
		     kt_backing_name(flags), PTR_ERR(c)))
		splkmem_cache_destroy(c);
}

void kt_create_fail(struct kt_ctx *t)
{
	unsigned int points = 0;

	if (!kt_failnth_works()) {
		kt_skip(t, "fail-nth does not reach GFP_KERNEL allocations: write N to /sys/kernel/debug/failslab/ignore-gfp-wait and fail_page_alloc/ignore-gfp-wait first");
		return;
	}
	/*
	 * Only virtual-memory-backed caches: a kmem_cache_create() that fails
	 * inside the Linux slab prints the kernel's own stack dump.
	 */
	kt_create_fail_one(t, SPLKMEM_KMC_KVMEM, SZ_32K, &points);
	kt_detail(t, "creation failed at each of %u allocations in turn", points);
}
#else
void kt_create_fail(struct kt_ctx *t)
{
	kt_skip(t, "kernel without CONFIG_FAULT_INJECTION (failslab, fail-nth): run on the debug kernel");
}
#endif

/* ---- reap_fresh ----------------------------------------------------- */

#define KT_RF_SIZE	SZ_32K
#define KT_RF_TRIES	5
#define KT_RF_DELAY_MS	20	/* growth delay: well within the 100 ms wait */

struct kt_rf {
	struct splkmem_cache *cache;
	void *obj;
	s64 ms;
};

static void kt_rf_alloc(void *arg)
{
	struct kt_rf *rf = arg;
	ktime_t t0 = ktime_get();

	rf->obj = splkmem_cache_alloc(rf->cache, SPLKMEM_KM_SLEEP);
	rf->ms = kt_ms_since(t0);
}

/*
 * A reap while an allocation waits for a growth must leave the growth's
 * new slabs to it: one growth serves it, however often the cache is
 * reaped meanwhile.
 */
void kt_reap_fresh(struct kt_ctx *t)
{
	struct splkmem_cache_stats before, after;
	struct kt_thread th = {};
	unsigned long reaps = 0;
	struct kt_rf rf = {};
	unsigned int try;
	ktime_t t0;

	rf.cache = splkmem_cache_create("kt_fresh", KT_RF_SIZE, 0, NULL, NULL,
					NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(rf.cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(rf.cache));
		return;
	}
	splkmem_cache_inject_grow_delay(rf.cache, KT_RF_DELAY_MS);
	for (try = 0; try < KT_RF_TRIES; try++) {
		kt_stats(rf.cache, &before);
		if (kt_thread_start(&th, kt_rf_alloc, &rf, -1, "spl_kt_fresh")) {
			kt_fail(t, "no thread");
			goto out;
		}
		/* Reap as fast as we can until the allocation is served. */
		t0 = ktime_get();
		while (!completion_done(&th.done) && kt_ms_since(t0) < 10000) {
			splkmem_cache_reap_now(rf.cache);
			reaps++;
			cond_resched();
		}
		kt_thread_stop(&th, 10000);
		kt_stats(rf.cache, &after);
		/* Served by the deadlock path (a loaded host): try again. */
		if (rf.obj && !is_vmalloc_addr(rf.obj) &&
		    after.obj_deadlock != before.obj_deadlock) {
			splkmem_cache_free(rf.cache, rf.obj);
			rf.obj = NULL;
			kt_settle(rf.cache, &after, 5000);
			splkmem_cache_reap_now(rf.cache);
			continue;
		}
		break;
	}
	if (try == KT_RF_TRIES) {
		kt_skip(t, "growth always slower than the 100 ms wait in %u tries",
			KT_RF_TRIES);
		goto out;
	}
	kt_check(t, rf.obj && is_vmalloc_addr(rf.obj),
		 "KM_SLEEP allocation while reaping returned %p after %lld ms",
		 rf.obj, rf.ms);
	kt_check(t, after.grow - before.grow == 1,
		 "one allocation took %llu growths (%llu slabs created, %llu destroyed) under %lu reaps: reaps freed the slabs grown for it",
		 after.grow - before.grow, after.slab_create - before.slab_create,
		 after.slab_destroy - before.slab_destroy, reaps);
	kt_detail(t, "served in %lld ms by %llu growth(s) under %lu reaps", rf.ms,
		  after.grow - before.grow, reaps);
	if (rf.obj)
		splkmem_cache_free(rf.cache, rf.obj);
	splkmem_cache_inject_grow_delay(rf.cache, 0);
	if (!t->failed)
		kt_reap_to_empty(t, rf.cache, "after free");
out:
	splkmem_cache_inject_grow_delay(rf.cache, 0);
	kt_settle(rf.cache, &after, 5000);
	splkmem_cache_destroy(rf.cache);
}
