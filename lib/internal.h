/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the files of libsplkmem; not installed. */
#ifndef SPLKMEM_INTERNAL_H
#define SPLKMEM_INTERNAL_H

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "splkmem.h"

#include "util.h"

struct splkmem {
	struct nl_sock *sk;		/* requests */
	struct nl_sock *ev_sk;		/* events, once subscribed */
	int family;
	struct splkmem_error err;
};

/* Parse one reply message; return 0 or a negative errno. */
typedef int (*splkmem_reply_fn)(struct nlattr **tb, void *arg);

/* A request for @cmd with its genl header; NULL (and h->err) if no memory. */
struct nl_msg *splkmem_msg_new(struct splkmem *h, uint8_t cmd, int flags);
/*
 * Send @msg (consumed) and hand every reply's top-level attributes to
 * @fn.  *@interrupted (if not NULL) tells whether a dump was flagged
 * NLM_F_DUMP_INTR.  Return: 0 or a negative errno, with h->err set.
 */
int splkmem_transact(struct splkmem *h, struct nl_msg *msg,
		     splkmem_reply_fn fn, void *arg, bool *interrupted);
/* Same, handing @fn each reply message whole (NL_OK to go on). */
int splkmem_transact_raw(struct splkmem *h, struct nl_msg *msg,
			 int (*fn)(struct nl_msg *msg, void *arg), void *arg);
/* Record an error of our own; returns -@code. */
int splkmem_fail(struct splkmem *h, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int splkmem_errno(int nlerr);

/* A name for an attribute of a request, by nest ("cache.mag_size"). */
void splkmem_attr_name(int nest, int type, char *buf, size_t len);

/* cache.c: parse an SPLKMEM_A_CACHE nest. */
int splkmem_parse_cache(struct nlattr *nest, struct splkmem_cache_info *info);

#endif /* SPLKMEM_INTERNAL_H */
