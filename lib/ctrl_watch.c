// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Watching for the module without polling.  The controller (nlctrl) announces CTRL_CMD_NEWFAMILY / DELFAMILY on its
 * "notify" multicast group, which any user may join.  The socket is
 * non-blocking and has no sequence check (nothing on it answers a
 * request of ours once the group is joined).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include "internal.h"
#include "splkmem.h"

struct splkmem_watch {
	struct nl_sock *sk;
};

static int fail(struct splkmem_error *err, int code, const char *what,
		int nlerr)
{
	if (err) {
		memset(err, 0, sizeof(*err));
		err->code = code;
		snprintf(err->msg, sizeof(err->msg), "%s: %s", what,
			 nl_geterror(nlerr));
	}
	return -code;
}

int splkmem_watch_open(struct splkmem_watch **wp, struct splkmem_error *err)
{
	struct splkmem_watch *w;
	int grp, rc;

	*wp = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return fail(err, ENOMEM, "out of memory", -NLE_NOMEM);
	w->sk = nl_socket_alloc();
	if (!w->sk) {
		rc = fail(err, ENOMEM, "out of memory", -NLE_NOMEM);
		goto out;
	}
	rc = genl_connect(w->sk);
	if (rc < 0) {
		rc = fail(err, splkmem_errno(rc),
			  "cannot open a generic netlink socket", rc);
		goto out;
	}
	grp = genl_ctrl_resolve_grp(w->sk, "nlctrl", "notify");
	if (grp < 0) {
		rc = fail(err, splkmem_errno(grp),
			  "cannot resolve the controller's notify group", grp);
		goto out;
	}
	nl_socket_disable_seq_check(w->sk);
	rc = nl_socket_add_membership(w->sk, grp);
	if (rc >= 0)
		rc = nl_socket_set_nonblocking(w->sk);
	/* Some families' NEWFAMILY messages are large: read them whole. */
	nl_socket_enable_msg_peek(w->sk);
	if (rc < 0) {
		rc = fail(err, splkmem_errno(rc),
			  "cannot join the controller's notify group", rc);
		goto out;
	}
	*wp = w;
	return 0;
out:
	splkmem_watch_close(w);
	return rc;
}

void splkmem_watch_close(struct splkmem_watch *w)
{
	if (!w)
		return;
	if (w->sk)
		nl_socket_free(w->sk);
	free(w);
}

int splkmem_watch_fd(const struct splkmem_watch *w)
{
	return nl_socket_get_fd(w->sk);
}

static int on_ctrl(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	unsigned int *what = arg;
	struct genlmsghdr *gh;

	if (nlh->nlmsg_type != GENL_ID_CTRL ||
	    !genlmsg_valid_hdr(nlh, 0))
		return NL_SKIP;
	gh = nlmsg_data(nlh);
	if (gh->cmd != CTRL_CMD_NEWFAMILY && gh->cmd != CTRL_CMD_DELFAMILY)
		return NL_SKIP;
	if (genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0 ||
	    !tb[CTRL_ATTR_FAMILY_NAME] ||
	    strcmp(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]), SPLKMEM_GENL_NAME))
		return NL_SKIP;
	*what |= gh->cmd == CTRL_CMD_NEWFAMILY ? SPLKMEM_WATCH_NEW :
						 SPLKMEM_WATCH_DEL;
	return NL_OK;
}

static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int splkmem_watch_read(struct splkmem_watch *w, unsigned int *what)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int rc;

	*what = 0;
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_ctrl, what);
	/* Notifications carry sequence number 0: no check. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	for (;;) {
		rc = nl_recvmsgs(w->sk, cb);
		if (rc >= 0)
			continue;
		if (rc == -NLE_AGAIN) {
			rc = 0;
			break;
		}
		/* ENOBUFS from the socket: the kernel dropped some. */
		if (rc == -NLE_NOMEM || rc == -NLE_MSG_OVERFLOW ||
		    rc == -NLE_MSG_TRUNC) {
			*what |= SPLKMEM_WATCH_LOST;
			continue;
		}
		rc = -splkmem_errno(rc);
		break;
	}
	nl_cb_put(cb);
	return rc;
}
