// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CACHE_GET (one cache, or a dump of all) and CACHE_SET (a cache's
 * magazine size).
 *
 * A cache stays alive while skc_caches_sem is held for reading: it is
 * destroyed only after being unlinked under the semaphore held for
 * writing.  Handlers therefore look a cache up and use it under one read
 * hold, and never keep a pointer beyond it.
 */
#include <linux/kernel.h>
#include <linux/stringify.h>

#include "netlink.h"

/* A cache named in a request. */
const struct nla_policy skc_nl_cache_sel_policy[SPLKMEM_CACHE_A_NAME + 1] = {
	[SPLKMEM_CACHE_A_NAME] = { .type = NLA_NUL_STRING,
				   .len = SPLKMEM_NAME_LEN },
};

static const struct nla_policy
skc_nl_cache_mag_policy[SPLKMEM_CACHE_A_MAG_SIZE + 1] = {
	[SPLKMEM_CACHE_A_NAME] = { .type = NLA_NUL_STRING,
				   .len = SPLKMEM_NAME_LEN },
	/* 1 is refused by the handler: a policy cannot leave a hole. */
	[SPLKMEM_CACHE_A_MAG_SIZE] = NLA_POLICY_MAX(NLA_U32, SPLKMEM_MAG_MAX),
};

const struct nla_policy skc_nl_cache_get_policy[SPLKMEM_A_CACHE + 1] = {
	[SPLKMEM_A_CACHE] = NLA_POLICY_NESTED(skc_nl_cache_sel_policy),
};

const struct nla_policy skc_nl_cache_set_policy[SPLKMEM_A_CACHE + 1] = {
	[SPLKMEM_A_CACHE] = NLA_POLICY_NESTED(skc_nl_cache_mag_policy),
};

/* Reply to @info with the state of @c. */
static int skc_nl_cache_reply(struct genl_info *info, struct splkmem_cache *c)
{
	struct sk_buff *skb;
	void *hdr;

	skb = skc_nl_reply_new(info, SPLKMEM_CMD_CACHE_GET,
			       skc_nl_cache_size(), &hdr);
	if (!skb)
		return -ENOMEM;
	if (skc_nl_put_cache(skb, c)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return skc_nl_reply_send(skb, hdr, info);
}

int skc_nl_cache_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ARRAY_SIZE(skc_nl_cache_sel_policy)];
	struct splkmem_cache *c;
	int rc;

	rc = skc_nl_parse_req(info, SPLKMEM_A_CACHE, tb,
			      ARRAY_SIZE(tb) - 1, skc_nl_cache_sel_policy,
			      "missing cache (dump to list every cache)");
	if (rc)
		return rc;
	rc = skc_nl_need(info, SPLKMEM_A_CACHE, tb, SPLKMEM_CACHE_A_NAME,
			 "missing cache name");
	if (rc)
		return rc;

	down_read(&skc_caches_sem);
	c = skc_nl_find_cache(info, tb[SPLKMEM_CACHE_A_NAME]);
	rc = c ? skc_nl_cache_reply(info, c) : -ENOENT;
	up_read(&skc_caches_sem);
	return rc;
}

/* A dump's resume point, kept in cb->ctx between calls. */
struct skc_nl_dump_ctx {
	unsigned long pos;	/* caches already sent */
};

/*
 * The dump's consistency sequence: the cache list's generation, never 0
 * (0 would mean "not set" to nl_dump_check_consistent()).
 */
static unsigned int skc_nl_dump_seq(void)
{
	unsigned int seq = (unsigned int)READ_ONCE(skc_caches_gen) + 1;

	return seq ? seq : 1;
}

/*
 * One message per cache.  Each call resumes after the caches already sent
 * and fills the skb; a call that sends nothing ends the dump.  Resuming by
 * position is exact unless the list changed in between, and then every
 * later message, NLMSG_DONE included, carries NLM_F_DUMP_INTR.
 */
int skc_nl_cache_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct skc_nl_dump_ctx *ctx = (struct skc_nl_dump_ctx *)cb->ctx;
	struct splkmem_cache *c;
	unsigned long idx = 0;
	int rc = 0;
	void *hdr;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));

	down_read(&skc_caches_sem);
	cb->seq = skc_nl_dump_seq();
	list_for_each_entry(c, &skc_caches, link) {
		if (idx++ < ctx->pos)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &skc_genl_family,
				  NLM_F_MULTI, SPLKMEM_CMD_CACHE_GET);
		if (!hdr) {
			rc = -EMSGSIZE;
			break;
		}
		genl_dump_check_consistent(cb, hdr);
		rc = skc_nl_put_cache(skb, c);
		if (rc) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		ctx->pos++;
	}
	up_read(&skc_caches_sem);

	/* A full skb asks for another call; an empty one that is full is
	 * an error, not the end. */
	if (rc == -EMSGSIZE && skb->len)
		return skb->len;
	return rc ? rc : skb->len;
}

int skc_nl_cache_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ARRAY_SIZE(skc_nl_cache_mag_policy)];
	struct splkmem_cache *c;
	unsigned int size;
	int rc;

	rc = skc_nl_parse_req(info, SPLKMEM_A_CACHE, tb, ARRAY_SIZE(tb) - 1,
			      skc_nl_cache_mag_policy, "missing cache");
	if (rc)
		return rc;
	rc = skc_nl_need(info, SPLKMEM_A_CACHE, tb, SPLKMEM_CACHE_A_NAME,
			 "missing cache name");
	if (rc)
		return rc;
	rc = skc_nl_need(info, SPLKMEM_A_CACHE, tb, SPLKMEM_CACHE_A_MAG_SIZE,
			 "missing magazine size: nothing to change");
	if (rc)
		return rc;
	size = nla_get_u32(tb[SPLKMEM_CACHE_A_MAG_SIZE]);
	if (size && size < SPLKMEM_MAG_MIN) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[SPLKMEM_CACHE_A_MAG_SIZE],
				    "magazine size must be 0 (automatic) or "
				    __stringify(SPLKMEM_MAG_MIN) ".."
				    __stringify(SPLKMEM_MAG_MAX));
		return -EINVAL;
	}

	down_read(&skc_caches_sem);
	c = skc_nl_find_cache(info, tb[SPLKMEM_CACHE_A_NAME]);
	if (!c) {
		rc = -ENOENT;
	} else if (skc_is_slab(c)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[SPLKMEM_CACHE_A_NAME],
				    "cache is backed by the Linux slab allocator: it has no magazines");
		rc = -EOPNOTSUPP;
	} else {
		rc = splkmem_cache_set_magazine(c, size);
		if (!rc)
			rc = skc_nl_cache_reply(info, c);
	}
	up_read(&skc_caches_sem);
	return rc;
}
