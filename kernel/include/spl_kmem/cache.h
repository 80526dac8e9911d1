/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spl_kmem: Solaris-style object caches for Linux kernel modules.
 *
 * This is the API that consumer modules build against.  Every symbol is
 * prefixed "splkmem_" so that spl_kmem.ko and OpenZFS's spl.ko (which
 * exports spl_kmem_cache_*) can be loaded on one host.
 */
#ifndef _SPL_KMEM_CACHE_H
#define _SPL_KMEM_CACHE_H

#include <linux/types.h>

/* Cache creation flags (splkmem_cache_create() @flags). */
#define SPLKMEM_KMC_NODEBUG	0x0001	/* skip per-object sanity checks on free */
#define SPLKMEM_KMC_KVMEM	0x0002	/* force virtual-memory-backed slabs */
#define SPLKMEM_KMC_SLAB	0x0004	/* force the Linux slab allocator */
#define SPLKMEM_KMC_RECLAIMABLE	0x0008	/* memory may be reclaimed under pressure */
#define SPLKMEM_KMC_PUBLIC	0x000f	/* every flag a caller may pass */

/* Allocation flags (splkmem_cache_alloc() @kmflags). */
#define SPLKMEM_KM_SLEEP	0x0000	/* may sleep; never fails */
#define SPLKMEM_KM_NOSLEEP	0x0001	/* never sleeps; may fail */
#define SPLKMEM_KM_PUSHPAGE	0x0004	/* may sleep, but never starts I/O */
#define SPLKMEM_KM_PUBLIC	0x0005

/**
 * splkmem_kmflags_valid - whether allocation flags are ones spl_kmem knows
 * @kmflags: SPLKMEM_KM_* flags
 *
 * splkmem_cache_alloc() warns once about flags that fail this check.
 *
 * Return: true when @kmflags has no bit outside SPLKMEM_KM_PUBLIC.
 */
static inline bool splkmem_kmflags_valid(int kmflags)
{
	return !(kmflags & ~SPLKMEM_KM_PUBLIC);
}

/* Smallest alignment, and the largest an object may ask for. */
#define SPLKMEM_MIN_ALIGN	8

/* Longest cache name, including the terminating NUL. */
#define SPLKMEM_NAME_MAX	32

struct splkmem_cache;

/**
 * typedef splkmem_ctor_t - object constructor
 * @obj: the object, not yet handed to the caller
 * @priv: the cache's private pointer, as given to splkmem_cache_create()
 * @kmflags: the allocation's SPLKMEM_KM_* flags; honour SPLKMEM_KM_NOSLEEP
 *
 * Runs on every allocation.  Return 0, or a negative errno to fail the
 * allocation (the object goes back to the cache without the destructor).
 */
typedef int (*splkmem_ctor_t)(void *obj, void *priv, int kmflags);

/**
 * typedef splkmem_dtor_t - object destructor
 * @obj: the object being freed
 * @priv: the cache's private pointer
 *
 * Runs on every free, before the object returns to the cache.
 */
typedef void (*splkmem_dtor_t)(void *obj, void *priv);

/**
 * struct splkmem_cache_stats - a consistent snapshot of one cache
 * @flags: SPLKMEM_KMC_* flags in force (KVMEM or SLAB is always set)
 * @obj_size: object size as requested
 * @obj_align: object alignment
 * @slab_size: bytes per slab (0 for Linux-slab-backed caches)
 * @slab_objs: objects per slab (0 for Linux-slab-backed caches)
 * @mag_size: magazine capacity (0 for Linux-slab-backed caches); each CPU
 *            holds two magazines, a loaded and a previous one
 * @mag_refill: objects moved per magazine refill from the slabs, or flush
 *              to them when no magazine can be had from the depot
 * @mag_objs: objects held in the magazines of all CPUs and in the depot's
 *            full magazines
 * @slab_total: slabs held by the cache
 * @slab_alloc: slabs with at least one object allocated
 * @slab_max: high-water mark of @slab_alloc
 * @obj_total: objects in all slabs, plus emergency objects
 * @obj_alloc: objects handed out (live or in magazines), emergency included
 * @obj_max: high-water mark of @obj_alloc
 * @obj_emergency: emergency objects outstanding
 * @obj_emergency_max: high-water mark of @obj_emergency
 * @obj_deadlock: times a growth was declared deadlocked
 * @linux_objs: objects allocated from the Linux slab cache
 * @slab_create: slabs created since the cache was created
 * @slab_destroy: slabs freed since the cache was created
 * @slab_fail: slab allocations that failed
 * @grow: asynchronous growths that added slabs (one may add several)
 * @growing: 1 while a growth is queued or running, else 0
 * @reap: reaps of this cache
 * @bytes: bytes of memory the cache holds (slabs and emergency objects)
 * @grow_fail: asynchronous growths that could add no slab; each makes the
 *             next growth wait (100 ms, doubling up to 1.6 s while they
 *             keep failing)
 * @grow_backoff: sleeping allocations that found growth failing and no
 *                emergency object either, and slept before retrying
 * @depot_full: full magazines in the cache's depot
 * @depot_empty: empty magazines in the cache's depot
 * @depot_locks: acquisitions of the depot's lock (a CPU trading a whole
 *               magazine, a trim, a reap)
 * @depot_contended: of those, the ones that found the lock held
 * @slab_locks: acquisitions of the cache's slab lock by allocations and
 *              frees (refills and flushes of magazines) and by drains
 * @slab_contended: of those by allocations and frees, the ones that found
 *                  the lock held
 *
 * Objects parked in per-CPU magazines count as allocated in @obj_alloc and
 * are also reported on their own in @mag_objs, so live objects are
 * @obj_alloc - @mag_objs.  For Linux-slab-backed caches only @linux_objs,
 * @reap and the layout fields apply; the other counters stay zero.
 */
struct splkmem_cache_stats {
	u32 flags;
	u32 obj_size;
	u32 obj_align;
	u32 slab_size;
	u32 slab_objs;
	u32 mag_size;
	u32 mag_refill;
	u64 mag_objs;
	u64 slab_total;
	u64 slab_alloc;
	u64 slab_max;
	u64 obj_total;
	u64 obj_alloc;
	u64 obj_max;
	u64 obj_emergency;
	u64 obj_emergency_max;
	u64 obj_deadlock;
	u64 linux_objs;
	u64 slab_create;
	u64 slab_destroy;
	u64 slab_fail;
	u64 grow;
	u64 growing;
	u64 reap;
	u64 bytes;
	u64 grow_fail;
	u64 grow_backoff;
	u64 depot_full;
	u64 depot_empty;
	u64 depot_locks;
	u64 depot_contended;
	u64 slab_locks;
	u64 slab_contended;
};

/**
 * splkmem_cache_create - create an object cache
 * @name: cache name: 1 to SPLKMEM_NAME_MAX - 1 printable characters, no
 *        blank and no '/'; unique among spl_kmem caches; copied.  A Linux
 *        slab backing it appears as "splkmem_<name>" in /proc/slabinfo
 * @size: object size in bytes, at least 1
 * @align: object alignment, 0 for the default (8), else a power of two
 *         from 8 to PAGE_SIZE
 * @ctor: constructor run on each allocation, or NULL
 * @dtor: destructor run on each free, or NULL
 * @priv: private pointer passed to @ctor and @dtor
 * @flags: SPLKMEM_KMC_* flags; without KVMEM or SLAB the backing is chosen
 *         by size: the Linux slab below the slab_limit tunable, virtual-
 *         memory-backed slabs from it up
 *
 * Context: process context; may sleep.
 * Return: the cache, or an ERR_PTR(): -EINVAL for a bad argument, -EEXIST
 * for a name in use, -E2BIG for an object too large for the largest slab
 * (or, with SPLKMEM_KMC_SLAB, larger than KMALLOC_MAX_SIZE), -ENOMEM.
 */
struct splkmem_cache *splkmem_cache_create(const char *name, size_t size,
					   size_t align, splkmem_ctor_t ctor,
					   splkmem_dtor_t dtor, void *priv,
					   unsigned int flags);

/**
 * splkmem_cache_destroy - destroy a cache and return all its memory
 * @cache: the cache; every object must have been freed
 *
 * A cache destroyed with objects still allocated says so in the kernel log
 * and is leaked rather than freed under its users; if it is backed by the
 * Linux slab allocator, its name stays taken (splkmem_cache_create() gives
 * -EEXIST) because the Linux cache and its sysfs entry stay too.  A cache
 * never destroyed is destroyed when spl_kmem is unloaded, with one warning
 * naming it; its constructor and destructor are not called again.
 *
 * Context: process context; may sleep.  No allocation or free on @cache
 * may run concurrently or later.
 */
void splkmem_cache_destroy(struct splkmem_cache *cache);

/**
 * splkmem_cache_alloc - allocate an object
 * @cache: the cache
 * @kmflags: SPLKMEM_KM_SLEEP, SPLKMEM_KM_NOSLEEP or SPLKMEM_KM_PUSHPAGE
 *
 * With SPLKMEM_KM_SLEEP or SPLKMEM_KM_PUSHPAGE the call may sleep and
 * returns NULL only if the constructor fails.  With SPLKMEM_KM_NOSLEEP it
 * never sleeps; when no object is free it tries an emergency object and
 * may return NULL.  SPLKMEM_KM_PUSHPAGE may use the memory reserves
 * (__GFP_HIGH) and never starts I/O.  While the cache cannot grow (its
 * slab allocations fail), sleeping callers get emergency objects or sleep
 * between attempts (see @grow_fail in struct splkmem_cache_stats): they
 * never spin.  Unknown flag bits are reported once (WARN_ONCE).
 *
 * Context: any context with SPLKMEM_KM_NOSLEEP, else process context.
 * Return: an object aligned as the cache requires, or NULL.
 */
void *splkmem_cache_alloc(struct splkmem_cache *cache, int kmflags);

/**
 * splkmem_cache_free - free an object
 * @cache: the cache it was allocated from
 * @obj: the object
 *
 * The object may be freed on any CPU, not only the one that allocated it.
 *
 * On a virtual-memory-backed cache without SPLKMEM_KMC_NODEBUG, a free of
 * an object that is not allocated from @cache (freed twice, another
 * cache's, or no object at all) is ignored and reported once per cache in
 * the kernel log, naming the cache.  Linux-slab-backed caches leave such
 * checks to the kernel's slab allocator (freelist hardening, slub_debug).
 *
 * Context: any context.
 */
void splkmem_cache_free(struct splkmem_cache *cache, void *obj);

/**
 * splkmem_cache_reap_now - return a cache's idle memory to the system
 * @cache: the cache
 *
 * Flushes the magazines of every online CPU back to the slabs and frees
 * every empty slab, except the slabs a growth created in the last 100 ms
 * for allocations still waiting to use them.  A CPU going offline returns
 * its magazines by itself (a CPU hotplug callback), so nothing stays
 * behind on an offline CPU.
 *
 * Context: process context; may sleep.  May be called from memory
 * reclaim, such as the caller's own shrinker or reclaim thread, and while
 * CPUs go on- or offline: it takes no CPU hotplug lock, no global lock
 * and no lock that splkmem_cache_create() or splkmem_cache_destroy() hold,
 * allocates nothing, and waits only for work items on a WQ_MEM_RECLAIM
 * workqueue.  Concurrent reaps of one cache run one after the other.
 * Must not be called with a spinlock held or in atomic context.
 * Return: bytes returned to the system.
 */
size_t splkmem_cache_reap_now(struct splkmem_cache *cache);

/**
 * splkmem_reap - reap every cache, as splkmem_cache_reap_now() does
 *
 * Context: as for splkmem_cache_reap_now(): process context, may sleep,
 * safe from memory reclaim and during CPU hotplug.  It never waits for a
 * cache being created, and a cache being destroyed waits for it instead.
 * Return: bytes returned to the system.
 */
size_t splkmem_reap(void);

/**
 * splkmem_cache_inuse - objects the cache holds
 * @cache: the cache
 *
 * Return: objects in the cache's slabs (free or not) plus emergency
 * objects; for a Linux-slab-backed cache, objects allocated from it.
 */
u64 splkmem_cache_inuse(struct splkmem_cache *cache);

/**
 * splkmem_cache_entry_size - size of one object
 * @cache: the cache
 *
 * Return: the object size given to splkmem_cache_create().
 */
u64 splkmem_cache_entry_size(struct splkmem_cache *cache);

/**
 * splkmem_cache_get_stats - take a snapshot of a cache's statistics
 * @cache: the cache
 * @st: filled in
 *
 * Context: any context that may take a spinlock.
 */
void splkmem_cache_get_stats(struct splkmem_cache *cache,
			     struct splkmem_cache_stats *st);

/**
 * splkmem_cache_name - the name a cache was created with
 * @cache: the cache
 *
 * Return: the name; valid until the cache is destroyed.
 */
const char *splkmem_cache_name(struct splkmem_cache *cache);

/**
 * splkmem_cache_set_magazine - resize a cache's per-CPU magazines
 * @cache: the cache
 * @size: 2..256 objects per CPU, or 0 to size them from the object size
 *
 * Safe while other CPUs allocate and free from @cache: objects in the old
 * magazines go back to the slabs.
 *
 * Context: process context; may sleep.  Takes the CPU hotplug lock for
 * reading, so never call it from memory reclaim or a CPU hotplug callback.
 * Return: 0, -EINVAL for a bad size, -EOPNOTSUPP for a Linux-slab-backed
 * cache, or -ENOMEM.
 */
int splkmem_cache_set_magazine(struct splkmem_cache *cache, unsigned int size);

#ifdef SPL_KMEM_TESTING
/**
 * splkmem_cache_inject_grow_delay - delay every growth of a cache (testing)
 * @cache: the cache
 * @msecs: milliseconds each asynchronous growth sleeps before allocating
 *
 * For test suites only: makes the growth-deadlock detection path and
 * emergency objects reachable on demand.  0 turns the delay off.  Only a
 * module built with SPL_KMEM_TESTING=1 (as the test harness builds it)
 * has it; packages and DKMS builds do not.
 */
void splkmem_cache_inject_grow_delay(struct splkmem_cache *cache,
				     unsigned int msecs);

/**
 * splkmem_cache_inject_grow_fail - fail a cache's slab allocations (testing)
 * @cache: the cache
 * @count: how many of the next virtual-memory slab allocations fail;
 *         UINT_MAX: all of them until called again; 0: none
 *
 * For test suites only, like splkmem_cache_inject_grow_delay(): makes
 * failed growth, its back-off and the emergency path reachable on demand.
 */
void splkmem_cache_inject_grow_fail(struct splkmem_cache *cache,
				    unsigned int count);

/**
 * splkmem_cache_inject_shrink - run the shrinker's magazine drain (testing)
 * @cache: the cache
 *
 * For test suites only: what the allocator's shrinker does when empty slabs
 * are not enough (drain the magazines that hold objects, then free the
 * slabs that leaves empty), started now for @cache, without the shrinker's
 * once-a-second limit, and waited for.  Memory pressure reaches it only by
 * chance.
 */
void splkmem_cache_inject_shrink(struct splkmem_cache *cache);
#endif /* SPL_KMEM_TESTING */

#endif /* _SPL_KMEM_CACHE_H */
