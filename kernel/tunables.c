// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The module parameters, with the reference allocator's defaults.  One
 * table describes them; sysfs writes and the control plane both go through
 * skc_tunable_set(), so a value is range-checked the same way whichever
 * way it arrives, and a bad one leaves the old value in place.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>

#include "skc.h"

unsigned int skc_magazine_size;
unsigned int skc_obj_per_slab = 8;
unsigned int skc_max_size = 32;
unsigned int skc_slab_limit = 16384;
unsigned int skc_kmem_threads = 4;

/*
 * Serialises writers, so that a value and what its change callback did
 * with it (kmem_threads: the workqueue's max_active) always agree.  sysfs
 * writers are serialised among themselves by the module's parameter lock,
 * but netlink writers run beside them.
 */
static DEFINE_MUTEX(skc_tunables_mutex);

static void skc_threads_changed(void)
{
	skc_grow_set_threads(READ_ONCE(skc_kmem_threads));
}

const struct skc_tunable skc_tunables[SKC_TUNABLE_COUNT] = {
	[SKC_TUNABLE_MAGAZINE_SIZE] = {
		.name = "magazine_size", .val = &skc_magazine_size,
		.min = 2, .max = SKC_MAG_MAX, .zero_ok = true,
	},
	[SKC_TUNABLE_OBJ_PER_SLAB] = {
		.name = "obj_per_slab", .val = &skc_obj_per_slab,
		.min = 1, .max = 4096,
	},
	[SKC_TUNABLE_MAX_SIZE] = {
		.name = "max_size", .val = &skc_max_size,
		.min = 1, .max = 512,
	},
	/*
	 * Above order-3 (PAGE_ALLOC_COSTLY_ORDER) the page allocator stops
	 * trying hard, so bigger objects belong on vmalloc'ed slabs.
	 */
	[SKC_TUNABLE_SLAB_LIMIT] = {
		.name = "slab_limit", .val = &skc_slab_limit,
		.min = 0, .max = PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER,
	},
	[SKC_TUNABLE_KMEM_THREADS] = {
		.name = "kmem_threads", .val = &skc_kmem_threads,
		.min = 1, .max = 64, .changed = skc_threads_changed,
	},
};

/**
 * skc_tunable_set - change a tunable
 * @id: which one
 * @v: the new value
 *
 * Context: process context; may sleep.
 * Return: 0, or -EINVAL when @v is out of range (nothing changes then).
 */
int skc_tunable_set(enum skc_tunable_id id, unsigned int v)
{
	const struct skc_tunable *t = &skc_tunables[id];

	if (!(v == 0 && t->zero_ok) && (v < t->min || v > t->max))
		return -EINVAL;
	mutex_lock(&skc_tunables_mutex);
	WRITE_ONCE(*t->val, v);
	if (t->changed)
		t->changed();
	mutex_unlock(&skc_tunables_mutex);
	return 0;
}

unsigned int skc_tunable_get(enum skc_tunable_id id)
{
	return READ_ONCE(*skc_tunables[id].val);
}

static int skc_param_set(const char *buf, const struct kernel_param *kp)
{
	enum skc_tunable_id id = (const struct skc_tunable *)kp->arg -
				 skc_tunables;
	unsigned int v;
	int rc;

	rc = kstrtouint(buf, 0, &v);
	return rc ? rc : skc_tunable_set(id, v);
}

static int skc_param_get(char *buf, const struct kernel_param *kp)
{
	const struct skc_tunable *t = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*t->val));
}

static const struct kernel_param_ops skc_param_ops = {
	.set = skc_param_set,
	.get = skc_param_get,
};

#define SKC_PARAM(_name, _id)						\
	module_param_cb(_name, &skc_param_ops,				\
			(void *)&skc_tunables[_id], 0644);		\
	__MODULE_PARM_TYPE(_name, "uint")

SKC_PARAM(magazine_size, SKC_TUNABLE_MAGAZINE_SIZE);
MODULE_PARM_DESC(magazine_size, "Magazine size for new caches (2-256), 0 = by object size");
SKC_PARAM(obj_per_slab, SKC_TUNABLE_OBJ_PER_SLAB);
MODULE_PARM_DESC(obj_per_slab, "Target objects per slab (1-4096)");
SKC_PARAM(max_size, SKC_TUNABLE_MAX_SIZE);
MODULE_PARM_DESC(max_size, "Largest slab in MiB (1-512)");
SKC_PARAM(slab_limit, SKC_TUNABLE_SLAB_LIMIT);
MODULE_PARM_DESC(slab_limit, "Objects smaller than N bytes use the Linux slab (0-32768 with 4 KiB pages), 0 = never");
SKC_PARAM(kmem_threads, SKC_TUNABLE_KMEM_THREADS);
MODULE_PARM_DESC(kmem_threads, "Concurrent asynchronous slab growths (1-64)");
