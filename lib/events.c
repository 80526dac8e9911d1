// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Events: a second socket, member of the family's "events" group, whose
 * messages are not answers to anything (no sequence check).
 */
#include <errno.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/socket.h>

#include "internal.h"

int splkmem_events_subscribe(struct splkmem *h)
{
	int grp, rc;

	if (h->ev_sk)
		return 0;
	grp = genl_ctrl_resolve_grp(h->sk, SPLKMEM_GENL_NAME,
				    SPLKMEM_MCGRP_EVENTS);
	if (grp < 0)
		return splkmem_fail(h, splkmem_errno(grp),
				    "cannot resolve the %s group: %s",
				    SPLKMEM_MCGRP_EVENTS, nl_geterror(grp));
	h->ev_sk = nl_socket_alloc();
	if (!h->ev_sk)
		return splkmem_fail(h, ENOMEM, "out of memory");
	nl_socket_disable_seq_check(h->ev_sk);
	rc = genl_connect(h->ev_sk);
	if (rc >= 0)
		rc = nl_socket_add_membership(h->ev_sk, grp);
	if (rc < 0) {
		nl_socket_free(h->ev_sk);
		h->ev_sk = NULL;
		return splkmem_fail(h, splkmem_errno(rc),
				    "cannot join the %s group: %s",
				    SPLKMEM_MCGRP_EVENTS, nl_geterror(rc));
	}
	/*
	 * A reap of every cache sends one event per cache at once: 4 MiB,
	 * forced past net.core.rmem_max when we have CAP_NET_ADMIN (the
	 * daemon has), else as much as rmem_max allows.
	 */
	splkmem_set_rcvbuf(nl_socket_get_fd(h->ev_sk), 4 << 20);
	nl_socket_enable_msg_peek(h->ev_sk);
	return 0;
}

int splkmem_events_fd(const struct splkmem *h)
{
	return h->ev_sk ? nl_socket_get_fd(h->ev_sk) : -1;
}

static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

struct ev_read {
	struct splkmem *h;
	splkmem_event_fn fn;
	void *arg;
	int stop;
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *tb[SPLKMEM_A_MAX + 1];
	struct ev_read *r = arg;
	struct splkmem_event ev;

	if (r->stop || nlh->nlmsg_type != r->h->family)
		return NL_SKIP;
	memset(&ev, 0, sizeof(ev));
	switch (gh->cmd) {
	case SPLKMEM_CMD_CACHE_NEW_NTF: ev.type = SPLKMEM_EVENT_CACHE_NEW; break;
	case SPLKMEM_CMD_CACHE_DEL_NTF: ev.type = SPLKMEM_EVENT_CACHE_DEL; break;
	case SPLKMEM_CMD_DEADLOCK_NTF: ev.type = SPLKMEM_EVENT_DEADLOCK; break;
	case SPLKMEM_CMD_EMERGENCY_NTF: ev.type = SPLKMEM_EVENT_EMERGENCY; break;
	case SPLKMEM_CMD_REAP_NTF: ev.type = SPLKMEM_EVENT_REAP; break;
	default: return NL_SKIP;	/* a newer module's event */
	}
	if (genlmsg_parse(nlh, 0, tb, SPLKMEM_A_MAX, NULL) < 0 ||
	    splkmem_parse_cache(tb[SPLKMEM_A_CACHE], &ev.cache))
		return NL_SKIP;
	if (tb[SPLKMEM_A_REAP_SLABS])
		ev.reap.slabs = nla_get_u64(tb[SPLKMEM_A_REAP_SLABS]);
	if (tb[SPLKMEM_A_REAP_BYTES])
		ev.reap.bytes = nla_get_u64(tb[SPLKMEM_A_REAP_BYTES]);
	if (tb[SPLKMEM_A_EVENTS_MISSED])
		ev.missed = nla_get_u32(tb[SPLKMEM_A_EVENTS_MISSED]);
	r->stop = r->fn(&ev, r->arg);
	return NL_OK;
}

int splkmem_events_read(struct splkmem *h, splkmem_event_fn fn, void *arg)
{
	struct ev_read r = { .h = h, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int rc;

	if (!h->ev_sk)
		return splkmem_fail(h, EINVAL, "not subscribed to events");
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return splkmem_fail(h, ENOMEM, "out of memory");
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &r);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	rc = nl_recvmsgs_report(h->ev_sk, cb);
	nl_cb_put(cb);
	if (rc < 0) {
		/* ENOBUFS: the kernel dropped events we were too slow for. */
		if (rc == -NLE_NOMEM || rc == -NLE_MSG_OVERFLOW)
			return splkmem_fail(h, ENOBUFS, "events were lost: %s",
					    nl_geterror(rc));
		return splkmem_fail(h, splkmem_errno(rc),
				    "receiving events: %s", nl_geterror(rc));
	}
	return r.stop;
}

const char *splkmem_event_name(enum splkmem_event_type type)
{
	switch (type) {
	case SPLKMEM_EVENT_CACHE_NEW: return "cache-new";
	case SPLKMEM_EVENT_CACHE_DEL: return "cache-del";
	case SPLKMEM_EVENT_DEADLOCK: return "deadlock";
	case SPLKMEM_EVENT_EMERGENCY: return "emergency";
	case SPLKMEM_EVENT_REAP: return "reap";
	}
	return "unknown";
}
