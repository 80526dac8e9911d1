/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libsplkmem: the userspace side of the spl_kmem generic netlink family.
 * splkmemctl and the daemon talk to the module only through these calls;
 * no other userspace code speaks netlink.
 *
 * Every call returns 0 or a negative errno.  The errno is the kernel's
 * when the kernel refused (-EPERM without CAP_NET_ADMIN, -ENOENT for an
 * unknown cache or tunable, -EINVAL for a bad value...), and
 * splkmem_last_error() then also holds the kernel's extack message and the
 * attribute it pointed at.  splkmem_open() fails with -ENOENT when the
 * module is not loaded.
 *
 * A handle is not thread-safe: use one per thread.
 */
#ifndef SPLKMEM_H
#define SPLKMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spl_kmem/genl.h>

#ifdef __cplusplus
extern "C" {
#endif

struct splkmem;

struct splkmem_error {
	int code;		/* positive errno, 0 = no error */
	char msg[200];		/* the kernel's extack message, or ours */
	char attr[48];		/* attribute it pointed at, e.g. "cache.mag_size" */
	char hint[64];		/* what the policy allows, e.g. "0..256" */
	bool kernel;		/* the kernel refused (else: we failed) */
};

/* One cache, as CACHE_GET reports it (see <spl_kmem/genl.h>). */
struct splkmem_cache_info {
	char name[SPLKMEM_NAME_LEN + 1];
	uint32_t backing;	/* SPLKMEM_BACKING_* */
	uint32_t flags;		/* SPLKMEM_CACHE_F_* */
	uint32_t obj_size;
	uint32_t obj_align;
	uint32_t slab_size;
	uint32_t slab_objs;
	uint32_t mag_size;
	uint32_t mag_refill;
	bool mag_auto;
	uint64_t mag_objs;
	uint64_t slab_total;
	uint64_t slab_alloc;
	uint64_t slab_max;
	uint64_t obj_total;
	uint64_t obj_alloc;
	uint64_t obj_max;
	uint64_t obj_emergency;
	uint64_t obj_emergency_max;
	uint64_t obj_deadlock;
	uint64_t linux_objs;
	uint64_t slab_create;
	uint64_t slab_destroy;
	uint64_t slab_fail;
	uint64_t grow;
	uint64_t reap;
	uint64_t bytes;
	uint64_t grow_fail;
	uint64_t grow_backoff;
	uint64_t depot_full;		/* full magazines in the depot */
	uint64_t depot_empty;		/* empty magazines in the depot */
	uint64_t depot_locks;		/* depot lock acquisitions */
	uint64_t depot_contended;	/* ...that found it held */
	uint64_t slab_locks;		/* slab lock acquisitions by magazines */
	uint64_t slab_contended;	/* ...that found it held */
};

struct splkmem_tunable {
	char name[SPLKMEM_NAME_LEN + 1];
	uint32_t value;
	uint32_t min;
	uint32_t max;
	bool zero_ok;		/* 0 is valid besides min..max */
};

struct splkmem_reap_result {
	uint64_t slabs;		/* slabs freed */
	uint64_t bytes;		/* bytes returned to the system */
};

enum splkmem_event_type {
	SPLKMEM_EVENT_CACHE_NEW,
	SPLKMEM_EVENT_CACHE_DEL,
	SPLKMEM_EVENT_DEADLOCK,
	SPLKMEM_EVENT_EMERGENCY,
	SPLKMEM_EVENT_REAP,
};

struct splkmem_event {
	enum splkmem_event_type type;
	/* name always; every field for CACHE_NEW; obj_deadlock for DEADLOCK;
	 * obj_emergency for EMERGENCY */
	struct splkmem_cache_info cache;
	struct splkmem_reap_result reap;	/* REAP only */
	uint32_t missed;			/* EMERGENCY: events not sent */
};

/* Return non-zero to stop splkmem_events_read(), which then returns it. */
typedef int (*splkmem_event_fn)(const struct splkmem_event *ev, void *arg);

/* Connecting.  On failure *h is NULL and @err (if not NULL) says why. */
int splkmem_open(struct splkmem **h, struct splkmem_error *err);
void splkmem_close(struct splkmem *h);
const struct splkmem_error *splkmem_last_error(const struct splkmem *h);
/* "strerror: message (attribute NAME, valid: HINT)"; returns @buf. */
const char *splkmem_error_str(const struct splkmem_error *err, char *buf,
			      size_t len);

/*
 * Every cache, in a malloc'ed array (free() it).  A dump that a cache's
 * creation or destruction interrupted is retried up to @retries times;
 * if it still was, the list is returned with *@interrupted set.
 */
int splkmem_cache_dump(struct splkmem *h, struct splkmem_cache_info **caches,
		       size_t *n, unsigned int retries, bool *interrupted);
int splkmem_cache_get(struct splkmem *h, const char *name,
		      struct splkmem_cache_info *info);
/* @size: 0 (automatic) or SPLKMEM_MAG_MIN..SPLKMEM_MAG_MAX.  @info may be NULL. */
int splkmem_cache_set_magazine(struct splkmem *h, const char *name,
			       uint32_t size, struct splkmem_cache_info *info);

/* Every tunable, in a malloc'ed array (free() it). */
int splkmem_tunables_get(struct splkmem *h, struct splkmem_tunable **tunables,
			 size_t *n);
int splkmem_tunable_get(struct splkmem *h, const char *name,
			struct splkmem_tunable *t);
/* @t (may be NULL) receives the new state. */
int splkmem_tunable_set(struct splkmem *h, const char *name, uint32_t value,
			struct splkmem_tunable *t);

/* Reap one cache, or every cache when @name is NULL. */
int splkmem_reap(struct splkmem *h, const char *name,
		 struct splkmem_reap_result *res);

/*
 * Events: subscribe once, then call splkmem_events_read() whenever
 * splkmem_events_fd() is readable (or just call it: it blocks).  It hands
 * every event received to @fn.
 */
int splkmem_events_subscribe(struct splkmem *h);
int splkmem_events_fd(const struct splkmem *h);
int splkmem_events_read(struct splkmem *h, splkmem_event_fn fn, void *arg);

/*
 * Watching for the module: a socket on the generic netlink controller's
 * "notify" group tells when the spl_kmem family is registered (module
 * loaded) or unregistered (module unloaded), so a client can wait for
 * the module without polling.  Subscribe before the first splkmem_open()
 * so that no registration can fall between the two.
 */
struct splkmem_watch;

#define SPLKMEM_WATCH_NEW	0x1	/* the family was registered */
#define SPLKMEM_WATCH_DEL	0x2	/* the family was unregistered */
#define SPLKMEM_WATCH_LOST	0x4	/* notifications were lost: look again */

/* On failure *w is NULL and @err (if not NULL) says why. */
int splkmem_watch_open(struct splkmem_watch **w, struct splkmem_error *err);
void splkmem_watch_close(struct splkmem_watch *w);
/* Poll it for readability, then call splkmem_watch_read(). */
int splkmem_watch_fd(const struct splkmem_watch *w);
/*
 * Read every pending notification without blocking; *@what gets the
 * SPLKMEM_WATCH_* bits of those about the spl_kmem family (0: none).
 * When both NEW and DEL are set, the order is unknown: close any handle
 * and try splkmem_open() again.  Return 0 or a negative errno.
 */
int splkmem_watch_read(struct splkmem_watch *w, unsigned int *what);

const char *splkmem_event_name(enum splkmem_event_type type);
const char *splkmem_backing_name(uint32_t backing);

#ifdef __cplusplus
}
#endif

#endif /* SPLKMEM_H */
