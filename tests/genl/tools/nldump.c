// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nldump: dump every cache the raw way and tell how the dump went: how
 * many datagrams (each one a dumpit call resumed from its cursor), caches,
 * distinct names, and whether any message was flagged NLM_F_DUMP_INTR.
 *
 *   nldump [-b BUFSIZE] [-t FILE]
 *
 * -b  receive buffer per recv() (default 4096: the kernel sizes dump
 *     datagrams after it, so small means many resumptions)
 * -t  after the first datagram, write "1" to FILE (the test module's
 *     churn parameter creates and destroys a cache), so that the rest of
 *     the dump must come flagged as interrupted
 *
 * Prints: caches=N unique=N datagrams=N intr=0|1 first=NAME last=NAME
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spl_kmem/genl.h>

#include "rawnl.h"

static int cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The cache name inside a CACHE_GET message, or NULL. */
static const char *cache_name(struct nlmsghdr *nlh)
{
	struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	int rem = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	for (; rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
	     rem -= NLA_ALIGN(a->nla_len),
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
		struct nlattr *b = a + 1;
		int r2 = a->nla_len - NLA_HDRLEN;

		if ((a->nla_type & NLA_TYPE_MASK) != SPLKMEM_A_CACHE)
			continue;
		for (; r2 >= NLA_HDRLEN && b->nla_len >= NLA_HDRLEN;
		     r2 -= NLA_ALIGN(b->nla_len),
		     b = (struct nlattr *)((char *)b + NLA_ALIGN(b->nla_len)))
			if (b->nla_type == SPLKMEM_CACHE_A_NAME)
				return (const char *)(b + 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	size_t bufsize = 4096, n = 0, cap = 1024, unique = 0, i;
	unsigned long datagrams = 0;
	const char *touch = NULL;
	char (*names)[(SPLKMEM_NAME_LEN + 1)];
	int fd, family, opt, intr = 0, done = 0;
	char req[64], *buf;
	struct nlmsghdr *nlh = (struct nlmsghdr *)req;

	while ((opt = getopt(argc, argv, "b:t:")) != -1) {
		switch (opt) {
		case 'b':
			bufsize = strtoul(optarg, NULL, 0);
			break;
		case 't':
			touch = optarg;
			break;
		default:
			fprintf(stderr, "usage: nldump [-b BUFSIZE] [-t FILE]\n");
			return 2;
		}
	}
	buf = malloc(bufsize);
	names = malloc(cap * sizeof(*names));
	/* Resolve on a socket of its own: the kernel sizes dump datagrams
	 * after the largest recv() a socket has seen. */
	fd = rawnl_open(0);
	if (!buf || !names || fd < 0)
		return 1;
	family = rawnl_family(fd, SPLKMEM_GENL_NAME);
	close(fd);
	if (family < 0) {
		fprintf(stderr, "nldump: %s\n", strerror(-family));
		return 1;
	}
	fd = rawnl_open(0);
	if (fd < 0)
		return 1;
	memset(req, 0, sizeof(req));
	nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 42;
	((struct genlmsghdr *)NLMSG_DATA(nlh))->cmd = SPLKMEM_CMD_CACHE_GET;
	((struct genlmsghdr *)NLMSG_DATA(nlh))->version = SPLKMEM_GENL_VERSION;
	if (send(fd, req, nlh->nlmsg_len, 0) < 0)
		return 1;

	while (!done) {
		/* MSG_TRUNC: the datagram's real length, to notice a cut. */
		ssize_t len = recv(fd, buf, bufsize, MSG_TRUNC);
		struct nlmsghdr *m;

		if (len < 0) {
			fprintf(stderr, "nldump: recv: %s\n", strerror(errno));
			return 1;
		}
		if ((size_t)len > bufsize) {
			fprintf(stderr, "nldump: a %zd-byte datagram for a %zu-byte buffer\n",
				len, bufsize);
			return 1;
		}
		datagrams++;
		for (m = (struct nlmsghdr *)buf; NLMSG_OK(m, len);
		     m = NLMSG_NEXT(m, len)) {
			const char *name;

			if (m->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = 1;
			if (m->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (m->nlmsg_type == NLMSG_ERROR) {
				fprintf(stderr, "nldump: error %d\n",
					((struct nlmsgerr *)NLMSG_DATA(m))->error);
				return 1;
			}
			name = cache_name(m);
			if (!name) {
				fprintf(stderr, "nldump: a message without a cache name\n");
				return 1;
			}
			if (n == cap) {
				cap *= 2;
				names = realloc(names, cap * sizeof(*names));
				if (!names)
					return 1;
			}
			snprintf(names[n++], (SPLKMEM_NAME_LEN + 1), "%s", name);
		}
		if (datagrams == 1 && touch) {
			int t = open(touch, O_WRONLY);

			if (t < 0 || write(t, "1", 1) != 1) {
				fprintf(stderr, "nldump: %s: %s\n", touch,
					strerror(errno));
				return 1;
			}
			close(t);
		}
	}
	printf("caches=%zu", n);
	if (n) {
		printf(" first=%s last=%s", names[0], names[n - 1]);
		qsort(names, n, sizeof(*names), cmp);
		for (i = 0; i < n; i++)
			unique += !i || strcmp(names[i], names[i - 1]);
	}
	printf(" unique=%zu datagrams=%lu intr=%d\n", unique, datagrams, intr);
	return 0;
}
