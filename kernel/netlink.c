// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The spl_kmem generic netlink family: the ops table and what the request
 * files share.  Every op has a policy of its own and is validated
 * strictly, so an unknown attribute, a wrong type or length, an over-long
 * name or an out-of-range number is refused by the core with an extack
 * message pointing at the attribute, before any handler runs.
 *
 * Permissions: cache statistics tell as much about the kernel's memory as
 * /proc/slabinfo, which is root's only, so CACHE_GET and joining the
 * events group need CAP_NET_ADMIN in the initial user namespace
 * (GENL_ADMIN_PERM, GENL_MCAST_CAP_NET_ADMIN), as does every op that
 * changes state: the capability the kernel asks of every
 * network-configuration family.  TUNABLE_GET stays open: the tunables are
 * world-readable in /sys/module/spl_kmem/parameters/ anyway.  The tunables
 * and caches are global, so the family lives in the initial network
 * namespace only (netnsok = false).
 *
 * Only the plain genl_ops API is used: it exists unchanged from Linux 6.1
 * (the oldest kernel supported) to 7.x, where the core turns it into split
 * ops itself, so no compile probe is needed here.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/stddef.h>

#include "netlink.h"
#include "spl_kmem_config.h"

/* The u32 statistics, then the u64 ones, in attribute order. */
struct skc_nl_stat {
	u16 attr;
	u16 off;	/* in struct splkmem_cache_stats */
};

#define SKC_NL_STAT(_attr, _field)					\
	{ .attr = SPLKMEM_CACHE_A_##_attr,				\
	  .off = offsetof(struct splkmem_cache_stats, _field) }

static const struct skc_nl_stat skc_nl_stats32[] = {
	SKC_NL_STAT(FLAGS, flags),
	SKC_NL_STAT(OBJ_SIZE, obj_size),
	SKC_NL_STAT(OBJ_ALIGN, obj_align),
	SKC_NL_STAT(SLAB_SIZE, slab_size),
	SKC_NL_STAT(SLAB_OBJS, slab_objs),
	SKC_NL_STAT(MAG_SIZE, mag_size),
	SKC_NL_STAT(MAG_REFILL, mag_refill),
};

static const struct skc_nl_stat skc_nl_stats64[] = {
	SKC_NL_STAT(MAG_OBJS, mag_objs),
	SKC_NL_STAT(SLAB_TOTAL, slab_total),
	SKC_NL_STAT(SLAB_ALLOC, slab_alloc),
	SKC_NL_STAT(SLAB_MAX, slab_max),
	SKC_NL_STAT(OBJ_TOTAL, obj_total),
	SKC_NL_STAT(OBJ_ALLOC, obj_alloc),
	SKC_NL_STAT(OBJ_MAX, obj_max),
	SKC_NL_STAT(OBJ_EMERGENCY, obj_emergency),
	SKC_NL_STAT(OBJ_EMERGENCY_MAX, obj_emergency_max),
	SKC_NL_STAT(OBJ_DEADLOCK, obj_deadlock),
	SKC_NL_STAT(LINUX_OBJS, linux_objs),
	SKC_NL_STAT(SLAB_CREATE, slab_create),
	SKC_NL_STAT(SLAB_DESTROY, slab_destroy),
	SKC_NL_STAT(SLAB_FAIL, slab_fail),
	SKC_NL_STAT(GROW, grow),
	SKC_NL_STAT(REAP, reap),
	SKC_NL_STAT(BYTES, bytes),
	SKC_NL_STAT(GROW_FAIL, grow_fail),
	SKC_NL_STAT(GROW_BACKOFF, grow_backoff),
	SKC_NL_STAT(DEPOT_FULL, depot_full),
	SKC_NL_STAT(DEPOT_EMPTY, depot_empty),
	SKC_NL_STAT(DEPOT_LOCKS, depot_locks),
	SKC_NL_STAT(DEPOT_CONTENDED, depot_contended),
	SKC_NL_STAT(SLAB_LOCKS, slab_locks),
	SKC_NL_STAT(SLAB_CONTENDED, slab_contended),
};

/* Room for one SPLKMEM_A_CACHE nest as skc_nl_put_cache() writes it. */
size_t skc_nl_cache_size(void)
{
	return nla_total_size(0) +				/* the nest */
	       nla_total_size(SPLKMEM_NAME_MAX) +		/* NAME */
	       nla_total_size(sizeof(u32)) +			/* BACKING */
	       ARRAY_SIZE(skc_nl_stats32) * nla_total_size(sizeof(u32)) +
	       nla_total_size(0) +				/* MAG_AUTO */
	       ARRAY_SIZE(skc_nl_stats64) * nla_total_size_64bit(sizeof(u64));
}

int skc_nl_put_cache_name(struct sk_buff *skb, const char *name)
{
	struct nlattr *nest = nla_nest_start(skb, SPLKMEM_A_CACHE);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_string(skb, SPLKMEM_CACHE_A_NAME, name)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * skc_nl_put_cache - put a cache and every statistic of it in a message
 * @skb: the message
 * @c: the cache; the caller keeps it alive (skc_caches_sem, or its owner)
 *
 * Return: 0, or -EMSGSIZE with @skb unchanged.
 */
int skc_nl_put_cache(struct sk_buff *skb, struct splkmem_cache *c)
{
	struct splkmem_cache_stats st;
	struct nlattr *nest;
	unsigned int i;

	BUILD_BUG_ON(SPLKMEM_CACHE_F_NODEBUG != SPLKMEM_KMC_NODEBUG ||
		     SPLKMEM_CACHE_F_KVMEM != SPLKMEM_KMC_KVMEM ||
		     SPLKMEM_CACHE_F_SLAB != SPLKMEM_KMC_SLAB ||
		     SPLKMEM_CACHE_F_RECLAIMABLE != SPLKMEM_KMC_RECLAIMABLE);

	splkmem_cache_get_stats(c, &st);
	nest = nla_nest_start(skb, SPLKMEM_A_CACHE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_string(skb, SPLKMEM_CACHE_A_NAME, c->name) ||
	    nla_put_u32(skb, SPLKMEM_CACHE_A_BACKING,
			skc_is_slab(c) ? SPLKMEM_BACKING_SLAB :
					 SPLKMEM_BACKING_KVMEM))
		goto cancel;
	for (i = 0; i < ARRAY_SIZE(skc_nl_stats32); i++)
		if (nla_put_u32(skb, skc_nl_stats32[i].attr,
				*(u32 *)((char *)&st + skc_nl_stats32[i].off)))
			goto cancel;
	if (!skc_is_slab(c) && !READ_ONCE(c->mag_size_req) &&
	    nla_put_flag(skb, SPLKMEM_CACHE_A_MAG_AUTO))
		goto cancel;
	for (i = 0; i < ARRAY_SIZE(skc_nl_stats64); i++)
		if (nla_put_u64_64bit(skb, skc_nl_stats64[i].attr,
				      *(u64 *)((char *)&st +
					       skc_nl_stats64[i].off),
				      SPLKMEM_CACHE_A_PAD))
			goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* A reply to @info, with its genl header put; NULL when out of memory. */
struct sk_buff *skc_nl_reply_new(struct genl_info *info, u8 cmd, size_t size,
				 void **hdr)
{
	struct sk_buff *skb = genlmsg_new(size, GFP_KERNEL);

	if (!skb)
		return NULL;
	*hdr = genlmsg_put_reply(skb, info, &skc_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

int skc_nl_reply_send(struct sk_buff *skb, void *hdr, struct genl_info *info)
{
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

/**
 * skc_nl_parse_opt - parse a request's optional selector nest
 * @info: the request
 * @type: the top-level nest (SPLKMEM_A_CACHE or SPLKMEM_A_TUNABLE)
 * @tb: filled in; all NULL if the nest is absent
 * @maxtype: highest attribute of @policy
 * @policy: the nest's policy (the core validated it already)
 *
 * Return: 0, or a negative errno with the extack set.
 */
int skc_nl_parse_opt(struct genl_info *info, int type, struct nlattr **tb,
		     int maxtype, const struct nla_policy *policy)
{
	if (!info->attrs[type]) {
		memset(tb, 0, (maxtype + 1) * sizeof(*tb));
		return 0;
	}
	return nla_parse_nested(tb, maxtype, info->attrs[type], policy,
				info->extack);
}

/* The cache named by @name; the caller holds skc_caches_sem. */
struct splkmem_cache *skc_nl_find_cache(struct genl_info *info,
					const struct nlattr *name)
{
	struct splkmem_cache *c = skc_find_locked(nla_data(name));

	if (!c)
		NL_SET_ERR_MSG_ATTR(info->extack, name, "no such cache");
	return c;
}

static const struct genl_ops skc_genl_ops[] = {
	{
		.cmd = SPLKMEM_CMD_CACHE_GET,
		.doit = skc_nl_cache_get_doit,
		.dumpit = skc_nl_cache_get_dumpit,
		.policy = skc_nl_cache_get_policy,
		.maxattr = ARRAY_SIZE(skc_nl_cache_get_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SPLKMEM_CMD_CACHE_SET,
		.doit = skc_nl_cache_set_doit,
		.policy = skc_nl_cache_set_policy,
		.maxattr = ARRAY_SIZE(skc_nl_cache_set_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SPLKMEM_CMD_TUNABLE_GET,
		.doit = skc_nl_tunable_get_doit,
		.policy = skc_nl_tunable_get_policy,
		.maxattr = ARRAY_SIZE(skc_nl_tunable_get_policy) - 1,
	},
	{
		.cmd = SPLKMEM_CMD_TUNABLE_SET,
		.doit = skc_nl_tunable_set_doit,
		.policy = skc_nl_tunable_set_policy,
		.maxattr = ARRAY_SIZE(skc_nl_tunable_set_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SPLKMEM_CMD_REAP,
		.doit = skc_nl_reap_doit,
		.policy = skc_nl_reap_policy,
		.maxattr = ARRAY_SIZE(skc_nl_reap_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
};

/*
 * A kernel without GENL_MCAST_CAP_NET_ADMIN (older than 6.7 and without
 * the stable backport) cannot restrict joining: there the events group is
 * open to every user, as the README says.
 */
static const struct genl_multicast_group skc_genl_mcgrps[] = {
	[SKC_NL_MCGRP_EVENTS] = {
		.name = SPLKMEM_MCGRP_EVENTS,
#ifdef HAVE_GENL_MCAST_CAP
		.flags = GENL_MCAST_CAP_NET_ADMIN,
#endif
	},
};

struct genl_family skc_genl_family = {
	.name = SPLKMEM_GENL_NAME,
	.version = SPLKMEM_GENL_VERSION,
	.netnsok = false,
	/* Handlers take skc_caches_sem themselves; a reap must not hold
	 * up every other generic netlink family. */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = skc_genl_ops,
	.n_ops = ARRAY_SIZE(skc_genl_ops),
	.mcgrps = skc_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(skc_genl_mcgrps),
};

int skc_genl_init(void)
{
	int rc;

	BUILD_BUG_ON(SPLKMEM_NAME_LEN + 1 != SPLKMEM_NAME_MAX);
	BUILD_BUG_ON(SPLKMEM_MAG_MAX != SKC_MAG_MAX);

	skc_nl_tunables_init();
	rc = genl_register_family(&skc_genl_family);
	if (rc)
		return rc;
	skc_events_start();
	return 0;
}

/* No cache is left: nothing can raise an event any more. */
void skc_genl_fini(void)
{
	skc_events_stop();
	genl_unregister_family(&skc_genl_family);
}
