/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfiodev: version, contexts, logging and the path policy.
 *
 * Thread safety: separate contexts are independent and may be used from
 * different threads at once.  One context and everything made from it (its
 * address spaces and devices) share state: calls on them must be serialised
 * by the caller, except the calls whose documentation says they are
 * thread-safe (the DMA calls of dma.h, the region and configuration access
 * and interrupt waiting of device.h).
 *
 * Errors: every function returning int returns 0 (or a count) on success and
 * a negative errno value on failure; errno itself is left unspecified.  A
 * failed call changes nothing unless its documentation says otherwise.
 */
#ifndef VFIODEV_CORE_H
#define VFIODEV_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VFIODEV_VERSION_MAJOR	1
#define VFIODEV_VERSION_MINOR	0

/*
 * True when the headers a program is built with have major version MAJOR
 * and a minor version of at least MINOR.
 */
#define VFIODEV_CHECK_VERSION(major, minor)				\
	(VFIODEV_VERSION_MAJOR == (major) &&				\
	 VFIODEV_VERSION_MINOR >= (minor))

struct vfiodev_ctx;
struct vfiodev_as;
struct vfiodev_device;

/**
 * vfiodev_version_major() - major version of the library that runs
 * Return: VFIODEV_VERSION_MAJOR of the library the program is linked with.
 */
int vfiodev_version_major(void);

/**
 * vfiodev_version_minor() - minor version of the library that runs
 * Return: VFIODEV_VERSION_MINOR of the library the program is linked with.
 */
int vfiodev_version_minor(void);

/**
 * vfiodev_check_version() - whether the running library is new enough
 * @major: the major version the caller needs
 * @minor: the least minor version the caller needs
 *
 * Return: true when the library that runs has the same major version and a
 * minor version of at least @minor.
 */
bool vfiodev_check_version(int major, int minor);

/**
 * enum vfiodev_path - the kernel interface a device is used through
 * @VFIODEV_PATH_AUTO: (policy only) choose per device, see below
 * @VFIODEV_PATH_CDEV: the new path, /dev/vfio/devices/vfioN bound to an
 *	iommufd (/dev/iommu) whose IOAS holds the mappings
 * @VFIODEV_PATH_LEGACY: the legacy path, /dev/vfio/<group> in a type1
 *	container (/dev/vfio/vfio, or /dev/iommu in compatibility mode)
 *
 * The automatic policy takes the new path for a device whose IOMMU can
 * enforce DMA cache coherency and the legacy path for one whose IOMMU
 * cannot.  The answer is read before anything is opened where the kernel
 * publishes it (vfiodev's vfio-dev attribute
 * vfiodev_enforce_cache_coherency); otherwise it is learned by attaching
 * the device's group to a type1 container (VFIO_DMA_CC_IOMMU).
 */
enum vfiodev_path {
	VFIODEV_PATH_AUTO = 0,
	VFIODEV_PATH_CDEV = 1,
	VFIODEV_PATH_LEGACY = 2,
};

/**
 * enum vfiodev_reason - why a device took its path
 * @VFIODEV_REASON_NONE: no path chosen yet
 * @VFIODEV_REASON_FORCED: the program forced the path
 * @VFIODEV_REASON_ENV: the operator forced it (VFIODEV_PATH in the
 *	environment)
 * @VFIODEV_REASON_SHARED_AS: the address space was already on that path
 * @VFIODEV_REASON_COHERENT: the kernel says, before opening, that the IOMMU
 *	enforces cache coherency: new path
 * @VFIODEV_REASON_NONCOHERENT: the kernel says, before opening, that it
 *	cannot: legacy path
 * @VFIODEV_REASON_ATTACH_COHERENT: learned on a type1 attach: coherent
 * @VFIODEV_REASON_ATTACH_NONCOHERENT: learned on a type1 attach: not
 * @VFIODEV_REASON_NO_CDEV: the device has no cdev (or there is no
 *	/dev/iommu): legacy path
 * @VFIODEV_REASON_NO_GROUP: the device has no group node: new path
 * @VFIODEV_REASON_CDEV_NAME: the device was named by its cdev
 * @VFIODEV_REASON_PREOPENED: opened from a descriptor of that path
 */
enum vfiodev_reason {
	VFIODEV_REASON_NONE = 0,
	VFIODEV_REASON_FORCED,
	VFIODEV_REASON_ENV,
	VFIODEV_REASON_SHARED_AS,
	VFIODEV_REASON_COHERENT,
	VFIODEV_REASON_NONCOHERENT,
	VFIODEV_REASON_ATTACH_COHERENT,
	VFIODEV_REASON_ATTACH_NONCOHERENT,
	VFIODEV_REASON_NO_CDEV,
	VFIODEV_REASON_NO_GROUP,
	VFIODEV_REASON_CDEV_NAME,
	VFIODEV_REASON_PREOPENED,
};

/**
 * vfiodev_path_str() - name of a path
 * @path: a path
 * Return: "auto", "cdev" or "legacy"; "unknown" for anything else.
 */
const char *vfiodev_path_str(enum vfiodev_path path);

/**
 * vfiodev_reason_str() - one-line explanation of a reason
 * @reason: a reason
 * Return: a constant English sentence fragment, never NULL.
 */
const char *vfiodev_reason_str(enum vfiodev_reason reason);

/* Flags of vfiodev_ctx_create(). */
/* Ignore VFIODEV_PATH in the environment. */
#define VFIODEV_CTX_NO_ENV		(1u << 0)

/**
 * vfiodev_ctx_create() - make a library context
 * @flags: 0 or VFIODEV_CTX_NO_ENV
 * @out: the new context
 *
 * The context starts with the automatic path policy, type1v2 containers at
 * /dev/vfio/vfio and no log callback.  Unless @flags has VFIODEV_CTX_NO_ENV,
 * the environment variable VFIODEV_PATH (auto, cdev or legacy) overrides any
 * policy the program sets, so that an operator can choose.
 *
 * Return: 0; -EINVAL for unknown flags or a bad VFIODEV_PATH value; -ENOMEM.
 */
int vfiodev_ctx_create(unsigned int flags, struct vfiodev_ctx **out);

/**
 * vfiodev_ctx_destroy() - drop a context
 * @ctx: the context, or NULL
 *
 * Address spaces and devices made from @ctx stay usable; the context's
 * memory goes with the last of them.
 */
void vfiodev_ctx_destroy(struct vfiodev_ctx *ctx);

/* Log levels, as syslog's. */
#define VFIODEV_LOG_ERR		3
#define VFIODEV_LOG_WARNING	4
#define VFIODEV_LOG_INFO	6
#define VFIODEV_LOG_DEBUG	7

/**
 * typedef vfiodev_log_fn - a log callback
 * @opaque: the pointer given to vfiodev_ctx_set_log()
 * @level: VFIODEV_LOG_*
 * @msg: the message, without a trailing newline
 */
typedef void (*vfiodev_log_fn)(void *opaque, int level, const char *msg);

/**
 * vfiodev_ctx_set_log() - install or remove the log callback
 * @ctx: the context
 * @fn: the callback, or NULL for silence (the default)
 * @opaque: passed to @fn
 * @max_level: messages above this level are not passed on
 *
 * The library prints nothing itself.
 *
 * Return: 0; -EINVAL for a level outside VFIODEV_LOG_ERR..VFIODEV_LOG_DEBUG.
 */
int vfiodev_ctx_set_log(struct vfiodev_ctx *ctx, vfiodev_log_fn fn,
			void *opaque, int max_level);

/**
 * vfiodev_ctx_set_path() - set the path policy of new address spaces
 * @ctx: the context
 * @policy: VFIODEV_PATH_AUTO, VFIODEV_PATH_CDEV or VFIODEV_PATH_LEGACY
 *
 * Applies to address spaces created afterwards.  VFIODEV_PATH in the
 * environment still wins unless the context was made with
 * VFIODEV_CTX_NO_ENV.
 *
 * Return: 0; -EINVAL for another value.
 */
int vfiodev_ctx_set_path(struct vfiodev_ctx *ctx, enum vfiodev_path policy);

/* Flags of vfiodev_ctx_set_legacy(). */
/* Ask for the original type1 (VFIO_TYPE1_IOMMU) instead of type1v2. */
#define VFIODEV_LEGACY_TYPE1_V1		(1u << 0)
/* Open the container from /dev/iommu (iommufd compatibility) instead of
 * /dev/vfio/vfio. */
#define VFIODEV_LEGACY_IOMMUFD_COMPAT	(1u << 1)

/**
 * vfiodev_ctx_set_legacy() - how new address spaces use the legacy path
 * @ctx: the context
 * @flags: 0 (type1v2 at /dev/vfio/vfio) or VFIODEV_LEGACY_* flags
 *
 * Applies to address spaces created afterwards.
 *
 * Return: 0; -EINVAL for unknown flags.
 */
int vfiodev_ctx_set_legacy(struct vfiodev_ctx *ctx, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* VFIODEV_CORE_H */
