// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A stand-in for the module, for testing splkmemctl's terminal handling
 * on a host without spl_kmem.ko: splkmem_open() succeeds and
 * splkmem_cache_dump() returns $FAKE_CACHES caches (default 60) whose
 * sizes change from one dump to the next.  Linked before libsplkmem.a
 * (with --allow-multiple-definition), so these definitions win; the rest
 * of the library is the real one.  Test builds only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splkmem.h"

struct splkmem {
	struct splkmem_error err;
};

static unsigned int dumps;

int splkmem_open(struct splkmem **h, struct splkmem_error *err)
{
	(void)err;
	*h = calloc(1, sizeof(**h));
	return *h ? 0 : -ENOMEM;
}

void splkmem_close(struct splkmem *h)
{
	free(h);
}

const struct splkmem_error *splkmem_last_error(const struct splkmem *h)
{
	return &h->err;
}

int splkmem_cache_dump(struct splkmem *h, struct splkmem_cache_info **caches,
		       size_t *n, unsigned int retries, bool *interrupted)
{
	const char *env = getenv("FAKE_CACHES");
	size_t i, count = env ? strtoul(env, NULL, 10) : 60;
	struct splkmem_cache_info *v = calloc(count ? count : 1, sizeof(*v));

	(void)h;
	(void)retries;
	if (!v)
		return -ENOMEM;
	dumps++;
	for (i = 0; i < count; i++) {
		struct splkmem_cache_info *c = &v[i];

		/* Long names: a row is wider than a small terminal. */
		snprintf(c->name, sizeof(c->name), "fake_cache_%03zu", i);
		c->backing = SPLKMEM_BACKING_KVMEM;
		c->flags = SPLKMEM_CACHE_F_KVMEM;
		c->obj_size = 64u << (i % 8);
		c->slab_size = 1u << 20;
		c->slab_objs = c->slab_size / c->obj_size;
		c->mag_size = 32;
		c->slab_total = 1 + (i * 7 + dumps) % 50;
		c->slab_alloc = c->slab_total / 2;
		c->obj_total = c->slab_total * c->slab_objs;
		/* used_bytes orders the caches differently from bytes. */
		c->obj_alloc = c->obj_total / (1 + (i % 5));
		c->mag_objs = i % 3;
		c->bytes = (uint64_t)c->slab_total * c->slab_size;
		c->reap = i;
	}
	*caches = v;
	*n = count;
	if (interrupted)
		*interrupted = false;
	return 0;
}

static const struct splkmem_tunable fake_tunables[] = {
	{ "magazine_size", 0, 2, 256, true },
	{ "kmem_threads", 4, 1, 64, false },
};

int splkmem_tunables_get(struct splkmem *h, struct splkmem_tunable **t,
			 size_t *n)
{
	(void)h;
	*t = malloc(sizeof(fake_tunables));
	if (!*t)
		return -ENOMEM;
	memcpy(*t, fake_tunables, sizeof(fake_tunables));
	*n = 2;
	return 0;
}

int splkmem_tunable_get(struct splkmem *h, const char *name,
			struct splkmem_tunable *t)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (!strcmp(fake_tunables[i].name, name)) {
			*t = fake_tunables[i];
			return 0;
		}
	h->err.code = ENOENT;
	snprintf(h->err.msg, sizeof(h->err.msg), "no such tunable");
	return -ENOENT;
}

int splkmem_reap(struct splkmem *h, const char *name,
		 struct splkmem_reap_result *res)
{
	(void)h;
	res->slabs = name ? 1 : 10;
	res->bytes = res->slabs << 20;
	return 0;
}
