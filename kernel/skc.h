/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal declarations of spl_kmem: shared by the files that make up the
 * allocator (one per concern) and never seen by consumer modules.
 *
 * Memory layout of a virtual-memory-backed ("KVMEM") slab:
 *
 *   +-----------------+ <- vmalloc'ed, page aligned
 *   | struct skc_slab |
 *   +-----------------+ <- first_off: aligned to obj_align
 *   | object 0        |
 *   | skc_obj_hdr     | <- hdr_off bytes after the object
 *   +-----------------+ <- first_off + stride
 *   | object 1 ...    |
 *
 * The per-object header sits after the object so that a PAGE_SIZE-aligned
 * object does not pay a whole page of padding for its header.
 */
#ifndef _SKC_H
#define _SKC_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>	/* before local_lock.h: PREEMPT_RT needs it */
#include <linux/local_lock.h>
#include <linux/percpu.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/srcu.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <spl_kmem/cache.h>

#define SKC_SLAB_MAGIC		0x534c4142u	/* "SLAB" */
#define SKC_OBJ_MAGIC		0x4f424a53u	/* "OBJS": free (in a slab or magazine) */
#define SKC_OBJ_LIVE		0x4c495645u	/* "LIVE": handed out (debug caches) */
#define SKC_MAG_MAX		256		/* largest magazine */

/*
 * Empty slabs beyond the reserve are freed in the background only once
 * they have stayed empty this long, so a working set that swings by more
 * than a magazine does not pay vmalloc and vfree on every swing.  A reap
 * or the shrinker frees them at once.
 */
#define SKC_EMPTY_AGE		(5 * HZ)

/* Shortest gap between two magazine drains the shrinker starts, per cache. */
#define SKC_MAG_DRAIN_GAP	HZ

/* Bits of splkmem_cache.state. */
enum {
	SKC_GROWING,		/* an asynchronous growth is queued or running */
	SKC_DEADLOCKED,		/* that growth is late: use emergency objects */
	SKC_GROW_NOIO,		/* a KM_PUSHPAGE caller waits for the growth */
	SKC_DESTROYING,		/* a reap keeps no fresh slab for waiters */
	SKC_SAID_DOUBLE_FREE,	/* a double free was reported (once a cache) */
	SKC_SAID_BAD_FREE,	/* a foreign object's free was reported */
};

struct skc_slab {
	u32 magic;
	unsigned int ref;		/* objects handed out */
	unsigned int objs;
	void *free;			/* first free object */
	unsigned long emptied;		/* jiffies when it last became empty */
	bool fresh;			/* created, no object taken yet */
	struct list_head link;		/* on the cache's empty/partial/full list */
	struct splkmem_cache *cache;
};

struct skc_obj_hdr {
	struct skc_slab *slab;
	void *next_free;
	u32 magic;
};

/*
 * A magazine: an array of object pointers.  In the depot it is either
 * full (as many objects as the depot's size) or empty, and @next links it
 * on the depot's list.
 */
struct skc_mag {
	struct skc_mag *next;
	void *objs[];
};

/*
 * One CPU's magazines: the loaded one, which allocations and frees use,
 * and the previous one, swapped in when the loaded one runs empty or full.
 * They live in per-CPU memory so statistics can read @avail and
 * @prev_avail of every CPU; @objs is @loaded's array, cached for the fast
 * path.  Everything here is protected by @lock, a local_lock: interrupts
 * off on ordinary kernels, a per-CPU sleeping lock on PREEMPT_RT.
 */
struct skc_cpu {
	local_lock_t lock;
	unsigned int avail;		/* objects in @loaded */
	unsigned int size;		/* capacity of both magazines */
	unsigned int refill;		/* objects per refill from the slabs */
	unsigned int prev_avail;	/* objects in @prev */
	void **objs;			/* @loaded->objs */
	struct skc_mag *loaded;
	struct skc_mag *prev;
};

/*
 * A cache's depot of whole magazines, full and empty, shared by its CPUs
 * under @lock: a CPU whose two magazines are both exhausted trades one
 * whole magazine here, one short critical section per magazine.
 * @full_min and @empty_min are the fewest magazines on each list since the
 * last trim: magazines nobody needed in that interval, which the trim
 * frees.
 */
struct skc_depot {
	spinlock_t lock;
	struct skc_mag *full;
	struct skc_mag *empty;
	unsigned int nr_full;
	unsigned int nr_empty;
	unsigned int full_min;
	unsigned int empty_min;
	unsigned int size;		/* objects in each full magazine */
	unsigned long mag_pages;	/* pages a full one's objects fill */
	u64 locks;			/* acquisitions of @lock */
	u64 contended;			/* of which found it held */
};

/* One CPU's work item that empties its magazine of one cache. */
struct skc_drain_work {
	struct work_struct work;
	struct splkmem_cache *cache;
	unsigned int cpu;
};

/* An emergency object: pages of its own, tracked by address. */
struct skc_emergency {
	struct rb_node node;
	unsigned long addr;
};

struct splkmem_cache {
	char name[SPLKMEM_NAME_MAX];
	unsigned int flags;		/* SPLKMEM_KMC_* */
	unsigned long state;		/* SKC_* bits */
	splkmem_ctor_t ctor;
	splkmem_dtor_t dtor;
	void *priv;
	struct list_head link;		/* on skc_caches (RCU: walked under SRCU) */
	struct list_head reserved_link;	/* on skc_reserved: the name is taken */

	/* Layout. */
	u32 obj_size;
	u32 obj_align;
	u32 hdr_off;			/* object start to its skc_obj_hdr */
	u32 stride;			/* object + header, aligned */
	u32 first_off;			/* slab start to the first object */
	u32 slab_size;
	u32 slab_objs;

	/* Linux-slab backing. */
	char linux_name[SPLKMEM_NAME_MAX + 8];	/* "splkmem_" + name */
	struct kmem_cache *linux_cache;
	long __percpu *linux_objs;	/* summed by skc_linux_objs() */

	/* Magazines. */
	struct skc_cpu __percpu *cpu;
	unsigned int mag_size_req;	/* as set: 0 = automatic */
	unsigned int mag_size;
	unsigned int mag_refill;
	struct skc_depot depot;
	struct skc_drain_work __percpu *drain;
	struct mutex drain_lock;	/* one drain or resize at a time */
	struct skc_mag **drain_mags;	/* a resize's new magazines, 2 by CPU */
	unsigned int drain_size;	/* and their size */
	unsigned long mag_drained;	/* jiffies of the shrinker's last drain */
	struct work_struct mag_reap_work;	/* the shrinker's drain */
	struct mutex mag_mutex;		/* one resize at a time, outside drain_lock */

	/* Slabs: everything below is protected by @lock. */
	spinlock_t lock;
	struct list_head empty;
	struct list_head partial;
	struct list_head full;
	unsigned long nr_empty;
	struct rb_root emergency;

	/* Growth. */
	wait_queue_head_t grow_wq;
	atomic_t grow_waiters;		/* threads waiting for a growth */
	struct work_struct grow_work;
	struct delayed_work trim_work;
	struct work_struct shrink_work;	/* kmem_cache_shrink(), off reclaim */
	unsigned int grow_delay_ms;	/* testing only */
	unsigned int inject_fail;	/* testing: slab allocations to fail */
	unsigned int grow_streak;	/* growths failed in a row */
	unsigned long grow_retry_at;	/* no growth before (while streak) */

	/* Statistics, under @lock. */
	u64 slab_total, slab_alloc, slab_max;
	u64 obj_total, obj_alloc, obj_max;
	u64 obj_emergency, obj_emergency_max, obj_deadlock;
	u64 slab_create, slab_destroy, slab_fail;
	u64 grow, reap;
	u64 grow_fail, grow_backoff;
	u64 slab_locks, slab_contended;	/* @lock taken by magazine moves */
};

static inline bool skc_is_slab(const struct splkmem_cache *c)
{
	return c->flags & SPLKMEM_KMC_SLAB;
}

static inline struct skc_obj_hdr *skc_hdr(const struct splkmem_cache *c,
					  void *obj)
{
	return obj + c->hdr_off;
}

/*
 * The magazine hits, inlined into splkmem_cache_alloc() and _free(): pop
 * an object from this CPU's loaded magazine (NULL when it is empty), push
 * one onto it (false when it is full).  The rest is skc_mag_alloc() and
 * skc_mag_free().
 */
static __always_inline void *skc_mag_pop(struct splkmem_cache *c)
{
	struct skc_cpu *pc;
	unsigned long flags;
	void *obj = NULL;

	local_lock_irqsave(&c->cpu->lock, flags);
	pc = this_cpu_ptr(c->cpu);
	if (likely(pc->avail))
		obj = pc->objs[--pc->avail];
	local_unlock_irqrestore(&c->cpu->lock, flags);
	return obj;
}

static __always_inline bool skc_mag_push(struct splkmem_cache *c, void *obj)
{
	struct skc_cpu *pc;
	unsigned long flags;
	bool done = false;

	local_lock_irqsave(&c->cpu->lock, flags);
	pc = this_cpu_ptr(c->cpu);
	if (likely(pc->avail < pc->size)) {
		pc->objs[pc->avail++] = obj;
		done = true;
	}
	local_unlock_irqrestore(&c->cpu->lock, flags);
	return done;
}

gfp_t skc_gfp(int kmflags);
#ifdef SPL_KMEM_TESTING
bool skc_inject_fail(struct splkmem_cache *c);
#else
static inline bool skc_inject_fail(struct splkmem_cache *c)
{
	return false;
}
#endif

/* tunables.c: the module parameters. */
enum skc_tunable_id {
	SKC_TUNABLE_MAGAZINE_SIZE,
	SKC_TUNABLE_OBJ_PER_SLAB,
	SKC_TUNABLE_MAX_SIZE,
	SKC_TUNABLE_SLAB_LIMIT,
	SKC_TUNABLE_KMEM_THREADS,
	SKC_TUNABLE_COUNT
};

struct skc_tunable {
	const char *name;
	unsigned int *val;
	unsigned int min;
	unsigned int max;
	bool zero_ok;		/* 0 is allowed besides min..max */
	void (*changed)(void);
};

extern const struct skc_tunable skc_tunables[SKC_TUNABLE_COUNT];
int skc_tunable_set(enum skc_tunable_id id, unsigned int v);
unsigned int skc_tunable_get(enum skc_tunable_id id);
extern unsigned int skc_magazine_size;
extern unsigned int skc_obj_per_slab;
extern unsigned int skc_max_size;
extern unsigned int skc_slab_limit;
extern unsigned int skc_kmem_threads;

/*
 * cache.c: the list of caches, and its generation (bumped on change).
 * Changed under skc_caches_sem; walked either under it or, by reaps and
 * the hotplug callback, which must not wait for a create or destroy, under
 * skc_caches_srcu (reap.c): a destroy waits for those walkers to finish.
 */
extern struct list_head skc_caches;
extern struct rw_semaphore skc_caches_sem;
extern struct srcu_struct skc_caches_srcu;
extern unsigned long skc_caches_gen;
struct splkmem_cache *skc_find_locked(const char *name);
void skc_caches_shutdown(void);

/* slab.c */
int skc_slab_layout(struct splkmem_cache *c);
struct skc_slab *skc_slab_create(struct splkmem_cache *c);
void skc_slab_add(struct splkmem_cache *c, struct skc_slab *slab);
unsigned int skc_slab_take(struct splkmem_cache *c, void **objs,
			   unsigned int want);
void skc_slab_put(struct splkmem_cache *c, void **objs, unsigned int n);
size_t skc_slab_reclaim(struct splkmem_cache *c, unsigned long keep,
			unsigned long max_pages, unsigned long min_age);
unsigned long skc_empty_reserve(const struct splkmem_cache *c);
extern atomic_long_t skc_empty_pages;

/* magazine.c */
unsigned int skc_mag_auto_size(const struct splkmem_cache *c);
int skc_mag_create(struct splkmem_cache *c);
void skc_mag_destroy(struct splkmem_cache *c);
void *skc_mag_alloc(struct splkmem_cache *c, int kmflags);
void skc_mag_free(struct splkmem_cache *c, void *obj);
void skc_mag_drain(struct splkmem_cache *c);
bool skc_mag_drain_async(struct splkmem_cache *c);
unsigned long skc_mag_objs(const struct splkmem_cache *c);
void skc_depot_stats(struct splkmem_cache *c, struct splkmem_cache_stats *st);
bool skc_depot_trim(struct splkmem_cache *c);
void skc_depot_flush(struct splkmem_cache *c);
extern atomic_long_t skc_depot_pages;
int skc_mag_init(void);
void skc_mag_fini(void);
int skc_mag_resize(struct splkmem_cache *c, unsigned int size);

/* grow.c */
int skc_grow_init(void);
void skc_grow_fini(void);
void *skc_grow(struct splkmem_cache *c, int kmflags, bool *waiter);
void skc_grow_setup(struct splkmem_cache *c);
void skc_grow_cancel(struct splkmem_cache *c);
void skc_trim_kick(struct splkmem_cache *c);
void skc_linux_shrink_kick(struct splkmem_cache *c);
void skc_grow_set_threads(unsigned int n);

/* emergency.c */
void *skc_emergency_alloc(struct splkmem_cache *c, int kmflags);
bool skc_emergency_free(struct splkmem_cache *c, void *obj);
size_t skc_emergency_bytes(const struct splkmem_cache *c);

/* reap.c */
struct skc_reap_result {
	u64 slabs;		/* slabs freed */
	u64 bytes;		/* bytes returned to the system */
};

void skc_reap(struct splkmem_cache *c, struct skc_reap_result *res);
void skc_reap_all(struct skc_reap_result *res);
int skc_shrinker_init(void);
void skc_shrinker_fini(void);

/*
 * events.c: what the control plane announces.  skc_notify() may be called
 * in any context, atomic ones included.
 */
enum skc_event {
	SKC_EVENT_CACHE_CREATE,
	SKC_EVENT_CACHE_DESTROY,
	SKC_EVENT_DEADLOCK,
	SKC_EVENT_EMERGENCY,
	SKC_EVENT_REAP,
};

void skc_notify(enum skc_event ev, struct splkmem_cache *c,
		const struct skc_reap_result *res);

#endif /* _SKC_H */
