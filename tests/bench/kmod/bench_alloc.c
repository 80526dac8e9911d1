// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The allocators compared, behind one small interface:
 *
 *   spl-kvmem    spl_kmem cache forced onto virtual-memory slabs (KVMEM)
 *   spl-kvmem-nodebug  the same with SPLKMEM_KMC_NODEBUG: no double-free
 *                and foreign-object checks on free (their cost)
 *   spl-slab     spl_kmem cache forced onto a Linux kmem_cache (SLAB)
 *   slub         a kmem_cache of its own (kmem_cache_create_usercopy(),
 *                like spl_kmem's SLAB backing, so it is never merged with
 *                another cache and has its own /sys/kernel/slab/ entry)
 *   slub-noinit  the same with an empty constructor: SLUB then skips the
 *                init_on_alloc zeroing, which Debian turns on by default
 *   kmalloc      kmalloc()/kfree()
 *   kvmalloc     kvmalloc()/kvfree()
 *   vmalloc      vmalloc()/vfree()
 *   null         returns a static buffer: the cost of the benchmark loop
 */
#include "bench.h"

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

/* ---- spl_kmem ----------------------------------------------------- */

static int kb_spl_setup(struct kb_inst *bi, unsigned int flags)
{
	bi->spl = splkmem_cache_create(bi->cname, bi->size, 0, NULL, NULL,
				       NULL, flags);
	if (IS_ERR(bi->spl)) {
		int rc = PTR_ERR(bi->spl);

		bi->spl = NULL;
		return rc;
	}
	return 0;
}

static int kb_spl_kvmem_setup(struct kb_inst *bi)
{
	return kb_spl_setup(bi, SPLKMEM_KMC_KVMEM);
}

/* The same without the double-free and foreign-object checks of a free. */
static int kb_spl_nodebug_setup(struct kb_inst *bi)
{
	return kb_spl_setup(bi, SPLKMEM_KMC_KVMEM | SPLKMEM_KMC_NODEBUG);
}

static int kb_spl_slab_setup(struct kb_inst *bi)
{
	return kb_spl_setup(bi, SPLKMEM_KMC_SLAB);
}

static void *kb_spl_alloc(struct kb_inst *bi)
{
	return splkmem_cache_alloc(bi->spl, SPLKMEM_KM_SLEEP);
}

static void kb_spl_free(struct kb_inst *bi, void *p)
{
	splkmem_cache_free(bi->spl, p);
}

static void kb_spl_teardown(struct kb_inst *bi)
{
	if (bi->spl)
		splkmem_cache_destroy(bi->spl);
	bi->spl = NULL;
}

/* ---- SLUB --------------------------------------------------------- */

static void kb_noinit_ctor(void *obj)
{
}

static int kb_slub_create(struct kb_inst *bi, void (*ctor)(void *))
{
	/* usersize != 0 keeps the cache from being merged (6.1 and 7.x). */
	bi->kc = kmem_cache_create_usercopy(bi->cname, bi->size, 0, 0, 0,
					    bi->size, ctor);
	return bi->kc ? 0 : -ENOMEM;
}

static int kb_slub_setup(struct kb_inst *bi)
{
	return kb_slub_create(bi, NULL);
}

static int kb_slub_noinit_setup(struct kb_inst *bi)
{
	return kb_slub_create(bi, kb_noinit_ctor);
}

static void *kb_slub_alloc(struct kb_inst *bi)
{
	return kmem_cache_alloc(bi->kc, GFP_KERNEL);
}

static void kb_slub_free(struct kb_inst *bi, void *p)
{
	kmem_cache_free(bi->kc, p);
}

static void kb_slub_teardown(struct kb_inst *bi)
{
	if (bi->kc)
		kmem_cache_destroy(bi->kc);
	bi->kc = NULL;
}

/* ---- kmalloc, kvmalloc, vmalloc, null ----------------------------- */

static int kb_nothing_setup(struct kb_inst *bi)
{
	return 0;
}

static void kb_nothing_teardown(struct kb_inst *bi)
{
}

static void *kb_kmalloc_alloc(struct kb_inst *bi)
{
	return kmalloc(bi->size, GFP_KERNEL);
}

static void kb_kmalloc_free(struct kb_inst *bi, void *p)
{
	kfree(p);
}

static void *kb_kvmalloc_alloc(struct kb_inst *bi)
{
	return kvmalloc(bi->size, GFP_KERNEL);
}

static void kb_kvmalloc_free(struct kb_inst *bi, void *p)
{
	kvfree(p);
}

static void *kb_vmalloc_alloc(struct kb_inst *bi)
{
	return vmalloc(bi->size);
}

static void kb_vmalloc_free(struct kb_inst *bi, void *p)
{
	vfree(p);
}

static u64 kb_null_obj[8];

static void *kb_null_alloc(struct kb_inst *bi)
{
	return kb_null_obj;
}

static void kb_null_free(struct kb_inst *bi, void *p)
{
	WRITE_ONCE(kb_null_obj[0], (unsigned long)p);
}

const struct kb_alloc kb_allocs[] = {
	{ "spl-kvmem", kb_spl_kvmem_setup, kb_spl_alloc, kb_spl_free,
	  kb_spl_teardown, .spl = true },
	{ "spl-kvmem-nodebug", kb_spl_nodebug_setup, kb_spl_alloc,
	  kb_spl_free, kb_spl_teardown, .spl = true },
	{ "spl-slab", kb_spl_slab_setup, kb_spl_alloc, kb_spl_free,
	  kb_spl_teardown, .spl = true, .slab_sysfs = true },
	{ "slub", kb_slub_setup, kb_slub_alloc, kb_slub_free,
	  kb_slub_teardown, .slab_sysfs = true },
	{ "slub-noinit", kb_slub_noinit_setup, kb_slub_alloc, kb_slub_free,
	  kb_slub_teardown, .slab_sysfs = true },
	{ "kmalloc", kb_nothing_setup, kb_kmalloc_alloc, kb_kmalloc_free,
	  kb_nothing_teardown },
	{ "kvmalloc", kb_nothing_setup, kb_kvmalloc_alloc, kb_kvmalloc_free,
	  kb_nothing_teardown },
	{ "vmalloc", kb_nothing_setup, kb_vmalloc_alloc, kb_vmalloc_free,
	  kb_nothing_teardown },
	{ "null", kb_nothing_setup, kb_null_alloc, kb_null_free,
	  kb_nothing_teardown },
};
const unsigned int kb_nr_allocs = ARRAY_SIZE(kb_allocs);

const struct kb_alloc *kb_alloc_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < kb_nr_allocs; i++)
		if (!strcmp(kb_allocs[i].name, name))
			return &kb_allocs[i];
	return NULL;
}

/* Cache names: "kb-<alloc>-<size>", unique per allocator and size. */
int kb_inst_setup(struct kb_inst *bi, const struct kb_alloc *a, size_t size)
{
	int rc;

	memset(bi, 0, sizeof(*bi));
	bi->a = a;
	bi->size = size;
	snprintf(bi->cname, sizeof(bi->cname), "kb-%s-%zu", a->name, size);
	rc = a->setup(bi);
	if (rc)
		pr_err("setup of %s for %zu bytes failed: %d\n", a->name, size,
		       rc);
	return rc;
}

void kb_inst_teardown(struct kb_inst *bi)
{
	if (bi->a)
		bi->a->teardown(bi);
	bi->a = NULL;
}
