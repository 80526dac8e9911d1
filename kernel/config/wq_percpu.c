// SPDX-License-Identifier: GPL-2.0-or-later
/* Newer kernels added WQ_PERCPU and warn about per-CPU queues without it. */
#include <linux/workqueue.h>

unsigned int probe(void);
unsigned int probe(void)
{
	return WQ_PERCPU;
}
