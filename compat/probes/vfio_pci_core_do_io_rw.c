// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_PCI_CORE_DO_IO_RW: vfio-pci-core exports vfio_pci_core_do_io_rw()
 * (the old 9-argument form).
 * Added in v6.9 by "vfio/pci: rename and export do_io_rw()".
 */
#include <linux/vfio_pci_core.h>

static ssize_t probe(struct vfio_pci_core_device *vdev, char __user *buf)
	__maybe_unused;
static ssize_t probe(struct vfio_pci_core_device *vdev, char __user *buf)
{
	return vfio_pci_core_do_io_rw(vdev, false, NULL, buf, 0, 4, 0, 0, false);
}
