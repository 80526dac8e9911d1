// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Concurrency: many threads on one cache (slab_lock), objects freed on
 * another CPU than the one that allocated them (cross_cpu_free), and
 * magazines resized under load (magazine_resize).
 */
#include "spl_kmem_test.h"

#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/smp.h>

#define KT_THREAD_TIMEOUT_MS	60000

/* ---- slab_lock ----------------------------------------------------- */

#define KT_LOCK_THREADS		32
#define KT_LOCK_MAX_OBJS	1024
/* Objects held at once in one run, across all threads. */
#define KT_LOCK_RUN_BYTES	SZ_64M

struct kt_lock {
	struct kt_ctx *t;
	struct splkmem_cache *cache;
	size_t size;
	unsigned int count[KT_LOCK_THREADS];
	void **objs[KT_LOCK_THREADS];
	struct kt_gate allocated;
	u64 emergency;		/* worst obj_emergency_max of a run */
	size_t emergency_size;	/* object size of that run */
	u64 deadlocks;		/* obj_deadlock summed over runs */
};

static void kt_lock_worker(struct kt_worker *w)
{
	struct kt_lock *lk = w->arg;
	unsigned int n = lk->count[w->id], got, i;
	void **objs = lk->objs[w->id];

	for (got = 0; got < n; got++) {
		objs[got] = splkmem_cache_alloc(lk->cache, SPLKMEM_KM_SLEEP);
		if (!kt_check(lk->t, objs[got],
			      "size %zu: thread %u alloc %u of %u returned NULL",
			      lk->size, w->id, got, n))
			break;
		kt_fill(objs[got], lk->size, w->id << 16 | got);
		if (got % 64 == 63)
			cond_resched();
	}
	/* Hold everything until the test thread has counted it. */
	kt_gate_pass(&lk->allocated);
	for (i = 0; i < got; i++) {
		if (!kt_verify(objs[i], lk->size, w->id << 16 | i))
			kt_fail(lk->t, "size %zu: thread %u object %u overwritten",
				lk->size, w->id, i);
		splkmem_cache_free(lk->cache, objs[i]);
	}
}

static void kt_lock_run(struct kt_ctx *t, struct kt_lock *lk, s64 *run_ms)
{
	unsigned int i, max_objs, want = 0;
	struct splkmem_cache_stats st;
	struct kt_team team;
	char name[SPLKMEM_NAME_MAX];
	ktime_t start;

	max_objs = clamp_t(size_t, KT_LOCK_RUN_BYTES /
			   (KT_LOCK_THREADS * lk->size), 1, KT_LOCK_MAX_OBJS);
	for (i = 0; i < KT_LOCK_THREADS; i++) {
		lk->count[i] = kt_rand_range(t, 1, max_objs);
		want += lk->count[i];
	}

	snprintf(name, sizeof(name), "kt_lock_%zu", lk->size);
	lk->cache = splkmem_cache_create(name, lk->size, 0, NULL, NULL, NULL,
					 SPLKMEM_KMC_KVMEM);
	if (IS_ERR(lk->cache)) {
		kt_fail(t, "%s: create = %ld", name, PTR_ERR(lk->cache));
		return;
	}
	kt_gate_init(&lk->allocated);

	start = ktime_get();
	if (kt_team_start(&team, t, KT_LOCK_THREADS, kt_lock_worker, lk,
			  NULL))
		goto out;
	if (!kt_gate_wait(&lk->allocated, KT_LOCK_THREADS,
			  KT_THREAD_TIMEOUT_MS))
		kt_fail(t, "%s: only %d of %u threads finished allocating in %u ms",
			name, atomic_read(&lk->allocated.arrived),
			KT_LOCK_THREADS, KT_THREAD_TIMEOUT_MS);

	/* Everyone holds all their objects: the counts must add up exactly. */
	if (!t->failed) {
		kt_settled(t, lk->cache, &st, name);
		kt_check_counts(t, name, &st);
		kt_check(t, kt_live(&st) == want,
			 "%s: %u threads hold %u objects, stats say %llu (obj_alloc %llu mag_objs %llu)",
			 name, KT_LOCK_THREADS, want, kt_live(&st),
			 st.obj_alloc, st.mag_objs);
		kt_check(t, st.obj_max >= want,
			 "%s: obj_max %llu < %u held", name, st.obj_max,
			 want);
		/*
		 * Emergency objects are allowed (a growth that cannot keep
		 * up is declared deadlocked), but they cost a page each:
		 * report the worst run.
		 */
		lk->deadlocks += st.obj_deadlock;
		if (st.obj_emergency_max > lk->emergency) {
			lk->emergency = st.obj_emergency_max;
			lk->emergency_size = lk->size;
		}
	}
	kt_gate_open(&lk->allocated);
	kt_team_wait(&team, KT_THREAD_TIMEOUT_MS);
	kt_team_stop(&team);
	*run_ms = max(*run_ms, kt_ms_since(start));

	if (!t->failed)
		kt_reap_to_empty(t, lk->cache, name);
out:
	splkmem_cache_destroy(lk->cache);
}

void kt_slab_lock(struct kt_ctx *t)
{
	struct kt_lock *lk;
	unsigned int i, runs = 0;
	s64 run_ms = 0;
	size_t size;

	lk = kzalloc(sizeof(*lk), GFP_KERNEL);
	if (!lk) {
		kt_fail(t, "no memory");
		return;
	}
	lk->t = t;
	for (i = 0; i < KT_LOCK_THREADS; i++) {
		lk->objs[i] = kvcalloc(KT_LOCK_MAX_OBJS, sizeof(void *),
				       GFP_KERNEL);
		if (!lk->objs[i]) {
			kt_fail(t, "no memory");
			goto out;
		}
	}

	for (size = 32; size <= SZ_1M && !t->failed; size *= 4) {
		lk->size = size;
		kt_lock_run(t, lk, &run_ms);
		runs++;
		/* 32 B .. 512 KiB by 4, then the 1 MiB end of the range. */
		if (size == SZ_512K)
			size = SZ_1M / 4;
	}
	kt_detail(t, "%u runs of %u threads on %u CPUs, slowest run %lld ms, %llu growths deadlocked, up to %llu emergency objs (%zu B)",
		  runs, KT_LOCK_THREADS, num_online_cpus(), run_ms,
		  lk->deadlocks, lk->emergency, lk->emergency_size);
out:
	for (i = 0; i < KT_LOCK_THREADS; i++)
		kvfree(lk->objs[i]);
	kfree(lk);
}

/* ---- cross_cpu_free ------------------------------------------------ */

#define KT_XFER_SIZE	512
#define KT_XFER_PAIRS	12

struct kt_xfer {
	struct kt_ctx *t;
	struct splkmem_cache *cache;
	unsigned int n;
	unsigned int got;
	unsigned int cpu;
	unsigned int ran_on;
	u32 salt;
	bool held;		/* objects allocated, not yet freed */
	void **objs;
};

static unsigned int kt_xfer_cpu(unsigned int id, void *arg)
{
	return ((struct kt_xfer *)arg)->cpu;
}

static void kt_xfer_alloc(struct kt_worker *w)
{
	struct kt_xfer *x = w->arg;

	x->ran_on = raw_smp_processor_id();
	x->held = true;
	for (x->got = 0; x->got < x->n; x->got++) {
		void *obj = splkmem_cache_alloc(x->cache, SPLKMEM_KM_SLEEP);

		if (!kt_check(x->t, obj, "CPU %u: alloc %u returned NULL",
			      x->cpu, x->got))
			break;
		kt_fill(obj, KT_XFER_SIZE, x->salt + x->got);
		x->objs[x->got] = obj;
	}
}

/* Verify and free what the producer handed over, on the calling CPU. */
static void kt_xfer_release(struct kt_xfer *x)
{
	unsigned int i;

	for (i = 0; i < x->got; i++) {
		if (!kt_verify(x->objs[i], KT_XFER_SIZE, x->salt + i))
			kt_fail(x->t, "object %u (%p) damaged in hand-over to CPU %u",
				i, x->objs[i], x->cpu);
		splkmem_cache_free(x->cache, x->objs[i]);
	}
	x->held = false;
}

static void kt_xfer_free(struct kt_worker *w)
{
	struct kt_xfer *x = w->arg;

	x->ran_on = raw_smp_processor_id();
	kt_xfer_release(x);
}

/* Run @fn once on @cpu and wait for it. */
static bool kt_on_cpu(struct kt_ctx *t, struct kt_xfer *x, unsigned int cpu,
		      void (*fn)(struct kt_worker *w))
{
	struct kt_team team;

	x->cpu = cpu;
	x->ran_on = UINT_MAX;
	if (kt_team_start(&team, t, 1, fn, x, kt_xfer_cpu))
		return false;
	kt_team_wait(&team, KT_THREAD_TIMEOUT_MS);
	kt_team_stop(&team);
	return kt_check(t, x->ran_on == cpu, "worker bound to CPU %u ran on %u",
			cpu, x->ran_on);
}

void kt_cross_cpu_free(struct kt_ctx *t)
{
	unsigned int a, b, pairs = 0, ncpu = num_online_cpus();
	struct splkmem_cache_stats st;
	struct kt_xfer x = { .t = t };
	struct splkmem_cache *cache;

	if (ncpu < 2) {
		kt_detail(t, "skipped: only one CPU online");
		return;
	}
	cache = splkmem_cache_create("kt_xfer", KT_XFER_SIZE, 0, NULL, NULL,
				     NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(cache));
		return;
	}
	kt_stats(cache, &st);
	/* More than a magazine, so the freeing CPU also flushes to slabs. */
	x.n = 2 * st.mag_size + st.mag_refill + 1;
	x.cache = cache;
	x.objs = kvcalloc(x.n, sizeof(*x.objs), GFP_KERNEL);
	if (!x.objs) {
		kt_fail(t, "no memory");
		goto out;
	}

	for (a = 0; a < ncpu && pairs < KT_XFER_PAIRS && !t->failed; a++) {
		for (b = 1; b < ncpu && pairs < KT_XFER_PAIRS && !t->failed;
		     b++) {
			unsigned int from = kt_nth_online_cpu(a);
			unsigned int to = kt_nth_online_cpu(a + b);

			x.salt = pairs << 20;
			if (!kt_on_cpu(t, &x, from, kt_xfer_alloc) ||
			    !kt_on_cpu(t, &x, to, kt_xfer_free))
				break;
			pairs++;
			kt_stats(cache, &st);
			kt_check(t, kt_live(&st) == 0,
				 "CPU %u -> %u: %u freed, still live %llu (obj_alloc %llu mag_objs %llu)",
				 from, to, x.got, kt_live(&st), st.obj_alloc,
				 st.mag_objs);
		}
	}
	/* A consumer that never started leaves its objects to us. */
	if (x.held)
		kt_xfer_release(&x);
	if (!t->failed)
		kt_reap_to_empty(t, cache, "after all pairs");
	kt_detail(t, "%u CPU pairs x %u objs", pairs, x.n);
out:
	kvfree(x.objs);
	splkmem_cache_destroy(cache);
}

/* ---- magazine_resize ----------------------------------------------- */

#define KT_MR_SIZE	256
#define KT_MR_HELD	48
#define KT_MR_INUSE	0x1b5e1b5eU
#define KT_MR_FREED	0x0f4ee0f4U

struct kt_mr_obj {
	u32 inuse;
	u32 owner;
	u64 seq;
	u8 fill[KT_MR_SIZE - 16];
};

struct kt_mr {
	struct kt_ctx *t;
	struct splkmem_cache *cache;
	bool stop;
	atomic_t doubles;
	atomic_t damaged;
	atomic_t nulls;
	atomic64_t ops;
};

static bool kt_mr_intact(const struct kt_mr_obj *o, u32 owner, u64 seq)
{
	return o->inuse == KT_MR_INUSE && o->owner == owner && o->seq == seq &&
	       !memchr_inv(o->fill, (u8)(owner + seq), sizeof(o->fill));
}

static void kt_mr_worker(struct kt_worker *w)
{
	struct kt_mr *mr = w->arg;
	struct kt_mr_obj *held[KT_MR_HELD];
	u64 seqs[KT_MR_HELD], seq = 0, ops = 0;
	struct rnd_state rnd;
	unsigned int n = 0;

	prandom_seed_state(&rnd, w->id + 1);
	while (!READ_ONCE(mr->stop) && !kt_stopping(w)) {
		u32 r = prandom_u32_state(&rnd);

		if (n < KT_MR_HELD && (n == 0 || (r & 1))) {
			struct kt_mr_obj *o;

			o = splkmem_cache_alloc(mr->cache, SPLKMEM_KM_SLEEP);
			if (!o) {
				atomic_inc(&mr->nulls);
				break;
			}
			/*
			 * Still marked in use: someone else holds it.  Keep
			 * our hands off, so it is not freed twice.
			 */
			if (xchg(&o->inuse, KT_MR_INUSE) == KT_MR_INUSE) {
				atomic_inc(&mr->doubles);
				continue;
			}
			o->owner = w->id;
			o->seq = ++seq;
			memset(o->fill, (u8)(w->id + seq), sizeof(o->fill));
			seqs[n] = seq;
			held[n++] = o;
		} else {
			unsigned int i = (r >> 1) % n;

			if (!kt_mr_intact(held[i], w->id, seqs[i]))
				atomic_inc(&mr->damaged);
			WRITE_ONCE(held[i]->inuse, KT_MR_FREED);
			splkmem_cache_free(mr->cache, held[i]);
			n--;
			held[i] = held[n];
			seqs[i] = seqs[n];
		}
		if (++ops % 64 == 0)
			cond_resched();
	}
	while (n--) {
		if (!kt_mr_intact(held[n], w->id, seqs[n]))
			atomic_inc(&mr->damaged);
		WRITE_ONCE(held[n]->inuse, KT_MR_FREED);
		splkmem_cache_free(mr->cache, held[n]);
	}
	atomic64_add(ops, &mr->ops);
}

/* Sizes to cycle through; 0 is "automatic".  Ends small on purpose. */
static const unsigned int kt_mr_sizes[] = {
	2, 256, 0, 17, 3, 128, 255, 2, 64, 0, 5, 200, 3,
};

#define KT_MR_ROUNDS		3
#define KT_MR_THREADS_PER_CPU	2

void kt_magazine_resize(struct kt_ctx *t)
{
	unsigned int auto_size, nthreads, i, r, resizes = 0, last = 0;
	struct splkmem_cache_stats st;
	struct splkmem_cache *cache, *slab;
	struct kt_team team;
	struct kt_mr *mr;
	int err;

	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr) {
		kt_fail(t, "no memory");
		return;
	}
	cache = splkmem_cache_create("kt_magresize", KT_MR_SIZE, 0, NULL, NULL,
				     NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(cache)) {
		kt_fail(t, "create = %ld", PTR_ERR(cache));
		goto out_mr;
	}
	kt_stats(cache, &st);
	auto_size = st.mag_size;

	/* Bad sizes are refused and change nothing. */
	err = splkmem_cache_set_magazine(cache, 1);
	kt_check(t, err == -EINVAL, "set_magazine(1) = %d, want %d", err,
		 -EINVAL);
	err = splkmem_cache_set_magazine(cache, 257);
	kt_check(t, err == -EINVAL, "set_magazine(257) = %d, want %d", err,
		 -EINVAL);
	kt_stats(cache, &st);
	kt_check(t, st.mag_size == auto_size,
		 "mag_size %u after refused resizes, was %u", st.mag_size,
		 auto_size);

	slab = splkmem_cache_create("kt_magresize_sl", KT_MR_SIZE, 0, NULL,
				    NULL, NULL, SPLKMEM_KMC_SLAB);
	if (!IS_ERR(slab)) {
		err = splkmem_cache_set_magazine(slab, 16);
		kt_check(t, err == -EOPNOTSUPP,
			 "set_magazine on a slab-backed cache = %d, want %d",
			 err, -EOPNOTSUPP);
		splkmem_cache_destroy(slab);
	} else {
		kt_fail(t, "slab create = %ld", PTR_ERR(slab));
	}
	if (t->failed)
		goto out_cache;

	mr->t = t;
	mr->cache = cache;
	nthreads = KT_MR_THREADS_PER_CPU * num_online_cpus();
	if (kt_team_start(&team, t, nthreads, kt_mr_worker, mr, NULL))
		goto out_cache;

	for (r = 0; r < KT_MR_ROUNDS && !t->failed; r++) {
		for (i = 0; i < ARRAY_SIZE(kt_mr_sizes) && !t->failed; i++) {
			unsigned int want = kt_mr_sizes[i] ?: auto_size;

			err = splkmem_cache_set_magazine(cache, kt_mr_sizes[i]);
			kt_stats(cache, &st);
			kt_check(t, !err, "set_magazine(%u) under load = %d",
				 kt_mr_sizes[i], err);
			kt_check(t, st.mag_size == want,
				 "set_magazine(%u): stats mag_size %u, want %u",
				 kt_mr_sizes[i], st.mag_size, want);
			kt_check(t, st.mag_refill >= 1 &&
				 st.mag_refill <= st.mag_size,
				 "mag_size %u with mag_refill %u", st.mag_size,
				 st.mag_refill);
			last = want;
			resizes++;
			/* Let the workers run a while at this size. */
			msleep(20);
		}
	}

	WRITE_ONCE(mr->stop, true);
	kt_team_wait(&team, KT_THREAD_TIMEOUT_MS);
	kt_team_stop(&team);

	kt_check(t, !atomic_read(&mr->doubles),
		 "%d objects handed out while another thread held them",
		 atomic_read(&mr->doubles));
	kt_check(t, !atomic_read(&mr->damaged),
		 "%d objects changed while held", atomic_read(&mr->damaged));
	kt_check(t, !atomic_read(&mr->nulls),
		 "%d KM_SLEEP allocations returned NULL",
		 atomic_read(&mr->nulls));
	if (t->failed)
		goto out_cache;

	kt_stats(cache, &st);
	/* The last size is in force on every CPU, not only on some. */
	/*
	 * The last size is in force on every CPU's two magazines and in the
	 * depot, whose full magazines are all of that size too.
	 */
	kt_check(t, st.mag_size == last &&
		 st.mag_objs <= (u64)last * (2 * num_possible_cpus() +
					     st.depot_full),
		 "mag_objs %llu with magazines of %u (recorded %u) on %u CPUs and %llu full in the depot",
		 st.mag_objs, last, st.mag_size, num_possible_cpus(),
		 st.depot_full);
	kt_reap_to_empty(t, cache, "after resizes");
	kt_detail(t, "%u resizes under %u threads, %lld alloc/free ops",
		  resizes, nthreads, (s64)atomic64_read(&mr->ops));
out_cache:
	splkmem_cache_destroy(cache);
out_mr:
	kfree(mr);
}
