// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_DEVICE_OPS_MATCH_TOKEN_UUID: struct vfio_device_ops has
 * .match_token_uuid and vfio-pci-core exports vfio_pci_core_match_token_uuid().
 * Added by "vfio/pci: Do vf_token checks for VFIO_DEVICE_BIND_IOMMUFD";
 * out-of-tree drivers guard it with 6.17, but Debian's 6.16 headers already
 * have it, which is why this is a probe.
 */
#include <linux/vfio_pci_core.h>

static const struct vfio_device_ops probe_ops __maybe_unused = {
	.match_token_uuid = vfio_pci_core_match_token_uuid,
};
