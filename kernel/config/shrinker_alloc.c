// SPDX-License-Identifier: GPL-2.0-or-later
/* Linux 6.7 replaced register_shrinker() with shrinker_alloc(). */
#include <linux/mm.h>	/* shrinker.h is not self-contained on 6.1 */

void probe(void);
void probe(void)
{
	struct shrinker *s = shrinker_alloc(0, "probe");

	shrinker_register(s);
	shrinker_free(s);
}
