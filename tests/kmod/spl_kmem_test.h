/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal interface of spl_kmem_test.ko, the in-kernel test suite of
 * spl_kmem.  Include this first in every test file: it sets pr_fmt, which
 * must precede <linux/printk.h>.
 */
#ifndef _SPL_KMEM_TEST_H
#define _SPL_KMEM_TEST_H

#define pr_fmt(fmt) "spl_kmem_test: " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/compiler.h>
#include <linux/ktime.h>
#include <linux/prandom.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <spl_kmem/cache.h>

#define KT_MSG_LEN	240

/* One running test: its verdict and random stream. */
struct kt_ctx {
	const char *name;
	spinlock_t lock;	/* serialises fail/detail from worker threads */
	bool failed;
	bool skipped;		/* kt_skip(): could not run here */
	char reason[KT_MSG_LEN];
	char detail[KT_MSG_LEN];
	struct rnd_state rnd;	/* not thread-safe: test thread only */
};

struct kt_test {
	const char *name;
	void (*run)(struct kt_ctx *t);
};

/* Reporting (test_main.c).  The first failure wins; later ones are lost. */
__printf(2, 3) void kt_fail(struct kt_ctx *t, const char *fmt, ...);
__printf(3, 4) bool kt_check(struct kt_ctx *t, bool ok, const char *fmt, ...);
__printf(2, 3) void kt_detail(struct kt_ctx *t, const char *fmt, ...);
__printf(2, 3) void kt_note(struct kt_ctx *t, const char *fmt, ...);
/* The test cannot run on this kernel: "SKIP <test>: <why>", not a pass. */
__printf(2, 3) void kt_skip(struct kt_ctx *t, const char *fmt, ...);

/* Random numbers from the per-test stream seeded from the `seed` parameter. */
u32 kt_rand(struct kt_ctx *t);
u32 kt_rand_range(struct kt_ctx *t, u32 lo, u32 hi);	/* [lo, hi] */
u32 kt_rand_log(struct kt_ctx *t, u32 lo, u32 hi);	/* log-uniform */

/* Milliseconds since @start (ktime_get() units). */
s64 kt_ms_since(ktime_t start);

/* Cache helpers (test_main.c). */
const char *kt_backing_name(unsigned int flags);
bool kt_is_kvmem(const struct splkmem_cache_stats *st);
u64 kt_live(const struct splkmem_cache_stats *st);
void kt_stats(struct splkmem_cache *cache, struct splkmem_cache_stats *st);
bool kt_settle(struct splkmem_cache *cache, struct splkmem_cache_stats *st,
	       unsigned int timeout_ms);
bool kt_settled(struct kt_ctx *t, struct splkmem_cache *cache,
		struct splkmem_cache_stats *st, const char *where);
bool kt_check_counts(struct kt_ctx *t, const char *where,
		     const struct splkmem_cache_stats *st);
bool kt_reap_to_empty(struct kt_ctx *t, struct splkmem_cache *cache,
		      const char *where);
unsigned long kt_free_mib(void);
unsigned long kt_free_pages(void);

/* Object tagging: fill a whole object so overlaps and scribbles show. */
void kt_fill(void *obj, size_t size, u32 tag);
bool kt_verify(const void *obj, size_t size, u32 tag);

/*
 * Worker threads (test_team.c).  kt_team_start() creates @nr kthreads,
 * worker i bound to kt_team_cpu(i), and releases them together once all
 * exist; kt_team_stop() waits (bounded) for them and reaps every one, so
 * no thread outlives the test.
 */
struct kt_team;

struct kt_worker {
	struct kt_team *team;
	struct task_struct *task;
	unsigned int id;
	unsigned int cpu;
	void *arg;
	bool ran;
};

struct kt_team {
	struct kt_ctx *t;
	void (*fn)(struct kt_worker *w);
	unsigned int nr;
	struct kt_worker *w;
	atomic_t ready;
	atomic_t done;
	struct completion go;
	bool abort;
};

/* A rendezvous the test thread opens once all workers arrived. */
struct kt_gate {
	atomic_t arrived;
	struct completion open;
};

/* Long-running workers poll this and wind down when it turns true. */
static inline bool kt_stopping(const struct kt_worker *w)
{
	return READ_ONCE(w->team->abort);
}

unsigned int kt_nth_online_cpu(unsigned int n);
int kt_team_start(struct kt_team *team, struct kt_ctx *t, unsigned int nr,
		  void (*fn)(struct kt_worker *w), void *arg,
		  unsigned int (*cpu_of)(unsigned int id, void *arg));
bool kt_team_wait(struct kt_team *team, unsigned int timeout_ms);
void kt_team_stop(struct kt_team *team);
void kt_gate_init(struct kt_gate *g);
void kt_gate_pass(struct kt_gate *g);
bool kt_gate_wait(struct kt_gate *g, unsigned int nr, unsigned int timeout_ms);
void kt_gate_open(struct kt_gate *g);

/* The tests. */
void kt_slab_small(struct kt_ctx *t);
void kt_slab_large(struct kt_ctx *t);
void kt_slab_align(struct kt_ctx *t);
void kt_slab_reap(struct kt_ctx *t);
void kt_slab_age(struct kt_ctx *t);
void kt_slab_lock(struct kt_ctx *t);
void kt_slab_reclaim(struct kt_ctx *t);
void kt_shrink_drain(struct kt_ctx *t);
void kt_emergency_nosleep(struct kt_ctx *t);
void kt_deadlock(struct kt_ctx *t);
void kt_reap_all_cpus(struct kt_ctx *t);
void kt_destroy_returns_pages(struct kt_ctx *t);
void kt_cross_cpu_free(struct kt_ctx *t);
void kt_stats_test(struct kt_ctx *t);
void kt_magazine_resize(struct kt_ctx *t);
void kt_ctor_fail(struct kt_ctx *t);
void kt_bad_args(struct kt_ctx *t);
void kt_grow_fail(struct kt_ctx *t);
void kt_kmflags(struct kt_ctx *t);
void kt_reap_churn(struct kt_ctx *t);
void kt_cpu_hotplug(struct kt_ctx *t);
void kt_shrinker_reap(struct kt_ctx *t);
void kt_create_fail(struct kt_ctx *t);
void kt_reap_fresh(struct kt_ctx *t);
void kt_name_race(struct kt_ctx *t);
void kt_name_leaked(struct kt_ctx *t);
void kt_double_free(struct kt_ctx *t);
void kt_wrong_cache_free(struct kt_ctx *t);
void kt_mag_resize_race(struct kt_ctx *t);
void kt_stats_snapshot(struct kt_ctx *t);

#endif /* _SPL_KMEM_TEST_H */
