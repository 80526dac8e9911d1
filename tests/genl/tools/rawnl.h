/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Raw netlink for the test tools that must send what libsplkmem never
 * would (malformed messages) or see what it hides (each datagram of a
 * dump).  Not for anything but tests: everything else uses libsplkmem.
 */
#ifndef RAWNL_H
#define RAWNL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

/* An AF_NETLINK/NETLINK_GENERIC socket with a receive buffer of @rcvbuf. */
int rawnl_open(int rcvbuf);
/* The generic netlink family id of @name, or -errno. */
int rawnl_family(int fd, const char *name);
/* Append an attribute at @off of @buf (no bounds beyond @cap); new offset. */
size_t rawnl_put(char *buf, size_t cap, size_t off, uint16_t type,
		 const void *data, size_t len);

#endif
