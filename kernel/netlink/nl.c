// SPDX-License-Identifier: GPL-2.0
/*
 * The vfiodev generic netlink family as Documentation/netlink/specs/
 * vfiodev.yaml describes it: per-command policies, operations and the
 * multicast group.  The handlers are in netlink.c.
 */
#include <net/genetlink.h>

#include <linux/vfiodev_nl.h>

#include "nl.h"

#define PCI_ADDR_LEN	16	/* "DDDD:BB:DD.F" and the NUL */

static const struct nla_policy vfiodev_nl_bind_policy[VFIODEV_NL_A_DEV_FLAGS + 1] = {
	[VFIODEV_NL_A_DEV_PCI_ADDR] = { .type = NLA_NUL_STRING, .len = PCI_ADDR_LEN - 1 },
	[VFIODEV_NL_A_DEV_SYSFS_PATH] = { .type = NLA_NUL_STRING, .len = PATH_MAX - 1 },
	[VFIODEV_NL_A_DEV_DRIVER] = { .type = NLA_NUL_STRING, .len = VFIODEV_NL_NAME_LEN - 1 },
	[VFIODEV_NL_A_DEV_FLAGS] = NLA_POLICY_MASK(NLA_U32, VFIODEV_BIND_FLAGS_ALLOW_UNBIND |
						   VFIODEV_BIND_FLAGS_GROUP),
};

static const struct nla_policy vfiodev_nl_unbind_policy[VFIODEV_NL_A_DEV_RESTORE + 1] = {
	[VFIODEV_NL_A_DEV_PCI_ADDR] = { .type = NLA_NUL_STRING, .len = PCI_ADDR_LEN - 1 },
	[VFIODEV_NL_A_DEV_SYSFS_PATH] = { .type = NLA_NUL_STRING, .len = PATH_MAX - 1 },
	[VFIODEV_NL_A_DEV_RESTORE] = NLA_POLICY_MAX(NLA_U32, VFIODEV_RESTORE_PREVIOUS),
};

static const struct nla_policy vfiodev_nl_get_policy[VFIODEV_NL_A_DEV_SYSFS_PATH + 1] = {
	[VFIODEV_NL_A_DEV_PCI_ADDR] = { .type = NLA_NUL_STRING, .len = PCI_ADDR_LEN - 1 },
	[VFIODEV_NL_A_DEV_SYSFS_PATH] = { .type = NLA_NUL_STRING, .len = PATH_MAX - 1 },
};

static const struct genl_split_ops vfiodev_nl_ops[] = {
	{
		.cmd = VFIODEV_NL_CMD_BIND,
		.doit = vfiodev_nl_bind_doit,
		.policy = vfiodev_nl_bind_policy,
		.maxattr = VFIODEV_NL_A_DEV_FLAGS,
		.flags = GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd = VFIODEV_NL_CMD_UNBIND,
		.doit = vfiodev_nl_unbind_doit,
		.policy = vfiodev_nl_unbind_policy,
		.maxattr = VFIODEV_NL_A_DEV_RESTORE,
		.flags = GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd = VFIODEV_NL_CMD_GET,
		.doit = vfiodev_nl_get_doit,
		.policy = vfiodev_nl_get_policy,
		.maxattr = VFIODEV_NL_A_DEV_SYSFS_PATH,
		.flags = GENL_CMD_CAP_DO,
	},
	{
		.cmd = VFIODEV_NL_CMD_GET,
		.dumpit = vfiodev_nl_get_dumpit,
		.flags = GENL_CMD_CAP_DUMP,
	},
};

static const struct genl_multicast_group vfiodev_nl_mcgrps[] = {
	[VFIODEV_NL_MCGRP_MONITOR] = { .name = VFIODEV_MCGRP_MONITOR, },
};

struct genl_family vfiodev_nl_family __ro_after_init = {
	.name = VFIODEV_FAMILY_NAME,
	.version = VFIODEV_FAMILY_VERSION,
	.netnsok = false,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.split_ops = vfiodev_nl_ops,
	.n_split_ops = ARRAY_SIZE(vfiodev_nl_ops),
	.mcgrps = vfiodev_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(vfiodev_nl_mcgrps),
	.resv_start_op = __VFIODEV_NL_CMD_MAX,
};
