// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spl_kmem: the Solaris Porting Layer's kmem cache allocator as a module of
 * its own.  This file only wires the pieces up.
 */
#include <linux/kernel.h>
#include <linux/module.h>

#include "netlink.h"
#include "skc.h"

static int __init spl_kmem_init(void)
{
	int rc;

	rc = skc_grow_init();
	if (rc)
		return rc;
	rc = skc_mag_init();
	if (rc)
		goto fail_mag;
	rc = skc_shrinker_init();
	if (rc)
		goto fail_shrinker;
	rc = skc_genl_init();
	if (rc)
		goto fail_genl;
	return 0;

fail_genl:
	skc_shrinker_fini();
fail_shrinker:
	skc_mag_fini();
fail_mag:
	skc_grow_fini();
	return rc;
}

static void __exit spl_kmem_exit(void)
{
	/*
	 * Consumers hold module references, so they are all gone; a cache
	 * still listed was never destroyed by its owner.  Nothing but this
	 * may reach the caches once the control plane and the shrinker are
	 * gone; their work must be cancelled before the workqueues go.
	 */
	skc_genl_fini();
	skc_shrinker_fini();
	skc_caches_shutdown();
	skc_mag_fini();
	skc_grow_fini();
}

module_init(spl_kmem_init);
module_exit(spl_kmem_exit);

MODULE_DESCRIPTION("Solaris-style kmem object caches (SPL kmem cache)");
MODULE_AUTHOR("spl-kmem developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(SPL_KMEM_VERSION);
