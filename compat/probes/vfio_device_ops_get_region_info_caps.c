// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_DEVICE_OPS_GET_REGION_INFO_CAPS: VFIO_DEVICE_GET_REGION_INFO is
 * handled by vfio core, which calls .get_region_info_caps; vfio-pci-core
 * exports vfio_pci_ioctl_get_region_info() for it.
 * Added in v6.19 by the series "vfio: Give VFIO_DEVICE_GET_REGION_INFO its own
 * op" ("vfio: Require drivers to implement get_region_info").
 */
#include <linux/vfio_pci_core.h>

static const struct vfio_device_ops probe_ops __maybe_unused = {
	.get_region_info_caps = vfio_pci_ioctl_get_region_info,
};
