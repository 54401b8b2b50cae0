// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_DEVICE_OPS_DETACH_IOAS: struct vfio_device_ops has
 * .detach_ioas and vfio core exports vfio_iommufd_physical_detach_ioas().
 * Added in v6.6 by "vfio-iommufd: Add detach_ioas support for
 * physical VFIO devices". With CONFIG_IOMMUFD, vfio core refuses to register
 * a device whose ops lack any of the four iommufd callbacks.
 */
#include <linux/vfio.h>

static const struct vfio_device_ops probe_ops __maybe_unused = {
	.detach_ioas = vfio_iommufd_physical_detach_ioas,
};
