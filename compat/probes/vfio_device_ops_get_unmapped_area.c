// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_DEVICE_OPS_GET_UNMAPPED_AREA: struct vfio_device_ops has
 * .get_unmapped_area, called for the device file's get_unmapped_area, with
 * mm_get_unmapped_area() in the form without an mm argument (as in 7.3). No
 * mainline kernel has the member: the companion patch
 * packaging/kernel-patches/7.3-vfio adds it.
 */
#include <linux/sched/mm.h>
#include <linux/vfio.h>

static unsigned long probe_gua(struct vfio_device *vdev, struct file *file,
			       unsigned long addr, unsigned long len,
			       unsigned long pgoff, unsigned long flags)
{
	return mm_get_unmapped_area(file, addr, len, pgoff, flags);
}

static const struct vfio_device_ops probe_ops __maybe_unused = {
	.get_unmapped_area = probe_gua,
};
