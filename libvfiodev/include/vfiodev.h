/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfiodev: user-space drivers over VFIO, on the new device-cdev +
 * iommufd path or the legacy group + type1 container path.  See
 * libvfiodev(7).
 */
#ifndef VFIODEV_H
#define VFIODEV_H

#include "vfiodev/core.h"
#include "vfiodev/dma.h"
#include "vfiodev/device.h"
#include "vfiodev/pci.h"
#include "vfiodev/nl.h"

#endif /* VFIODEV_H */
