// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-CPU magazines: stacks of free objects per CPU, so that most
 * allocations and frees touch no shared cache line and take no shared lock.
 *
 * Each CPU holds a loaded and a previous magazine and swaps them when the
 * loaded one runs empty (or full) and the other can serve.  When both are
 * exhausted, the CPU trades one whole magazine with the cache's depot of
 * full and empty magazines under the depot's own lock (Bonwick and Adams,
 * USENIX 2001): one short critical section per magazine, not per object.
 * Only when the depot cannot serve are objects moved between a magazine
 * and the slabs, half a magazine per hold of the cache's slab lock.
 *
 * A CPU's magazines are guarded by a local_lock.  That is interrupts-off on an
 * ordinary kernel (objects may be freed from interrupts) and a per-CPU
 * sleeping lock with migration disabled on PREEMPT_RT, where disabling
 * interrupts and then taking a spinlock_t is not allowed.
 *
 * A local_lock can only be taken on its own CPU, so work that must touch
 * every magazine (reap, resize) runs a work item on each online CPU, as
 * SLUB does to flush its per-CPU slabs.  This is what makes a reap return
 * the objects parked on *other* CPUs (zfsonlinux/spl#133).  A CPU that
 * goes offline gives its magazines back from a CPU hotplug callback.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/string.h>

#include "skc.h"
#include "spl_kmem_config.h"

/* Newer kernels want per-CPU workqueues marked so; older ones cannot. */
#ifndef HAVE_WQ_PERCPU
#define WQ_PERCPU 0
#endif

/*
 * Magazine sizes follow the reference: about 256 KiB to 4 MiB of objects
 * per CPU for large objects, 256 objects for small ones.
 */
unsigned int skc_mag_auto_size(const struct splkmem_cache *c)
{
	unsigned int req = READ_ONCE(skc_magazine_size);

	if (req)
		return clamp(req, 2u, (unsigned int)SKC_MAG_MAX);
	if (c->stride > PAGE_SIZE * 256)
		return 4;
	if (c->stride > PAGE_SIZE * 32)
		return 16;
	if (c->stride > PAGE_SIZE)
		return 64;
	if (c->stride > PAGE_SIZE / 4)
		return 128;
	return SKC_MAG_MAX;
}

/*
 * Pages' worth of objects in the full magazines of every depot: with
 * skc_empty_pages, the shrinker's O(1) count.
 */
atomic_long_t skc_depot_pages = ATOMIC_LONG_INIT(0);

/* Set the depot's magazine size; depot lock held or not yet shared. */
static void skc_depot_set_size(struct splkmem_cache *c, unsigned int size)
{
	c->depot.size = size;
	c->depot.mag_pages = max(1ul, ((unsigned long)size * c->stride) >>
				      PAGE_SHIFT);
}

/* A magazine of @size objects, or NULL. */
static struct skc_mag *skc_mag_new(unsigned int size, gfp_t gfp, int node)
{
	return kmalloc_node(sizeof(struct skc_mag) + size * sizeof(void *),
			    gfp, node);
}

/* Make @loaded and @prev, of @size objects each and both empty, @pc's. */
static void skc_mag_set(struct skc_cpu *pc, struct skc_mag *loaded,
			struct skc_mag *prev, unsigned int size)
{
	pc->loaded = loaded;
	pc->prev = prev;
	pc->objs = loaded->objs;
	pc->avail = 0;
	pc->prev_avail = 0;
	pc->size = size;
	pc->refill = (size + 1) / 2;
}

/* Take the cache's slab lock for a magazine move, counting it. */
static void skc_slab_lock(struct splkmem_cache *c)
	__acquires(&c->lock)
{
	if (!spin_trylock(&c->lock)) {
		spin_lock(&c->lock);
		c->slab_contended++;
	}
	c->slab_locks++;
}

/* Take the depot lock, counting it and whether it was contended. */
static void skc_depot_lock(struct skc_depot *d)
	__acquires(&d->lock)
{
	if (!spin_trylock(&d->lock)) {
		spin_lock(&d->lock);
		d->contended++;
	}
	d->locks++;
}

/*
 * Return every object of one CPU's two magazines to the slabs: from that
 * CPU under its local lock, or for a CPU that runs nothing (offline, or
 * the cache being destroyed).
 */
static void skc_mag_empty(struct splkmem_cache *c, struct skc_cpu *pc)
{
	unsigned long flags;

	if (!pc->avail && !pc->prev_avail)
		return;
	spin_lock_irqsave(&c->lock, flags);
	c->slab_locks++;
	skc_slab_put(c, pc->objs, pc->avail);
	skc_slab_put(c, pc->prev->objs, pc->prev_avail);
	spin_unlock_irqrestore(&c->lock, flags);
	pc->avail = 0;
	pc->prev_avail = 0;
}

/* Swap @pc's loaded and previous magazines. */
static void skc_mag_swap(struct skc_cpu *pc)
{
	struct skc_mag *m = pc->loaded;
	unsigned int n = pc->avail;

	pc->loaded = pc->prev;
	pc->objs = pc->loaded->objs;
	pc->avail = pc->prev_avail;
	pc->prev = m;
	pc->prev_avail = n;
}

/*
 * Take magazines off the depot, all of them or (trim) only those it kept
 * unused since the last trim, and give their objects back to the slabs and
 * the magazines to the system.  @size, if not 0, is the depot's new
 * magazine size (a resize).  Process context.
 *
 * Return: true if the depot still holds magazines.
 */
static bool skc_depot_release(struct splkmem_cache *c, bool all,
			      unsigned int size)
{
	struct skc_depot *d = &c->depot;
	struct skc_mag *full = NULL, *empty = NULL, *m;
	unsigned int nf, ne, objs;
	unsigned long flags;
	bool left;

	spin_lock_irqsave(&d->lock, flags);
	d->locks++;
	nf = all ? d->nr_full : min(d->full_min, d->nr_full);
	ne = all ? d->nr_empty : min(d->empty_min, d->nr_empty);
	objs = d->size;
	atomic_long_sub(d->mag_pages * nf, &skc_depot_pages);
	while (nf--) {
		m = d->full;
		d->full = m->next;
		m->next = full;
		full = m;
		d->nr_full--;
	}
	while (ne--) {
		m = d->empty;
		d->empty = m->next;
		m->next = empty;
		empty = m;
		d->nr_empty--;
	}
	d->full_min = d->nr_full;
	d->empty_min = d->nr_empty;
	if (size)
		skc_depot_set_size(c, size);
	left = d->nr_full || d->nr_empty;
	spin_unlock_irqrestore(&d->lock, flags);

	while (full) {
		m = full;
		full = m->next;
		spin_lock_irqsave(&c->lock, flags);
		skc_slab_put(c, m->objs, objs);
		spin_unlock_irqrestore(&c->lock, flags);
		kfree(m);
		cond_resched();
	}
	while (empty) {
		m = empty;
		empty = m->next;
		kfree(m);
	}
	return left;
}

/**
 * skc_depot_trim - free the depot's magazines unused since the last trim
 * @c: a KVMEM cache
 *
 * Called by the aging (skc_trim_workfn()): full magazines the depot held
 * throughout the interval go back to the slabs, empty ones to the system.
 *
 * Context: process context.
 * Return: true if the depot still holds magazines (trim again later).
 */
bool skc_depot_trim(struct splkmem_cache *c)
{
	return skc_depot_release(c, false, 0);
}

/**
 * skc_depot_flush - return every magazine of the depot
 * @c: a KVMEM cache
 *
 * For reaps and the shrinker: the full magazines' objects go back to the
 * slabs (whose empty ones the caller may then free), every magazine to the
 * system.
 *
 * Context: process context; takes the depot lock and c->lock.
 */
void skc_depot_flush(struct splkmem_cache *c)
{
	if (READ_ONCE(c->depot.nr_full) || READ_ONCE(c->depot.nr_empty))
		skc_depot_release(c, true, 0);
}

/* Fill in the depot's part of the statistics. */
void skc_depot_stats(struct splkmem_cache *c, struct splkmem_cache_stats *st)
{
	struct skc_depot *d = &c->depot;
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	st->depot_full = d->nr_full;
	st->depot_empty = d->nr_empty;
	st->depot_locks = d->locks;
	st->depot_contended = d->contended;
	spin_unlock_irqrestore(&d->lock, flags);
}

static void skc_drain_workfn(struct work_struct *work);
static void skc_mag_reap_workfn(struct work_struct *work);

int skc_mag_create(struct splkmem_cache *c)
{
	unsigned int size = skc_mag_auto_size(c);
	int cpu;

	mutex_init(&c->drain_lock);
	spin_lock_init(&c->depot.lock);
	skc_depot_set_size(c, size);
	INIT_WORK(&c->mag_reap_work, skc_mag_reap_workfn);
	c->mag_drained = jiffies - SKC_MAG_DRAIN_GAP;
	c->cpu = alloc_percpu(struct skc_cpu);
	c->drain = alloc_percpu(struct skc_drain_work);
	if (!c->cpu || !c->drain) {
		skc_mag_destroy(c);
		return -ENOMEM;
	}

	for_each_possible_cpu(cpu) {
		struct skc_cpu *pc = per_cpu_ptr(c->cpu, cpu);
		struct skc_drain_work *dw = per_cpu_ptr(c->drain, cpu);
		struct skc_mag *a, *b;

		INIT_WORK(&dw->work, skc_drain_workfn);
		dw->cache = c;
		dw->cpu = cpu;

		a = skc_mag_new(size, GFP_KERNEL, cpu_to_node(cpu));
		b = skc_mag_new(size, GFP_KERNEL, cpu_to_node(cpu));
		if (!a || !b) {
			kfree(a);
			kfree(b);
			skc_mag_destroy(c);
			return -ENOMEM;
		}
		local_lock_init(&pc->lock);
		skc_mag_set(pc, a, b, size);
	}
	c->mag_size_req = 0;
	c->mag_size = size;
	c->mag_refill = (size + 1) / 2;
	return 0;
}

/*
 * Nothing else may use the cache any more, and it is off the list the
 * hotplug callback walks: no locking is needed.  A drain the shrinker
 * started may still be queued: wait for it first.
 */
void skc_mag_destroy(struct splkmem_cache *c)
{
	int cpu;

	if (c->mag_reap_work.func)
		cancel_work_sync(&c->mag_reap_work);
	if (c->drain) {
		for_each_possible_cpu(cpu)
			if (per_cpu_ptr(c->drain, cpu)->cache)
				cancel_work_sync(&per_cpu_ptr(c->drain, cpu)->work);
		free_percpu(c->drain);
		c->drain = NULL;
	}
	if (!c->cpu)
		return;
	for_each_possible_cpu(cpu) {
		struct skc_cpu *pc = per_cpu_ptr(c->cpu, cpu);

		if (pc->loaded)
			skc_mag_empty(c, pc);
		kfree(pc->loaded);
		kfree(pc->prev);
	}
	free_percpu(c->cpu);
	c->cpu = NULL;
	skc_depot_release(c, true, 0);
}

/*
 * This CPU's loaded magazine is empty: swap in the previous one if it
 * holds objects, else trade the empty previous one for a full one from the
 * depot, else refill the loaded one from the slabs.  Local lock held.
 *
 * Return: objects now in the loaded magazine.
 */
static unsigned int skc_mag_load(struct splkmem_cache *c, struct skc_cpu *pc)
{
	struct skc_depot *d = &c->depot;
	struct skc_mag *full = NULL;

	if (pc->prev_avail) {
		skc_mag_swap(pc);
		return pc->avail;
	}

	if (READ_ONCE(d->nr_full)) {
		skc_depot_lock(d);
		if (d->full && d->size == pc->size) {
			full = d->full;
			d->full = full->next;
			WRITE_ONCE(d->nr_full, d->nr_full - 1);
			if (d->nr_full < d->full_min)
				d->full_min = d->nr_full;
			atomic_long_sub(d->mag_pages, &skc_depot_pages);
			pc->prev->next = d->empty;
			d->empty = pc->prev;
			WRITE_ONCE(d->nr_empty, d->nr_empty + 1);
		}
		spin_unlock(&d->lock);
		if (full) {
			pc->prev = pc->loaded;
			pc->prev_avail = 0;
			pc->loaded = full;
			pc->objs = full->objs;
			pc->avail = pc->size;
			return pc->avail;
		}
	}

	/* Refill half a magazine from the slabs in one lock hold. */
	skc_slab_lock(c);
	pc->avail = skc_slab_take(c, pc->objs, pc->refill);
	spin_unlock(&c->lock);
	return pc->avail;
}

/**
 * skc_mag_alloc - allocate an object from a KVMEM cache
 * @c: the cache
 * @kmflags: SPLKMEM_KM_*
 *
 * Return: an object, or NULL for a KM_NOSLEEP caller when nothing is left.
 */
void *skc_mag_alloc(struct splkmem_cache *c, int kmflags)
{
	bool waiter = false;
	struct skc_cpu *pc;
	unsigned long flags;
	void *obj;

	for (;;) {
		local_lock_irqsave(&c->cpu->lock, flags);
		pc = this_cpu_ptr(c->cpu);
		if (likely(pc->avail) || skc_mag_load(c, pc)) {
			obj = pc->objs[--pc->avail];
			local_unlock_irqrestore(&c->cpu->lock, flags);
			break;
		}
		local_unlock_irqrestore(&c->cpu->lock, flags);

		/* Every slab is full: grow, or take an emergency object. */
		if (waiter) {
			atomic_dec(&c->grow_waiters);
			waiter = false;
		}
		obj = skc_grow(c, kmflags, &waiter);
		if (obj || (kmflags & SPLKMEM_KM_NOSLEEP))
			break;
	}
	/* Retried after a growth: its slabs need no keeping for us now. */
	if (unlikely(waiter))
		atomic_dec(&c->grow_waiters);
	return obj;
}

/*
 * This CPU's loaded magazine is full: swap in the previous one if it has
 * room, else give the full previous one to the depot for an empty one
 * (the depot's, or a new one), else flush the oldest half of the loaded
 * one to the slabs.  Local lock held.
 *
 * Return: true if the depot gained a full magazine, or empty slabs
 * exceed the reserve: the caller kicks the trim.
 */
static bool skc_mag_unload(struct splkmem_cache *c, struct skc_cpu *pc)
{
	struct skc_depot *d = &c->depot;
	struct skc_mag *empty = NULL, *spare = NULL;
	bool kick;

	if (pc->prev_avail < pc->size) {
		skc_mag_swap(pc);
		return false;
	}

	/* Both full.  A new magazine if the depot has no empty one. */
	if (!READ_ONCE(d->nr_empty))
		spare = skc_mag_new(pc->size, GFP_NOWAIT | __GFP_NOWARN,
				    NUMA_NO_NODE);
	skc_depot_lock(d);
	if (d->size == pc->size) {
		if (d->empty) {
			empty = d->empty;
			d->empty = empty->next;
			WRITE_ONCE(d->nr_empty, d->nr_empty - 1);
			if (d->nr_empty < d->empty_min)
				d->empty_min = d->nr_empty;
		} else {
			empty = spare;
			spare = NULL;
		}
		if (empty) {
			pc->prev->next = d->full;
			d->full = pc->prev;
			WRITE_ONCE(d->nr_full, d->nr_full + 1);
			atomic_long_add(d->mag_pages, &skc_depot_pages);
		}
	}
	spin_unlock(&d->lock);
	kfree(spare);
	if (empty) {
		pc->prev = pc->loaded;
		pc->prev_avail = pc->avail;
		pc->loaded = empty;
		pc->objs = empty->objs;
		pc->avail = 0;
		return true;
	}

	/* No magazine to be had: flush the oldest half to the slabs. */
	skc_slab_lock(c);
	skc_slab_put(c, pc->objs, pc->refill);
	kick = c->nr_empty > skc_empty_reserve(c);
	spin_unlock(&c->lock);
	pc->avail -= pc->refill;
	memmove(pc->objs, pc->objs + pc->refill, pc->avail * sizeof(void *));
	return kick;
}

/**
 * skc_mag_free - free an object of a KVMEM cache into this CPU's magazine
 * @c: the cache
 * @obj: the object, not an emergency one
 */
void skc_mag_free(struct splkmem_cache *c, void *obj)
{
	bool kick = false;
	struct skc_cpu *pc;
	unsigned long flags;

	local_lock_irqsave(&c->cpu->lock, flags);
	pc = this_cpu_ptr(c->cpu);
	if (unlikely(pc->avail >= pc->size))
		kick = skc_mag_unload(c, pc);
	pc->objs[pc->avail++] = obj;
	local_unlock_irqrestore(&c->cpu->lock, flags);

	if (kick)
		skc_trim_kick(c);
}

/* Objects parked in the magazines of all CPUs, for statistics. */
unsigned long skc_mag_objs(const struct splkmem_cache *c)
{
	unsigned long n = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct skc_cpu *pc = per_cpu_ptr(c->cpu, cpu);

		n += READ_ONCE(pc->avail) + READ_ONCE(pc->prev_avail);
	}
	return n + (unsigned long)READ_ONCE(c->depot.nr_full) *
		   READ_ONCE(c->depot.size);
}

/*
 * Work on every CPU's magazine of one cache.  Each cache has one work item
 * per CPU and its own drain_lock, so reaps of different caches never wait
 * for each other, and nothing here is global but the workqueue.
 *
 * A reap takes no CPU hotplug lock (it may run from a shrinker, and CPU
 * bring-up allocates with that lock held): it queues the work items of the
 * CPUs that are online at the time, and each one empties the magazine of
 * the CPU it runs on.  A CPU that goes offline meanwhile may run its item
 * elsewhere, which then empties that other CPU's magazine: harmless.  The
 * dying CPU's own magazine is returned by skc_cpu_dead(), after it is gone
 * and before it can come back, so an offline CPU's magazine is always
 * empty; that is how the kernel's drain_all_pages() deals with hotplug too.
 *
 * A resize must give *every* CPU a new array, so it alone holds
 * cpus_read_lock(): it is never called from reclaim.
 */
static struct workqueue_struct *skc_drain_wq;
/*
 * The shrinker's drain runs on a queue of its own: it flushes drain items,
 * and a work item that waits for items of its own WQ_MEM_RECLAIM queue can
 * deadlock once both need that queue's single rescuer thread (lockdep:
 * drain_lock -> (wq_completion)spl_kmem_drain -> mag_reap_work).
 */
static struct workqueue_struct *skc_reap_wq;
static int skc_cpuhp_state = -1;

/*
 * Give an emptied CPU @mags[0] and @mags[1], of @size objects; its old
 * magazines take their place in @mags, to be freed.
 */
static void skc_mag_install(struct skc_cpu *pc, struct skc_mag **mags,
			    unsigned int size)
{
	struct skc_mag *loaded = pc->loaded, *prev = pc->prev;

	skc_mag_set(pc, mags[0], mags[1], size);
	mags[0] = loaded;
	mags[1] = prev;
}

static void skc_drain_workfn(struct work_struct *work)
{
	struct skc_drain_work *dw = container_of(work, struct skc_drain_work,
						 work);
	struct splkmem_cache *c = dw->cache;
	struct skc_mag **mags;
	struct skc_cpu *pc;
	unsigned long flags;
	int cpu;

	local_lock_irqsave(&c->cpu->lock, flags);
	cpu = smp_processor_id();
	pc = this_cpu_ptr(c->cpu);
	skc_mag_empty(c, pc);
	mags = READ_ONCE(c->drain_mags);
	/* A resize holds cpus_read_lock(): its items run where queued. */
	if (mags && !WARN_ON_ONCE(cpu != dw->cpu) && mags[2 * cpu])
		skc_mag_install(pc, mags + 2 * cpu, c->drain_size);
	local_unlock_irqrestore(&c->cpu->lock, flags);
}

/* Queue the drain of every online CPU whose magazines hold objects. */
static void skc_drain_queue(struct splkmem_cache *c, bool all)
{
	int cpu;

	lockdep_assert_held(&c->drain_lock);
	for_each_online_cpu(cpu) {
		struct skc_cpu *pc = per_cpu_ptr(c->cpu, cpu);

		if (all || READ_ONCE(pc->avail) || READ_ONCE(pc->prev_avail))
			queue_work_on(cpu, skc_drain_wq,
				      &per_cpu_ptr(c->drain, cpu)->work);
	}
}

static void skc_drain_flush(struct splkmem_cache *c)
{
	int cpu;

	for_each_possible_cpu(cpu)
		flush_work(&per_cpu_ptr(c->drain, cpu)->work);
}

/**
 * skc_mag_drain - return the magazines of every CPU of @c to the slabs
 * @c: a KVMEM cache
 *
 * Then the depot's: its full magazines' objects go back to the slabs, and
 * every magazine it holds to the system.
 *
 * Context: process context; may sleep.  Safe from a shrinker: it takes
 * only @c's drain_lock, which is never held across an allocation or
 * cpus_read_lock().
 */
void skc_mag_drain(struct splkmem_cache *c)
{
	mutex_lock(&c->drain_lock);
	skc_drain_queue(c, false);
	skc_drain_flush(c);
	skc_depot_release(c, true, 0);
	mutex_unlock(&c->drain_lock);
}

/* The shrinker's asynchronous reap: drain, then free the emptied slabs. */
static void skc_mag_reap_workfn(struct work_struct *work)
{
	struct splkmem_cache *c = container_of(work, struct splkmem_cache,
					       mag_reap_work);

	skc_mag_drain(c);
	skc_slab_reclaim(c, 0, ULONG_MAX, 0);
}

/**
 * skc_mag_drain_async - return @c's idle magazine objects, without waiting
 * @c: a KVMEM cache
 *
 * For the shrinker: a worker drains the magazines of the CPUs that hold
 * objects and frees the slabs that leaves empty.  At most once per second
 * per cache, so that reclaim calling the shrinker thousands of times a
 * second cannot turn into a storm of cross-CPU work.
 *
 * Return: true if a drain was started.
 */
bool skc_mag_drain_async(struct splkmem_cache *c)
{
	unsigned long last = READ_ONCE(c->mag_drained);

	if (time_before(jiffies, last + SKC_MAG_DRAIN_GAP) ||
	    !skc_mag_objs(c))
		return false;
	WRITE_ONCE(c->mag_drained, jiffies);
	return queue_work(skc_reap_wq, &c->mag_reap_work);
}

#ifdef SPL_KMEM_TESTING
void splkmem_cache_inject_shrink(struct splkmem_cache *c)
{
	if (skc_is_slab(c))
		return;
	WRITE_ONCE(c->mag_drained, jiffies - SKC_MAG_DRAIN_GAP);
	skc_mag_drain_async(c);
	flush_work(&c->mag_reap_work);
}
EXPORT_SYMBOL_GPL(splkmem_cache_inject_shrink);
#endif

/**
 * skc_mag_resize - give every CPU magazines of a new size
 * @c: a KVMEM cache
 * @size: 2..256, or 0 for the automatic size
 *
 * Every CPU's two magazines are replaced, and the depot is emptied: it
 * takes only magazines of the new size from the moment the resize starts.
 *
 * Context: process context, not from reclaim (takes cpus_read_lock()).
 * Return: 0 or -ENOMEM.
 */
int skc_mag_resize(struct splkmem_cache *c, unsigned int size)
{
	unsigned int eff = size ? size : skc_mag_auto_size(c);
	unsigned long flags;
	struct skc_mag **mags;
	int cpu, i, rc = 0;

	mags = kcalloc(2 * nr_cpu_ids, sizeof(*mags), GFP_KERNEL);
	if (!mags)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		for (i = 0; i < 2; i++) {
			mags[2 * cpu + i] = skc_mag_new(eff, GFP_KERNEL,
							cpu_to_node(cpu));
			if (!mags[2 * cpu + i]) {
				rc = -ENOMEM;
				goto out;
			}
		}
	}

	cpus_read_lock();
	mutex_lock(&c->drain_lock);
	/* From here on the depot refuses magazines of the old size. */
	skc_depot_release(c, true, eff);
	c->drain_size = eff;
	WRITE_ONCE(c->drain_mags, mags);
	skc_drain_queue(c, true);
	for_each_possible_cpu(cpu) {
		struct skc_cpu *pc = per_cpu_ptr(c->cpu, cpu);

		if (cpu_online(cpu)) {
			flush_work(&per_cpu_ptr(c->drain, cpu)->work);
			continue;
		}
		/* Offline, and kept so by the hotplug lock: nothing runs there. */
		skc_mag_empty(c, pc);
		skc_mag_install(pc, mags + 2 * cpu, eff);
	}
	WRITE_ONCE(c->drain_mags, NULL);
	skc_depot_release(c, true, 0);

	spin_lock_irqsave(&c->lock, flags);
	c->mag_size_req = size;
	c->mag_size = eff;
	c->mag_refill = (eff + 1) / 2;
	spin_unlock_irqrestore(&c->lock, flags);
	mutex_unlock(&c->drain_lock);
	cpus_read_unlock();
out:
	/* The old magazines after a resize, the unused new ones after a failure. */
	for (i = 0; i < 2 * nr_cpu_ids; i++)
		kfree(mags[i]);
	kfree(mags);
	return rc;
}

/*
 * A CPU is dead: return both its magazines of every cache to the slabs.  Runs on
 * another CPU once nothing can run on the dead one any more, with the
 * hotplug lock held, so no resize and no bring-up of that CPU can race.
 */
static int skc_cpu_dead(unsigned int cpu)
{
	struct splkmem_cache *c;
	int idx;

	idx = srcu_read_lock(&skc_caches_srcu);
	list_for_each_entry_srcu(c, &skc_caches, link,
				 srcu_read_lock_held(&skc_caches_srcu)) {
		struct skc_cpu *pc;

		if (skc_is_slab(c))
			continue;
		pc = per_cpu_ptr(c->cpu, cpu);
		skc_mag_empty(c, pc);
	}
	srcu_read_unlock(&skc_caches_srcu, idx);
	return 0;
}

int skc_mag_init(void)
{
	int rc;

	/* WQ_MEM_RECLAIM: reaps must make progress under memory pressure. */
	skc_drain_wq = alloc_workqueue("spl_kmem_drain",
				       WQ_PERCPU | WQ_MEM_RECLAIM, 0);
	if (!skc_drain_wq)
		return -ENOMEM;
	skc_reap_wq = alloc_workqueue("spl_kmem_reap",
				      WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!skc_reap_wq) {
		rc = -ENOMEM;
		goto fail_reap_wq;
	}
	rc = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "spl_kmem:dead",
				       NULL, skc_cpu_dead);
	if (rc < 0)
		goto fail_cpuhp;
	skc_cpuhp_state = rc;
	return 0;

fail_cpuhp:
	destroy_workqueue(skc_reap_wq);
fail_reap_wq:
	destroy_workqueue(skc_drain_wq);
	return rc;
}

void skc_mag_fini(void)
{
	cpuhp_remove_state_nocalls(skc_cpuhp_state);
	destroy_workqueue(skc_reap_wq);
	destroy_workqueue(skc_drain_wq);
}
