// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The module parameters, with the reference allocator's defaults.  Every
 * write is range-checked here, so a bad value written through sysfs is
 * refused with -EINVAL and the old value stays.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "skc.h"

struct skc_tunable {
	unsigned int *val;
	unsigned int min;
	unsigned int max;
	bool zero_ok;		/* 0 is allowed besides min..max */
	void (*changed)(void);
};

unsigned int skc_magazine_size;
unsigned int skc_obj_per_slab = 8;
unsigned int skc_max_size = 32;
unsigned int skc_slab_limit = 16384;
unsigned int skc_kmem_threads = 4;

static void skc_threads_changed(void);

static int skc_tunable_set(const char *buf, const struct kernel_param *kp)
{
	const struct skc_tunable *t = kp->arg;
	unsigned int v;
	int rc;

	rc = kstrtouint(buf, 0, &v);
	if (rc)
		return rc;
	if (!(v == 0 && t->zero_ok) && (v < t->min || v > t->max))
		return -EINVAL;
	WRITE_ONCE(*t->val, v);
	if (t->changed)
		t->changed();
	return 0;
}

static int skc_tunable_get(char *buf, const struct kernel_param *kp)
{
	const struct skc_tunable *t = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*t->val));
}

static const struct kernel_param_ops skc_tunable_ops = {
	.set = skc_tunable_set,
	.get = skc_tunable_get,
};

#define SKC_TUNABLE(_name, _var, _min, _max, _zero, _changed, _desc)	\
	static const struct skc_tunable skc_tunable_##_name = {		\
		.val = &(_var), .min = (_min), .max = (_max),		\
		.zero_ok = (_zero), .changed = (_changed),		\
	};								\
	module_param_cb(_name, &skc_tunable_ops,			\
			(void *)&skc_tunable_##_name, 0644);		\
	MODULE_PARM_DESC(_name, _desc)

SKC_TUNABLE(magazine_size, skc_magazine_size, 2, SKC_MAG_MAX, true, NULL,
	    "Magazine size for new caches (2-256), 0 = by object size");
SKC_TUNABLE(obj_per_slab, skc_obj_per_slab, 1, 4096, false, NULL,
	    "Target objects per slab (1-4096)");
SKC_TUNABLE(max_size, skc_max_size, 1, 512, false, NULL,
	    "Largest slab in MiB (1-512)");
/*
 * Above order-3 (PAGE_ALLOC_COSTLY_ORDER) the page allocator stops trying
 * hard, so bigger objects belong on virtual-memory-backed slabs.
 */
SKC_TUNABLE(slab_limit, skc_slab_limit, 0, PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER,
	    true, NULL,
	    "Objects up to N bytes use the Linux slab (0-8 pages), 0 = never");
SKC_TUNABLE(kmem_threads, skc_kmem_threads, 1, 64, false,
	    skc_threads_changed,
	    "Concurrent asynchronous slab growths (1-64)");

static void skc_threads_changed(void)
{
	skc_grow_set_threads(READ_ONCE(skc_kmem_threads));
}
