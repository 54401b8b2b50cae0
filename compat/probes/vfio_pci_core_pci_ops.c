// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_PCI_CORE_PCI_OPS: struct vfio_pci_core_device has .pci_ops
 * (struct vfio_pci_device_ops with .get_dmabuf_phys), used by the dma-buf
 * export of device memory.
 * Added in v6.19 by the series "vfio/pci: Allow MMIO regions to be exported
 * through dma-buf".
 */
#include <linux/vfio_pci_core.h>

static const struct vfio_pci_device_ops *
probe(struct vfio_pci_core_device *vdev) __maybe_unused;
static const struct vfio_pci_device_ops *
probe(struct vfio_pci_core_device *vdev)
{
	return vdev->pci_ops;
}
