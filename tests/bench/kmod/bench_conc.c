// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Concurrency: every online CPU at once, one kthread bound to each.
 *
 *   solo-pair / solo-batch  one thread, on the first CPU: the baseline
 *   par-pair / par-batch    one thread per CPU, alloc+free pairs or
 *                           N-allocs-then-N-frees batches, all at once
 *   xcpu                    CPU 2k allocates, CPU 2k+1 frees what it got
 *                           through a ring; every pair of CPUs at once
 *
 * Every thread runs until a deadline (the target_us parameter) and counts
 * what it did, so a slow path cannot stretch a run.  A figure is wall-clock
 * guest ns from the start signal to the last thread's end, divided by the
 * objects one thread handled (the mean over the threads).  Without -icount the
 * guest clock is the host's, so only ratios measured in the same run mean
 * anything; the allocators are interleaved within each repetition so that
 * a change of host load hits them all alike.
 */
#include "bench.h"

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#define KB_CONC_BATCH		256
#define KB_CONC_BATCH_HUGE	64
#define KB_RING_MAX		1024
#define KB_CONC_TIMEOUT_MS	120000

enum kb_conc_test { KB_SOLO_PAIR, KB_SOLO_BATCH, KB_PAR_PAIR, KB_PAR_BATCH,
		    KB_XCPU, KB_NR_TESTS };

static const char *const kb_test_names[KB_NR_TESTS] = {
	"solo-pair", "solo-batch", "par-pair", "par-batch", "xcpu",
};

struct kb_ring {
	unsigned long head ____cacheline_aligned;	/* producer's */
	unsigned long tail ____cacheline_aligned;	/* consumer's */
	unsigned int size;
	void **slot;
};

struct kb_run;

struct kb_worker {
	struct kb_run *run;
	unsigned int id;
	struct task_struct *task;
	void **objs;		/* batch array */
	u64 ops;		/* objects allocated and freed */
	u64 end_ns;
	int rc;
};

struct kb_run {
	struct kb_inst *bi;
	enum kb_conc_test test;
	u64 deadline;		/* ktime_get_ns() when threads stop */
	unsigned int batch;
	unsigned int nr;
	struct kb_worker *w;
	struct kb_ring *rings;
	u64 objs;		/* objects the last run handled, all threads */
	struct completion go;
	atomic_t ready, done;
	wait_queue_head_t wq;
	bool abort;
};

static unsigned int kb_nth_cpu(unsigned int n)
{
	unsigned int cpu, i = 0;

	for_each_online_cpu(cpu)
		if (i++ == n)
			return cpu;
	return cpumask_first(cpu_online_mask);
}

static int kb_do_pairs(struct kb_worker *w)
{
	struct kb_inst *bi = w->run->bi;
	unsigned int i;

	do {
		for (i = 0; i < 8; i++) {
			void *p = bi->a->alloc(bi);

			if (unlikely(!p))
				return -ENOMEM;
			bi->a->free(bi, p);
		}
		w->ops += 8;
	} while (ktime_get_ns() < w->run->deadline);
	return 0;
}

static int kb_do_batches(struct kb_worker *w)
{
	struct kb_inst *bi = w->run->bi;
	unsigned int n = w->run->batch, i, j;

	do {
		for (i = 0; i < n; i++) {
			w->objs[i] = bi->a->alloc(bi);
			if (unlikely(!w->objs[i])) {
				for (j = 0; j < i; j++)
					bi->a->free(bi, w->objs[j]);
				return -ENOMEM;
			}
		}
		for (i = 0; i < n; i++)
			bi->a->free(bi, w->objs[i]);
		w->ops += n;
		cond_resched();
		if (READ_ONCE(w->run->abort))
			return -EINTR;
	} while (ktime_get_ns() < w->run->deadline);
	return 0;
}

/* Spin (politely) until @cond; false if the run was aborted. */
#define kb_spin_until(run, cond)					\
({									\
	unsigned long __n = 0;						\
	bool __ok = true;						\
	while (!(cond)) {						\
		cpu_relax();						\
		if (++__n % 1024 == 0) {				\
			cond_resched();					\
			if (READ_ONCE((run)->abort)) {			\
				__ok = false;				\
				break;					\
			}						\
		}							\
	}								\
	__ok;								\
})

static int kb_do_produce(struct kb_worker *w, struct kb_ring *ring)
{
	struct kb_run *run = w->run;
	struct kb_inst *bi = run->bi;
	unsigned long head = 0;
	bool last = false;

	/* The last object sent is NULL: the consumer's signal to stop. */
	while (!last) {
		void *p = NULL;

		last = (head & 7) == 7 && ktime_get_ns() >= run->deadline;
		if (!last) {
			p = bi->a->alloc(bi);
			if (unlikely(!p)) {
				WRITE_ONCE(run->abort, true);
				return -ENOMEM;
			}
		}
		if (!kb_spin_until(run, head - smp_load_acquire(&ring->tail) <
					ring->size)) {
			if (p)
				bi->a->free(bi, p);
			return -EINTR;
		}
		ring->slot[head % ring->size] = p;
		smp_store_release(&ring->head, ++head);
	}
	w->ops = head - 1;
	return 0;
}

static int kb_do_consume(struct kb_worker *w, struct kb_ring *ring)
{
	struct kb_run *run = w->run;
	struct kb_inst *bi = run->bi;
	unsigned long tail = 0;

	for (;;) {
		void *p;

		if (!kb_spin_until(run, smp_load_acquire(&ring->head) != tail))
			return -EINTR;
		p = ring->slot[tail % ring->size];
		smp_store_release(&ring->tail, ++tail);
		if (!p)
			break;
		bi->a->free(bi, p);
	}
	w->ops = tail - 1;
	return 0;
}

static int kb_worker_fn(void *data)
{
	struct kb_worker *w = data;
	struct kb_run *run = w->run;

	atomic_inc(&run->ready);
	wake_up(&run->wq);
	wait_for_completion(&run->go);
	w->ops = 0;
	if (!READ_ONCE(run->abort)) {
		switch (run->test) {
		case KB_SOLO_PAIR:
		case KB_PAR_PAIR:
			w->rc = kb_do_pairs(w);
			break;
		case KB_SOLO_BATCH:
		case KB_PAR_BATCH:
			w->rc = kb_do_batches(w);
			break;
		default:
			w->rc = w->id & 1 ? kb_do_consume(w, &run->rings[w->id / 2]) :
					    kb_do_produce(w, &run->rings[w->id / 2]);
			break;
		}
	}
	w->end_ns = ktime_get_ns();
	atomic_inc(&run->done);
	wake_up(&run->wq);
	return 0;
}

/* Run one measurement; returns ns per object per thread, or 0. */
static u64 kb_run_once(struct kb_run *run)
{
	unsigned int i, started = 0;
	u64 start, end = 0, ops = 0;
	int rc = 0;

	run->abort = false;
	init_completion(&run->go);
	atomic_set(&run->ready, 0);
	atomic_set(&run->done, 0);
	for (i = 0; i < run->nr; i++) {
		struct kb_worker *w = &run->w[i];
		struct task_struct *t;

		w->run = run;
		w->id = i;
		w->rc = 0;
		w->end_ns = 0;
		if (run->rings && i % 2 == 0) {
			run->rings[i / 2].head = 0;
			run->rings[i / 2].tail = 0;
		}
		t = kthread_create(kb_worker_fn, w, "kb_conc/%u", i);
		if (IS_ERR(t)) {
			rc = PTR_ERR(t);
			w->task = NULL;
			break;
		}
		kthread_bind(t, kb_nth_cpu(i));
		get_task_struct(t);
		w->task = t;
		started++;
		wake_up_process(t);
	}
	if (!rc && !wait_event_timeout(run->wq,
				       atomic_read(&run->ready) == started,
				       msecs_to_jiffies(KB_CONC_TIMEOUT_MS)))
		rc = -ETIMEDOUT;
	if (rc)
		WRITE_ONCE(run->abort, true);
	start = ktime_get_ns();
	run->deadline = start + kb_target_ns;
	complete_all(&run->go);
	if (!wait_event_timeout(run->wq, atomic_read(&run->done) == started,
				msecs_to_jiffies(KB_CONC_TIMEOUT_MS))) {
		WRITE_ONCE(run->abort, true);
		rc = -ETIMEDOUT;
	}
	for (i = 0; i < started; i++) {
		struct kb_worker *w = &run->w[i];

		kthread_stop(w->task);
		put_task_struct(w->task);
		w->task = NULL;
		end = max(end, w->end_ns);
		ops += w->ops;
		if (w->rc && !rc)
			rc = w->rc;
	}
	if (rc) {
		pr_err("R error section=conc alloc=%s size=%zu test=%s rc=%d\n",
		       run->bi->a->name, run->bi->size, kb_test_names[run->test],
		       rc);
		return 0;
	}
	run->objs = run->test == KB_XCPU ? ops / 2 : ops;
	/* ns per object handled by one thread: xcpu counts each object twice. */
	if (run->test == KB_XCPU)
		ops /= 2;
	return kb_per_op((end - start) * (run->test == KB_XCPU ? started / 2 : started),
			 ops);
}

static unsigned int kb_test_threads(enum kb_conc_test test)
{
	unsigned int n = num_online_cpus();

	switch (test) {
	case KB_SOLO_PAIR:
	case KB_SOLO_BATCH:
		return 1;
	case KB_XCPU:
		return n & ~1u;
	default:
		return n;
	}
}

/* Shared-lock counts of an spl_kmem cache over the measured runs. */
struct kb_locks {
	u64 objs, locks, contended;
};

struct kb_conc_size {
	struct kb_inst bi[16];
	bool ok[16];
	u64 v[16][KB_NR_TESTS][KB_MAX_REPS];
	struct kb_locks locks[16][KB_NR_TESTS];
};

/*
 * The cache's shared locks: the depot's and the slabs', as its statistics
 * count them (magazine moves only: the per-object paths).
 */
static void kb_lock_counts(struct kb_inst *bi, u64 *locks, u64 *contended)
{
	struct splkmem_cache_stats st;

	splkmem_cache_get_stats(bi->spl, &st);
	*locks = st.depot_locks + st.slab_locks;
	*contended = st.depot_contended + st.slab_contended;
}

static int kb_conc_size(size_t size, struct kb_conc_size *cs,
			struct kb_run *run)
{
	unsigned int batch = size >= SZ_1M ? KB_CONC_BATCH_HUGE : KB_CONC_BATCH;
	unsigned int ai, r, i, nalloc = min_t(unsigned int, kb_nr_allocs, 16);
	unsigned int nw = num_online_cpus();
	enum kb_conc_test test;
	char buf[160];
	int rc = 0;

	memset(cs, 0, sizeof(*cs));
	for (ai = 0; ai < nalloc; ai++) {
		const struct kb_alloc *a = &kb_allocs[ai];

		if (!kb_alloc_wanted(a->name) || !strcmp(a->name, "null") ||
		    !strcmp(a->name, "slub-noinit"))
			continue;
		cs->ok[ai] = !kb_inst_setup(&cs->bi[ai], a, size);
	}

	run->batch = batch;
	for (i = 0; i < nw; i++) {
		run->w[i].objs = kvmalloc_array(batch, sizeof(void *),
						GFP_KERNEL);
		if (!run->w[i].objs)
			rc = -ENOMEM;
	}
	for (i = 0; run->rings && i < nw / 2; i++) {
		run->rings[i].size = clamp_t(unsigned long, SZ_16M / size, 16,
					     KB_RING_MAX);
	}
	if (rc)
		goto out;

	/* Warm up: every allocator through every test once, unmeasured. */
	for (test = 0; test < KB_NR_TESTS; test++) {
		for (ai = 0; ai < nalloc; ai++) {
			if (!cs->ok[ai] || !kb_test_threads(test))
				continue;
			run->bi = &cs->bi[ai];
			run->test = test;
			run->nr = kb_test_threads(test);
			if (!kb_run_once(run))
				cs->ok[ai] = false;
		}
	}

	for (r = 0; r < kb_reps; r++) {
		for (test = 0; test < KB_NR_TESTS; test++) {
			for (ai = 0; ai < nalloc; ai++) {
				if (!cs->ok[ai])
					continue;
				struct kb_locks *lk = &cs->locks[ai][test];
				u64 l0 = 0, c0 = 0, l1, c1;

				run->bi = &cs->bi[ai];
				run->test = test;
				run->nr = kb_test_threads(test);
				if (!run->nr)
					continue;
				if (kb_allocs[ai].spl)
					kb_lock_counts(run->bi, &l0, &c0);
				cs->v[ai][test][r] = kb_run_once(run);
				if (!cs->v[ai][test][r])
					cs->ok[ai] = false;
				if (kb_allocs[ai].spl && cs->ok[ai]) {
					kb_lock_counts(run->bi, &l1, &c1);
					lk->objs += run->objs;
					lk->locks += l1 - l0;
					lk->contended += c1 - c0;
				}
			}
		}
	}

	for (ai = 0; ai < nalloc; ai++) {
		if (!cs->ok[ai])
			continue;
		for (test = 0; test < KB_NR_TESTS; test++) {
			struct kb_summary s;

			if (!kb_test_threads(test))
				continue;
			kb_summarize(cs->v[ai][test], kb_reps, &s);
			kb_fmt_summary(buf, sizeof(buf), &s);
			pr_info("R conc alloc=%s size=%zu test=%s threads=%u batch=%u %s\n",
				kb_allocs[ai].name, size, kb_test_names[test],
				kb_test_threads(test),
				test == KB_SOLO_BATCH || test == KB_PAR_BATCH ?
				batch : 1, buf);
			if (kb_allocs[ai].spl && cs->locks[ai][test].objs)
				pr_info("R locks alloc=%s size=%zu test=%s threads=%u objs=%llu locks=%llu contended=%llu\n",
					kb_allocs[ai].name, size,
					kb_test_names[test],
					kb_test_threads(test),
					cs->locks[ai][test].objs,
					cs->locks[ai][test].locks,
					cs->locks[ai][test].contended);
		}
	}
out:
	for (i = 0; i < nw; i++) {
		kvfree(run->w[i].objs);
		run->w[i].objs = NULL;
	}
	for (ai = 0; ai < nalloc; ai++) {
		if (cs->bi[ai].a)
			kb_inst_teardown(&cs->bi[ai]);
	}
	msleep(20);
	return rc;
}

int kb_conc(void)
{
	unsigned int ncpu = num_online_cpus(), si, i;
	struct kb_conc_size *cs;
	struct kb_run *run;
	int rc = 0;

	cs = vzalloc(sizeof(*cs));
	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!cs || !run) {
		rc = -ENOMEM;
		goto out;
	}
	init_waitqueue_head(&run->wq);
	run->w = kcalloc(ncpu, sizeof(*run->w), GFP_KERNEL);
	if (ncpu >= 2)
		run->rings = kcalloc(ncpu / 2, sizeof(*run->rings), GFP_KERNEL);
	if (!run->w || (ncpu >= 2 && !run->rings)) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; run->rings && i < ncpu / 2; i++) {
		run->rings[i].slot = kvmalloc_array(KB_RING_MAX, sizeof(void *),
						    GFP_KERNEL);
		if (!run->rings[i].slot) {
			rc = -ENOMEM;
			goto out;
		}
	}

	for (si = 0; si < kb_nr_sizes && !rc; si++) {
		if (!kb_size_wanted(kb_sizes[si]))
			continue;
		rc = kb_conc_size(kb_sizes[si], cs, run);
	}
out:
	if (run) {
		for (i = 0; run->rings && i < ncpu / 2; i++)
			kvfree(run->rings[i].slot);
		kfree(run->rings);
		kfree(run->w);
	}
	kfree(run);
	vfree(cs);
	return rc;
}
