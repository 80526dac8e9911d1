// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-CPU magazines: a stack of free objects per CPU, so that most
 * allocations and frees touch no shared cache line and take no shared lock.
 *
 * Each magazine is guarded by a local_lock.  That is interrupts-off on an
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

static void skc_mag_set(struct skc_cpu *pc, void **objs, unsigned int size)
{
	pc->objs = objs;
	pc->size = size;
	pc->refill = (size + 1) / 2;
}

/* Return every object of one CPU's magazine to the slabs. */
static void skc_mag_empty(struct splkmem_cache *c, struct skc_cpu *pc)
{
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	skc_slab_put(c, pc->objs, pc->avail);
	spin_unlock_irqrestore(&c->lock, flags);
	pc->avail = 0;
}

static void skc_drain_workfn(struct work_struct *work);
static void skc_mag_reap_workfn(struct work_struct *work);

int skc_mag_create(struct splkmem_cache *c)
{
	unsigned int size = skc_mag_auto_size(c);
	int cpu;

	mutex_init(&c->drain_lock);
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
		void **objs;

		INIT_WORK(&dw->work, skc_drain_workfn);
		dw->cache = c;
		dw->cpu = cpu;

		objs = kmalloc_node(size * sizeof(void *), GFP_KERNEL,
				    cpu_to_node(cpu));
		if (!objs) {
			skc_mag_destroy(c);
			return -ENOMEM;
		}
		local_lock_init(&pc->lock);
		pc->avail = 0;
		skc_mag_set(pc, objs, size);
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

		if (pc->objs)
			skc_mag_empty(c, pc);
		kfree(pc->objs);
	}
	free_percpu(c->cpu);
	c->cpu = NULL;
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
		if (likely(pc->avail)) {
			obj = pc->objs[--pc->avail];
			local_unlock_irqrestore(&c->cpu->lock, flags);
			break;
		}

		/* Refill half a magazine from the slabs in one lock hold. */
		spin_lock(&c->lock);
		pc->avail = skc_slab_take(c, pc->objs, pc->refill);
		spin_unlock(&c->lock);
		if (pc->avail) {
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

/**
 * skc_mag_free - free an object of a KVMEM cache into this CPU's magazine
 * @c: the cache
 * @obj: the object, not an emergency one
 *
 * A full magazine first returns its oldest half to the slabs.
 */
void skc_mag_free(struct splkmem_cache *c, void *obj)
{
	bool overflow = false;
	struct skc_cpu *pc;
	unsigned long flags;

	local_lock_irqsave(&c->cpu->lock, flags);
	pc = this_cpu_ptr(c->cpu);
	if (unlikely(pc->avail >= pc->size)) {
		spin_lock(&c->lock);
		skc_slab_put(c, pc->objs, pc->refill);
		overflow = c->nr_empty > skc_empty_reserve(c);
		spin_unlock(&c->lock);
		pc->avail -= pc->refill;
		memmove(pc->objs, pc->objs + pc->refill,
			pc->avail * sizeof(void *));
	}
	pc->objs[pc->avail++] = obj;
	local_unlock_irqrestore(&c->cpu->lock, flags);

	if (overflow)
		skc_trim_kick(c);
}

/* Objects parked in the magazines of all CPUs, for statistics. */
unsigned long skc_mag_objs(const struct splkmem_cache *c)
{
	unsigned long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(per_cpu_ptr(c->cpu, cpu)->avail);
	return n;
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

static void skc_drain_workfn(struct work_struct *work)
{
	struct skc_drain_work *dw = container_of(work, struct skc_drain_work,
						 work);
	struct splkmem_cache *c = dw->cache;
	struct skc_cpu *pc;
	unsigned long flags;
	void ***objs;
	int cpu;

	local_lock_irqsave(&c->cpu->lock, flags);
	cpu = smp_processor_id();
	pc = this_cpu_ptr(c->cpu);
	skc_mag_empty(c, pc);
	objs = READ_ONCE(c->drain_objs);
	/* A resize holds cpus_read_lock(): its items run where queued. */
	if (objs && !WARN_ON_ONCE(cpu != dw->cpu) && objs[cpu]) {
		void **old = pc->objs;

		skc_mag_set(pc, objs[cpu], c->drain_size);
		objs[cpu] = old;
	}
	local_unlock_irqrestore(&c->cpu->lock, flags);
}

/* Queue the drain of every online CPU whose magazine holds objects. */
static void skc_drain_queue(struct splkmem_cache *c, bool all)
{
	int cpu;

	lockdep_assert_held(&c->drain_lock);
	for_each_online_cpu(cpu)
		if (all || READ_ONCE(per_cpu_ptr(c->cpu, cpu)->avail))
			queue_work_on(cpu, skc_drain_wq,
				      &per_cpu_ptr(c->drain, cpu)->work);
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
 * Context: process context; may sleep.  Safe from a shrinker: it takes
 * only @c's drain_lock, which is never held across an allocation or
 * cpus_read_lock().
 */
void skc_mag_drain(struct splkmem_cache *c)
{
	mutex_lock(&c->drain_lock);
	skc_drain_queue(c, false);
	skc_drain_flush(c);
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
 * skc_mag_resize - give every CPU a magazine of a new size
 * @c: a KVMEM cache
 * @size: 2..256, or 0 for the automatic size
 *
 * Context: process context, not from reclaim (takes cpus_read_lock()).
 * Return: 0 or -ENOMEM.
 */
int skc_mag_resize(struct splkmem_cache *c, unsigned int size)
{
	unsigned int eff = size ? size : skc_mag_auto_size(c);
	unsigned long flags;
	void ***objs;
	int cpu, rc = 0;

	objs = kcalloc(nr_cpu_ids, sizeof(*objs), GFP_KERNEL);
	if (!objs)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		objs[cpu] = kmalloc_node(eff * sizeof(void *), GFP_KERNEL,
					 cpu_to_node(cpu));
		if (!objs[cpu]) {
			rc = -ENOMEM;
			goto out;
		}
	}

	cpus_read_lock();
	mutex_lock(&c->drain_lock);
	c->drain_size = eff;
	WRITE_ONCE(c->drain_objs, objs);
	skc_drain_queue(c, true);
	for_each_possible_cpu(cpu) {
		struct skc_cpu *pc = per_cpu_ptr(c->cpu, cpu);
		void **old;

		if (cpu_online(cpu)) {
			flush_work(&per_cpu_ptr(c->drain, cpu)->work);
			continue;
		}
		/* Offline, and kept so by the hotplug lock: nothing runs there. */
		skc_mag_empty(c, pc);
		old = pc->objs;
		skc_mag_set(pc, objs[cpu], eff);
		objs[cpu] = old;
	}
	WRITE_ONCE(c->drain_objs, NULL);

	spin_lock_irqsave(&c->lock, flags);
	c->mag_size_req = size;
	c->mag_size = eff;
	c->mag_refill = (eff + 1) / 2;
	spin_unlock_irqrestore(&c->lock, flags);
	mutex_unlock(&c->drain_lock);
	cpus_read_unlock();
out:
	/* The old arrays after a resize, the unused new ones after a failure. */
	for_each_possible_cpu(cpu)
		kfree(objs[cpu]);
	kfree(objs);
	return rc;
}

/*
 * A CPU is dead: return its magazine of every cache to the slabs.  Runs on
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
		if (pc->avail)
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
