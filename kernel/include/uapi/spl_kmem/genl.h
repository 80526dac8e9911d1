/* SPDX-License-Identifier: (GPL-2.0-or-later WITH Linux-syscall-note) OR MIT */
/*
 * The spl_kmem generic netlink family: the one interface between
 * spl_kmem.ko and userspace (libsplkmem, and through it splkmemctl and the
 * daemon).  Shared by the kernel and userspace; userspace includes it as
 * <spl_kmem/genl.h> with -I kernel/include/uapi.
 *
 * Compatibility: commands and attributes are only ever added, at the end
 * of their enum; none is renumbered or given a new type.  Requests are
 * validated strictly, so a request carrying an attribute this version does
 * not know fails with EINVAL and an extack message pointing at it.
 *
 * Attributes are grouped in nests so that a request names what it acts on
 * the same way a reply describes it:
 *
 *   SPLKMEM_A_CACHE   (nest, SPLKMEM_CACHE_A_*)    one cache
 *   SPLKMEM_A_TUNABLE (nest, SPLKMEM_TUNABLE_A_*)  one module parameter;
 *                                                  repeated in a reply
 *
 * Commands (do = request/reply, dump = NLM_F_DUMP; "admin" = the sender
 * needs CAP_NET_ADMIN in the initial user namespace, GENL_ADMIN_PERM).
 * Cache statistics are as sensitive as /proc/slabinfo: reading them is
 * admin too.  Only TUNABLE_GET is open, as /sys/module/spl_kmem/parameters
 * is.
 *
 *   CACHE_GET do     admin.  request: CACHE{NAME}
 *                    reply:   CACHE_GET, CACHE{every statistic}
 *   CACHE_GET dump   admin.  request: no attributes
 *                    reply:   one CACHE_GET message per cache; the dump is
 *                    flagged NLM_F_DUMP_INTR when a cache was created or
 *                    destroyed while it ran (the listing may then miss or
 *                    repeat a cache: dump again)
 *   CACHE_SET do     admin.  request: CACHE{NAME, MAG_SIZE}; MAG_SIZE is 0
 *                    (automatic) or SPLKMEM_MAG_MIN..SPLKMEM_MAG_MAX
 *                    reply:   CACHE_GET, CACHE{every statistic}
 *   TUNABLE_GET do   request: nothing (all tunables) or TUNABLE{NAME}
 *                    reply:   TUNABLE_GET, one TUNABLE{NAME, VALUE, MIN_VALUE,
 *                    MAX_VALUE, ZERO_OK} per tunable
 *   TUNABLE_SET do   admin.  request: TUNABLE{NAME, VALUE}
 *                    reply:   TUNABLE_GET, TUNABLE{NAME, VALUE, ...}
 *   REAP do          admin.  request: nothing (every cache) or CACHE{NAME}
 *                    reply:   REAP, REAP_SLABS, REAP_BYTES[, CACHE{NAME}]
 *
 * Tunables are keyed by name, the module parameter's name under
 * /sys/module/spl_kmem/parameters/: names outlive any numbering, and a
 * tunable set here and one written to sysfs go through the same check.
 *
 * Notifications, on the multicast group SPLKMEM_MCGRP_EVENTS, which only
 * CAP_NET_ADMIN may join where the kernel can say so
 * (GENL_MCAST_CAP_NET_ADMIN; they carry what CACHE_GET does):
 *
 *   CACHE_NEW_NTF    CACHE{every statistic}        a cache was created
 *   CACHE_DEL_NTF    CACHE{NAME}                   a cache was destroyed
 *   DEADLOCK_NTF     CACHE{NAME, OBJ_DEADLOCK}     a growth was declared
 *                                                  deadlocked
 *   EMERGENCY_NTF    CACHE{NAME, OBJ_EMERGENCY}, EVENTS_MISSED
 *                    an emergency object was allocated; rate-limited,
 *                    EVENTS_MISSED counts those not announced since the
 *                    last one that was
 *   REAP_NTF         CACHE{NAME}, REAP_SLABS, REAP_BYTES
 *                    a cache was reaped (one per cache of a reap-all)
 *
 * Every u64 attribute is 64-bit aligned with SPLKMEM_A_PAD or
 * SPLKMEM_CACHE_A_PAD (nla_put_u64_64bit()).
 */
#ifndef _UAPI_SPL_KMEM_GENL_H
#define _UAPI_SPL_KMEM_GENL_H

#define SPLKMEM_GENL_NAME	"spl_kmem"
#define SPLKMEM_GENL_VERSION	1
#define SPLKMEM_MCGRP_EVENTS	"events"

/* Longest cache or tunable name, without the terminating NUL. */
#define SPLKMEM_NAME_LEN	31

/* Magazine sizes a cache may be given (0 = automatic). */
#define SPLKMEM_MAG_MIN		2
#define SPLKMEM_MAG_MAX		256

enum splkmem_cmd {
	SPLKMEM_CMD_UNSPEC,
	SPLKMEM_CMD_CACHE_GET,
	SPLKMEM_CMD_CACHE_SET,
	SPLKMEM_CMD_TUNABLE_GET,
	SPLKMEM_CMD_TUNABLE_SET,
	SPLKMEM_CMD_REAP,
	SPLKMEM_CMD_CACHE_NEW_NTF,
	SPLKMEM_CMD_CACHE_DEL_NTF,
	SPLKMEM_CMD_DEADLOCK_NTF,
	SPLKMEM_CMD_EMERGENCY_NTF,
	SPLKMEM_CMD_REAP_NTF,

	__SPLKMEM_CMD_MAX,
	SPLKMEM_CMD_MAX = __SPLKMEM_CMD_MAX - 1
};

/* Top-level attributes. */
enum splkmem_attr {
	SPLKMEM_A_UNSPEC,
	SPLKMEM_A_PAD,
	SPLKMEM_A_CACHE,		/* nest: SPLKMEM_CACHE_A_* */
	SPLKMEM_A_TUNABLE,		/* nest: SPLKMEM_TUNABLE_A_* */
	SPLKMEM_A_REAP_SLABS,		/* u64: slabs freed */
	SPLKMEM_A_REAP_BYTES,		/* u64: bytes returned to the system */
	SPLKMEM_A_EVENTS_MISSED,	/* u32: events dropped by rate limiting */

	__SPLKMEM_A_MAX,
	SPLKMEM_A_MAX = __SPLKMEM_A_MAX - 1
};

/* What backs a cache's objects (SPLKMEM_CACHE_A_BACKING). */
enum splkmem_backing {
	SPLKMEM_BACKING_KVMEM = 1,	/* vmalloc'ed slabs with magazines */
	SPLKMEM_BACKING_SLAB = 2,	/* a Linux kmem_cache */
};

/* Cache flags (SPLKMEM_CACHE_A_FLAGS), as given at creation. */
#define SPLKMEM_CACHE_F_NODEBUG		0x0001
#define SPLKMEM_CACHE_F_KVMEM		0x0002
#define SPLKMEM_CACHE_F_SLAB		0x0004
#define SPLKMEM_CACHE_F_RECLAIMABLE	0x0008

/*
 * One cache.  In a request only NAME (and, for CACHE_SET, MAG_SIZE) may
 * appear.  A reply carries every attribute (MAG_AUTO only when set); for
 * a Linux-slab-backed cache the slab, object and magazine counters are
 * zero and LINUX_OBJS counts its objects.  Objects in
 * magazines count as allocated: live objects = OBJ_ALLOC - MAG_OBJS.
 */
enum splkmem_cache_attr {
	SPLKMEM_CACHE_A_UNSPEC,
	SPLKMEM_CACHE_A_PAD,
	SPLKMEM_CACHE_A_NAME,		/* string, at most SPLKMEM_NAME_LEN */
	SPLKMEM_CACHE_A_BACKING,	/* u32: enum splkmem_backing */
	SPLKMEM_CACHE_A_FLAGS,		/* u32: SPLKMEM_CACHE_F_* */
	SPLKMEM_CACHE_A_OBJ_SIZE,	/* u32: bytes, as requested */
	SPLKMEM_CACHE_A_OBJ_ALIGN,	/* u32: bytes */
	SPLKMEM_CACHE_A_SLAB_SIZE,	/* u32: bytes per slab */
	SPLKMEM_CACHE_A_SLAB_OBJS,	/* u32: objects per slab */
	SPLKMEM_CACHE_A_MAG_SIZE,	/* u32: objects per CPU magazine; in
					 * CACHE_SET: 0 (automatic) or 2..256 */
	SPLKMEM_CACHE_A_MAG_REFILL,	/* u32: objects moved per refill */
	SPLKMEM_CACHE_A_MAG_AUTO,	/* flag: magazine sized automatically */
	SPLKMEM_CACHE_A_MAG_OBJS,	/* u64: objects in magazines, all CPUs */
	SPLKMEM_CACHE_A_SLAB_TOTAL,	/* u64 */
	SPLKMEM_CACHE_A_SLAB_ALLOC,	/* u64 */
	SPLKMEM_CACHE_A_SLAB_MAX,	/* u64 */
	SPLKMEM_CACHE_A_OBJ_TOTAL,	/* u64 */
	SPLKMEM_CACHE_A_OBJ_ALLOC,	/* u64 */
	SPLKMEM_CACHE_A_OBJ_MAX,	/* u64 */
	SPLKMEM_CACHE_A_OBJ_EMERGENCY,	/* u64: emergency objects outstanding */
	SPLKMEM_CACHE_A_OBJ_EMERGENCY_MAX, /* u64 */
	SPLKMEM_CACHE_A_OBJ_DEADLOCK,	/* u64: growths declared deadlocked */
	SPLKMEM_CACHE_A_LINUX_OBJS,	/* u64: objects from the Linux slab */
	SPLKMEM_CACHE_A_SLAB_CREATE,	/* u64: slabs created */
	SPLKMEM_CACHE_A_SLAB_DESTROY,	/* u64: slabs destroyed */
	SPLKMEM_CACHE_A_SLAB_FAIL,	/* u64: slab allocations that failed */
	SPLKMEM_CACHE_A_GROW,		/* u64: asynchronous growths */
	SPLKMEM_CACHE_A_REAP,		/* u64: reaps */
	SPLKMEM_CACHE_A_BYTES,		/* u64: memory held (slabs, emergency) */
	SPLKMEM_CACHE_A_GROW_FAIL,	/* u64: growths that added no slab */
	SPLKMEM_CACHE_A_GROW_BACKOFF,	/* u64: allocations that backed off */
	SPLKMEM_CACHE_A_DEPOT_FULL,	/* u64: full magazines in the depot */
	SPLKMEM_CACHE_A_DEPOT_EMPTY,	/* u64: empty magazines in the depot */
	SPLKMEM_CACHE_A_DEPOT_LOCKS,	/* u64: depot lock acquisitions */
	SPLKMEM_CACHE_A_DEPOT_CONTENDED, /* u64: ...that found it held */
	SPLKMEM_CACHE_A_SLAB_LOCKS,	/* u64: slab lock acquisitions by
					 * magazine refills, flushes, drains */
	SPLKMEM_CACHE_A_SLAB_CONTENDED,	/* u64: ...that found it held */

	__SPLKMEM_CACHE_A_MAX,
	SPLKMEM_CACHE_A_MAX = __SPLKMEM_CACHE_A_MAX - 1
};

/* One tunable.  In a request only NAME (and, for TUNABLE_SET, VALUE). */
enum splkmem_tunable_attr {
	SPLKMEM_TUNABLE_A_UNSPEC,
	SPLKMEM_TUNABLE_A_NAME,		/* string, at most SPLKMEM_NAME_LEN */
	SPLKMEM_TUNABLE_A_VALUE,	/* u32 */
	SPLKMEM_TUNABLE_A_MIN_VALUE,	/* u32: smallest valid value... */
	SPLKMEM_TUNABLE_A_MAX_VALUE,	/* u32: ...and largest */
	SPLKMEM_TUNABLE_A_ZERO_OK,	/* flag: 0 is valid too */

	__SPLKMEM_TUNABLE_A_MAX,
	SPLKMEM_TUNABLE_A_MAX = __SPLKMEM_TUNABLE_A_MAX - 1
};

#endif /* _UAPI_SPL_KMEM_GENL_H */
