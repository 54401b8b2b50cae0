// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_PCI_CORE_SETUP_BARMAP: vfio-pci-core exports
 * vfio_pci_core_setup_barmap() and the vfio_pci_core_ioread/iowrite helpers.
 * Added in v6.8 by the virtio-vfio series ("vfio/pci: Expose
 * vfio_pci_core_setup_barmap()"); replaced by vfio_pci_core_get_iomap() in
 * v7.2.
 */
#include <linux/vfio_pci_core.h>

static int probe(struct vfio_pci_core_device *vdev) __maybe_unused;
static int probe(struct vfio_pci_core_device *vdev)
{
	return vfio_pci_core_setup_barmap(vdev, 0);
}
