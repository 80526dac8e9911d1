// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Linux 6.5 renamed reclaim_state->reclaimed_slab to ->reclaimed (and
 * counts every page freed outside the LRU lists there).
 */
#include <linux/sched.h>
#include <linux/swap.h>

void probe(struct reclaim_state *rs);
void probe(struct reclaim_state *rs)
{
	rs->reclaimed += 1;
}
