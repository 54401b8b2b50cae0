// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_PCI_CORE_DO_IO_RW_WIDTH: vfio_pci_core_do_io_rw() takes a last
 * argument enum vfio_pci_io_width max_width.
 * Added in v6.19 by dc85a46928c4 ("vfio/pci: Use ioread/iowrite widths no
 * larger than the region supports"), backported to 6.18.4 and 6.12.y; so this
 * is a compile probe, never a version check.
 */
#include <linux/vfio_pci_core.h>

static ssize_t probe(struct vfio_pci_core_device *vdev, char __user *buf)
	__maybe_unused;
static ssize_t probe(struct vfio_pci_core_device *vdev, char __user *buf)
{
	return vfio_pci_core_do_io_rw(vdev, false, NULL, buf, 0, 4, 0, 0, false,
				      VFIO_PCI_IO_WIDTH_8);
}
