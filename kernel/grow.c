// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Asynchronous slab growth.
 *
 * A new slab is vmalloc'ed by a worker, never by the allocating thread:
 * vmalloc has not always honoured GFP flags for its page tables, so an
 * allocation made deep in the I/O path could recurse into writeback and
 * deadlock (openzfs/zfs#922).  The allocating thread waits a little for the
 * worker; if the worker is late, the growth is declared deadlocked and the
 * thread is served an emergency object until the growth completes.
 *
 * The workqueue is WQ_MEM_RECLAIM, so it has a rescuer thread and makes
 * progress even when no new worker can be forked under memory pressure.
 * The worker allocates under memalloc_nofs (or noio for KM_PUSHPAGE
 * waiters) so that its own reclaim cannot re-enter the I/O path.
 *
 * Lost wake-ups (openzfs/zfs#9989) are ruled out by clearing GROWING under
 * the cache lock before waking, and waking on failure too.  A failure
 * makes growth back off (counted in grow_fail and grow_backoff), so that
 * waiters neither spin on a failing vmalloc nor wait forever.
 */
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "skc.h"

/* How long an allocation waits for a growth before calling it deadlocked. */
#define SKC_GROW_PATIENCE	(HZ / 10)

/*
 * After a growth that created no slab, no other starts for a while: 100 ms
 * after the first failure (the reference's pace), doubling with each
 * failure in a row up to 1.6 s.  Sleeping allocations meanwhile take an
 * emergency object or sleep, rather than retry a failing vmalloc at full
 * speed.
 */
#define SKC_BACKOFF_MIN		(HZ / 10)
#define SKC_BACKOFF_SHIFT_MAX	4

/* Most slabs, and bytes, one growth may create. */
#define SKC_GROW_MAX_SLABS	32
#define SKC_GROW_MAX_BYTES	(16ul << 20)

static struct workqueue_struct *skc_grow_wq;

/**
 * skc_gfp - the page allocator flags for SPLKMEM_KM_* flags
 * @kmflags: SPLKMEM_KM_*
 *
 * As the reference defines them: KM_NOSLEEP is atomic; KM_PUSHPAGE may
 * dip into the reserves (__GFP_HIGH) and never starts I/O; every failure
 * is quiet, since KM_SLEEP retries until it succeeds and the others have
 * their own fallbacks.
 *
 * Return: the gfp_t.
 */
gfp_t skc_gfp(int kmflags)
{
	if (kmflags & SPLKMEM_KM_NOSLEEP)
		return GFP_ATOMIC | __GFP_NOWARN;
	if (kmflags & SPLKMEM_KM_PUSHPAGE)
		return GFP_NOIO | __GFP_HIGH | __GFP_NOWARN;
	return GFP_KERNEL | __GFP_NOWARN;
}

#ifdef SPL_KMEM_TESTING
/* Testing: fail this slab allocation?  Any context. */
bool skc_inject_fail(struct splkmem_cache *c)
{
	unsigned int n = READ_ONCE(c->inject_fail);

	if (likely(!n))
		return false;
	if (n != UINT_MAX)
		WRITE_ONCE(c->inject_fail, n - 1);
	return true;
}

void splkmem_cache_inject_grow_fail(struct splkmem_cache *c,
				    unsigned int count)
{
	WRITE_ONCE(c->inject_fail, count);
}
EXPORT_SYMBOL_GPL(splkmem_cache_inject_grow_fail);
#endif

/* Growth is backing off after failures; c->lock held or not. */
static bool skc_backing_off(struct splkmem_cache *c)
{
	return READ_ONCE(c->grow_streak) &&
	       time_before(jiffies, READ_ONCE(c->grow_retry_at));
}

/*
 * Slabs one growth creates: enough for every waiting thread to refill half
 * a magazine, since with few objects per slab one refill can empty a whole
 * slab and the other waiters would each need another round trip.  Capped
 * so a burst of waiters cannot make one growth take too long.
 */
static unsigned int skc_grow_batch(struct splkmem_cache *c)
{
	unsigned int waiters = max(atomic_read(&c->grow_waiters), 1);
	unsigned long objs = (unsigned long)c->mag_refill * waiters;
	unsigned long n = DIV_ROUND_UP(objs, c->slab_objs);

	n = min(n, (unsigned long)SKC_GROW_MAX_BYTES / c->slab_size);
	return clamp(n, 1ul, (unsigned long)SKC_GROW_MAX_SLABS);
}

static void skc_grow_workfn(struct work_struct *work)
{
	struct splkmem_cache *c = container_of(work, struct splkmem_cache,
					       grow_work);
	unsigned int delay = READ_ONCE(c->grow_delay_ms);
	unsigned int i, n = skc_grow_batch(c);
	struct skc_slab *slab;
	unsigned long flags;
	unsigned int scope;
	bool noio;

	if (delay)
		msleep(delay);

	noio = test_bit(SKC_GROW_NOIO, &c->state);
	for (i = 0; i < n; i++) {
		scope = noio ? memalloc_noio_save() : memalloc_nofs_save();
		slab = skc_slab_create(c);
		if (noio)
			memalloc_noio_restore(scope);
		else
			memalloc_nofs_restore(scope);

		spin_lock_irqsave(&c->lock, flags);
		if (slab)
			skc_slab_add(c, slab);
		else
			c->slab_fail++;
		spin_unlock_irqrestore(&c->lock, flags);
		if (!slab)
			break;
	}

	spin_lock_irqsave(&c->lock, flags);
	if (i) {
		c->grow++;
		WRITE_ONCE(c->grow_streak, 0);
	} else {
		unsigned int shift = min(c->grow_streak,
					 (unsigned int)SKC_BACKOFF_SHIFT_MAX);

		c->grow_fail++;
		WRITE_ONCE(c->grow_retry_at,
			   jiffies + (SKC_BACKOFF_MIN << shift));
		WRITE_ONCE(c->grow_streak, c->grow_streak + 1);
	}
	clear_bit(SKC_GROW_NOIO, &c->state);
	clear_bit(SKC_DEADLOCKED, &c->state);
	clear_bit(SKC_GROWING, &c->state);
	spin_unlock_irqrestore(&c->lock, flags);

	wake_up_all(&c->grow_wq);
}

/* Start a growth unless one is under way or backing off.  Any context. */
static void skc_grow_kick(struct splkmem_cache *c, int kmflags)
{
	if (skc_backing_off(c))
		return;
	if (kmflags & SPLKMEM_KM_PUSHPAGE)
		set_bit(SKC_GROW_NOIO, &c->state);
	if (!test_and_set_bit(SKC_GROWING, &c->state))
		queue_work(skc_grow_wq, &c->grow_work);
}

/*
 * Growth failed lately: a sleeping allocation takes an emergency object or,
 * when there is none either, sleeps until the next growth may start (or an
 * object comes back to the slabs) and then retries.  Never spins.
 */
static void *skc_grow_backoff(struct splkmem_cache *c, int kmflags)
{
	unsigned long flags;
	long left;
	void *obj;

	obj = skc_emergency_alloc(c, kmflags);
	if (obj)
		return obj;

	spin_lock_irqsave(&c->lock, flags);
	c->grow_backoff++;
	spin_unlock_irqrestore(&c->lock, flags);
	left = READ_ONCE(c->grow_retry_at) - jiffies;
	if (left > 0)
		wait_event_timeout(c->grow_wq, !skc_backing_off(c) ||
				   READ_ONCE(c->nr_empty) ||
				   !list_empty(&c->partial),
				   min(left, (long)(SKC_BACKOFF_MIN <<
						    SKC_BACKOFF_SHIFT_MAX)));
	return NULL;
}

static bool skc_has_free(struct splkmem_cache *c)
{
	return !list_empty(&c->partial) || !list_empty(&c->empty);
}

/**
 * skc_grow - called when every slab of a cache is full
 * @c: the cache
 * @kmflags: the allocation's SPLKMEM_KM_* flags
 * @waiter: set when the caller is left counted in grow_waiters
 *
 * A sleeping caller waits up to SKC_GROW_PATIENCE for the growth; if it is
 * late, the growth is declared deadlocked and the caller gets an emergency
 * object.  If growth failed, callers back off (skc_grow_backoff()).
 *
 * When the growth completed, the caller stays counted in grow_waiters
 * (@waiter is set) until it has retried the slabs: a reap meanwhile leaves
 * the new slabs alone.  The caller then decrements grow_waiters.
 *
 * Return: an emergency object for the caller, or NULL to retry the
 * magazine (a slab was added, or a back-off ended) or, for KM_NOSLEEP, to
 * fail.
 */
void *skc_grow(struct splkmem_cache *c, int kmflags, bool *waiter)
{
	unsigned long flags;
	bool detected;
	void *obj;
	long left;

	skc_grow_kick(c, kmflags);
	if (kmflags & SPLKMEM_KM_NOSLEEP)
		return skc_emergency_alloc(c, kmflags);

	might_sleep();
	if (skc_backing_off(c))
		return skc_grow_backoff(c, kmflags);
	if (!test_bit(SKC_DEADLOCKED, &c->state)) {
		atomic_inc(&c->grow_waiters);
		left = wait_event_timeout(c->grow_wq,
					  !test_bit(SKC_GROWING, &c->state),
					  SKC_GROW_PATIENCE);
		/* Done: retry the slabs, unless it failed. */
		if (left && !skc_backing_off(c)) {
			*waiter = true;
			return NULL;
		}
		atomic_dec(&c->grow_waiters);
		if (left)
			return skc_grow_backoff(c, kmflags);

		spin_lock_irqsave(&c->lock, flags);
		detected = test_bit(SKC_GROWING, &c->state) &&
			   !test_and_set_bit(SKC_DEADLOCKED, &c->state);
		if (detected)
			c->obj_deadlock++;
		spin_unlock_irqrestore(&c->lock, flags);
		if (detected)
			skc_notify(SKC_EVENT_DEADLOCK, c, NULL);
	}

	/* Deadlocked: a free object may have appeared meanwhile. */
	spin_lock_irqsave(&c->lock, flags);
	if (skc_has_free(c) || !test_bit(SKC_DEADLOCKED, &c->state)) {
		spin_unlock_irqrestore(&c->lock, flags);
		return NULL;
	}
	spin_unlock_irqrestore(&c->lock, flags);

	obj = skc_emergency_alloc(c, kmflags);
	if (!obj)	/* no pages either: wait for the growth and retry */
		wait_event_timeout(c->grow_wq,
				   !test_bit(SKC_GROWING, &c->state),
				   SKC_GROW_PATIENCE);
	return obj;
}

static void skc_trim_workfn(struct work_struct *work)
{
	struct splkmem_cache *c = container_of(to_delayed_work(work),
					       struct splkmem_cache, trim_work);
	unsigned long keep = skc_empty_reserve(c);
	bool depot;

	/* Depot magazines unused since the last trim go first. */
	depot = skc_depot_trim(c);
	skc_slab_reclaim(c, keep, ULONG_MAX, SKC_EMPTY_AGE);
	/* Slabs emptied since the last kick are not old enough yet. */
	if (depot || READ_ONCE(c->nr_empty) > keep)
		skc_trim_kick(c);
}

/*
 * Free the empty slabs beyond the reserve once they have aged.  Any
 * context; nothing happens while a trim is already pending.
 */
void skc_trim_kick(struct splkmem_cache *c)
{
	queue_delayed_work(skc_grow_wq, &c->trim_work, SKC_EMPTY_AGE);
}

static void skc_linux_shrink_workfn(struct work_struct *work)
{
	struct splkmem_cache *c = container_of(work, struct splkmem_cache,
					       shrink_work);

	kmem_cache_shrink(c->linux_cache);
}

/* Shrink a Linux-slab cache from a worker.  Any context. */
void skc_linux_shrink_kick(struct splkmem_cache *c)
{
	queue_work(skc_grow_wq, &c->shrink_work);
}

void skc_grow_setup(struct splkmem_cache *c)
{
	init_waitqueue_head(&c->grow_wq);
	INIT_WORK(&c->grow_work, skc_grow_workfn);
	INIT_DELAYED_WORK(&c->trim_work, skc_trim_workfn);
	INIT_WORK(&c->shrink_work, skc_linux_shrink_workfn);
}

void skc_grow_cancel(struct splkmem_cache *c)
{
	cancel_work_sync(&c->grow_work);
	cancel_delayed_work_sync(&c->trim_work);
	cancel_work_sync(&c->shrink_work);
}

void skc_grow_set_threads(unsigned int n)
{
	if (skc_grow_wq)
		workqueue_set_max_active(skc_grow_wq, n);
}

int skc_grow_init(void)
{
	skc_grow_wq = alloc_workqueue("spl_kmem_grow",
				      WQ_UNBOUND | WQ_MEM_RECLAIM | WQ_HIGHPRI,
				      READ_ONCE(skc_kmem_threads));
	return skc_grow_wq ? 0 : -ENOMEM;
}

void skc_grow_fini(void)
{
	destroy_workqueue(skc_grow_wq);
	skc_grow_wq = NULL;
}
