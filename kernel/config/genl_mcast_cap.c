// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Linux 6.7 let a multicast group require CAP_NET_ADMIN to join
 * (GENL_MCAST_CAP_NET_ADMIN); stable kernels got it too (Debian 6.1.0-57).
 */
#include <net/genetlink.h>

u8 probe(struct genl_multicast_group *g);
u8 probe(struct genl_multicast_group *g)
{
	g->flags = GENL_MCAST_CAP_NET_ADMIN;
	return g->flags;
}
