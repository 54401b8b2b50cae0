// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_PCI_CORE_GET_IOMAP: vfio-pci-core provides
 * vfio_pci_core_get_iomap(vdev, bar), which maps a BAR on demand and returns
 * its __iomem pointer (or an IOMEM_ERR_PTR). It replaces
 * vfio_pci_core_setup_barmap(), which is gone from the same release.
 * Present from v7.2 (first seen in Debian's 7.2 headers).
 */
#include <linux/vfio_pci_core.h>

static void __iomem *probe(struct vfio_pci_core_device *vdev) __maybe_unused;
static void __iomem *probe(struct vfio_pci_core_device *vdev)
{
	return vfio_pci_core_get_iomap(vdev, 0);
}
