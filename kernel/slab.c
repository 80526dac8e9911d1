// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Virtual-memory-backed slabs: their layout, creation, and the moves of
 * objects between slabs and magazines.
 *
 * Slabs sit on one of three lists by how many objects they have handed
 * out: empty, partial or full.  Refills take from the partial list first,
 * so empty slabs stay empty and can be given back; empty slabs beyond a
 * small reserve are freed by a deferred trim (vfree() may sleep, and frees
 * happen in any context), the rest by reap or the shrinker.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/swap.h>
#include <linux/vmalloc.h>

#include "skc.h"
#include "spl_kmem_config.h"

/* Pages held by empty slabs of every cache: the shrinker's O(1) count. */
atomic_long_t skc_empty_pages = ATOMIC_LONG_INIT(0);

/**
 * skc_slab_layout - size the slabs of a cache
 * @c: the cache, with obj_size and obj_align set
 *
 * Aims for the obj_per_slab tunable objects per slab, caps a slab at the
 * max_size tunable, and fills the last page rather than waste it.
 *
 * Return: 0, or -E2BIG when not one object fits in the largest slab.
 */
int skc_slab_layout(struct splkmem_cache *c)
{
	unsigned long max = (unsigned long)READ_ONCE(skc_max_size) << 20;
	unsigned long target, size;
	unsigned int objs;

	c->hdr_off = ALIGN(c->obj_size, sizeof(void *));
	c->stride = ALIGN(c->hdr_off + sizeof(struct skc_obj_hdr),
			  c->obj_align);
	c->first_off = ALIGN(sizeof(struct skc_slab), c->obj_align);

	target = c->first_off +
		 (unsigned long)READ_ONCE(skc_obj_per_slab) * c->stride;
	size = min(PAGE_ALIGN(target), max);
	if (size < c->first_off + c->stride)
		return -E2BIG;

	objs = (size - c->first_off) / c->stride;
	c->slab_objs = objs;
	c->slab_size = PAGE_ALIGN(c->first_off + objs * c->stride);
	return 0;
}

/* Allocate and format one slab; called by the growth worker. */
struct skc_slab *skc_slab_create(struct splkmem_cache *c)
{
	struct skc_slab *slab;
	void *obj, *next = NULL;
	unsigned int i;

	if (skc_inject_fail(c))
		return NULL;
	/* No __GFP_HIGHMEM or mobility hints: newer vmalloc rejects them. */
	slab = __vmalloc(c->slab_size, GFP_KERNEL | __GFP_NOWARN);
	if (!slab)
		return NULL;

	slab->magic = SKC_SLAB_MAGIC;
	slab->ref = 0;
	slab->objs = c->slab_objs;
	slab->cache = c;
	INIT_LIST_HEAD(&slab->link);

	/* Chain the free objects so that the first one is handed out first. */
	for (i = c->slab_objs; i-- > 0; ) {
		struct skc_obj_hdr *hdr;

		obj = (void *)slab + c->first_off + i * c->stride;
		hdr = skc_hdr(c, obj);
		hdr->slab = slab;
		hdr->magic = SKC_OBJ_MAGIC;
		hdr->next_free = next;
		next = obj;
	}
	slab->free = next;
	slab->emptied = jiffies;
	slab->fresh = true;
	return slab;
}

/* Add a freshly created slab to the cache, with c->lock held. */
void skc_slab_add(struct splkmem_cache *c, struct skc_slab *slab)
{
	lockdep_assert_held(&c->lock);
	list_add_tail(&slab->link, &c->empty);
	c->nr_empty++;
	atomic_long_add(c->slab_size >> PAGE_SHIFT, &skc_empty_pages);
	c->slab_total++;
	c->obj_total += slab->objs;
	c->slab_create++;
}

/* Put @slab on the list that matches its new reference count. */
static void skc_slab_relink(struct splkmem_cache *c, struct skc_slab *slab,
			    unsigned int old_ref)
{
	long pages = c->slab_size >> PAGE_SHIFT;

	if (old_ref == 0 && slab->ref) {
		c->nr_empty--;
		atomic_long_sub(pages, &skc_empty_pages);
		if (++c->slab_alloc > c->slab_max)
			c->slab_max = c->slab_alloc;
	} else if (old_ref && slab->ref == 0) {
		slab->emptied = jiffies;
		c->slab_alloc--;
		c->nr_empty++;
		atomic_long_add(pages, &skc_empty_pages);
	}

	if (slab->ref == 0)
		list_move_tail(&slab->link, &c->empty);
	else if (slab->ref == slab->objs)
		list_move(&slab->link, &c->full);
	else if (old_ref == 0 || old_ref == slab->objs)
		list_move(&slab->link, &c->partial);
}

/**
 * skc_slab_take - move free objects from the slabs into an array
 * @c: the cache; c->lock held
 * @objs: where the objects go
 * @want: how many to take at most
 *
 * Return: how many were taken; 0 when every slab is full.
 */
unsigned int skc_slab_take(struct splkmem_cache *c, void **objs,
			   unsigned int want)
{
	unsigned int n = 0;

	lockdep_assert_held(&c->lock);
	while (n < want) {
		struct skc_slab *slab;
		unsigned int old_ref;

		/*
		 * Partial slabs first, then the most recently emptied one, so
		 * that the oldest empty slabs (at the head) can age out.
		 */
		slab = list_first_entry_or_null(&c->partial, struct skc_slab,
						link);
		if (!slab && !list_empty(&c->empty))
			slab = list_last_entry(&c->empty, struct skc_slab,
					       link);
		if (!slab)
			break;

		old_ref = slab->ref;
		slab->fresh = false;
		while (n < want && slab->free) {
			void *obj = slab->free;

			slab->free = skc_hdr(c, obj)->next_free;
			slab->ref++;
			objs[n++] = obj;
		}
		skc_slab_relink(c, slab, old_ref);
	}

	c->obj_alloc += n;
	if (c->obj_alloc > c->obj_max)
		c->obj_max = c->obj_alloc;
	return n;
}

/**
 * skc_slab_put - return objects to their slabs
 * @c: the cache; c->lock held
 * @objs: the objects
 * @n: how many
 */
void skc_slab_put(struct splkmem_cache *c, void **objs, unsigned int n)
{
	unsigned int i;

	lockdep_assert_held(&c->lock);
	for (i = 0; i < n; i++) {
		struct skc_obj_hdr *hdr = skc_hdr(c, objs[i]);
		struct skc_slab *slab = hdr->slab;
		unsigned int old_ref = slab->ref;

		hdr->next_free = slab->free;
		slab->free = objs[i];
		slab->ref--;
		skc_slab_relink(c, slab, old_ref);
	}
	c->obj_alloc -= n;
}

/*
 * Empty slabs a cache keeps however long they stay empty: enough to refill
 * half of every CPU's magazine.
 */
unsigned long skc_empty_reserve(const struct splkmem_cache *c)
{
	return DIV_ROUND_UP(c->mag_refill * num_online_cpus(), c->slab_objs);
}

/*
 * Pages freed outside the LRU lists are reclaim's progress only if they are
 * credited to the reclaiming task, as the Linux slab allocators do: without
 * it, reclaim sees no progress, calls the shrinkers again and again, and
 * over-reclaims or declares OOM.
 */
static void skc_credit_reclaim(unsigned long pages)
{
	struct reclaim_state *rs = current->reclaim_state;

	if (!rs)
		return;
#ifdef HAVE_RECLAIM_STATE_RECLAIMED
	rs->reclaimed += pages;
#else
	rs->reclaimed_slab += pages;
#endif
}

/*
 * A slab that a growth created and that nobody has taken an object from
 * yet is kept while allocations that waited for a growth have not retried
 * the slabs (grow_waiters), for at most this long: freeing it under them
 * would make them grow again (churn).
 */
#define SKC_FRESH_KEEP		(HZ / 10)

static bool skc_slab_keep_fresh(const struct splkmem_cache *c,
				const struct skc_slab *slab)
{
	return slab->fresh && atomic_read(&c->grow_waiters) &&
	       time_before(jiffies, slab->emptied + SKC_FRESH_KEEP) &&
	       !test_bit(SKC_DESTROYING, &c->state);
}

/**
 * skc_slab_reclaim - free empty slabs
 * @c: the cache
 * @keep: empty slabs to keep
 * @max_pages: stop after freeing this many pages
 * @min_age: free only slabs empty for at least this many jiffies (0: any)
 *
 * A slab a growth created less than SKC_FRESH_KEEP ago and that nothing
 * has used yet is not freed while allocations that waited for a growth
 * are about to use it.  Freed
 * pages are credited to a reclaiming caller.
 *
 * Context: process context; takes c->lock.
 * Return: bytes freed.
 */
size_t skc_slab_reclaim(struct splkmem_cache *c, unsigned long keep,
			unsigned long max_pages, unsigned long min_age)
{
	unsigned long pages = c->slab_size >> PAGE_SHIFT, freed = 0;
	struct skc_slab *slab, *next;
	unsigned long flags;
	LIST_HEAD(doomed);

	spin_lock_irqsave(&c->lock, flags);
	/* The least recently emptied slab is at the head. */
	list_for_each_entry_safe(slab, next, &c->empty, link) {
		if (c->nr_empty <= keep || freed >= max_pages)
			break;
		if (min_age && time_before(jiffies, slab->emptied + min_age))
			break;
		if (skc_slab_keep_fresh(c, slab))
			continue;
		list_move(&slab->link, &doomed);
		c->nr_empty--;
		c->slab_total--;
		c->obj_total -= slab->objs;
		c->slab_destroy++;
		freed += pages;
	}
	spin_unlock_irqrestore(&c->lock, flags);
	atomic_long_sub(freed, &skc_empty_pages);
	skc_credit_reclaim(freed);

	/* vfree() outside the lock: it may sleep and it is not cheap. */
	list_for_each_entry_safe(slab, next, &doomed, link) {
		slab->magic = 0;
		vfree(slab);
		cond_resched();
	}
	return (size_t)freed << PAGE_SHIFT;
}
