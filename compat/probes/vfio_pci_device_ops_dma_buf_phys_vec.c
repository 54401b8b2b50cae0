// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_PCI_DEVICE_OPS_DMA_BUF_PHYS_VEC: vfio_pci_device_ops.get_dmabuf_phys()
 * takes a struct dma_buf_phys_vec, its first form: v6.19 added the op
 * ("vfio/pci: Add dma-buf export support for MMIO regions"); v7.0 renamed the
 * type to struct phys_vec (probe vfio_pci_device_ops_phys_vec).
 */
#include <linux/vfio_pci_core.h>

static int probe(const struct vfio_pci_device_ops *ops,
		 struct dma_buf_phys_vec *v) __maybe_unused;
static int probe(const struct vfio_pci_device_ops *ops,
		 struct dma_buf_phys_vec *v)
{
	return ops->get_dmabuf_phys(NULL, NULL, 0, v, NULL, 0);
}
