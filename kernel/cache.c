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
#include <linux/kasan.h>
#include <linux/kernel.h>
#include <linux/kmemleak.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/prefetch.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "skc.h"
#include "spl_kmem_config.h"

LIST_HEAD(skc_caches);
DECLARE_RWSEM(skc_caches_sem);
unsigned long skc_caches_gen;

/*
 * Caches whose name is taken although they are not on skc_caches: being
 * created, being destroyed, or destroyed with objects still allocated from
 * their Linux slab cache (that cache, and its /sys/kernel/slab entry, is
 * leaked with them).  Under skc_caches_sem.  A name is reserved here
 * before its Linux cache is created, so two creates of one name can never
 * both reach kmem_cache_create(), whose duplicate sysfs entry would be a
 * stack dump and -ENOMEM instead of -EEXIST.
 */
static LIST_HEAD(skc_reserved);

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

static bool skc_name_busy_locked(const char *name)
{
	struct splkmem_cache *c;

	lockdep_assert_held(&skc_caches_sem);
	if (skc_find_locked(name))
		return true;
	list_for_each_entry(c, &skc_reserved, reserved_link)
		if (!strcmp(c->name, name))
			return true;
	return false;
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
	mutex_init(&c->mag_mutex);
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

	/* Take the name before anything is created under it. */
	down_write(&skc_caches_sem);
	if (skc_name_busy_locked(name)) {
		up_write(&skc_caches_sem);
		free_percpu(c->linux_objs);
		kfree(c);
		return ERR_PTR(-EEXIST);
	}
	list_add_tail(&c->reserved_link, &skc_reserved);
	up_write(&skc_caches_sem);

	if (skc_is_slab(c)) {
		rc = skc_linux_cache_create(c);
	} else {
		rc = skc_slab_layout(c);
		if (!rc)
			rc = skc_mag_create(c);
	}

	down_write(&skc_caches_sem);
	if (rc) {
		list_del(&c->reserved_link);
		up_write(&skc_caches_sem);
		skc_free(c);
		return ERR_PTR(rc);
	}
	list_del(&c->reserved_link);
	list_add_tail_rcu(&c->link, &skc_caches);
	skc_caches_gen++;
	/*
	 * Announced under the semaphore, as destruction is: a listener sees
	 * the events of one name in the order the list changed.
	 */
	skc_notify(SKC_EVENT_CACHE_CREATE, c, NULL);
	up_write(&skc_caches_sem);
	return c;
}
EXPORT_SYMBOL_GPL(splkmem_cache_create);

/*
 * Return everything a cache holds that no caller holds: its magazines and
 * empty slabs.  Runs no constructor or destructor.  Nothing may allocate
 * from or free to @c any more.
 *
 * Return: objects still allocated (0 when the cache's memory was all
 * given back and @c can be freed).
 */
static u64 skc_teardown(struct splkmem_cache *c)
{
	unsigned long flags;
	u64 inuse;

	set_bit(SKC_DESTROYING, &c->state);
	skc_grow_cancel(c);
	skc_mag_destroy(c);
	if (!skc_is_slab(c))
		skc_slab_reclaim(c, 0, ULONG_MAX, 0);

	if (skc_is_slab(c))
		return skc_linux_objs(c);
	spin_lock_irqsave(&c->lock, flags);
	inuse = c->obj_alloc;
	if (!inuse && (c->slab_total || c->obj_emergency))
		inuse = 1;	/* cannot happen; never free memory in use */
	spin_unlock_irqrestore(&c->lock, flags);
	return inuse;
}

/*
 * Keep a cache whose objects are still allocated: freeing memory someone
 * may still use would be worse than leaking it.  Its slabs hang off @c,
 * which kmemleak must not report: the leak has been reported already.
 */
static void skc_leak(struct splkmem_cache *c)
{
	c->ctor = NULL;
	c->dtor = NULL;
	c->priv = NULL;
	kmemleak_not_leak(c);
}

void splkmem_cache_destroy(struct splkmem_cache *c)
{
	u64 inuse;

	might_sleep();
	/* The name stays taken until the Linux cache is gone. */
	down_write(&skc_caches_sem);
	list_del_rcu(&c->link);
	list_add_tail(&c->reserved_link, &skc_reserved);
	skc_caches_gen++;
	skc_notify(SKC_EVENT_CACHE_DESTROY, c, NULL);
	up_write(&skc_caches_sem);
	/* Reaps, the shrinker and the hotplug callback walk under SRCU. */
	synchronize_srcu(&skc_caches_srcu);

	inuse = skc_teardown(c);
	if (inuse)
		pr_err("cache %s destroyed with %llu objects in use: leaking it\n",
		       c->name, inuse);

	down_write(&skc_caches_sem);
	/* A leaked Linux cache keeps its sysfs name: so does ours. */
	if (!inuse || !skc_is_slab(c))
		list_del(&c->reserved_link);
	up_write(&skc_caches_sem);

	if (inuse)
		skc_leak(c);
	else
		skc_free(c);
}
EXPORT_SYMBOL_GPL(splkmem_cache_destroy);

/**
 * skc_caches_shutdown - deal with the caches left when the module goes
 *
 * A consumer holds a reference on this module, so by now every consumer
 * is gone: a cache still listed belongs to one that did not destroy it.
 * Its constructor and destructor may point into unloaded code and are
 * never called again.  Its work and timers are cancelled, its idle memory
 * is returned, and only objects still allocated (which someone may yet
 * use) are leaked.  One line per cache says so.  Called at module exit,
 * after the control plane and the shrinker are gone.
 */
void skc_caches_shutdown(void)
{
	struct splkmem_cache *c, *next;
	u64 inuse;

	down_write(&skc_caches_sem);
	list_for_each_entry_safe(c, next, &skc_caches, link) {
		list_del_rcu(&c->link);
		/* No walker is left (see above), but be exact about it. */
		synchronize_srcu(&skc_caches_srcu);
		c->ctor = NULL;
		c->dtor = NULL;
		inuse = skc_teardown(c);
		if (inuse) {
			pr_warn("cache %s was never destroyed by its owner: leaking its %llu objects still allocated\n",
				c->name, inuse);
			skc_leak(c);
		} else {
			pr_warn("cache %s was never destroyed by its owner: destroyed it at unload\n",
				c->name);
			skc_free(c);
		}
	}
	/* Caches destroyed with objects in use were reported then. */
	list_for_each_entry_safe(c, next, &skc_reserved, reserved_link)
		list_del(&c->reserved_link);
	skc_caches_gen++;
	up_write(&skc_caches_sem);
}

static void skc_bad_free(struct splkmem_cache *c, void *obj, bool twice)
{
	if (twice) {
		if (!test_and_set_bit(SKC_SAID_DOUBLE_FREE, &c->state))
			pr_err("cache %s: object %p freed twice: second free ignored (said once per cache)\n",
			       c->name, obj);
		return;
	}
	if (!test_and_set_bit(SKC_SAID_BAD_FREE, &c->state))
		pr_err("cache %s: freeing %p, which is not an allocated object of this cache: ignored (said once per cache)\n",
		       c->name, obj);
}

/*
 * Read one field of memory that may not be mapped, or jump to @label: with
 * one inline load where the architecture has it (a compile probe), else
 * with copy_from_kernel_nofault().  Page faults must be disabled.
 */
#ifdef HAVE_GET_KERNEL_NOFAULT_INLINE
#define skc_peek(dst, src, label)					\
	__get_kernel_nofault(&(dst), (src), typeof(dst), label)
#else
#define skc_peek(dst, src, label)					\
	do {								\
		if (copy_from_kernel_nofault(&(dst), (src), sizeof(dst))) \
			goto label;					\
	} while (0)
#endif

/*
 * Is @obj (a vmalloc address) at an object boundary of a slab of @c, with
 * a header that says "object"?  @obj may be anything a caller got wrong: an
 * object of another cache, whose header is elsewhere, maybe past the end
 * of its slab.  So the fields are read without faulting, and the slab the
 * header names must lie just below @obj, in the vmalloc area (no other
 * address is ever read).  Sets *@magic to the header's magic.
 */
static __always_inline bool skc_obj_valid(struct splkmem_cache *c, void *obj,
					  u32 *magic)
{
	struct skc_obj_hdr *hdr = skc_hdr(c, obj);
	unsigned long addr, owner, off;
	struct skc_slab *slab;
	unsigned int objs;
	u32 smagic;

	/* Pointers are read as integers: the accessor knows no pointers. */
	skc_peek(*magic, &hdr->magic, bad);
	if (*magic != SKC_OBJ_LIVE && *magic != SKC_OBJ_MAGIC)
		return false;
	skc_peek(addr, (unsigned long *)&hdr->slab, bad);
	off = (unsigned long)obj - addr;
	if (off < c->first_off || off >= c->slab_size ||
	    (off - c->first_off) % c->stride)
		return false;
	slab = (struct skc_slab *)addr;
	skc_peek(smagic, &slab->magic, bad);
	skc_peek(owner, (unsigned long *)&slab->cache, bad);
	skc_peek(objs, &slab->objs, bad);
	return smagic == SKC_SLAB_MAGIC && owner == (unsigned long)c &&
	       (off - c->first_off) / c->stride < objs;
bad:
	return false;
}

/*
 * Is @obj (a vmalloc address) an object of @c handed out and not freed
 * since?  Claims it as free if so.
 */
static __always_inline bool skc_obj_claim(struct splkmem_cache *c, void *obj)
{
	struct skc_obj_hdr *hdr = skc_hdr(c, obj);
	u32 magic = 0;
	bool ok;

	pagefault_disable();
	ok = skc_obj_valid(c, obj, &magic);
	pagefault_enable();
	if (unlikely(!ok)) {
		skc_bad_free(c, obj, false);
		return false;
	}
	/* Atomic: of two racing frees of one object, one wins. */
	if (unlikely(cmpxchg(&hdr->magic, SKC_OBJ_LIVE, SKC_OBJ_MAGIC) !=
		     SKC_OBJ_LIVE)) {
		skc_bad_free(c, obj, true);
		return false;
	}
	return true;
}

/*
 * Is @p in the vmalloc area?  is_vmalloc_addr() inline: on the fast path
 * its call costs more than the test.
 */
static __always_inline bool skc_vmalloc_addr(const void *p)
{
	unsigned long addr = (unsigned long)kasan_reset_tag(p);

	return addr >= VMALLOC_START && addr < VMALLOC_END;
}

/* Give an object back without running the destructor. */
static void skc_release(struct splkmem_cache *c, void *obj)
{
	/*
	 * No check here: SLUB checks its own objects (freelist hardening,
	 * slub_debug), and which kmem_cache an object belongs to is not
	 * something a module can ask cheaply (virt_to_cache() is private).
	 */
	if (skc_is_slab(c)) {
		kmem_cache_free(c->linux_cache, obj);
		this_cpu_dec(*c->linux_objs);
		return;
	}

	/* Slab objects are vmalloc addresses; emergency objects never are. */
	if (!skc_vmalloc_addr(obj)) {
		if (!skc_emergency_free(c, obj))
			skc_bad_free(c, obj, false);
		return;
	}

	if (!(c->flags & SPLKMEM_KMC_NODEBUG) && !skc_obj_claim(c, obj))
		return;
	if (!skc_mag_push(c, obj))
		skc_mag_free(c, obj);
}

/* Everything splkmem_cache_alloc() does not do inline. */
static noinline void *skc_alloc(struct splkmem_cache *c, int kmflags)
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
		obj = skc_mag_pop(c);
		if (unlikely(!obj)) {
			obj = skc_mag_alloc(c, kmflags);
			if (!obj)
				return NULL;
			/* Emergency objects have no header (an rbtree). */
			if (!is_vmalloc_addr(obj))
				goto constructed;
		}
		if (!(c->flags & SPLKMEM_KMC_NODEBUG))
			WRITE_ONCE(skc_hdr(c, obj)->magic, SKC_OBJ_LIVE);
	}

constructed:
	if (c->ctor && c->ctor(obj, c->priv, kmflags)) {
		skc_release(c, obj);
		return NULL;
	}
	if (!c->ctor)
		prefetchw(obj);
	return obj;
}

/*
 * The fast paths: a magazine hit on a virtual-memory-backed cache with no
 * constructor (no destructor for a free) is served here without a call;
 * everything else goes to skc_alloc() and skc_release().  A hit never
 * sleeps, so the sleeping-allocation check that might_sleep_if() makes
 * (CONFIG_DEBUG_ATOMIC_SLEEP) is all a hit keeps of it; a miss has it in
 * full.
 */
void *splkmem_cache_alloc(struct splkmem_cache *c, int kmflags)
{
	void *obj;

	if (likely(!(c->flags & SPLKMEM_KMC_SLAB) && !c->ctor &&
		   splkmem_kmflags_valid(kmflags))) {
		if (IS_ENABLED(CONFIG_DEBUG_ATOMIC_SLEEP))
			might_sleep_if(!(kmflags & SPLKMEM_KM_NOSLEEP));
		obj = skc_mag_pop(c);
		if (likely(obj)) {
			if (!(c->flags & SPLKMEM_KMC_NODEBUG))
				WRITE_ONCE(skc_hdr(c, obj)->magic,
					   SKC_OBJ_LIVE);
			prefetchw(obj);
			return obj;
		}
	}
	return skc_alloc(c, kmflags);
}
EXPORT_SYMBOL_GPL(splkmem_cache_alloc);

void splkmem_cache_free(struct splkmem_cache *c, void *obj)
{
	if (likely(!(c->flags & SPLKMEM_KMC_SLAB) && !c->dtor &&
		   skc_vmalloc_addr(obj))) {
		if (!(c->flags & SPLKMEM_KMC_NODEBUG) && !skc_obj_claim(c, obj))
			return;
		if (likely(skc_mag_push(c, obj)))
			return;
		skc_mag_free(c, obj);
		return;
	}
	if (c->dtor)
		c->dtor(obj, c->priv);
	skc_release(c, obj);
}
EXPORT_SYMBOL_GPL(splkmem_cache_free);

u64 splkmem_cache_inuse(struct splkmem_cache *c)
{
	if (skc_is_slab(c))
		return skc_linux_objs(c);
	return READ_ONCE(c->obj_total);
}
EXPORT_SYMBOL_GPL(splkmem_cache_inuse);

u64 splkmem_cache_entry_size(struct splkmem_cache *c)
{
	return c->obj_size;
}
EXPORT_SYMBOL_GPL(splkmem_cache_entry_size);

const char *splkmem_cache_name(struct splkmem_cache *c)
{
	return c->name;
}
EXPORT_SYMBOL_GPL(splkmem_cache_name);

int splkmem_cache_set_magazine(struct splkmem_cache *c, unsigned int size)
{
	int rc;

	might_sleep();
	if (skc_is_slab(c))
		return -EOPNOTSUPP;
	if (size == 1 || size > SKC_MAG_MAX)
		return -EINVAL;
	/*
	 * One resize at a time, so the size recorded is the size of the
	 * magazines the last resize installed.
	 */
	mutex_lock(&c->mag_mutex);
	rc = skc_mag_resize(c, size);
	mutex_unlock(&c->mag_mutex);
	return rc;
}
EXPORT_SYMBOL_GPL(splkmem_cache_set_magazine);

#ifdef SPL_KMEM_TESTING
void splkmem_cache_inject_grow_delay(struct splkmem_cache *c,
				     unsigned int msecs)
{
	WRITE_ONCE(c->grow_delay_ms, msecs);
}
EXPORT_SYMBOL_GPL(splkmem_cache_inject_grow_delay);
#endif

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

	spin_lock_irqsave(&c->lock, flags);
	/*
	 * Objects move between the magazines and the slabs under c->lock, but
	 * each CPU's count is read at its own moment, and an object freed on
	 * one CPU after it was counted on another can be counted twice.  Every
	 * object in a magazine is counted in obj_alloc: never say more.
	 */
	st->mag_objs = min_t(u64, skc_mag_objs(c), c->obj_alloc);
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
	st->slab_locks = c->slab_locks;
	st->slab_contended = c->slab_contended;
	spin_unlock_irqrestore(&c->lock, flags);
	skc_depot_stats(c, st);
}
EXPORT_SYMBOL_GPL(splkmem_cache_get_stats);
