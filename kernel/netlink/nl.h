/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiodev-nl: the generic netlink family (nl.c) and its handlers
 * (netlink.c).
 */
#ifndef VFIODEV_NL_H
#define VFIODEV_NL_H

#include <net/genetlink.h>

#define VFIODEV_NL_NAME_LEN	64	/* driver and module names */

enum vfiodev_nl_mcgrp {
	VFIODEV_NL_MCGRP_MONITOR,
};

extern struct genl_family vfiodev_nl_family;

int vfiodev_nl_bind_doit(struct sk_buff *skb, struct genl_info *info);
int vfiodev_nl_unbind_doit(struct sk_buff *skb, struct genl_info *info);
int vfiodev_nl_get_doit(struct sk_buff *skb, struct genl_info *info);
int vfiodev_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);

#endif /* VFIODEV_NL_H */
