// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_DEVICE_OPS_BIND_IOMMUFD: struct vfio_device_ops has
 * .bind_iommufd/.unbind_iommufd/.attach_ioas and vfio core exports the
 * vfio_iommufd_physical_*() helpers.
 * Added in v6.2 by "vfio-iommufd: Support iommufd for physical
 * VFIO devices".
 */
#include <linux/vfio.h>

static const struct vfio_device_ops probe_ops __maybe_unused = {
	.bind_iommufd = vfio_iommufd_physical_bind,
	.unbind_iommufd = vfio_iommufd_physical_unbind,
	.attach_ioas = vfio_iommufd_physical_attach_ioas,
};
