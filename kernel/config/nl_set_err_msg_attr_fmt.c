// SPDX-License-Identifier: GPL-2.0-or-later
/* Linux 6.2 added formatted extack messages (NL_SET_ERR_MSG_ATTR_FMT). */
#include <linux/netlink.h>

void probe(struct netlink_ext_ack *extack, unsigned int v);
void probe(struct netlink_ext_ack *extack, unsigned int v)
{
	NL_SET_ERR_MSG_ATTR_FMT(extack, NULL, "probe %u", v);
}
