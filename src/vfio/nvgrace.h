/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nvgrace-vfio-pci: the device structure and what the driver's files share.
 *
 *   main.c     what mainline's nvgrace-gpu main.c has, in mainline's order
 *   ready.c    the GPU's readiness after probe and reset (BAR0 registers or
 *              the CXL DVSEC) and its module parameters
 *   mapinode.c an inode of the driver's own holding its mappings, for
 *              kernels without a per-device VFIO inode (before v6.10)
 *   sysfs.c    the operator-visible sysfs attributes (see README)
 *   kvm.c      what KVM does with the memory on this kernel (kvm.h)
 *   layout.h, iocopy.h  device-free logic the KUnit suite checks
 */
#ifndef NVGRACE_VFIO_H
#define NVGRACE_VFIO_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/vfio_pci_core.h>

#include "nvgrace-poison.h"

/* nvgrace-probes: vfio_device_inode */

#define NVGRACE_RESMEM_INDEX	VFIO_PCI_BAR2_REGION_INDEX
#define NVGRACE_USEMEM_INDEX	VFIO_PCI_BAR4_REGION_INDEX

/* BAR0 readiness registers: C2C link up and HBM trained read 0xFF. */
#define NVGRACE_C2C_LINK_REG		0x1498
#define NVGRACE_HBM_TRAINING_REG	0x200bc
#define NVGRACE_READY			0xff
#define NVGRACE_REGS_LEN		(NVGRACE_HBM_TRAINING_REG + 4)

struct nvgrace_mem_region {
	phys_addr_t phys;	/* start of the region in device memory */
	size_t length;		/* bytes of real memory */
	size_t bar_size;	/* emulated BAR size: length rounded up */
	__le64 bar_val;		/* what the guest wrote to the emulated BAR */
	union {			/* kernel mapping for read()/write() */
		void *memaddr;
		void __iomem *ioaddr;
	};
	struct nvgrace_pfn_space poison;
};

enum nvgrace_fault_kind { NVGRACE_FAULT_PTE, NVGRACE_FAULT_PMD,
			  NVGRACE_FAULT_PUD, NVGRACE_FAULT_KINDS };

struct nvgrace_vfio_device {
	struct vfio_pci_core_device core_device;
	struct nvgrace_mem_region usemem;
	struct nvgrace_mem_region resmem;	/* length 0 on Blackwell */
	struct mutex remap_lock;		/* kernel mappings of regions */
	void __iomem *regs;			/* BAR0 readiness registers */
	bool has_mig_hw_bug;
	bool reset_done;			/* readiness unknown since reset */
	unsigned long reset_jiffies;		/* when that reset was done */
	int cxl_dvsec;				/* CXL Device DVSEC, or 0 */

	/* What firmware said, for sysfs. */
	phys_addr_t mem_phys;
	size_t mem_length;
	int mem_status;

	/* Observability. */
	atomic_long_t faults[NVGRACE_FAULT_KINDS];
	atomic_long_t rw_faultin;		/* usemem r/w: user pages faulted in */
	atomic_long_t rw_bounced;		/* usemem r/w: chunks bounced */
	atomic_t resets;
	unsigned int ready_wait_ms;		/* probe or reset to ready */

#ifndef HAVE_VFIO_DEVICE_INODE
	/*
	 * Kernels without a per-device VFIO inode (mainline < 6.10): an
	 * inode of the driver's own, whose mapping holds the driver's VMAs
	 * (mapinode.c).
	 */
	struct inode *inode;
	atomic_t faults_blocked;		/* decode or power change */
#endif
};

static inline struct nvgrace_vfio_device *
to_nvgrace(struct vfio_pci_core_device *core_device)
{
	return container_of(core_device, struct nvgrace_vfio_device,
			    core_device);
}

static inline struct nvgrace_vfio_device *
vdev_to_nvgrace(struct vfio_device *vdev)
{
	return container_of(vdev, struct nvgrace_vfio_device, core_device.vdev);
}

/*
 * Same test as mainline's __vfio_pci_memory_enabled() (exported only from
 * v6.19): memory decode on in the virtual command register and the device
 * not in D3.
 */
static inline bool nvgrace_memory_enabled(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd = le16_to_cpu(*(__le16 *)&vdev->vconfig[PCI_COMMAND]);

	/* current_state < PCI_D3hot, in a form sparse accepts */
	return (pdev->current_state == PCI_D0 ||
		pdev->current_state == PCI_D1 ||
		pdev->current_state == PCI_D2) &&
	       (pdev->no_command_memory || (cmd & PCI_COMMAND_MEMORY));
}

/* ready.c */

/* What nvgrace_lock_ready() may wait for, without any lock of its own. */
#define NVGRACE_WAIT_READY	BIT(0)	/* the GPU to get ready */
#define NVGRACE_WAIT_BUSY	BIT(1)	/* a blocking decode change */

int nvgrace_lock_ready(struct nvgrace_vfio_device *nvdev, unsigned int wait);
int nvgrace_probe_poll_ready(struct nvgrace_vfio_device *nvdev,
			     void __iomem *regs);

/* mapinode.c */

#ifndef HAVE_VFIO_DEVICE_INODE
int nvgrace_mapinode_init(struct nvgrace_vfio_device *nvdev);
void nvgrace_mapinode_exit(struct nvgrace_vfio_device *nvdev);
int nvgrace_mapinode_attach(struct nvgrace_vfio_device *nvdev,
			    struct vm_area_struct *vma);
void nvgrace_zap_mappings(struct nvgrace_vfio_device *nvdev);
void nvgrace_block_faults(struct nvgrace_vfio_device *nvdev);
void nvgrace_unblock_faults(struct nvgrace_vfio_device *nvdev);
void nvgrace_mapinode_space(struct nvgrace_vfio_device *nvdev,
			    struct nvgrace_pfn_space *space);

static inline bool nvgrace_faults_blocked(struct nvgrace_vfio_device *nvdev)
{
	return atomic_read(&nvdev->faults_blocked);
}
#else
/*
 * vfio-pci-core zaps the device inode's mappings, ours included, under
 * memory_lock: nothing to track, to do or to block.
 */
static inline int nvgrace_mapinode_init(struct nvgrace_vfio_device *nvdev)
{
	return 0;
}

static inline void nvgrace_mapinode_exit(struct nvgrace_vfio_device *nvdev)
{
}

static inline int nvgrace_mapinode_attach(struct nvgrace_vfio_device *nvdev,
					  struct vm_area_struct *vma)
{
	return 0;
}

static inline void nvgrace_zap_mappings(struct nvgrace_vfio_device *nvdev)
{
}

static inline void nvgrace_block_faults(struct nvgrace_vfio_device *nvdev)
{
}

static inline void nvgrace_unblock_faults(struct nvgrace_vfio_device *nvdev)
{
}

/* nvgrace-poison walks the device inode's mapping, which holds ours. */
static inline void nvgrace_mapinode_space(struct nvgrace_vfio_device *nvdev,
					  struct nvgrace_pfn_space *space)
{
	space->mapping = nvdev->core_device.vdev.inode->i_mapping;
}

static inline bool nvgrace_faults_blocked(struct nvgrace_vfio_device *nvdev)
{
	return false;
}
#endif

/* sysfs.c */

extern const struct attribute_group *nvgrace_vfio_groups[];

#endif /* NVGRACE_VFIO_H */
