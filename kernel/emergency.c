// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Emergency objects: when a cache cannot wait for a new slab (KM_NOSLEEP,
 * or a growth that looks deadlocked), one object gets pages of its own
 * from the page allocator.  They are never vmalloc addresses, which is how
 * a free tells them apart from slab objects, and they are tracked by
 * address in an rbtree so a free can find them.  They are expected to be
 * rare, so simplicity wins over speed here.
 */
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/rbtree.h>
#include <linux/slab.h>

#include "skc.h"

static struct skc_emergency *skc_emergency_find(struct splkmem_cache *c,
						unsigned long addr)
{
	struct rb_node *node = c->emergency.rb_node;

	while (node) {
		struct skc_emergency *e = rb_entry(node, struct skc_emergency,
						   node);

		if (addr < e->addr)
			node = node->rb_left;
		else if (addr > e->addr)
			node = node->rb_right;
		else
			return e;
	}
	return NULL;
}

static void skc_emergency_insert(struct splkmem_cache *c,
				 struct skc_emergency *e)
{
	struct rb_node **link = &c->emergency.rb_node, *parent = NULL;

	while (*link) {
		struct skc_emergency *cur = rb_entry(*link,
						     struct skc_emergency,
						     node);

		parent = *link;
		/* Addresses are unique: the pages are ours until freed. */
		link = e->addr < cur->addr ? &(*link)->rb_left :
					     &(*link)->rb_right;
	}
	rb_link_node(&e->node, parent, link);
	rb_insert_color(&e->node, &c->emergency);
}

/**
 * skc_emergency_alloc - allocate one object outside the slabs
 * @c: the cache
 * @kmflags: SPLKMEM_KM_*; with KM_NOSLEEP this never sleeps
 *
 * Return: the object (page aligned), or NULL.
 */
void *skc_emergency_alloc(struct splkmem_cache *c, int kmflags)
{
	gfp_t gfp = skc_gfp(kmflags) | __GFP_NOWARN;
	unsigned int order = get_order(c->obj_size);
	struct skc_emergency *e;
	unsigned long flags;

	e = kmalloc(sizeof(*e), gfp);
	if (!e)
		return NULL;
	if (c->flags & SPLKMEM_KMC_RECLAIMABLE)
		gfp |= __GFP_RECLAIMABLE;
	e->addr = __get_free_pages(gfp, order);
	if (!e->addr) {
		kfree(e);
		return NULL;
	}

	spin_lock_irqsave(&c->lock, flags);
	skc_emergency_insert(c, e);
	c->obj_total++;
	c->obj_alloc++;
	if (c->obj_alloc > c->obj_max)
		c->obj_max = c->obj_alloc;
	if (++c->obj_emergency > c->obj_emergency_max)
		c->obj_emergency_max = c->obj_emergency;
	spin_unlock_irqrestore(&c->lock, flags);

	skc_notify(SKC_EVENT_EMERGENCY, c, NULL);
	return (void *)e->addr;
}

/**
 * skc_emergency_free - free an emergency object
 * @c: the cache
 * @obj: the object
 *
 * Return: false if @obj is not an emergency object of @c.
 */
bool skc_emergency_free(struct splkmem_cache *c, void *obj)
{
	struct skc_emergency *e;
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	e = skc_emergency_find(c, (unsigned long)obj);
	if (e) {
		rb_erase(&e->node, &c->emergency);
		c->obj_emergency--;
		c->obj_total--;
		c->obj_alloc--;
	}
	spin_unlock_irqrestore(&c->lock, flags);

	if (!e)
		return false;
	free_pages(e->addr, get_order(c->obj_size));
	kfree(e);
	return true;
}

/* Bytes held by emergency objects; c->lock held. */
size_t skc_emergency_bytes(const struct splkmem_cache *c)
{
	return c->obj_emergency * (PAGE_SIZE << get_order(c->obj_size));
}
