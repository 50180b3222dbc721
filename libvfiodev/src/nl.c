// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfiodev's generic netlink family, over libnl-3 and libnl-genl-3.
 *
 * Each request opens its own socket: resolving the family by name is what
 * makes the kernel load the vfiodev-nl module, and a socket per call keeps
 * the context free of shared state.  libnl's errors (NLE_*) never reach the
 * caller: the kernel's errno does, and its extended-ack message goes to the
 * log callback.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/vfiodev_nl.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

struct vfiodev_nl_monitor {
	struct vfiodev_ctx *ctx;
	struct nl_sock *sk;
	int family;
	/* Filled by the receive callback. */
	int event;
	struct vfiodev_nl_dev dev;
	bool got;
};

/* State of one request: the replies and the kernel's error. */
struct nl_req {
	struct vfiodev_ctx *ctx;
	int err;		/* -errno from the kernel's ack */
	bool done;
	struct vfiodev_nl_dev dev;	/* the last (do) reply */
	bool got;
	vfiodev_nl_fn fn;	/* dump: called per reply */
	void *opaque;
	int stop;
};

static struct nla_policy dev_policy[VFIODEV_NL_A_DEV_MAX + 1] = {
	[VFIODEV_NL_A_DEV_PCI_ADDR] = { .type = NLA_STRING },
	[VFIODEV_NL_A_DEV_DRIVER] = { .type = NLA_STRING },
	[VFIODEV_NL_A_DEV_MODULE] = { .type = NLA_STRING },
	[VFIODEV_NL_A_DEV_CDEV] = { .type = NLA_STRING },
	[VFIODEV_NL_A_DEV_GROUP] = { .type = NLA_U32 },
	[VFIODEV_NL_A_DEV_COHERENT] = { .type = NLA_U8 },
	[VFIODEV_NL_A_DEV_PREV_DRIVER] = { .type = NLA_STRING },
	[VFIODEV_NL_A_DEV_SPECIFICITY] = { .type = NLA_U32 },
};

static void copy_str(char *dst, size_t len, struct nlattr *a)
{
	if (a)
		snprintf(dst, len, "%s", nla_get_string(a));
}

static int parse_dev(struct nl_msg *msg, struct vfiodev_nl_dev *dev, int *cmd)
{
	struct nlattr *tb[VFIODEV_NL_A_DEV_MAX + 1];
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, VFIODEV_NL_A_DEV_MAX,
			  dev_policy))
		return -EPROTO;
	memset(dev, 0, sizeof(*dev));
	dev->group = -1;
	dev->specificity = -1;
	copy_str(dev->bdf, sizeof(dev->bdf), tb[VFIODEV_NL_A_DEV_PCI_ADDR]);
	copy_str(dev->driver, sizeof(dev->driver), tb[VFIODEV_NL_A_DEV_DRIVER]);
	copy_str(dev->module, sizeof(dev->module), tb[VFIODEV_NL_A_DEV_MODULE]);
	copy_str(dev->cdev, sizeof(dev->cdev), tb[VFIODEV_NL_A_DEV_CDEV]);
	copy_str(dev->prev_driver, sizeof(dev->prev_driver),
		 tb[VFIODEV_NL_A_DEV_PREV_DRIVER]);
	if (tb[VFIODEV_NL_A_DEV_GROUP])
		dev->group = (int32_t)nla_get_u32(tb[VFIODEV_NL_A_DEV_GROUP]);
	if (tb[VFIODEV_NL_A_DEV_COHERENT])
		dev->coherent = nla_get_u8(tb[VFIODEV_NL_A_DEV_COHERENT]);
	if (tb[VFIODEV_NL_A_DEV_SPECIFICITY])
		dev->specificity =
			(int32_t)nla_get_u32(tb[VFIODEV_NL_A_DEV_SPECIFICITY]);
	if (cmd)
		*cmd = gh->cmd;
	return 0;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nl_req *req = arg;
	struct vfiodev_nl_dev dev;

	if (parse_dev(msg, &dev, NULL))
		return NL_SKIP;
	if (req->fn) {
		if (!req->stop)
			req->stop = req->fn(&dev, req->opaque);
		return NL_OK;
	}
	req->dev = dev;
	req->got = true;
	return NL_OK;
}

/* The kernel's error, and its extended-ack message for the log. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)err - NLMSG_HDRLEN);
	struct nl_req *req = arg;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*err);

	(void)nla;
	req->err = err->error;
	req->done = true;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += err->msg.nlmsg_len - NLMSG_HDRLEN;
		if (NLMSG_HDRLEN + off < nlh->nlmsg_len &&
		    !nla_parse(tb, NLMSGERR_ATTR_MAX,
			       (struct nlattr *)((char *)err + off),
			       (int)(nlh->nlmsg_len - NLMSG_HDRLEN - off), NULL) &&
		    tb[NLMSGERR_ATTR_MSG])
			vd_err(req->ctx, "vfiodev-nl: %s",
			       nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	}
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct nl_req *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nl_req *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

/* A connected socket and the family's id; -ENOENT without the family. */
static int nl_open(struct vfiodev_ctx *ctx, struct nl_sock **out, int *family)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1, id;

	if (!sk)
		return -ENOMEM;
	if (genl_connect(sk)) {
		nl_socket_free(sk);
		return -ENOTSUP;
	}
	/* The file descriptor libnl made: close-on-exec like every other. */
	fcntl(nl_socket_get_fd(sk), F_SETFD, FD_CLOEXEC);
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	id = genl_ctrl_resolve(sk, VFIODEV_FAMILY_NAME);
	if (id < 0) {
		vd_info(ctx, "no generic netlink family \"%s\": vfiodev's modules are not installed",
		       VFIODEV_FAMILY_NAME);
		nl_socket_free(sk);
		return -ENOENT;
	}
	*out = sk;
	*family = id;
	return 0;
}

static int nl_request(struct vfiodev_ctx *ctx, uint8_t cmd, int nlflags,
		      const char *name, const char *driver, int have_u32,
		      uint32_t u32_attr, uint32_t u32_val, struct nl_req *req)
{
	char bdf[16], cdev[16];
	struct nl_sock *sk;
	struct nl_msg *msg;
	bool is_cdev;
	int family, rc;

	req->ctx = ctx;
	if (name) {
		rc = vfiodev_parse_name(name, bdf, &is_cdev, cdev);
		if (rc == -EINVAL)
			return rc;
		/* A device sysfs cannot find is the kernel's to refuse. */
		if (rc)
			snprintf(bdf, sizeof(bdf), "%.15s", name);
	}
	rc = nl_open(ctx, &sk, &family);
	if (rc)
		return rc;
	msg = nlmsg_alloc();
	if (!msg) {
		rc = -ENOMEM;
		goto out_sock;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, nlflags,
			 cmd, VFIODEV_FAMILY_VERSION) ||
	    (name && nla_put_string(msg, VFIODEV_NL_A_DEV_PCI_ADDR, bdf)) ||
	    (driver && nla_put_string(msg, VFIODEV_NL_A_DEV_DRIVER, driver)) ||
	    (have_u32 && nla_put_u32(msg, (int)u32_attr, u32_val))) {
		rc = -EMSGSIZE;
		goto out_msg;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_valid, req);
	nl_socket_modify_cb(sk, NL_CB_ACK, NL_CB_CUSTOM, on_ack, req);
	nl_socket_modify_cb(sk, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, req);
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_error, req);
	if (nl_send_auto(sk, msg) < 0) {
		rc = -EIO;
		goto out_msg;
	}
	while (!req->done) {
		if (nl_recvmsgs_default(sk) < 0 && !req->done) {
			rc = -EIO;
			goto out_msg;
		}
	}
	rc = req->err;
out_msg:
	nlmsg_free(msg);
out_sock:
	nl_socket_free(sk);
	return rc;
}

static void copy_out(const struct vfiodev_nl_dev *dev, struct vfiodev_nl_dev *out,
		     size_t size)
{
	if (out)
		memcpy(out, dev, size < sizeof(*dev) ? size : sizeof(*dev));
}

static bool size_ok(const struct vfiodev_nl_dev *out, size_t size)
{
	return !out || size >= sizeof(out->bdf);
}

VFIODEV_EXPORT int vfiodev_nl_bind(struct vfiodev_ctx *ctx, const char *name,
				   const char *driver, unsigned int flags,
				   struct vfiodev_nl_dev *out, size_t size)
{
	struct nl_req req = { 0 };
	uint32_t kflags = 0;
	int rc;

	if (!ctx || !name || !size_ok(out, size) ||
	    (flags & ~(VFIODEV_NL_ALLOW_UNBIND | VFIODEV_NL_GROUP)))
		return -EINVAL;
	if (flags & VFIODEV_NL_ALLOW_UNBIND)
		kflags |= VFIODEV_BIND_FLAGS_ALLOW_UNBIND;
	if (flags & VFIODEV_NL_GROUP)
		kflags |= VFIODEV_BIND_FLAGS_GROUP;
	rc = nl_request(ctx, VFIODEV_NL_CMD_BIND, NLM_F_ACK, name, driver,
			kflags != 0, VFIODEV_NL_A_DEV_FLAGS, kflags, &req);
	if (!rc && req.got) {
		vd_info(ctx, "%s: bound to %s", req.dev.bdf, req.dev.driver);
		copy_out(&req.dev, out, size);
	}
	return rc;
}

VFIODEV_EXPORT int vfiodev_nl_unbind(struct vfiodev_ctx *ctx, const char *name,
				     unsigned int flags,
				     struct vfiodev_nl_dev *out, size_t size)
{
	struct nl_req req = { 0 };
	int rc;

	if (!ctx || !name || !size_ok(out, size) ||
	    (flags & ~VFIODEV_NL_RESTORE))
		return -EINVAL;
	rc = nl_request(ctx, VFIODEV_NL_CMD_UNBIND, NLM_F_ACK, name, NULL,
			1, VFIODEV_NL_A_DEV_RESTORE,
			(flags & VFIODEV_NL_RESTORE) ? VFIODEV_RESTORE_PREVIOUS :
						       VFIODEV_RESTORE_NONE, &req);
	if (!rc && req.got)
		copy_out(&req.dev, out, size);
	return rc;
}

VFIODEV_EXPORT int vfiodev_nl_get(struct vfiodev_ctx *ctx, const char *name,
				  struct vfiodev_nl_dev *out, size_t size)
{
	struct nl_req req = { 0 };
	int rc;

	if (!ctx || !name || !out || !size_ok(out, size))
		return -EINVAL;
	rc = nl_request(ctx, VFIODEV_NL_CMD_GET, NLM_F_ACK, name, NULL, 0, 0, 0,
			&req);
	if (!rc && req.got)
		copy_out(&req.dev, out, size);
	return rc;
}

VFIODEV_EXPORT int vfiodev_nl_for_each(struct vfiodev_ctx *ctx,
				       vfiodev_nl_fn fn, void *opaque)
{
	struct nl_req req = { .fn = fn, .opaque = opaque };
	int rc;

	if (!ctx || !fn)
		return -EINVAL;
	rc = nl_request(ctx, VFIODEV_NL_CMD_GET, NLM_F_DUMP, NULL, NULL, 0, 0,
			0, &req);
	return rc ? rc : req.stop;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct vfiodev_nl_monitor *mon = arg;
	int cmd = 0;

	if (parse_dev(msg, &mon->dev, &cmd))
		return NL_SKIP;
	if (cmd != VFIODEV_NL_CMD_ADD_NTF && cmd != VFIODEV_NL_CMD_DEL_NTF)
		return NL_SKIP;
	mon->event = cmd == VFIODEV_NL_CMD_ADD_NTF ? VFIODEV_NL_EVENT_ADD :
						     VFIODEV_NL_EVENT_DEL;
	mon->got = true;
	return NL_STOP;
}

VFIODEV_EXPORT int vfiodev_nl_monitor_open(struct vfiodev_ctx *ctx,
					   struct vfiodev_nl_monitor **out)
{
	struct vfiodev_nl_monitor *mon;
	int rc, grp;

	if (!ctx || !out)
		return -EINVAL;
	mon = calloc(1, sizeof(*mon));
	if (!mon)
		return -ENOMEM;
	rc = nl_open(ctx, &mon->sk, &mon->family);
	if (rc) {
		free(mon);
		return rc;
	}
	grp = genl_ctrl_resolve_grp(mon->sk, VFIODEV_FAMILY_NAME,
				    VFIODEV_MCGRP_MONITOR);
	if (grp < 0 || nl_socket_add_membership(mon->sk, grp)) {
		nl_socket_free(mon->sk);
		free(mon);
		return -ENOENT;
	}
	nl_socket_disable_seq_check(mon->sk);
	nl_socket_set_nonblocking(mon->sk);
	nl_socket_modify_cb(mon->sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, mon);
	mon->ctx = ctx;
	vfiodev_ctx_get(ctx);
	*out = mon;
	return 0;
}

VFIODEV_EXPORT int vfiodev_nl_monitor_fd(struct vfiodev_nl_monitor *mon)
{
	return nl_socket_get_fd(mon->sk);
}

VFIODEV_EXPORT int vfiodev_nl_monitor_read(struct vfiodev_nl_monitor *mon,
					   int timeout_ms, int *event,
					   struct vfiodev_nl_dev *dev,
					   size_t size)
{
	struct pollfd pfd = { .events = POLLIN };
	int rc;

	if (!mon || !event || !dev || !size_ok(dev, size))
		return -EINVAL;
	pfd.fd = nl_socket_get_fd(mon->sk);
	mon->got = false;
	while (!mon->got) {
		rc = poll(&pfd, 1, timeout_ms);
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		rc = nl_recvmsgs_default(mon->sk);
		if (rc == -NLE_NOMEM)
			return -ENOBUFS;
		if (rc < 0 && rc != -NLE_AGAIN && !mon->got)
			return -EIO;
	}
	*event = mon->event;
	copy_out(&mon->dev, dev, size);
	return 0;
}

VFIODEV_EXPORT void vfiodev_nl_monitor_close(struct vfiodev_nl_monitor *mon)
{
	if (!mon)
		return;
	nl_socket_free(mon->sk);
	vfiodev_ctx_put(mon->ctx);
	free(mon);
}
