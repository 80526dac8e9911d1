// SPDX-License-Identifier: GPL-2.0-or-later
/* Helpers shared by splkmemctl and spl-kmemd (see util.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

static const char *const flag_names[] = {
	"nodebug",	/* SPLKMEM_CACHE_F_NODEBUG */
	"kvmem",	/* SPLKMEM_CACHE_F_KVMEM */
	"slab",		/* SPLKMEM_CACHE_F_SLAB */
	"reclaimable",	/* SPLKMEM_CACHE_F_RECLAIMABLE */
};

_Static_assert(SPLKMEM_CACHE_F_NODEBUG == 1 << 0 && SPLKMEM_CACHE_F_KVMEM == 1 << 1 &&
	       SPLKMEM_CACHE_F_SLAB == 1 << 2 && SPLKMEM_CACHE_F_RECLAIMABLE == 1 << 3,
	       "flag_names[] is indexed by bit number");

const char *splkmem_flag_name(unsigned int bit)
{
	return bit < ARRAY_SIZE(flag_names) ? flag_names[bit] : NULL;
}

const char *splkmem_flags_str(uint32_t flags, char *buf, size_t len)
{
	size_t i, n = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(flag_names); i++)
		if ((flags & (1u << i)) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      n ? "," : "", flag_names[i]);
	return buf;
}

uint64_t splkmem_live_objs(const struct splkmem_cache_info *c)
{
	if (c->backing != SPLKMEM_BACKING_KVMEM)
		return c->linux_objs;
	return c->obj_alloc > c->mag_objs ? c->obj_alloc - c->mag_objs : 0;
}

const char *splkmem_size_str(uint64_t bytes, enum splkmem_size_style style,
			     char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, style == SPLKMEM_SIZE_IEC ? "%llu B" : "%llu",
			 (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024 && u < (int)sizeof(units) - 2) {
		v /= 1024;
		u++;
	}
	if (style == SPLKMEM_SIZE_IEC)
		snprintf(buf, len, "%.1f %ciB", v, units[u]);
	else if (v < 10)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
	return buf;
}

int splkmem_set_rcvbuf(int fd, int bytes)
{
	if (!setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		return 0;
	if (errno != EPERM)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)))
		return -errno;
	return 1;
}
