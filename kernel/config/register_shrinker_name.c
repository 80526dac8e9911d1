// SPDX-License-Identifier: GPL-2.0-or-later
/* Linux 6.0 gave register_shrinker() a name; 6.7 removed it. */
#include <linux/mm.h>	/* shrinker.h is not self-contained on 6.1 */

void probe(struct shrinker *s);
void probe(struct shrinker *s)
{
	(void)register_shrinker(s, "probe");
}
