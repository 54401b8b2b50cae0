// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_PCI_VMF_INSERT_PFN: vfio-pci-core exports
 * vfio_pci_vmf_insert_pfn(vdev, vmf, pfn, order), which inserts a PFN at a
 * given order under memory_lock.
 * Added in v6.19 by "vfio/pci: Add a helper to insert a pfn at an order"
 * (the huge-fault series for nvgrace-gpu).
 */
#include <linux/vfio_pci_core.h>

static vm_fault_t probe(struct vfio_pci_core_device *vdev,
			struct vm_fault *vmf) __maybe_unused;
static vm_fault_t probe(struct vfio_pci_core_device *vdev,
			struct vm_fault *vmf)
{
	return vfio_pci_vmf_insert_pfn(vdev, vmf, 0, 0);
}
