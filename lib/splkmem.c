// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Connecting to the spl_kmem family, sending requests and turning the
 * kernel's answers, extended acks included, into errno + message.
 *
 * libnl does not decode extended acks: the socket asks for them
 * (NETLINK_EXT_ACK) and for capped acks (NETLINK_CAP_ACK: the request is
 * not echoed, we still have it), and the error callback parses the TLVs.
 * The attribute the kernel points at (NLMSGERR_ATTR_OFFS) is found again
 * in our own copy of the request to name it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/socket.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* libnl's error codes back to errno, for errors that did not come from
 * the kernel (those carry the kernel's errno already). */
int splkmem_errno(int nlerr)
{
	switch (abs(nlerr)) {
	case NLE_NOMEM: return ENOMEM;
	case NLE_PERM: return EPERM;
	case NLE_NOACCESS: return EACCES;
	case NLE_OBJ_NOTFOUND: return ENOENT;
	case NLE_AGAIN: return EAGAIN;
	case NLE_INTR: return EINTR;
	case NLE_BUSY: return EBUSY;
	case NLE_INVAL: return EINVAL;
	case NLE_RANGE: return ERANGE;
	case NLE_OPNOTSUPP: return EOPNOTSUPP;
	case NLE_MSG_OVERFLOW: return ENOBUFS;
	case NLE_DUMP_INTR: return EINTR;
	case NLE_PROTO_MISMATCH: return EPROTONOSUPPORT;
	default: return EIO;
	}
}

static const char *const top_names[SPLKMEM_A_MAX + 1] = {
	[SPLKMEM_A_PAD] = "pad",
	[SPLKMEM_A_CACHE] = "cache",
	[SPLKMEM_A_TUNABLE] = "tunable",
	[SPLKMEM_A_REAP_SLABS] = "reap_slabs",
	[SPLKMEM_A_REAP_BYTES] = "reap_bytes",
	[SPLKMEM_A_EVENTS_MISSED] = "events_missed",
};

static const char *const cache_names[SPLKMEM_CACHE_A_MAX + 1] = {
	[SPLKMEM_CACHE_A_PAD] = "pad",
	[SPLKMEM_CACHE_A_NAME] = "name",
	[SPLKMEM_CACHE_A_BACKING] = "backing",
	[SPLKMEM_CACHE_A_FLAGS] = "flags",
	[SPLKMEM_CACHE_A_OBJ_SIZE] = "obj_size",
	[SPLKMEM_CACHE_A_OBJ_ALIGN] = "obj_align",
	[SPLKMEM_CACHE_A_SLAB_SIZE] = "slab_size",
	[SPLKMEM_CACHE_A_SLAB_OBJS] = "slab_objs",
	[SPLKMEM_CACHE_A_MAG_SIZE] = "mag_size",
	[SPLKMEM_CACHE_A_MAG_REFILL] = "mag_refill",
	[SPLKMEM_CACHE_A_MAG_AUTO] = "mag_auto",
	/* Statistics never appear in requests. */
};

static const char *const tunable_names[SPLKMEM_TUNABLE_A_MAX + 1] = {
	[SPLKMEM_TUNABLE_A_NAME] = "name",
	[SPLKMEM_TUNABLE_A_VALUE] = "value",
	[SPLKMEM_TUNABLE_A_MIN_VALUE] = "min_value",
	[SPLKMEM_TUNABLE_A_MAX_VALUE] = "max_value",
	[SPLKMEM_TUNABLE_A_ZERO_OK] = "zero_ok",
};

/* @nest: 0 for a top-level attribute, else the nest it is in. */
void splkmem_attr_name(int nest, int type, char *buf, size_t len)
{
	const char *const *names = NULL;
	size_t n = 0;
	const char *prefix = "";

	if (nest == 0) {
		names = top_names, n = ARRAY_SIZE(top_names);
	} else if (nest == SPLKMEM_A_CACHE) {
		names = cache_names, n = ARRAY_SIZE(cache_names);
		prefix = "cache.";
	} else if (nest == SPLKMEM_A_TUNABLE) {
		names = tunable_names, n = ARRAY_SIZE(tunable_names);
		prefix = "tunable.";
	}
	if (names && type > 0 && (size_t)type < n && names[type])
		snprintf(buf, len, "%s%s", prefix, names[type]);
	else
		snprintf(buf, len, "%s#%d", prefix, type);
}

/* Name the attribute at byte @off of our request @req. */
static void name_attr_at(const struct nlmsghdr *req, uint32_t off, char *buf,
			 size_t len)
{
	const char *base = (const char *)req;
	int hdr = NLMSG_HDRLEN + GENL_HDRLEN;
	struct nlattr *a, *b;
	int rem, rem2;

	snprintf(buf, len, "at offset %u", off);
	if (req->nlmsg_len < (uint32_t)hdr)
		return;
	nla_for_each_attr(a, (struct nlattr *)(base + hdr),
			  req->nlmsg_len - hdr, rem) {
		uint32_t aoff = (const char *)a - base;

		if (off == aoff) {
			splkmem_attr_name(0, nla_type(a), buf, len);
			return;
		}
		if (off <= aoff || off >= aoff + a->nla_len)
			continue;
		nla_for_each_nested(b, a, rem2) {
			if ((uint32_t)((const char *)b - base) == off) {
				splkmem_attr_name(nla_type(a), nla_type(b), buf,
						  len);
				return;
			}
		}
	}
}

/* What the policy of a rejected attribute allows, as "0..256". */
static void policy_hint(struct nlattr *pol, char *buf, size_t len)
{
	struct nlattr *tb[NL_POLICY_TYPE_ATTR_MAX + 1];

	if (nla_parse_nested(tb, NL_POLICY_TYPE_ATTR_MAX, pol, NULL))
		return;
	if (tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U] &&
	    tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U])
		snprintf(buf, len, "%llu..%llu",
			 (unsigned long long)nla_get_u64(tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]),
			 (unsigned long long)nla_get_u64(tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]));
	else if (tb[NL_POLICY_TYPE_ATTR_MAX_LENGTH])
		snprintf(buf, len, "at most %u bytes",
			 nla_get_u32(tb[NL_POLICY_TYPE_ATTR_MAX_LENGTH]));
}

struct transact {
	struct splkmem *h;
	const struct nlmsghdr *req;
	splkmem_reply_fn fn;
	int (*raw)(struct nl_msg *msg, void *arg);
	void *arg;
	int error;		/* negative errno */
	bool done;
	bool interrupted;
};

static void parse_extack(struct transact *t, const struct nlmsghdr *nlh,
			 const struct nlmsgerr *e)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct splkmem_error *err = &t->h->err;
	size_t off = sizeof(*e), len = nlh->nlmsg_len - NLMSG_HDRLEN;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (nlh->nlmsg_len < NLMSG_HDRLEN || len < off)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((const char *)e + off), len - off, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(err->msg, sizeof(err->msg), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_OFFS])
		name_attr_at(t->req, nla_get_u32(tb[NLMSGERR_ATTR_OFFS]),
			     err->attr, sizeof(err->attr));
	else if (tb[NLMSGERR_ATTR_MISS_TYPE]) {
		int nest = 0;

		/* The only nests a request has are at the top level. */
		if (tb[NLMSGERR_ATTR_MISS_NEST]) {
			uint32_t at = nla_get_u32(tb[NLMSGERR_ATTR_MISS_NEST]);

			if (at + NLA_HDRLEN <= t->req->nlmsg_len)
				nest = nla_type((const struct nlattr *)
						((const char *)t->req + at));
		}
		splkmem_attr_name(nest, nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]),
				  err->attr, sizeof(err->attr));
	}
	if (tb[NLMSGERR_ATTR_POLICY])
		policy_hint(tb[NLMSGERR_ATTR_POLICY], err->hint,
			    sizeof(err->hint));
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct transact *t = arg;
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)
		((const char *)e - NLMSG_HDRLEN);

	(void)nla;
	memset(&t->h->err, 0, sizeof(t->h->err));
	t->h->err.code = -e->error;
	t->h->err.kernel = true;
	t->error = e->error;
	t->done = true;
	parse_extack(t, nlh, e);
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[SPLKMEM_A_MAX + 1];
	struct transact *t = arg;
	int rc;

	if (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP_INTR)
		t->interrupted = true;
	if (t->error)		/* keep reading to the end, ignore the rest */
		return NL_SKIP;
	if (t->raw)
		return t->raw(msg, t->arg);
	rc = genlmsg_parse(nlmsg_hdr(msg), 0, tb, SPLKMEM_A_MAX, NULL);
	if (rc < 0) {
		t->error = splkmem_fail(t->h, EPROTO, "malformed reply");
		return NL_SKIP;
	}
	if (t->fn) {
		rc = t->fn(tb, t->arg);
		if (rc < 0)
			t->error = rc;
	}
	return NL_OK;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct transact *t = arg;

	(void)msg;
	t->done = true;
	return NL_STOP;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct transact *t = arg;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		t->interrupted = true;
	/* A dump that failed says so in NLMSG_DONE's payload. */
	if (!t->error && nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
		int e = *(int *)nlmsg_data(nlh);

		if (e < 0)
			t->error = splkmem_fail(t->h, -e, "dump failed");
	}
	t->done = true;
	return NL_STOP;
}

static int on_dump_intr(struct nl_msg *msg, void *arg)
{
	struct transact *t = arg;

	(void)msg;
	t->interrupted = true;
	return NL_OK;
}

struct nl_msg *splkmem_msg_new(struct splkmem *h, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg) {
		splkmem_fail(h, ENOMEM, "out of memory");
		return NULL;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, h->family, 0, flags,
			 cmd, SPLKMEM_GENL_VERSION)) {
		nlmsg_free(msg);
		splkmem_fail(h, ENOMEM, "out of memory");
		return NULL;
	}
	return msg;
}

static int transact(struct splkmem *h, struct nl_msg *msg, struct transact t,
		    bool *interrupted)
{
	struct nl_cb *cb;
	int rc;

	memset(&h->err, 0, sizeof(h->err));
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return splkmem_fail(h, ENOMEM, "out of memory");
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &t);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &t);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, &t);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &t);

	rc = nl_send_auto(h->sk, msg);
	if (rc < 0) {
		rc = splkmem_fail(h, splkmem_errno(rc), "sending the request: %s",
				  nl_geterror(rc));
		goto out;
	}
	t.req = nlmsg_hdr(msg);
	while (!t.done) {
		rc = nl_recvmsgs(h->sk, cb);
		if (rc < 0 && !t.error) {
			rc = splkmem_fail(h, splkmem_errno(rc),
					  "receiving the reply: %s",
					  nl_geterror(rc));
			goto out;
		}
		if (rc < 0)
			break;
	}
	rc = t.error;
	if (interrupted)
		*interrupted = t.interrupted;
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return rc;
}

int splkmem_transact(struct splkmem *h, struct nl_msg *msg,
		     splkmem_reply_fn fn, void *arg, bool *interrupted)
{
	struct transact t = { .h = h, .fn = fn, .arg = arg };

	return transact(h, msg, t, interrupted);
}

int splkmem_transact_raw(struct splkmem *h, struct nl_msg *msg,
			 int (*fn)(struct nl_msg *msg, void *arg), void *arg)
{
	struct transact t = { .h = h, .raw = fn, .arg = arg };

	return transact(h, msg, t, NULL);
}

int splkmem_open(struct splkmem **hp, struct splkmem_error *err)
{
	struct splkmem *h;
	int one = 1, rc;

	*hp = NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		rc = -ENOMEM;
		if (err) {
			memset(err, 0, sizeof(*err));
			err->code = ENOMEM;
		}
		return rc;
	}
	h->sk = nl_socket_alloc();
	if (!h->sk) {
		rc = splkmem_fail(h, ENOMEM, "out of memory");
		goto fail;
	}
	rc = genl_connect(h->sk);
	if (rc < 0) {
		rc = splkmem_fail(h, splkmem_errno(rc),
				  "cannot open a generic netlink socket: %s",
				  nl_geterror(rc));
		goto fail;
	}
	/* Both exist since Linux 4.12; without them errors are terser. */
	setsockopt(nl_socket_get_fd(h->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(h->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	/* Dumps come in skbs up to 32 KiB: read whole datagrams. */
	nl_socket_enable_msg_peek(h->sk);

	h->family = genl_ctrl_resolve(h->sk, SPLKMEM_GENL_NAME);
	if (h->family < 0) {
		if (h->family == -NLE_OBJ_NOTFOUND)
			rc = splkmem_fail(h, ENOENT,
					  "spl_kmem module not loaded (no generic netlink family \"%s\")",
					  SPLKMEM_GENL_NAME);
		else
			rc = splkmem_fail(h, splkmem_errno(h->family),
					  "cannot resolve the %s family: %s",
					  SPLKMEM_GENL_NAME,
					  nl_geterror(h->family));
		goto fail;
	}
	*hp = h;
	return 0;

fail:
	if (err)
		*err = h->err;
	splkmem_close(h);
	return rc;
}

void splkmem_close(struct splkmem *h)
{
	if (!h)
		return;
	if (h->ev_sk)
		nl_socket_free(h->ev_sk);
	if (h->sk)
		nl_socket_free(h->sk);
	free(h);
}

const struct splkmem_error *splkmem_last_error(const struct splkmem *h)
{
	return &h->err;
}

const char *splkmem_error_str(const struct splkmem_error *err, char *buf,
			      size_t len)
{
	const char *what = strerror(err->code);
	int n;

	n = snprintf(buf, len, "%s", err->msg[0] ? err->msg : what);
	if (err->attr[0] || err->hint[0]) {
		n += snprintf(buf + n, (size_t)n < len ? len - n : 0, " (%s%s%s%s)",
			      err->attr[0] ? "attribute " : "", err->attr,
			      err->attr[0] && err->hint[0] ? ", valid: " :
			      err->hint[0] ? "valid: " : "", err->hint);
	}
	/* The kernel's message says what; the errno says what kind. */
	if (err->kernel && err->msg[0] && (size_t)n < len)
		snprintf(buf + n, len - n, ": %s", what);
	return buf;
}

const char *splkmem_backing_name(uint32_t backing)
{
	switch (backing) {
	case SPLKMEM_BACKING_KVMEM: return "kvmem";
	case SPLKMEM_BACKING_SLAB: return "slab";
	default: return "unknown";
	}
}
