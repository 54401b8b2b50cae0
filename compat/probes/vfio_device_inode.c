// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_DEVICE_INODE: struct vfio_device has a per-device inode and
 * vfio-pci-core zaps BAR mappings with unmap_mapping_range() on its address
 * space, which covers a variant driver's own VMAs too. Before it, the core
 * zapped only the VMAs it tracked on its own vma_list.
 * Added in v6.10 by "vfio: Create vfio_fs_type with inode per
 * device" and "vfio/pci: Use unmap_mapping_range()".
 */
#include <linux/vfio.h>

static struct inode *probe(struct vfio_device *vdev) __maybe_unused;
static struct inode *probe(struct vfio_device *vdev)
{
	return vdev->inode;
}
