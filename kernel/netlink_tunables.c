// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TUNABLE_GET and TUNABLE_SET: the module parameters, by name.  A value
 * set here goes through skc_tunable_set(), exactly as one written to
 * /sys/module/spl_kmem/parameters/, so the two cannot disagree.
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "netlink.h"
#include "spl_kmem_config.h"

static const struct nla_policy
skc_nl_tunable_sel_policy[SPLKMEM_TUNABLE_A_NAME + 1] = {
	[SPLKMEM_TUNABLE_A_NAME] = { .type = NLA_NUL_STRING,
				     .len = SPLKMEM_NAME_LEN },
};

static const struct nla_policy
skc_nl_tunable_val_policy[SPLKMEM_TUNABLE_A_VALUE + 1] = {
	[SPLKMEM_TUNABLE_A_NAME] = { .type = NLA_NUL_STRING,
				     .len = SPLKMEM_NAME_LEN },
	[SPLKMEM_TUNABLE_A_VALUE] = { .type = NLA_U32 },
};

const struct nla_policy skc_nl_tunable_get_policy[SPLKMEM_A_TUNABLE + 1] = {
	[SPLKMEM_A_TUNABLE] = NLA_POLICY_NESTED(skc_nl_tunable_sel_policy),
};

const struct nla_policy skc_nl_tunable_set_policy[SPLKMEM_A_TUNABLE + 1] = {
	[SPLKMEM_A_TUNABLE] = NLA_POLICY_NESTED(skc_nl_tunable_val_policy),
};

#ifndef HAVE_NL_SET_ERR_MSG_ATTR_FMT
/*
 * Without formatted extack messages (Linux 6.1) the NL_SET_ERR_MSG*()
 * macros take string literals only, so "NAME must be MIN..MAX" is built
 * per tunable when the module loads and handed to the extack by hand; it
 * lives as long as the module, which outlives every request.
 */
static char skc_nl_range_msg[SKC_TUNABLE_COUNT][64];
#endif

void skc_nl_tunables_init(void)
{
#ifndef HAVE_NL_SET_ERR_MSG_ATTR_FMT
	int id;

	for (id = 0; id < SKC_TUNABLE_COUNT; id++) {
		const struct skc_tunable *t = &skc_tunables[id];

		snprintf(skc_nl_range_msg[id], sizeof(skc_nl_range_msg[id]),
			 "%s must be %s%u..%u", t->name,
			 t->zero_ok ? "0 or " : "", t->min, t->max);
	}
#endif
}

/* Say which values tunable @id takes, pointing at @attr. */
static void skc_nl_range_err(struct netlink_ext_ack *extack,
			     const struct nlattr *attr, int id)
{
#ifdef HAVE_NL_SET_ERR_MSG_ATTR_FMT
	const struct skc_tunable *t = &skc_tunables[id];

	NL_SET_ERR_MSG_ATTR_FMT(extack, attr, "%s must be %s%u..%u", t->name,
				t->zero_ok ? "0 or " : "", t->min, t->max);
#else
	NL_SET_BAD_ATTR(extack, attr);
	if (extack)
		extack->_msg = skc_nl_range_msg[id];
#endif
}

static int skc_nl_tunable_find(const char *name)
{
	int id;

	for (id = 0; id < SKC_TUNABLE_COUNT; id++)
		if (!strcmp(skc_tunables[id].name, name))
			return id;
	return -ENOENT;
}

static int skc_nl_put_tunable(struct sk_buff *skb, int id)
{
	const struct skc_tunable *t = &skc_tunables[id];
	struct nlattr *nest;

	nest = nla_nest_start(skb, SPLKMEM_A_TUNABLE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_string(skb, SPLKMEM_TUNABLE_A_NAME, t->name) ||
	    nla_put_u32(skb, SPLKMEM_TUNABLE_A_VALUE, skc_tunable_get(id)) ||
	    nla_put_u32(skb, SPLKMEM_TUNABLE_A_MIN_VALUE, t->min) ||
	    nla_put_u32(skb, SPLKMEM_TUNABLE_A_MAX_VALUE, t->max) ||
	    (t->zero_ok && nla_put_flag(skb, SPLKMEM_TUNABLE_A_ZERO_OK))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static size_t skc_nl_tunable_size(void)
{
	return nla_total_size(0) + nla_total_size(SPLKMEM_NAME_MAX) +
	       3 * nla_total_size(sizeof(u32)) + nla_total_size(0);
}

/* Reply with tunable @id, or every tunable when @id < 0. */
static int skc_nl_tunable_reply(struct genl_info *info, int id)
{
	int first = id < 0 ? 0 : id, last = id < 0 ? SKC_TUNABLE_COUNT - 1 : id;
	struct sk_buff *skb;
	void *hdr;
	int i;

	skb = skc_nl_reply_new(info, SPLKMEM_CMD_TUNABLE_GET,
			       (last - first + 1) * skc_nl_tunable_size(), &hdr);
	if (!skb)
		return -ENOMEM;
	for (i = first; i <= last; i++) {
		if (skc_nl_put_tunable(skb, i)) {
			nlmsg_free(skb);
			return -EMSGSIZE;
		}
	}
	return skc_nl_reply_send(skb, hdr, info);
}

/* The tunable a request names, or a negative errno with the extack set. */
static int skc_nl_tunable_named(struct genl_info *info, struct nlattr **tb)
{
	int id, rc;

	rc = skc_nl_need(info, SPLKMEM_A_TUNABLE, tb, SPLKMEM_TUNABLE_A_NAME,
			 "missing tunable name");
	if (rc)
		return rc;
	id = skc_nl_tunable_find(nla_data(tb[SPLKMEM_TUNABLE_A_NAME]));
	if (id < 0)
		NL_SET_ERR_MSG_ATTR(info->extack, tb[SPLKMEM_TUNABLE_A_NAME],
				    "no such tunable");
	return id;
}

int skc_nl_tunable_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ARRAY_SIZE(skc_nl_tunable_sel_policy)];
	int id, rc;

	rc = skc_nl_parse_opt(info, SPLKMEM_A_TUNABLE, tb, ARRAY_SIZE(tb) - 1,
			      skc_nl_tunable_sel_policy);
	if (rc)
		return rc;
	if (!info->attrs[SPLKMEM_A_TUNABLE])
		return skc_nl_tunable_reply(info, -1);
	id = skc_nl_tunable_named(info, tb);
	return id < 0 ? id : skc_nl_tunable_reply(info, id);
}

int skc_nl_tunable_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ARRAY_SIZE(skc_nl_tunable_val_policy)];
	int id, rc;

	rc = skc_nl_parse_req(info, SPLKMEM_A_TUNABLE, tb, ARRAY_SIZE(tb) - 1,
			      skc_nl_tunable_val_policy, "missing tunable");
	if (rc)
		return rc;
	id = skc_nl_tunable_named(info, tb);
	if (id < 0)
		return id;
	rc = skc_nl_need(info, SPLKMEM_A_TUNABLE, tb, SPLKMEM_TUNABLE_A_VALUE,
			 "missing tunable value");
	if (rc)
		return rc;
	rc = skc_tunable_set(id, nla_get_u32(tb[SPLKMEM_TUNABLE_A_VALUE]));
	if (rc) {
		skc_nl_range_err(info->extack, tb[SPLKMEM_TUNABLE_A_VALUE], id);
		return rc;
	}
	return skc_nl_tunable_reply(info, id);
}
