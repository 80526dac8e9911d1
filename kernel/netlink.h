/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The spl_kmem generic netlink family, inside the module.  The family is a
 * table (netlink.c); each request type lives in a file of its own with its
 * policy and handlers, as ethtool's do:
 *
 *   netlink.c           family, ops table, shared reply and error helpers
 *   netlink_cache.c     CACHE_GET (do, dump), CACHE_SET
 *   netlink_tunables.c  TUNABLE_GET, TUNABLE_SET
 *   netlink_reap.c      REAP
 *   events.c            the notifications (skc_notify())
 *
 * The wire format is <uapi/spl_kmem/genl.h>.
 */
#ifndef _SKC_NETLINK_H
#define _SKC_NETLINK_H

#include <net/genetlink.h>

#include <uapi/spl_kmem/genl.h>

#include "skc.h"

/* The one multicast group, index into the family's mcgrps. */
#define SKC_NL_MCGRP_EVENTS	0

extern struct genl_family skc_genl_family;

/* main.c calls these. */
int skc_genl_init(void);
void skc_genl_fini(void);

/* netlink.c */
size_t skc_nl_cache_size(void);
int skc_nl_put_cache(struct sk_buff *skb, struct splkmem_cache *c);
int skc_nl_put_cache_name(struct sk_buff *skb, const char *name);
struct sk_buff *skc_nl_reply_new(struct genl_info *info, u8 cmd, size_t size,
				 void **hdr);
int skc_nl_reply_send(struct sk_buff *skb, void *hdr, struct genl_info *info);
int skc_nl_parse_opt(struct genl_info *info, int type, struct nlattr **tb,
		     int maxtype, const struct nla_policy *policy);

/*
 * skc_nl_parse_req - parse a request's selector nest, which must be there;
 * @missing (a string literal) is the extack message if it is not.
 * Evaluates to 0 or a negative errno.
 */
#define skc_nl_parse_req(info, type, tb, maxtype, policy, missing) ({	\
	int __rc = 0;							\
									\
	if (!(info)->attrs[type]) {					\
		NL_SET_ERR_ATTR_MISS((info)->extack, NULL, type);	\
		NL_SET_ERR_MSG((info)->extack, missing);		\
		__rc = -EINVAL;						\
	}								\
	__rc ? __rc : skc_nl_parse_opt(info, type, tb, maxtype, policy); \
})

/*
 * skc_nl_need - insist on attribute @type inside the request's nest @nest
 * (parsed into @tb); @missing (a string literal) is the extack message,
 * pointing at @nest.  Evaluates to 0 or -EINVAL.
 */
#define skc_nl_need(info, nest, tb, type, missing) ({			\
	int __rc = 0;							\
									\
	if (NL_REQ_ATTR_CHECK((info)->extack, (info)->attrs[nest],	\
			      tb, type)) {				\
		NL_SET_ERR_MSG_ATTR((info)->extack, (info)->attrs[nest],	\
				    missing);				\
		__rc = -EINVAL;						\
	}								\
	__rc;								\
})

struct splkmem_cache *skc_nl_find_cache(struct genl_info *info,
					const struct nlattr *name);

/* netlink_cache.c */
extern const struct nla_policy skc_nl_cache_get_policy[SPLKMEM_A_CACHE + 1];
extern const struct nla_policy skc_nl_cache_set_policy[SPLKMEM_A_CACHE + 1];
extern const struct nla_policy skc_nl_cache_sel_policy[SPLKMEM_CACHE_A_NAME + 1];
int skc_nl_cache_get_doit(struct sk_buff *skb, struct genl_info *info);
int skc_nl_cache_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int skc_nl_cache_set_doit(struct sk_buff *skb, struct genl_info *info);

/* netlink_tunables.c */
extern const struct nla_policy skc_nl_tunable_get_policy[SPLKMEM_A_TUNABLE + 1];
extern const struct nla_policy skc_nl_tunable_set_policy[SPLKMEM_A_TUNABLE + 1];
void skc_nl_tunables_init(void);
int skc_nl_tunable_get_doit(struct sk_buff *skb, struct genl_info *info);
int skc_nl_tunable_set_doit(struct sk_buff *skb, struct genl_info *info);

/* netlink_reap.c */
extern const struct nla_policy skc_nl_reap_policy[SPLKMEM_A_CACHE + 1];
int skc_nl_reap_doit(struct sk_buff *skb, struct genl_info *info);

/* events.c */
void skc_events_start(void);
void skc_events_stop(void);

#endif /* _SKC_NETLINK_H */
