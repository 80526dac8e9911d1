// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Allocator events, announced on the family's "events" multicast group.
 *
 * skc_notify() may be called in any context, hard interrupts included (an
 * emergency object is allocated by a KM_NOSLEEP caller, which may run
 * there, and on PREEMPT_RT even GFP_ATOMIC must not be used there).  So:
 *
 *  - cache created or destroyed, and reap done are raised in process
 *    context (the callers may sleep) and sent at once; creation and
 *    destruction under skc_caches_sem held for writing, in the order the
 *    list changes, so a destruction is always announced before the
 *    creation of a new cache of the same name;
 *  - deadlock detected and emergency allocation are recorded in a small
 *    ring under a raw spinlock and sent by a work item.  A deadlocked
 *    growth means memory is short: the caller must not wait for us to
 *    allocate.  Emergency events are rate-limited to SKC_EMERG_BURST per
 *    SKC_EMERG_INTERVAL; the next one sent says how many were not.
 *
 * Nothing is built when nobody listens, so creating thousands of caches
 * costs no message.  Deferred events may arrive after a later direct one
 * (a cache's destruction, say); each carries its cache's name.
 */
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "netlink.h"

#define SKC_EMERG_BURST		10
#define SKC_EMERG_INTERVAL	HZ
#define SKC_EV_RING		16

struct skc_deferred_ev {
	u8 cmd;				/* DEADLOCK_NTF or EMERGENCY_NTF */
	char name[SPLKMEM_NAME_MAX];
	u64 count;			/* obj_deadlock or obj_emergency */
	u32 missed;			/* emergency events dropped before */
};

static DEFINE_RAW_SPINLOCK(skc_ev_lock);
static struct skc_deferred_ev skc_ev_ring[SKC_EV_RING];	/* under skc_ev_lock */
static unsigned int skc_ev_head, skc_ev_len;
static unsigned long skc_ev_window;	/* start of the rate-limit window */
static unsigned int skc_ev_burst;	/* emergency events sent in it */
static u32 skc_ev_missed;		/* not sent since the last one */
static bool skc_ev_on;			/* the family is registered */

static void skc_ev_workfn(struct work_struct *work);
static DECLARE_WORK(skc_ev_work, skc_ev_workfn);

static bool skc_ev_listened(void)
{
	return READ_ONCE(skc_ev_on) &&
	       genl_has_listeners(&skc_genl_family, &init_net,
				  SKC_NL_MCGRP_EVENTS);
}

/* Start a notification; NULL if out of memory. */
static struct sk_buff *skc_ev_new(u8 cmd, size_t size, gfp_t gfp, void **hdr)
{
	struct sk_buff *skb = genlmsg_new(size, gfp);

	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &skc_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void skc_ev_send(struct sk_buff *skb, void *hdr, gfp_t gfp)
{
	genlmsg_end(skb, hdr);
	/* -ESRCH: the last listener left meanwhile. */
	genlmsg_multicast(&skc_genl_family, skb, 0, SKC_NL_MCGRP_EVENTS, gfp);
}

/* Cache created or destroyed, reap done: process context. */
static void skc_ev_cache(u8 cmd, struct splkmem_cache *c,
			 const struct skc_reap_result *res)
{
	size_t size = skc_nl_cache_size() + 2 * nla_total_size_64bit(8);
	struct sk_buff *skb;
	void *hdr;
	int rc;

	skb = skc_ev_new(cmd, size, GFP_KERNEL, &hdr);
	if (!skb)
		return;
	if (cmd == SPLKMEM_CMD_CACHE_NEW_NTF)
		rc = skc_nl_put_cache(skb, c);
	else
		rc = skc_nl_put_cache_name(skb, c->name);
	if (!rc && res)
		rc = nla_put_u64_64bit(skb, SPLKMEM_A_REAP_SLABS, res->slabs,
				       SPLKMEM_A_PAD) ||
		     nla_put_u64_64bit(skb, SPLKMEM_A_REAP_BYTES, res->bytes,
				       SPLKMEM_A_PAD);
	if (rc) {
		nlmsg_free(skb);
		return;
	}
	skc_ev_send(skb, hdr, GFP_KERNEL);
}

/* Deadlock or emergency object: any context, so queue it. */
static void skc_ev_defer(u8 cmd, struct splkmem_cache *c, u64 count)
{
	struct skc_deferred_ev *ev;
	unsigned long flags;
	bool queued = false;

	raw_spin_lock_irqsave(&skc_ev_lock, flags);
	if (cmd == SPLKMEM_CMD_EMERGENCY_NTF) {
		if (time_after(jiffies, skc_ev_window + SKC_EMERG_INTERVAL)) {
			skc_ev_window = jiffies;
			skc_ev_burst = 0;
		}
		if (skc_ev_burst >= SKC_EMERG_BURST) {
			skc_ev_missed++;
			goto out;
		}
	}
	if (skc_ev_len == SKC_EV_RING) {
		if (cmd == SPLKMEM_CMD_EMERGENCY_NTF)
			skc_ev_missed++;
		goto out;
	}
	ev = &skc_ev_ring[(skc_ev_head + skc_ev_len++) % SKC_EV_RING];
	ev->cmd = cmd;
	strscpy(ev->name, c->name, sizeof(ev->name));
	ev->count = count;
	ev->missed = 0;
	if (cmd == SPLKMEM_CMD_EMERGENCY_NTF) {
		skc_ev_burst++;
		ev->missed = skc_ev_missed;
		skc_ev_missed = 0;
	}
	queued = true;
out:
	raw_spin_unlock_irqrestore(&skc_ev_lock, flags);
	if (queued)
		queue_work(system_wq, &skc_ev_work);
}

static void skc_ev_send_deferred(const struct skc_deferred_ev *ev)
{
	u16 attr = ev->cmd == SPLKMEM_CMD_DEADLOCK_NTF ?
		   SPLKMEM_CACHE_A_OBJ_DEADLOCK : SPLKMEM_CACHE_A_OBJ_EMERGENCY;
	struct nlattr *nest;
	struct sk_buff *skb;
	void *hdr;

	skb = skc_ev_new(ev->cmd, skc_nl_cache_size() + nla_total_size(4),
			 GFP_KERNEL, &hdr);
	if (!skb)
		return;
	nest = nla_nest_start(skb, SPLKMEM_A_CACHE);
	if (!nest ||
	    nla_put_string(skb, SPLKMEM_CACHE_A_NAME, ev->name) ||
	    nla_put_u64_64bit(skb, attr, ev->count, SPLKMEM_CACHE_A_PAD)) {
		nlmsg_free(skb);
		return;
	}
	nla_nest_end(skb, nest);
	if (ev->cmd == SPLKMEM_CMD_EMERGENCY_NTF &&
	    nla_put_u32(skb, SPLKMEM_A_EVENTS_MISSED, ev->missed)) {
		nlmsg_free(skb);
		return;
	}
	skc_ev_send(skb, hdr, GFP_KERNEL);
}

static void skc_ev_workfn(struct work_struct *work)
{
	struct skc_deferred_ev ev;
	unsigned long flags;

	for (;;) {
		raw_spin_lock_irqsave(&skc_ev_lock, flags);
		if (!skc_ev_len) {
			raw_spin_unlock_irqrestore(&skc_ev_lock, flags);
			return;
		}
		ev = skc_ev_ring[skc_ev_head];
		skc_ev_head = (skc_ev_head + 1) % SKC_EV_RING;
		skc_ev_len--;
		raw_spin_unlock_irqrestore(&skc_ev_lock, flags);
		skc_ev_send_deferred(&ev);
	}
}

void skc_notify(enum skc_event ev, struct splkmem_cache *c,
		const struct skc_reap_result *res)
{
	if (!skc_ev_listened())
		return;

	switch (ev) {
	case SKC_EVENT_CACHE_CREATE:
		skc_ev_cache(SPLKMEM_CMD_CACHE_NEW_NTF, c, NULL);
		break;
	case SKC_EVENT_CACHE_DESTROY:
		skc_ev_cache(SPLKMEM_CMD_CACHE_DEL_NTF, c, NULL);
		break;
	case SKC_EVENT_REAP:
		skc_ev_cache(SPLKMEM_CMD_REAP_NTF, c, res);
		break;
	case SKC_EVENT_DEADLOCK:
		skc_ev_defer(SPLKMEM_CMD_DEADLOCK_NTF, c,
			     READ_ONCE(c->obj_deadlock));
		break;
	case SKC_EVENT_EMERGENCY:
		skc_ev_defer(SPLKMEM_CMD_EMERGENCY_NTF, c,
			     READ_ONCE(c->obj_emergency));
		break;
	}
}

/* Called once the family is registered. */
void skc_events_start(void)
{
	WRITE_ONCE(skc_ev_on, true);
}

/* Called before the family goes; no cache is left to raise an event. */
void skc_events_stop(void)
{
	WRITE_ONCE(skc_ev_on, false);
	cancel_work_sync(&skc_ev_work);
}
