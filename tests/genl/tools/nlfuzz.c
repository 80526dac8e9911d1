// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nlfuzz: send malformed and random messages to the spl_kmem family, then
 * check that it still answers properly.
 *
 *   nlfuzz [-n COUNT] [-s SEED]
 *
 * Each message is one of: a well-formed request with one thing wrong
 * (a value out of range, a name too long or without its NUL, an
 * attribute of the wrong size or an unknown type, a missing attribute);
 * random attributes, nested or not; or a structurally broken one (an
 * attribute longer than the message, shorter than its header, a message
 * length that lies).  Commands are any of 0..15, with random flags (dumps
 * included) and header versions.  Every reply is read, dumps to their
 * end.  Run as root it also makes valid changes (tunables, magazines,
 * reaps); the caller restores the tunables.
 *
 * Exit 0 when, afterwards, a tunable get succeeds and a cache dump
 * succeeds (root) or is refused with EPERM (any other user).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spl_kmem/genl.h>

#include "rawnl.h"

static uint64_t rng_state = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

struct stats {
	unsigned long sent, acks, errors, dones, data, silent, eperm, einval;
};

static const char *const cache_names[] = {
	"demo_4k", "demo_small", "demo_128k", "genl_load", "nosuch", "",
	"a_name_that_is_far_too_long_for_a_cache_0123456789",
};
static const char *const tunable_names[] = {
	"magazine_size", "obj_per_slab", "max_size", "slab_limit",
	"kmem_threads", "bogus", "",
};
static const uint32_t interesting[] = {
	0, 1, 2, 3, 31, 32, 255, 256, 257, 4096, 32768, 32769, 65535,
	0x7fffffff, 0x80000000, 0xffffffff,
};

static uint32_t some_u32(void)
{
	return below(3) ? interesting[below(sizeof(interesting) /
					  sizeof(interesting[0]))] : rnd();
}

/* A string attribute, sometimes without its NUL or too long. */
static size_t put_name(char *buf, size_t cap, size_t off, uint16_t type,
		       const char *const *names, size_t nnames)
{
	char s[80];
	size_t len;

	snprintf(s, sizeof(s), "%s", names[below(nnames)]);
	len = strlen(s) + 1;
	switch (below(8)) {
	case 0:		/* no NUL */
		len = strlen(s);
		break;
	case 1:		/* exactly one byte too long */
		memset(s, 'x', 32);
		s[32] = '\0';
		len = 33;
		break;
	case 2:		/* NUL in the middle */
		if (len > 3)
			s[len / 2] = '\0';
		break;
	}
	return rawnl_put(buf, cap, off, type, s, len);
}

/* A u32, sometimes of the wrong size. */
static size_t put_u32(char *buf, size_t cap, size_t off, uint16_t type)
{
	uint64_t v = some_u32();
	static const size_t sizes[] = { 0, 1, 2, 3, 8 };

	if (below(6))
		return rawnl_put(buf, cap, off, type, &v, 4);
	return rawnl_put(buf, cap, off, type, &v, sizes[below(5)]);
}

static size_t put_random(char *buf, size_t cap, size_t off, int maxtype)
{
	uint8_t junk[96];
	size_t len = below(sizeof(junk)), i;
	uint16_t type = below(maxtype + 4);

	for (i = 0; i < len; i++)
		junk[i] = rnd();
	if (!below(6))
		type |= NLA_F_NESTED;
	if (!below(20))
		type |= NLA_F_NET_BYTEORDER;
	return rawnl_put(buf, cap, off, type, junk, len);
}

/* A nest of @type around a few inner attributes. */
static size_t put_nest(char *buf, size_t cap, size_t off, uint16_t type,
		       bool tunable)
{
	size_t start = off, n = below(4), i;
	struct nlattr *nest = (struct nlattr *)(buf + off);

	off = rawnl_put(buf, cap, off, type | (below(4) ? NLA_F_NESTED : 0),
			NULL, 0);
	for (i = 0; i <= n; i++) {
		switch (below(4)) {
		case 0:
			off = put_random(buf, cap, off, tunable ?
					 SPLKMEM_TUNABLE_A_MAX :
					 SPLKMEM_CACHE_A_MAX);
			break;
		case 1:
			off = put_u32(buf, cap, off, tunable ?
				      SPLKMEM_TUNABLE_A_VALUE :
				      SPLKMEM_CACHE_A_MAG_SIZE);
			break;
		default:
			off = tunable ?
			      put_name(buf, cap, off, SPLKMEM_TUNABLE_A_NAME,
				       tunable_names, 7) :
			      put_name(buf, cap, off, SPLKMEM_CACHE_A_NAME,
				       cache_names, 7);
		}
	}
	nest->nla_len = off - start;
	return off;
}

/* A request that should succeed (or fail only for a missing cache). */
static size_t build_valid(char *buf, size_t cap, size_t off, uint8_t cmd)
{
	static const char *const real[] = { "demo_4k", "demo_128k",
					    "demo_small", "demo_1m_reclaim" };
	const char *name = real[below(4)];
	size_t start = off;
	uint32_t v;

	switch (cmd) {
	case SPLKMEM_CMD_CACHE_GET:
	case SPLKMEM_CMD_REAP:
		if (below(2))
			return off;	/* a dump, or a reap of everything */
		/* fall through */
	case SPLKMEM_CMD_CACHE_SET:
		off = rawnl_put(buf, cap, off, SPLKMEM_A_CACHE | NLA_F_NESTED,
				NULL, 0);
		off = rawnl_put(buf, cap, off, SPLKMEM_CACHE_A_NAME, name,
				strlen(name) + 1);
		if (cmd == SPLKMEM_CMD_CACHE_SET) {
			v = below(3) ? SPLKMEM_MAG_MIN + below(SPLKMEM_MAG_MAX - 1) : 0;
			off = rawnl_put(buf, cap, off, SPLKMEM_CACHE_A_MAG_SIZE,
					&v, 4);
		}
		break;
	case SPLKMEM_CMD_TUNABLE_GET:
	case SPLKMEM_CMD_TUNABLE_SET:
		if (cmd == SPLKMEM_CMD_TUNABLE_GET && below(2))
			return off;
		off = rawnl_put(buf, cap, off, SPLKMEM_A_TUNABLE | NLA_F_NESTED,
				NULL, 0);
		/* Only harmless values: the tunables shape new caches. */
		name = below(2) ? "magazine_size" : "kmem_threads";
		off = rawnl_put(buf, cap, off, SPLKMEM_TUNABLE_A_NAME, name,
				strlen(name) + 1);
		if (cmd == SPLKMEM_CMD_TUNABLE_SET) {
			v = name[0] == 'm' ? (below(2) ? 0 : 2 + below(255)) :
			    1 + below(64);
			off = rawnl_put(buf, cap, off, SPLKMEM_TUNABLE_A_VALUE,
					&v, 4);
		}
		break;
	default:
		return off;
	}
	((struct nlattr *)(buf + start))->nla_len = off - start;
	return off;
}

/* Build one message in @buf; returns the bytes to send. */
static size_t build(char *buf, size_t cap, int family)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *gh = NLMSG_DATA(nlh);
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN, n, i;

	memset(buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | (below(8) ? NLM_F_ACK : 0);
	if (!below(4))
		nlh->nlmsg_flags |= NLM_F_DUMP;
	if (!below(16))
		nlh->nlmsg_flags |= rnd() & 0x0ff0;
	/* Mostly real commands, so that handlers, not only the core, see it. */
	gh->cmd = below(4) ? 1 + below(SPLKMEM_CMD_REAP) : below(16);
	gh->version = below(8) ? SPLKMEM_GENL_VERSION : below(256);
	if (!below(16))
		gh->reserved = rnd();

	switch (below(5)) {
	case 4:		/* valid */
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		gh->cmd = 1 + below(SPLKMEM_CMD_REAP);
		gh->reserved = 0;
		if ((gh->cmd == SPLKMEM_CMD_CACHE_GET && below(2)))
			nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		off = build_valid(buf, cap, off, gh->cmd);
		if (nlh->nlmsg_flags & NLM_F_DUMP)
			off = NLMSG_HDRLEN + GENL_HDRLEN;
		nlh->nlmsg_len = off;
		return off;
	case 0:		/* well-formed shape, doubtful content */
		if (below(2))
			off = put_nest(buf, cap, off, SPLKMEM_A_CACHE, false);
		else
			off = put_nest(buf, cap, off, SPLKMEM_A_TUNABLE, true);
		break;
	case 1:		/* random top-level attributes */
		n = below(6);
		for (i = 0; i < n; i++)
			off = put_random(buf, cap, off, SPLKMEM_A_MAX);
		break;
	case 2:		/* both nests, and junk */
		off = put_nest(buf, cap, off, SPLKMEM_A_CACHE, false);
		off = put_nest(buf, cap, off, SPLKMEM_A_TUNABLE, true);
		off = put_random(buf, cap, off, SPLKMEM_A_MAX);
		break;
	case 3: {	/* structurally broken */
		struct nlattr *a = (struct nlattr *)(buf + off);

		off = put_nest(buf, cap, off, below(2) ? SPLKMEM_A_CACHE :
			       SPLKMEM_A_TUNABLE, below(2));
		switch (below(4)) {
		case 0:
			a->nla_len += 4 + below(64);	/* past the end */
			break;
		case 1:
			a->nla_len = below(NLA_HDRLEN);	/* below a header */
			break;
		case 2:
			off -= below(3) + 1;		/* truncated */
			break;
		case 3:
			if (a->nla_len > NLA_HDRLEN + NLA_HDRLEN)	/* inner */
				((struct nlattr *)(a + 1))->nla_len = 0xffff;
			break;
		}
		break;
	}
	}
	nlh->nlmsg_len = off;
	if (!below(40))		/* a header that lies about the length */
		nlh->nlmsg_len = below(2) ? below(NLMSG_HDRLEN + GENL_HDRLEN + 1) :
			off + 1 + below(64);
	return off;
}

/* Read what is there; dumps continue as we read. */
static int drain(int fd, struct stats *st, int wait_ms)
{
	static char buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, wait_ms) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *nlh;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ENOBUFS)
				continue;
			fprintf(stderr, "nlfuzz: recv: %s\n", strerror(errno));
			return -1;
		}
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				int e = ((struct nlmsgerr *)NLMSG_DATA(nlh))->error;

				if (!e)
					st->acks++;
				else
					st->errors++;
				st->eperm += e == -EPERM;
				st->einval += e == -EINVAL;
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				st->dones++;
			} else {
				st->data++;
			}
		}
		wait_ms = 0;
	}
	return 0;
}

/* A proper dump and a proper tunable get: does the family still work? */
static int sane(int fd, int family, unsigned long *caches, int *tunables)
{
	char buf[65536];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *gh = NLMSG_DATA(nlh);
	int pass, done;

	*caches = 0;
	*tunables = 0;
	for (pass = 0; pass < 2; pass++) {
		memset(buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
		nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
		nlh->nlmsg_type = family;
		nlh->nlmsg_flags = NLM_F_REQUEST |
				   (pass ? NLM_F_ACK : NLM_F_DUMP);
		nlh->nlmsg_seq = 0x5a5a0000 + pass;
		gh->cmd = pass ? SPLKMEM_CMD_TUNABLE_GET : SPLKMEM_CMD_CACHE_GET;
		gh->version = SPLKMEM_GENL_VERSION;
		if (send(fd, buf, nlh->nlmsg_len, 0) < 0)
			return -1;
		for (done = 0; !done;) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			struct nlmsghdr *m;

			if (n < 0)
				return -1;
			for (m = (struct nlmsghdr *)buf; NLMSG_OK(m, n);
			     m = NLMSG_NEXT(m, n)) {
				if (m->nlmsg_seq != 0x5a5a0000u + pass)
					continue;	/* leftovers */
				if (m->nlmsg_type == NLMSG_DONE) {
					done = 1;
				} else if (m->nlmsg_type == NLMSG_ERROR) {
					int e = ((struct nlmsgerr *)NLMSG_DATA(m))->error;

					/* Statistics are root's only. */
					if (!pass && geteuid() && e == -EPERM) {
						*caches = ULONG_MAX;
						done = 1;
						continue;
					}
					if (e)
						return -1;
					done = 1;
				} else if (pass) {
					struct nlattr *a = (struct nlattr *)
						((char *)NLMSG_DATA(m) + GENL_HDRLEN);
					int rem = m->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

					while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN) {
						*tunables += (a->nla_type & NLA_TYPE_MASK) ==
							     SPLKMEM_A_TUNABLE;
						rem -= NLA_ALIGN(a->nla_len);
						a = (struct nlattr *)((char *)a +
								      NLA_ALIGN(a->nla_len));
					}
				} else {
					(*caches)++;
				}
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long count = 10000, i, caches;
	struct stats st = { 0 };
	static char buf[8192];
	int fd, family, opt, tunables;

	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		switch (opt) {
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 's':
			rng_state = strtoull(optarg, NULL, 0) | 1;
			break;
		default:
			fprintf(stderr, "usage: nlfuzz [-n COUNT] [-s SEED]\n");
			return 2;
		}
	}
	fd = rawnl_open(4 << 20);
	if (fd < 0) {
		fprintf(stderr, "nlfuzz: socket: %s\n", strerror(-fd));
		return 1;
	}
	family = rawnl_family(fd, SPLKMEM_GENL_NAME);
	if (family < 0) {
		fprintf(stderr, "nlfuzz: family %s: %s\n", SPLKMEM_GENL_NAME,
			strerror(-family));
		return 1;
	}
	for (i = 0; i < count; i++) {
		size_t len = build(buf, sizeof(buf), family);

		((struct nlmsghdr *)buf)->nlmsg_seq = i + 1;
		if (send(fd, buf, len, 0) < 0) {
			/* The kernel refuses some at the socket: fine. */
			st.silent++;
			continue;
		}
		st.sent++;
		if (drain(fd, &st, 0))
			return 1;
	}
	drain(fd, &st, 200);
	if (sane(fd, family, &caches, &tunables) || !tunables) {
		fprintf(stderr, "nlfuzz: FAIL: the family no longer answers properly\n");
		return 1;
	}
	/* Unprivileged, the dump must be refused: ULONG_MAX says it was. */
	if (geteuid() && caches != ULONG_MAX) {
		fprintf(stderr, "nlfuzz: FAIL: an unprivileged user dumped %lu caches\n",
			caches);
		return 1;
	}
	if (caches == ULONG_MAX)
		caches = 0;
	printf("nlfuzz: %lu messages sent (%lu refused by the socket): "
	       "%lu acks, %lu errors (%lu EINVAL, %lu EPERM), %lu dumps done, "
	       "%lu replies; afterwards %lu caches, %d tunables\n",
	       st.sent, st.silent, st.acks, st.errors, st.einval, st.eperm,
	       st.dones, st.data, caches, tunables);
	close(fd);
	return 0;
}
