// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Allocator events.  Until the control plane listens, they are only
 * counted in each cache's statistics; this is the one place that will
 * hand them on.
 */
#include "skc.h"

void skc_notify(enum skc_event ev, struct splkmem_cache *c,
		const struct skc_reap_result *res)
{
}
