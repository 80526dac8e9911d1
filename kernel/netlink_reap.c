// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * REAP: give one cache's idle memory, or every cache's, back to the
 * system, and say how much that was.  Each cache reaped is also announced
 * on the events group (REAP_NTF, raised by reap.c).
 */
#include <linux/kernel.h>

#include "netlink.h"

const struct nla_policy skc_nl_reap_policy[SPLKMEM_A_CACHE + 1] = {
	[SPLKMEM_A_CACHE] = NLA_POLICY_NESTED(skc_nl_cache_sel_policy),
};

static int skc_nl_reap_reply(struct genl_info *info, const char *name,
			     const struct skc_reap_result *res)
{
	struct sk_buff *skb;
	void *hdr;

	skb = skc_nl_reply_new(info, SPLKMEM_CMD_REAP,
			       2 * nla_total_size_64bit(sizeof(u64)) +
			       nla_total_size(0) +
			       nla_total_size(SPLKMEM_NAME_MAX), &hdr);
	if (!skb)
		return -ENOMEM;
	if (nla_put_u64_64bit(skb, SPLKMEM_A_REAP_SLABS, res->slabs,
			      SPLKMEM_A_PAD) ||
	    nla_put_u64_64bit(skb, SPLKMEM_A_REAP_BYTES, res->bytes,
			      SPLKMEM_A_PAD) ||
	    (name && skc_nl_put_cache_name(skb, name))) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return skc_nl_reply_send(skb, hdr, info);
}

int skc_nl_reap_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ARRAY_SIZE(skc_nl_cache_sel_policy)];
	struct skc_reap_result res = { 0 };
	char name[SPLKMEM_NAME_MAX];
	struct splkmem_cache *c;
	int rc;

	rc = skc_nl_parse_opt(info, SPLKMEM_A_CACHE, tb, ARRAY_SIZE(tb) - 1,
			      skc_nl_cache_sel_policy);
	if (rc)
		return rc;
	if (!info->attrs[SPLKMEM_A_CACHE]) {
		skc_reap_all(&res);
		return skc_nl_reap_reply(info, NULL, &res);
	}

	rc = skc_nl_need(info, SPLKMEM_A_CACHE, tb, SPLKMEM_CACHE_A_NAME,
			 "missing cache name");
	if (rc)
		return rc;
	down_read(&skc_caches_sem);
	c = skc_nl_find_cache(info, tb[SPLKMEM_CACHE_A_NAME]);
	if (c) {
		strscpy(name, c->name, sizeof(name));
		skc_reap(c, &res);
	}
	up_read(&skc_caches_sem);
	return c ? skc_nl_reap_reply(info, name, &res) : -ENOENT;
}
