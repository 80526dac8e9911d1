// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Object caches: creation and destruction, allocation and free, and the
 * queries.  Small objects are served by a Linux kmem_cache, which packs
 * them better than we could; larger ones by virtual-memory-backed slabs
 * with per-CPU magazines (slab.c, magazine.c), which need no contiguous
 * pages.  Every exported function is documented in <spl_kmem/cache.h>.
 */
#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/prefetch.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "skc.h"

LIST_HEAD(skc_caches);
DECLARE_RWSEM(skc_caches_sem);
unsigned long skc_caches_gen;

/*
 * Names become sysfs and /proc/slabinfo entries of the Linux cache, and
 * command-line arguments of the admin tools: printable, no blank, no '/'.
 */
static bool skc_name_ok(const char *name)
{
	size_t len = strnlen(name, SPLKMEM_NAME_MAX);
	size_t i;

	if (len == 0 || len >= SPLKMEM_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!isgraph(name[i]) || name[i] == '/')
			return false;
	return true;
}

static int skc_check_args(const char *name, size_t size, size_t align,
			  unsigned int flags)
{
	if (!skc_name_ok(name))
		return -EINVAL;
	if (size == 0 || size > U32_MAX / 2)
		return -EINVAL;
	if (align && (!is_power_of_2(align) || align < SPLKMEM_MIN_ALIGN ||
		      align > PAGE_SIZE))
		return -EINVAL;
	if (flags & ~SPLKMEM_KMC_PUBLIC)
		return -EINVAL;
	if ((flags & SPLKMEM_KMC_KVMEM) && (flags & SPLKMEM_KMC_SLAB))
		return -EINVAL;
	return 0;
}

struct splkmem_cache *skc_find_locked(const char *name)
{
	struct splkmem_cache *c;

	list_for_each_entry(c, &skc_caches, link)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int skc_linux_cache_create(struct splkmem_cache *c)
{
	slab_flags_t sflags = 0;

	if (c->flags & SPLKMEM_KMC_RECLAIMABLE)
		sflags |= SLAB_RECLAIM_ACCOUNT;
	/*
	 * A prefix keeps our names out of the kernel's own (a cache named
	 * "dentry" would clash in /sys/kernel/slab) and tells slabtop users
	 * whose cache it is.  The whole object may be copied to user space.
	 */
	snprintf(c->linux_name, sizeof(c->linux_name), "splkmem_%s", c->name);
	/* Larger objects make kmem_cache_create() fail with a stack dump. */
	if (ALIGN(c->obj_size, c->obj_align) > KMALLOC_MAX_SIZE)
		return -E2BIG;
	c->linux_cache = kmem_cache_create_usercopy(c->linux_name, c->obj_size,
						    c->obj_align, sflags, 0,
						    c->obj_size, NULL);
	return c->linux_cache ? 0 : -ENOMEM;
}

static bool skc_name_taken(const char *name)
{
	bool taken;

	down_read(&skc_caches_sem);
	taken = skc_find_locked(name);
	up_read(&skc_caches_sem);
	return taken;
}

/* Objects allocated from the Linux slab cache, never negative. */
static u64 skc_linux_objs(const struct splkmem_cache *c)
{
	long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(*per_cpu_ptr(c->linux_objs, cpu));
	return n > 0 ? n : 0;
}

static void skc_free(struct splkmem_cache *c)
{
	skc_mag_destroy(c);
	if (c->linux_cache)
		kmem_cache_destroy(c->linux_cache);
	free_percpu(c->linux_objs);
	kfree(c);
}

struct splkmem_cache *splkmem_cache_create(const char *name, size_t size,
					   size_t align, splkmem_ctor_t ctor,
					   splkmem_dtor_t dtor, void *priv,
					   unsigned int flags)
{
	struct splkmem_cache *c;
	int rc;

	might_sleep();
	rc = skc_check_args(name, size, align, flags);
	if (rc)
		return ERR_PTR(rc);
	/* Checked again when the cache is listed; this spares the work. */
	if (skc_name_taken(name))
		return ERR_PTR(-EEXIST);

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	/*
	 * A bare per-CPU count rather than a percpu_counter: this_cpu_inc()
	 * is one instruction on x86, and only the rare readers pay for a sum.
	 */
	c->linux_objs = alloc_percpu(long);
	if (!c->linux_objs) {
		kfree(c);
		return ERR_PTR(-ENOMEM);
	}

	strscpy(c->name, name, sizeof(c->name));
	c->ctor = ctor;
	c->dtor = dtor;
	c->priv = priv;
	c->obj_size = size;
	c->obj_align = align ? align : SPLKMEM_MIN_ALIGN;
	spin_lock_init(&c->lock);
	INIT_LIST_HEAD(&c->empty);
	INIT_LIST_HEAD(&c->partial);
	INIT_LIST_HEAD(&c->full);
	c->emergency = RB_ROOT;
	skc_grow_setup(c);

	c->flags = flags;
	if (!(flags & (SPLKMEM_KMC_KVMEM | SPLKMEM_KMC_SLAB))) {
		unsigned int limit = READ_ONCE(skc_slab_limit);

		/* As the reference documents it: smaller than the limit. */
		c->flags |= size < limit ? SPLKMEM_KMC_SLAB :
					   SPLKMEM_KMC_KVMEM;
	}

	if (skc_is_slab(c)) {
		rc = skc_linux_cache_create(c);
	} else {
		rc = skc_slab_layout(c);
		if (!rc)
			rc = skc_mag_create(c);
	}
	if (rc)
		goto fail;

	down_write(&skc_caches_sem);
	if (skc_find_locked(name)) {
		up_write(&skc_caches_sem);
		rc = -EEXIST;
		goto fail;
	}
	list_add_tail_rcu(&c->link, &skc_caches);
	skc_caches_gen++;
	up_write(&skc_caches_sem);
	skc_notify(SKC_EVENT_CACHE_CREATE, c, NULL);
	return c;

fail:
	skc_free(c);
	return ERR_PTR(rc);
}
EXPORT_SYMBOL(splkmem_cache_create);

void splkmem_cache_destroy(struct splkmem_cache *c)
{
	unsigned long flags;
	bool leaked;

	might_sleep();
	down_write(&skc_caches_sem);
	list_del_rcu(&c->link);
	skc_caches_gen++;
	up_write(&skc_caches_sem);
	/* Reaps and the hotplug callback walk the list under SRCU. */
	synchronize_srcu(&skc_caches_srcu);
	skc_notify(SKC_EVENT_CACHE_DESTROY, c, NULL);

	set_bit(SKC_DESTROYING, &c->state);
	skc_grow_cancel(c);
	skc_mag_destroy(c);
	if (!skc_is_slab(c))
		skc_slab_reclaim(c, 0, ULONG_MAX, 0);

	spin_lock_irqsave(&c->lock, flags);
	leaked = c->slab_total || c->obj_emergency ||
		 skc_linux_objs(c);
	spin_unlock_irqrestore(&c->lock, flags);

	/* Freeing memory a caller still uses would be worse than leaking. */
	if (leaked) {
		pr_err("cache %s destroyed with %llu objects in use: leaking it\n",
		       c->name, c->obj_alloc + skc_linux_objs(c));
		return;
	}
	skc_free(c);
}
EXPORT_SYMBOL(splkmem_cache_destroy);

/* Give an object back without running the destructor. */
static void skc_release(struct splkmem_cache *c, void *obj)
{
	struct skc_obj_hdr *hdr;

	if (skc_is_slab(c)) {
		kmem_cache_free(c->linux_cache, obj);
		this_cpu_dec(*c->linux_objs);
		return;
	}

	/* Slab objects are vmalloc addresses; emergency objects never are. */
	if (!is_vmalloc_addr(obj)) {
		if (!skc_emergency_free(c, obj))
			WARN_ONCE(1, "spl_kmem: %s: freeing %p, not from this cache\n",
				  c->name, obj);
		return;
	}

	if (!(c->flags & SPLKMEM_KMC_NODEBUG)) {
		hdr = skc_hdr(c, obj);
		if (WARN_ONCE(hdr->magic != SKC_OBJ_MAGIC ||
			      hdr->slab->cache != c,
			      "spl_kmem: %s: freeing %p, not from this cache\n",
			      c->name, obj))
			return;
	}
	skc_mag_free(c, obj);
}

void *splkmem_cache_alloc(struct splkmem_cache *c, int kmflags)
{
	void *obj;

	WARN_ONCE(!splkmem_kmflags_valid(kmflags),
		  "spl_kmem: %s: unknown kmflags 0x%x\n", c->name, kmflags);
	might_sleep_if(!(kmflags & SPLKMEM_KM_NOSLEEP));
	if (skc_is_slab(c)) {
		gfp_t gfp = skc_gfp(kmflags);

		/*
		 * KM_SLEEP never fails: retry rather than return NULL, backing
		 * off as the page allocator's own retry loops do.
		 */
		while (!(obj = kmem_cache_alloc(c->linux_cache, gfp))) {
			if (kmflags & SPLKMEM_KM_NOSLEEP)
				return NULL;
			memalloc_retry_wait(gfp);
		}
		this_cpu_inc(*c->linux_objs);
	} else {
		obj = skc_mag_alloc(c, kmflags);
		if (!obj)
			return NULL;
	}

	if (c->ctor && c->ctor(obj, c->priv, kmflags)) {
		skc_release(c, obj);
		return NULL;
	}
	if (!c->ctor)
		prefetchw(obj);
	return obj;
}
EXPORT_SYMBOL(splkmem_cache_alloc);

void splkmem_cache_free(struct splkmem_cache *c, void *obj)
{
	if (c->dtor)
		c->dtor(obj, c->priv);
	skc_release(c, obj);
}
EXPORT_SYMBOL(splkmem_cache_free);

u64 splkmem_cache_inuse(struct splkmem_cache *c)
{
	if (skc_is_slab(c))
		return skc_linux_objs(c);
	return READ_ONCE(c->obj_total);
}
EXPORT_SYMBOL(splkmem_cache_inuse);

u64 splkmem_cache_entry_size(struct splkmem_cache *c)
{
	return c->obj_size;
}
EXPORT_SYMBOL(splkmem_cache_entry_size);

const char *splkmem_cache_name(struct splkmem_cache *c)
{
	return c->name;
}
EXPORT_SYMBOL(splkmem_cache_name);

int splkmem_cache_set_magazine(struct splkmem_cache *c, unsigned int size)
{
	might_sleep();
	if (skc_is_slab(c))
		return -EOPNOTSUPP;
	if (size == 1 || size > SKC_MAG_MAX)
		return -EINVAL;
	return skc_mag_resize(c, size);
}
EXPORT_SYMBOL(splkmem_cache_set_magazine);

void splkmem_cache_inject_grow_delay(struct splkmem_cache *c,
				     unsigned int msecs)
{
	WRITE_ONCE(c->grow_delay_ms, msecs);
}
EXPORT_SYMBOL(splkmem_cache_inject_grow_delay);

void splkmem_cache_get_stats(struct splkmem_cache *c,
			     struct splkmem_cache_stats *st)
{
	unsigned long flags;

	memset(st, 0, sizeof(*st));
	st->flags = c->flags;
	st->obj_size = c->obj_size;
	st->obj_align = c->obj_align;
	if (skc_is_slab(c)) {
		st->linux_objs = skc_linux_objs(c);
		st->reap = READ_ONCE(c->reap);
		return;
	}

	st->mag_objs = skc_mag_objs(c);
	spin_lock_irqsave(&c->lock, flags);
	st->slab_size = c->slab_size;
	st->slab_objs = c->slab_objs;
	st->mag_size = c->mag_size;
	st->mag_refill = c->mag_refill;
	st->slab_total = c->slab_total;
	st->slab_alloc = c->slab_alloc;
	st->slab_max = c->slab_max;
	st->obj_total = c->obj_total;
	st->obj_alloc = c->obj_alloc;
	st->obj_max = c->obj_max;
	st->obj_emergency = c->obj_emergency;
	st->obj_emergency_max = c->obj_emergency_max;
	st->obj_deadlock = c->obj_deadlock;
	st->slab_create = c->slab_create;
	st->slab_destroy = c->slab_destroy;
	st->slab_fail = c->slab_fail;
	st->grow = c->grow;
	st->growing = test_bit(SKC_GROWING, &c->state);
	st->reap = c->reap;
	st->grow_fail = c->grow_fail;
	st->grow_backoff = c->grow_backoff;
	st->bytes = c->slab_total * c->slab_size + skc_emergency_bytes(c);
	spin_unlock_irqrestore(&c->lock, flags);
}
EXPORT_SYMBOL(splkmem_cache_get_stats);
