// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Version, contexts, logging and the path policy's names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

VFIODEV_EXPORT int vfiodev_version_major(void)
{
	return VFIODEV_VERSION_MAJOR;
}

VFIODEV_EXPORT int vfiodev_version_minor(void)
{
	return VFIODEV_VERSION_MINOR;
}

VFIODEV_EXPORT bool vfiodev_check_version(int major, int minor)
{
	return major == VFIODEV_VERSION_MAJOR && minor <= VFIODEV_VERSION_MINOR;
}

VFIODEV_EXPORT const char *vfiodev_path_str(enum vfiodev_path path)
{
	switch (path) {
	case VFIODEV_PATH_AUTO:
		return "auto";
	case VFIODEV_PATH_CDEV:
		return "cdev";
	case VFIODEV_PATH_LEGACY:
		return "legacy";
	}
	return "unknown";
}

VFIODEV_EXPORT const char *vfiodev_reason_str(enum vfiodev_reason reason)
{
	switch (reason) {
	case VFIODEV_REASON_NONE:
		return "no path chosen yet";
	case VFIODEV_REASON_FORCED:
		return "forced by the program";
	case VFIODEV_REASON_ENV:
		return "forced by VFIODEV_PATH in the environment";
	case VFIODEV_REASON_SHARED_AS:
		return "the address space is already on this path";
	case VFIODEV_REASON_COHERENT:
		return "the kernel reports that the IOMMU enforces DMA cache coherency";
	case VFIODEV_REASON_NONCOHERENT:
		return "the kernel reports that the IOMMU cannot enforce DMA cache coherency";
	case VFIODEV_REASON_ATTACH_COHERENT:
		return "a type1 attach showed that the IOMMU enforces DMA cache coherency";
	case VFIODEV_REASON_ATTACH_NONCOHERENT:
		return "a type1 attach showed that the IOMMU cannot enforce DMA cache coherency";
	case VFIODEV_REASON_NO_CDEV:
		return "the device has no cdev or there is no /dev/iommu";
	case VFIODEV_REASON_NO_GROUP:
		return "the device has no group node";
	case VFIODEV_REASON_CDEV_NAME:
		return "the device was named by its cdev";
	case VFIODEV_REASON_PREOPENED:
		return "opened from a descriptor of this path";
	}
	return "unknown reason";
}

static int parse_policy(const char *s, enum vfiodev_path *out)
{
	if (!strcmp(s, "auto"))
		*out = VFIODEV_PATH_AUTO;
	else if (!strcmp(s, "cdev"))
		*out = VFIODEV_PATH_CDEV;
	else if (!strcmp(s, "legacy"))
		*out = VFIODEV_PATH_LEGACY;
	else
		return -EINVAL;
	return 0;
}

VFIODEV_EXPORT int vfiodev_ctx_create(unsigned int flags,
				      struct vfiodev_ctx **out)
{
	enum vfiodev_path env = VFIODEV_PATH_AUTO;
	bool env_set = false;
	struct vfiodev_ctx *ctx;
	const char *s;

	if (!out || (flags & ~VFIODEV_CTX_NO_ENV))
		return -EINVAL;
	if (!(flags & VFIODEV_CTX_NO_ENV)) {
		s = getenv("VFIODEV_PATH");
		if (s && *s && parse_policy(s, &env))
			return -EINVAL;
		env_set = s && *s;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->refs = 1;
	ctx->flags = flags;
	ctx->policy = VFIODEV_PATH_AUTO;
	ctx->env_policy = env;
	ctx->env_set = env_set;
	ctx->log_level = VFIODEV_LOG_INFO;
	*out = ctx;
	return 0;
}

void vfiodev_ctx_get(struct vfiodev_ctx *ctx)
{
	ctx->refs++;
}

void vfiodev_ctx_put(struct vfiodev_ctx *ctx)
{
	if (--ctx->refs == 0)
		free(ctx);
}

/*
 * The policy new address spaces take: the operator's (VFIODEV_PATH), else
 * the program's; @reason says whose.
 */
enum vfiodev_path vfiodev_ctx_policy(const struct vfiodev_ctx *ctx,
				     enum vfiodev_reason *reason)
{
	if (ctx->env_set) {
		*reason = VFIODEV_REASON_ENV;
		return ctx->env_policy;
	}
	*reason = VFIODEV_REASON_FORCED;
	return ctx->policy;
}

VFIODEV_EXPORT void vfiodev_ctx_destroy(struct vfiodev_ctx *ctx)
{
	if (ctx)
		vfiodev_ctx_put(ctx);
}

VFIODEV_EXPORT int vfiodev_ctx_set_log(struct vfiodev_ctx *ctx,
				       vfiodev_log_fn fn, void *opaque,
				       int max_level)
{
	if (!ctx || max_level < VFIODEV_LOG_ERR || max_level > VFIODEV_LOG_DEBUG)
		return -EINVAL;
	ctx->log_fn = fn;
	ctx->log_opaque = opaque;
	ctx->log_level = max_level;
	return 0;
}

VFIODEV_EXPORT int vfiodev_ctx_set_path(struct vfiodev_ctx *ctx,
					enum vfiodev_path policy)
{
	if (!ctx)
		return -EINVAL;
	switch (policy) {
	case VFIODEV_PATH_AUTO:
	case VFIODEV_PATH_CDEV:
	case VFIODEV_PATH_LEGACY:
		ctx->policy = policy;
		return 0;
	}
	return -EINVAL;
}

VFIODEV_EXPORT int vfiodev_ctx_set_legacy(struct vfiodev_ctx *ctx,
					  unsigned int flags)
{
	if (!ctx || (flags & ~(VFIODEV_LEGACY_TYPE1_V1 |
			       VFIODEV_LEGACY_IOMMUFD_COMPAT)))
		return -EINVAL;
	ctx->legacy_flags = flags;
	return 0;
}

void vfiodev_log(struct vfiodev_ctx *ctx, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!ctx || !ctx->log_fn || level > ctx->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->log_fn(ctx->log_opaque, level, msg);
}
