// SPDX-License-Identifier: GPL-2.0-or-later
/* Tunables (the module parameters), by name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int parse_tunable(struct nlattr *nest, struct splkmem_tunable *t)
{
	struct nlattr *tb[SPLKMEM_TUNABLE_A_MAX + 1];

	memset(t, 0, sizeof(*t));
	if (nla_parse_nested(tb, SPLKMEM_TUNABLE_A_MAX, nest, NULL) ||
	    !tb[SPLKMEM_TUNABLE_A_NAME] || !tb[SPLKMEM_TUNABLE_A_VALUE])
		return -EPROTO;
	nla_strlcpy(t->name, tb[SPLKMEM_TUNABLE_A_NAME], sizeof(t->name));
	t->value = nla_get_u32(tb[SPLKMEM_TUNABLE_A_VALUE]);
	if (tb[SPLKMEM_TUNABLE_A_MIN_VALUE])
		t->min = nla_get_u32(tb[SPLKMEM_TUNABLE_A_MIN_VALUE]);
	if (tb[SPLKMEM_TUNABLE_A_MAX_VALUE])
		t->max = nla_get_u32(tb[SPLKMEM_TUNABLE_A_MAX_VALUE]);
	t->zero_ok = tb[SPLKMEM_TUNABLE_A_ZERO_OK] != NULL;
	return 0;
}

struct tunables {
	struct splkmem_tunable *v;
	size_t n;
};

/*
 * The reply repeats SPLKMEM_A_TUNABLE, which the top-level parse keeps
 * only the last of: walk the message ourselves.
 */
static int collect(struct nl_msg *msg, struct tunables *out)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		void *v;

		if (nla_type(a) != SPLKMEM_A_TUNABLE)
			continue;
		v = realloc(out->v, (out->n + 1) * sizeof(*out->v));
		if (!v)
			return -ENOMEM;
		out->v = v;
		if (parse_tunable(a, &out->v[out->n]))
			return -EPROTO;
		out->n++;
	}
	return 0;
}

/* splkmem_transact() hands over parsed attributes; tunables need the
 * message, so the reply function gets it through this side door. */
struct tunable_req {
	struct tunables out;
	int rc;
};

static int on_reply(struct nl_msg *msg, void *arg)
{
	struct tunable_req *r = arg;

	if (!r->rc)
		r->rc = collect(msg, &r->out);
	return NL_OK;
}

static int request(struct splkmem *h, uint8_t cmd, const char *name,
		   const uint32_t *value, struct tunables *out)
{
	struct tunable_req r = { { NULL, 0 }, 0 };
	struct nl_msg *msg;
	int rc;

	if (name && strlen(name) > SPLKMEM_NAME_LEN)
		return splkmem_fail(h, ENAMETOOLONG,
				    "tunable name longer than %d bytes",
				    SPLKMEM_NAME_LEN);
	msg = splkmem_msg_new(h, cmd, 0);
	if (!msg)
		return -ENOMEM;
	if (name) {
		struct nlattr *nest = nla_nest_start(msg, SPLKMEM_A_TUNABLE);

		if (!nest || nla_put_string(msg, SPLKMEM_TUNABLE_A_NAME, name) ||
		    (value && nla_put_u32(msg, SPLKMEM_TUNABLE_A_VALUE, *value))) {
			nlmsg_free(msg);
			return splkmem_fail(h, ENOMEM, "out of memory");
		}
		nla_nest_end(msg, nest);
	}
	rc = splkmem_transact_raw(h, msg, on_reply, &r);
	if (!rc && r.rc)
		rc = splkmem_fail(h, -r.rc, r.rc == -ENOMEM ? "out of memory" :
				  "malformed tunable in the reply");
	if (rc) {
		free(r.out.v);
		return rc;
	}
	*out = r.out;
	return 0;
}

int splkmem_tunables_get(struct splkmem *h, struct splkmem_tunable **tunables,
			 size_t *n)
{
	struct tunables out;
	int rc = request(h, SPLKMEM_CMD_TUNABLE_GET, NULL, NULL, &out);

	if (rc)
		return rc;
	*tunables = out.v;
	*n = out.n;
	return 0;
}

static int one(struct splkmem *h, struct tunables *out,
	       struct splkmem_tunable *t)
{
	if (out->n != 1) {
		free(out->v);
		return splkmem_fail(h, EPROTO, "expected one tunable, got %zu",
				    out->n);
	}
	if (t)
		*t = out->v[0];
	free(out->v);
	return 0;
}

int splkmem_tunable_get(struct splkmem *h, const char *name,
			struct splkmem_tunable *t)
{
	struct tunables out;
	int rc = request(h, SPLKMEM_CMD_TUNABLE_GET, name, NULL, &out);

	return rc ? rc : one(h, &out, t);
}

int splkmem_tunable_set(struct splkmem *h, const char *name, uint32_t value,
			struct splkmem_tunable *t)
{
	struct tunables out;
	int rc = request(h, SPLKMEM_CMD_TUNABLE_SET, name, &value, &out);

	return rc ? rc : one(h, &out, t);
}
