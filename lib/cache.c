// SPDX-License-Identifier: GPL-2.0-or-later
/* Caches: dump, get one, set the magazine size; and reap. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Where each numeric attribute of a cache nest goes, and how wide it is. */
struct cache_field {
	uint16_t attr;
	uint16_t off;
	uint8_t size;
};

#define F(_attr, _field)						\
	{ SPLKMEM_CACHE_A_##_attr,					\
	  offsetof(struct splkmem_cache_info, _field),			\
	  sizeof(((struct splkmem_cache_info *)0)->_field) }

static const struct cache_field cache_fields[] = {
	F(BACKING, backing), F(FLAGS, flags), F(OBJ_SIZE, obj_size),
	F(OBJ_ALIGN, obj_align), F(SLAB_SIZE, slab_size),
	F(SLAB_OBJS, slab_objs), F(MAG_SIZE, mag_size),
	F(MAG_REFILL, mag_refill), F(MAG_OBJS, mag_objs),
	F(SLAB_TOTAL, slab_total), F(SLAB_ALLOC, slab_alloc),
	F(SLAB_MAX, slab_max), F(OBJ_TOTAL, obj_total),
	F(OBJ_ALLOC, obj_alloc), F(OBJ_MAX, obj_max),
	F(OBJ_EMERGENCY, obj_emergency),
	F(OBJ_EMERGENCY_MAX, obj_emergency_max),
	F(OBJ_DEADLOCK, obj_deadlock), F(LINUX_OBJS, linux_objs),
	F(SLAB_CREATE, slab_create), F(SLAB_DESTROY, slab_destroy),
	F(SLAB_FAIL, slab_fail), F(GROW, grow), F(REAP, reap),
	F(BYTES, bytes), F(GROW_FAIL, grow_fail),
	F(GROW_BACKOFF, grow_backoff),
	F(DEPOT_FULL, depot_full), F(DEPOT_EMPTY, depot_empty),
	F(DEPOT_LOCKS, depot_locks), F(DEPOT_CONTENDED, depot_contended),
	F(SLAB_LOCKS, slab_locks), F(SLAB_CONTENDED, slab_contended),
};

#undef F

int splkmem_parse_cache(struct nlattr *nest, struct splkmem_cache_info *info)
{
	struct nlattr *tb[SPLKMEM_CACHE_A_MAX + 1];
	size_t i;

	memset(info, 0, sizeof(*info));
	if (!nest || nla_parse_nested(tb, SPLKMEM_CACHE_A_MAX, nest, NULL) ||
	    !tb[SPLKMEM_CACHE_A_NAME])
		return -EPROTO;
	nla_strlcpy(info->name, tb[SPLKMEM_CACHE_A_NAME], sizeof(info->name));
	for (i = 0; i < ARRAY_SIZE(cache_fields); i++) {
		const struct cache_field *f = &cache_fields[i];
		struct nlattr *a = tb[f->attr];
		char *dst = (char *)info + f->off;

		if (!a)
			continue;
		if (f->size == 4 && nla_len(a) == 4) {
			uint32_t v = nla_get_u32(a);

			memcpy(dst, &v, 4);
		} else if (f->size == 8 && nla_len(a) == 8) {
			uint64_t v = nla_get_u64(a);

			memcpy(dst, &v, 8);
		} else {
			return -EPROTO;
		}
	}
	info->mag_auto = tb[SPLKMEM_CACHE_A_MAG_AUTO] != NULL;
	return 0;
}

static int put_cache_name(struct splkmem *h, struct nl_msg *msg,
			  const char *name, struct nlattr **nest)
{
	if (strlen(name) > SPLKMEM_NAME_LEN)
		return splkmem_fail(h, ENAMETOOLONG,
				    "cache name longer than %d bytes",
				    SPLKMEM_NAME_LEN);
	*nest = nla_nest_start(msg, SPLKMEM_A_CACHE);
	if (!*nest || nla_put_string(msg, SPLKMEM_CACHE_A_NAME, name))
		return splkmem_fail(h, ENOMEM, "out of memory");
	return 0;
}

struct dump {
	struct splkmem_cache_info *v;
	size_t n, cap;
};

static int dump_one(struct nlattr **tb, void *arg)
{
	struct dump *d = arg;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		void *v = realloc(d->v, cap * sizeof(*d->v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	if (splkmem_parse_cache(tb[SPLKMEM_A_CACHE], &d->v[d->n]))
		return -EPROTO;
	d->n++;
	return 0;
}

int splkmem_cache_dump(struct splkmem *h, struct splkmem_cache_info **caches,
		       size_t *n, unsigned int retries, bool *interrupted)
{
	struct dump d = { 0 };
	bool intr = false;
	unsigned int i;
	int rc = 0;

	for (i = 0; i <= retries; i++) {
		struct nl_msg *msg = splkmem_msg_new(h, SPLKMEM_CMD_CACHE_GET,
						     NLM_F_DUMP);

		if (!msg) {
			/* A retry: free what the interrupted dump gathered. */
			rc = -ENOMEM;
			break;
		}
		d.n = 0;
		rc = splkmem_transact(h, msg, dump_one, &d, &intr);
		if (rc || !intr)
			break;
	}
	if (rc == -EPROTO && !h->err.code)
		splkmem_fail(h, EPROTO, "malformed cache in the dump");
	else if (rc == -ENOMEM && !h->err.code)
		splkmem_fail(h, ENOMEM, "out of memory");
	if (rc) {
		free(d.v);
		return rc;
	}
	*caches = d.v;
	*n = d.n;
	if (interrupted)
		*interrupted = intr;
	return 0;
}

static int get_one(struct nlattr **tb, void *arg)
{
	return splkmem_parse_cache(tb[SPLKMEM_A_CACHE], arg);
}

int splkmem_cache_get(struct splkmem *h, const char *name,
		      struct splkmem_cache_info *info)
{
	struct splkmem_cache_info tmp;
	struct nlattr *nest;
	struct nl_msg *msg;
	int rc;

	msg = splkmem_msg_new(h, SPLKMEM_CMD_CACHE_GET, 0);
	if (!msg)
		return -ENOMEM;
	rc = put_cache_name(h, msg, name, &nest);
	if (rc) {
		nlmsg_free(msg);
		return rc;
	}
	nla_nest_end(msg, nest);
	return splkmem_transact(h, msg, get_one, info ? info : &tmp, NULL);
}

int splkmem_cache_set_magazine(struct splkmem *h, const char *name,
			       uint32_t size, struct splkmem_cache_info *info)
{
	struct splkmem_cache_info tmp;
	struct nlattr *nest;
	struct nl_msg *msg;
	int rc;

	msg = splkmem_msg_new(h, SPLKMEM_CMD_CACHE_SET, 0);
	if (!msg)
		return -ENOMEM;
	rc = put_cache_name(h, msg, name, &nest);
	if (!rc && nla_put_u32(msg, SPLKMEM_CACHE_A_MAG_SIZE, size))
		rc = splkmem_fail(h, ENOMEM, "out of memory");
	if (rc) {
		nlmsg_free(msg);
		return rc;
	}
	nla_nest_end(msg, nest);
	return splkmem_transact(h, msg, get_one, info ? info : &tmp, NULL);
}

static int reap_reply(struct nlattr **tb, void *arg)
{
	struct splkmem_reap_result *res = arg;

	if (!tb[SPLKMEM_A_REAP_SLABS] || !tb[SPLKMEM_A_REAP_BYTES])
		return -EPROTO;
	res->slabs = nla_get_u64(tb[SPLKMEM_A_REAP_SLABS]);
	res->bytes = nla_get_u64(tb[SPLKMEM_A_REAP_BYTES]);
	return 0;
}

int splkmem_reap(struct splkmem *h, const char *name,
		 struct splkmem_reap_result *res)
{
	struct splkmem_reap_result tmp;
	struct nlattr *nest;
	struct nl_msg *msg;
	int rc;

	msg = splkmem_msg_new(h, SPLKMEM_CMD_REAP, 0);
	if (!msg)
		return -ENOMEM;
	if (name) {
		rc = put_cache_name(h, msg, name, &nest);
		if (rc) {
			nlmsg_free(msg);
			return rc;
		}
		nla_nest_end(msg, nest);
	}
	return splkmem_transact(h, msg, reap_reply, res ? res : &tmp, NULL);
}
