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
 * SLUB does to flush its per-CPU slabs.  The magazines of offline CPUs are
 * touched directly: nothing can run there.  This is what makes a reap
 * return the objects parked on *other* CPUs (zfsonlinux/spl#133).
 */
#include <linux/cpu.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>
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

int skc_mag_create(struct splkmem_cache *c)
{
	unsigned int size = skc_mag_auto_size(c);
	int cpu;

	c->cpu = alloc_percpu(struct skc_cpu);
	if (!c->cpu)
		return -ENOMEM;

	for_each_possible_cpu(cpu) {
		struct skc_cpu *pc = per_cpu_ptr(c->cpu, cpu);
		void **objs;

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

/* Nothing else may use the cache any more: no locking is needed. */
void skc_mag_destroy(struct splkmem_cache *c)
{
	int cpu;

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
	struct skc_cpu *pc;
	unsigned long flags;
	void *obj;

	for (;;) {
		local_lock_irqsave(&c->cpu->lock, flags);
		pc = this_cpu_ptr(c->cpu);
		if (likely(pc->avail)) {
			obj = pc->objs[--pc->avail];
			local_unlock_irqrestore(&c->cpu->lock, flags);
			return obj;
		}

		/* Refill half a magazine from the slabs in one lock hold. */
		spin_lock(&c->lock);
		pc->avail = skc_slab_take(c, pc->objs, pc->refill);
		spin_unlock(&c->lock);
		if (pc->avail) {
			obj = pc->objs[--pc->avail];
			local_unlock_irqrestore(&c->cpu->lock, flags);
			return obj;
		}
		local_unlock_irqrestore(&c->cpu->lock, flags);

		/* Every slab is full: grow, or take an emergency object. */
		obj = skc_grow(c, kmflags);
		if (obj || (kmflags & SPLKMEM_KM_NOSLEEP))
			return obj;
	}
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
 * Work on every CPU's magazine.  One request runs at a time; while it
 * runs, @cache (or, when NULL, every cache on skc_caches, which the
 * requester keeps stable by holding skc_caches_sem) is visited on each
 * CPU.  A resize hands each CPU its new object array in @objs[cpu] and
 * gets the old one back in the same slot.
 */
struct skc_drain_req {
	struct splkmem_cache *cache;
	void ***objs;
	unsigned int size;
};

struct skc_drain_work {
	struct work_struct work;
	struct skc_drain_req *req;
};

static DEFINE_PER_CPU(struct skc_drain_work, skc_drain_work);
static DEFINE_MUTEX(skc_drain_mutex);
static struct workqueue_struct *skc_drain_wq;

/* Called on @cpu with its magazine lock held, or with @cpu offline. */
static void skc_drain_one(struct splkmem_cache *c, int cpu,
			  struct skc_drain_req *req)
{
	struct skc_cpu *pc = per_cpu_ptr(c->cpu, cpu);

	skc_mag_empty(c, pc);
	if (req->objs) {
		void **old = pc->objs;

		skc_mag_set(pc, req->objs[cpu], req->size);
		req->objs[cpu] = old;
	}
}

static void skc_drain_cache_on(struct splkmem_cache *c, int cpu,
			       struct skc_drain_req *req, bool local)
{
	unsigned long flags;

	/* Nothing runs on an offline CPU: its magazine needs no lock. */
	if (!local) {
		skc_drain_one(c, cpu, req);
		return;
	}
	local_lock_irqsave(&c->cpu->lock, flags);
	skc_drain_one(c, cpu, req);
	local_unlock_irqrestore(&c->cpu->lock, flags);
}

static void skc_drain_visit(struct skc_drain_req *req, int cpu, bool local)
{
	struct splkmem_cache *c;

	if (req->cache) {
		skc_drain_cache_on(req->cache, cpu, req, local);
		return;
	}
	list_for_each_entry(c, &skc_caches, link)
		if (!skc_is_slab(c))
			skc_drain_cache_on(c, cpu, req, local);
}

static void skc_drain_workfn(struct work_struct *work)
{
	struct skc_drain_work *dw = container_of(work, struct skc_drain_work,
						 work);

	skc_drain_visit(dw->req, smp_processor_id(), true);
}

static void skc_drain_run(struct skc_drain_req *req)
{
	int cpu;

	mutex_lock(&skc_drain_mutex);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct skc_drain_work *dw = per_cpu_ptr(&skc_drain_work, cpu);

		dw->req = req;
		queue_work_on(cpu, skc_drain_wq, &dw->work);
	}
	for_each_possible_cpu(cpu) {
		if (cpu_online(cpu))
			flush_work(&per_cpu_ptr(&skc_drain_work, cpu)->work);
		else
			skc_drain_visit(req, cpu, false);
	}
	cpus_read_unlock();
	mutex_unlock(&skc_drain_mutex);
}

/* Return the magazines of every CPU of @c to the slabs. */
void skc_mag_drain(struct splkmem_cache *c)
{
	struct skc_drain_req req = { .cache = c };

	skc_drain_run(&req);
}

/* Same for every cache; the caller holds skc_caches_sem. */
void skc_mag_drain_all(void)
{
	struct skc_drain_req req = { .cache = NULL };

	lockdep_assert_held(&skc_caches_sem);
	skc_drain_run(&req);
}

/**
 * skc_mag_resize - give every CPU a magazine of a new size
 * @c: a KVMEM cache
 * @size: 2..256, or 0 for the automatic size
 *
 * Return: 0 or -ENOMEM.
 */
int skc_mag_resize(struct splkmem_cache *c, unsigned int size)
{
	unsigned int eff = size ? size : skc_mag_auto_size(c);
	struct skc_drain_req req = { .cache = c, .size = eff };
	unsigned long flags;
	int cpu, rc = 0;

	req.objs = kcalloc(nr_cpu_ids, sizeof(*req.objs), GFP_KERNEL);
	if (!req.objs)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		req.objs[cpu] = kmalloc_node(eff * sizeof(void *), GFP_KERNEL,
					     cpu_to_node(cpu));
		if (!req.objs[cpu]) {
			rc = -ENOMEM;
			goto out;
		}
	}

	skc_drain_run(&req);

	spin_lock_irqsave(&c->lock, flags);
	c->mag_size_req = size;
	c->mag_size = eff;
	c->mag_refill = (eff + 1) / 2;
	spin_unlock_irqrestore(&c->lock, flags);
out:
	/* The old arrays after a resize, the unused new ones after a failure. */
	for_each_possible_cpu(cpu)
		kfree(req.objs[cpu]);
	kfree(req.objs);
	return rc;
}

int skc_mag_init(void)
{
	int cpu;

	/* WQ_MEM_RECLAIM: reaps must make progress under memory pressure. */
	skc_drain_wq = alloc_workqueue("spl_kmem_drain",
				       WQ_PERCPU | WQ_MEM_RECLAIM, 0);
	if (!skc_drain_wq)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		INIT_WORK(&per_cpu_ptr(&skc_drain_work, cpu)->work,
			  skc_drain_workfn);
	return 0;
}

void skc_mag_fini(void)
{
	destroy_workqueue(skc_drain_wq);
}
