// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nlfail: every request of the spl_kmem family under injected allocation
 * failure, one failure point at a time.
 *
 * For each request and N = 1, 2, ...: write N to /proc/thread-self/fail-nth
 * (the kernel then fails the Nth fault-injectable allocation this thread
 * makes: slab with failslab, pages with fail_page_alloc), send the request
 * and read every reply until its end.  The request must end in a reply or
 * an error (never silence, a malformed message or a crash), and the
 * module must go on answering.  When fail-nth reads back non-zero, the
 * failure was never reached: every allocation of that request has had its
 * turn, and the next request starts.
 *
 * usage: nlfail CACHE   (a KVMEM cache to act on; needs CAP_NET_ADMIN and
 *                        a kernel with CONFIG_FAULT_INJECTION)
 * Prints one line per request, then "nlfail: N runs, N ok, N errors".
 * Exit 0 when every run ended cleanly and every request met a failure;
 * 1 otherwise; 77 when the kernel has no fail-nth.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <spl_kmem/genl.h>

#include "rawnl.h"

#define MAX_POINTS	400	/* allocations one request may make, at most */

static int family;
static const char *cache;

/* Build request @cmd (0..5 below) into @buf; its length. */
static size_t build(char *buf, size_t cap, int req, uint32_t seq)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *gh = NLMSG_DATA(nlh);
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN, nest;
	uint32_t v;

	memset(buf, 0, cap);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	gh->version = SPLKMEM_GENL_VERSION;
	switch (req) {
	case 0:		/* CACHE_GET dump */
		gh->cmd = SPLKMEM_CMD_CACHE_GET;
		nlh->nlmsg_flags |= NLM_F_DUMP;
		break;
	case 1:		/* CACHE_GET do */
	case 2:		/* CACHE_SET magazine 16 */
	case 3:		/* REAP of one cache */
		gh->cmd = req == 1 ? SPLKMEM_CMD_CACHE_GET :
			  req == 2 ? SPLKMEM_CMD_CACHE_SET : SPLKMEM_CMD_REAP;
		nest = off;
		off = rawnl_put(buf, cap, off, SPLKMEM_A_CACHE | NLA_F_NESTED, NULL, 0);
		off = rawnl_put(buf, cap, off, SPLKMEM_CACHE_A_NAME, cache,
				strlen(cache) + 1);
		if (req == 2) {
			v = 16;
			off = rawnl_put(buf, cap, off, SPLKMEM_CACHE_A_MAG_SIZE, &v, 4);
		}
		((struct nlattr *)(buf + nest))->nla_len = off - nest;
		break;
	case 4:		/* TUNABLE_GET, all */
		gh->cmd = SPLKMEM_CMD_TUNABLE_GET;
		break;
	case 5:		/* TUNABLE_SET obj_per_slab 8 */
		gh->cmd = SPLKMEM_CMD_TUNABLE_SET;
		nest = off;
		off = rawnl_put(buf, cap, off, SPLKMEM_A_TUNABLE | NLA_F_NESTED, NULL, 0);
		off = rawnl_put(buf, cap, off, SPLKMEM_TUNABLE_A_NAME, "obj_per_slab",
				sizeof("obj_per_slab"));
		v = 8;
		off = rawnl_put(buf, cap, off, SPLKMEM_TUNABLE_A_VALUE, &v, 4);
		((struct nlattr *)(buf + nest))->nla_len = off - nest;
		break;
	case 6:		/* REAP of every cache */
		gh->cmd = SPLKMEM_CMD_REAP;
		break;
	}
	nlh->nlmsg_len = off;
	return off;
}

static const char *const names[] = {
	"CACHE_GET dump", "CACHE_GET do", "CACHE_SET magazine", "REAP cache",
	"TUNABLE_GET", "TUNABLE_SET", "REAP all",
};

/*
 * Read until the request's end: its ack (an NLMSG_ERROR of 0), its error,
 * or NLMSG_DONE of a dump.  Return 0 on success, a positive errno for an
 * error reply, -1 for silence or a malformed reply.
 */
static int await(int fd, uint32_t seq)
{
	static char buf[1 << 16];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh;

		if (n < 0) {
			/* The reply itself could not be allocated: the
			 * socket says so (ENOBUFS) rather than staying silent. */
			if (errno == ENOBUFS)
				return ENOBUFS;
			fprintf(stderr, "nlfail: recv: %s\n", strerror(errno));
			return -1;
		}
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != seq)
				continue;	/* a late reply of an earlier run */
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					fprintf(stderr, "nlfail: short error message\n");
					return -1;
				}
				return -e->error;
			}
			if (nlh->nlmsg_type != family) {
				fprintf(stderr, "nlfail: message of type %u\n",
					nlh->nlmsg_type);
				return -1;
			}
		}
		if (n > 0) {
			fprintf(stderr, "nlfail: %zd trailing bytes\n", n);
			return -1;
		}
	}
}

static int set_fail_nth(int fd, int nth)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%d", nth);

	return pwrite(fd, s, len, 0) == len ? 0 : -1;
}

/* Non-zero when the failure set up was never reached. */
static int fail_nth_left(int fd)
{
	char s[16] = "";

	if (pread(fd, s, sizeof(s) - 1, 0) <= 0)
		return -1;
	return atoi(s);
}

int main(int argc, char **argv)
{
	struct timeval tv = { .tv_sec = 60 };
	unsigned long runs = 0, oks = 0, errs = 0;
	int fd, nth_fd, req, bad = 0;
	static char buf[4096];
	uint32_t seq = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: nlfail CACHE\n");
		return 2;
	}
	cache = argv[1];
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth_fd < 0) {
		printf("nlfail: no /proc/thread-self/fail-nth: %s\n", strerror(errno));
		return 77;
	}
	fd = rawnl_open(1 << 20);
	if (fd < 0 || (family = rawnl_family(fd, SPLKMEM_GENL_NAME)) < 0) {
		fprintf(stderr, "nlfail: no spl_kmem family\n");
		return 1;
	}
	/* Silence is a failure, not a hang. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	for (req = 0; req < (int)(sizeof(names) / sizeof(names[0])); req++) {
		unsigned long ok = 0, err = 0;
		int nth, reached = 1, last_err = 0;

		for (nth = 1; nth <= MAX_POINTS && reached; nth++) {
			size_t len = build(buf, sizeof(buf), req, ++seq);
			int rc;

			runs++;
			if (set_fail_nth(nth_fd, nth)) {
				perror("nlfail: fail-nth");
				return 1;
			}
			if (send(fd, buf, len, 0) < 0) {
				rc = errno;	/* the request's own skb */
			} else {
				rc = await(fd, seq);
			}
			reached = fail_nth_left(nth_fd) == 0;
			set_fail_nth(nth_fd, 0);
			if (rc < 0) {
				printf("nlfail: %s with allocation %d failing: no clean end\n",
				       names[req], nth);
				bad = 1;
				break;
			}
			if (rc == 0) {
				ok++;
			} else {
				err++;
				last_err = rc;
			}
		}
		oks += ok;
		errs += err;
		printf("nlfail: %-18s %3d failure points: %lu ok, %lu errors (last: %s)\n",
		       names[req], nth - 1, ok, err,
		       last_err ? strerror(last_err) : "none");
		if (reached) {
			printf("nlfail: %s: still failing after %d points\n",
			       names[req], MAX_POINTS);
			bad = 1;
		}
		if (!err) {
			printf("nlfail: %s: no failure reached it\n", names[req]);
			bad = 1;
		}
	}

	/* The family answers as before. */
	{
		size_t len = build(buf, sizeof(buf), 4, ++seq);

		if (send(fd, buf, len, 0) < 0 || await(fd, seq) != 0) {
			printf("nlfail: the family does not answer afterwards\n");
			bad = 1;
		}
	}
	printf("nlfail: %lu runs, %lu ok, %lu errors\n", runs, oks, errs);
	return bad;
}
