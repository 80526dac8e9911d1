/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers that splkmemctl and spl-kmemd share: one copy of each, so that
 * what the CLI shows and what the daemon logs and exports agree.
 */
#ifndef SPLKMEM_UTIL_H
#define SPLKMEM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "splkmem.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Names of the SPLKMEM_CACHE_F_* bits, by bit number (NULL past the end). */
const char *splkmem_flag_name(unsigned int bit);
/* "kvmem,reclaimable" ("" for none) into @buf; returns @buf. */
const char *splkmem_flags_str(uint32_t flags, char *buf, size_t len);

/* Objects handed out and not parked in a magazine. */
uint64_t splkmem_live_objs(const struct splkmem_cache_info *c);

enum splkmem_size_style {
	SPLKMEM_SIZE_SHORT,	/* "512", "1.5M", "12G" (as ls -h) */
	SPLKMEM_SIZE_IEC,	/* "512 B", "1.5 MiB", "12.0 GiB" (log lines) */
};
/* @bytes made human-readable in powers of 1024; returns @buf. */
const char *splkmem_size_str(uint64_t bytes, enum splkmem_size_style style,
			     char *buf, size_t len);

/*
 * A socket's receive buffer of @bytes: SO_RCVBUFFORCE, which needs
 * CAP_NET_ADMIN and is not capped by net.core.rmem_max, else SO_RCVBUF
 * (capped).  0 (forced), 1 (fell back to the capped option) or -errno.
 */
int splkmem_set_rcvbuf(int fd, int bytes);

#endif /* SPLKMEM_UTIL_H */
