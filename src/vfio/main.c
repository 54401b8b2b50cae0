// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-vfio-pci: VFIO PCI variant driver for NVIDIA Grace Hopper and
 * Grace Blackwell GPUs, built out of tree for kernels 6.1 and later.
 *
 * The GPU's coherent memory is not behind a PCI BAR: firmware describes it
 * with the properties nvidia,gpu-mem-base-pa and nvidia,gpu-mem-size. The
 * driver shows it to userspace (QEMU) as emulated 64-bit prefetchable BARs:
 *
 *   region 4 (BAR4/5) "usemem": cacheable, what the VM's workloads use;
 *   region 2 (BAR2/3) "resmem": on Hopper only, the uncached carve-out at
 *                               the end of device memory that the MIG
 *                               hardware bug requires (write-combine).
 *
 * On Blackwell (no MIG bug) region 2 is the real BAR, passed through by
 * vfio-pci-core. Without usable properties the device behaves exactly like
 * it would under vfio-pci.
 *
 * The behaviour follows mainline's nvgrace-gpu driver as of v7.3 on every
 * kernel from 6.1; where this driver deliberately differs, the code says so.
 * The driver binds only through driver_override (all its IDs are
 * override-only), so it never takes a GPU away from another driver by
 * accident.
 *
 * This file is shaped like mainline's drivers/vfio/pci/nvgrace-gpu/main.c:
 * its functions, in mainline's order and under mainline's names where one
 * matches, so that a sync with upstream is a function-by-function diff.
 * What only this driver has lives elsewhere (nvgrace.h lists the files):
 * the readiness waits (ready.c, mainline's wait/check_device_ready
 * functions), the pre-6.10 inode for the mappings (mapinode.c), the
 * operator sysfs (sysfs.c). The device structure keeps its own name (struct
 * nvgrace_vfio_device in nvgrace.h, mainline's nvgrace_gpu_pci_core_device)
 * and the decisions KUnit tests (BAR value, region split, MIG and CXL
 * decoding, access overlap) are in layout.h.
 *
 * Functions that differ from mainline's of the same name, and why (the
 * comments at the code say more):
 * - nvgrace_gpu_memregion(): usemem is an emulated region only when the
 *   firmware window was usable; otherwise the device is plain vfio-pci.
 * - nvgrace_gpu_vfio_pci_register_pfn_range(): registers with nvgrace-poison,
 *   which uses the kernel's pfn_address_space where it exists (v6.19) and
 *   its own routing before.
 * - nvgrace_gpu_open_device(): maps only the readiness registers of BAR0
 *   (the core's BAR map helper changed twice) and registers both regions;
 *   it and the plain-vfio-pci open refuse an open that cannot keep the
 *   device's config state, which mainline lets through and which costs the
 *   device its BARs at close on some kernels (nvgrace_core_enable()).
 * - nvgrace_gpu_vfio_pci_huge_fault(): waits for readiness without holding
 *   memory_lock or the fault's lock (retrying the fault), refuses poisoned
 *   pages, maps the 2 MiB block around a 4 KiB fault, counts faults.
 * - nvgrace_gpu_mmap(): refuses the BAR's padding and private mappings, and
 *   before v6.10 puts a file of the driver's own inode in the VMA.
 * - nvgrace_gpu_ioctl(): no ioeventfd on the emulated BARs; before v6.19
 *   also region info (nvgrace_ioctl_region_info()).
 * - nvgrace_gpu_read_config_emu(), nvgrace_gpu_write_config_emu(): an
 *   access spanning both emulated BARs, bytes before a BAR register, and
 *   decode or power changes that must zap.
 * - nvgrace_gpu_read(), nvgrace_gpu_write(): one path (nvgrace_rw()) that
 *   never faults on user memory under memory_lock (mainline can deadlock
 *   there): usemem is copied with page faults disabled and the user pages
 *   faulted in without the lock on a short copy, resmem goes through a
 *   kernel bounce buffer; poisoned pages are refused.
 * - nvgrace_gpu_fetch_memory_property(): also refuses a wrapping window;
 *   nvgrace_check_window() (not in mainline) refuses unaligned, tiny,
 *   System-RAM-overlapping or oversized windows.
 * - nvgrace_gpu_probe_check_device_ready(): polls with module parameters
 *   (ready.c); nvgrace_gpu_vfio_pci_reset_done() also counts resets.
 * - nvgrace_gpu_vfio_pci_reset_prepare(): not in mainline: before v6.10
 *   zaps this driver's mappings on every reset of the device.
 * - nvgrace_device_feature(): not in mainline: zaps on low-power entry
 *   before v6.10.
 * - nvgrace_gpu_get_unmapped_area(): not in mainline: places mmap(NULL)
 *   mappings for huge blocks, on kernels with the companion VFIO patch.
 */

#include <linux/device.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/pm_runtime.h>
#include <linux/property.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>

#include "nvgrace-compat.h"
#include "nvgrace-poison.h"
#include "nvgrace.h"
#include "layout.h"
#include "iocopy.h"
#include "kvm.h"
#include "nvgrace-buildinfo.h"	/* build facts for modinfo */

/*
 * nvgrace-probes: vfio_device_ops_bind_iommufd
 * nvgrace-probes: vfio_device_ops_detach_ioas vfio_device_ops_match_token_uuid
 * nvgrace-probes: vfio_device_ops_get_region_info_caps vfio_pci_core_pci_ops
 * nvgrace-probes: vfio_device_ops_get_unmapped_area
 */

/* NVIDIA DVSEC 3: bit 0 of the word at 0xA says MIG works with cached resmem. */
#define NVGRACE_DVSEC_GPU_CAP		3
#define NVGRACE_DVSEC_BITMAP		0xa

#define NVGRACE_PGOFF_SHIFT		(VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT)
#define NVGRACE_PGOFF_MASK		((1UL << NVGRACE_PGOFF_SHIFT) - 1)

static const struct vm_operations_struct nvgrace_gpu_vfio_pci_mmap_ops;

/* ---- open / close ------------------------------------------------------ */

/*
 * vfio_pci_core_enable() goes on when it cannot keep a copy of the state it
 * saved after its reset (pci_store_saved_state(), a small allocation, failed:
 * it only logs at debug level). vfio_pci_core_disable() then resets the
 * device at close and restores nothing where pci_restore_state() returns
 * early once loading the missing copy cleared state_saved (Debian's 6.1.192;
 * not its 6.12.117 or 7.3.4, which dropped that check), so the
 * device comes out of the reset with its BARs cleared, and every later open
 * finds it dead (memory decode on, BAR0 answering all-ones) until the host
 * assigns its resources again. Seen on 6.1 with failslab (tests/guest/
 * 80-stress.sh, fault phase). The copy is taken again here; if that fails
 * too, the open fails with -ENOMEM and the device is disabled without the
 * reset it could not be restored from.
 */
static void nvgrace_core_disable(struct vfio_pci_core_device *vdev)
{
	if (!vdev->pci_saved_state)
		vdev->reset_works = false;	/* set again by the next enable */
	vfio_pci_core_disable(vdev);
}

static int nvgrace_core_enable(struct vfio_pci_core_device *vdev)
{
	int ret;

	ret = vfio_pci_core_enable(vdev);
	if (ret || vdev->pci_saved_state)
		return ret;

	vdev->pci_saved_state = pci_store_saved_state(vdev->pdev);
	if (vdev->pci_saved_state)
		return 0;
	pci_warn(vdev->pdev, "open refused: no memory to keep the device's config state for its close\n");
	nvgrace_core_disable(vdev);
	return -ENOMEM;
}

static void
nvgrace_gpu_init_fake_bar_emu_regs(struct nvgrace_vfio_device *nvdev)
{
	nvdev->usemem.bar_val = 0;
	nvdev->resmem.bar_val = 0;
}

/* The emulated region with VFIO index @index, or NULL for a real one. */
static struct nvgrace_mem_region *
nvgrace_gpu_memregion(unsigned int index, struct nvgrace_vfio_device *nvdev)
{
	if (index == NVGRACE_USEMEM_INDEX && nvdev->usemem.length)
		return &nvdev->usemem;
	if (index == NVGRACE_RESMEM_INDEX && nvdev->resmem.length)
		return &nvdev->resmem;
	return NULL;
}

static int nvgrace_gpu_pfn_to_vma_pgoff(struct vm_area_struct *vma,
					unsigned long pfn, pgoff_t *pgoff)
{
	struct nvgrace_vfio_device *nvdev = vma->vm_private_data;
	unsigned int index = vma->vm_pgoff >> NVGRACE_PGOFF_SHIFT;
	pgoff_t vma_off = vma->vm_pgoff & NVGRACE_PGOFF_MASK;
	struct nvgrace_mem_region *region;
	unsigned long first, off;

	if (vma->vm_ops != &nvgrace_gpu_vfio_pci_mmap_ops || !nvdev)
		return -ENOENT;
	region = nvgrace_gpu_memregion(index, nvdev);
	if (!region)
		return -EINVAL;
	first = PHYS_PFN(region->phys);
	if (pfn < first || pfn >= first + (region->length >> PAGE_SHIFT))
		return -EFAULT;
	off = pfn - first;
	if (off < vma_off || off - vma_off >= vma_pages(vma))
		return -EFAULT;
	*pgoff = vma->vm_pgoff + (off - vma_off);
	return 0;
}

static int
nvgrace_gpu_vfio_pci_register_pfn_range(struct nvgrace_vfio_device *nvdev,
					struct nvgrace_mem_region *region)
{
	struct nvgrace_pfn_space *space = &region->poison;

	space->pfn_first = PHYS_PFN(region->phys);
	space->pfn_last = space->pfn_first + (region->length >> PAGE_SHIFT) - 1;
	/* The device inode's mapping, or before v6.10 the driver's own. */
	nvgrace_mapinode_space(nvdev, space);
	space->pfn_to_vma_pgoff = nvgrace_gpu_pfn_to_vma_pgoff;
	/* The fault path checks for poison and maps under memory_lock. */
	space->fault_lock = &nvdev->core_device.memory_lock;
	return nvgrace_poison_register(space);
}

static int nvgrace_gpu_open_device(struct vfio_device *core_vdev)
{
	struct nvgrace_vfio_device *nvdev = vdev_to_nvgrace(core_vdev);
	struct vfio_pci_core_device *vdev = &nvdev->core_device;
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	ret = nvgrace_core_enable(vdev);
	if (ret)
		return ret;

	nvgrace_gpu_init_fake_bar_emu_regs(nvdev);

	/*
	 * The readiness registers after a reset. Mainline uses vfio-pci-core's
	 * BAR map, whose helper changed twice (v6.8, v7.2) and does not exist
	 * on older kernels; a mapping of just the registers, without claiming
	 * the BAR, works the same on every kernel. The CXL path needs none.
	 */
	if (!nvdev->cxl_dvsec) {
		nvdev->regs = pci_iomap_range(pdev, 0, 0, NVGRACE_REGS_LEN);
		if (!nvdev->regs) {
			ret = -ENOMEM;
			goto out_disable;
		}
	}

	if (nvdev->resmem.length) {
		ret = nvgrace_gpu_vfio_pci_register_pfn_range(nvdev,
							      &nvdev->resmem);
		if (ret)
			goto out_unmap;
	}
	ret = nvgrace_gpu_vfio_pci_register_pfn_range(nvdev, &nvdev->usemem);
	if (ret)
		goto out_unregister;

	vfio_pci_core_finish_enable(vdev);
	return 0;

out_unregister:
	nvgrace_poison_unregister_keep(&nvdev->resmem.poison);
out_unmap:
	if (nvdev->regs)
		pci_iounmap(pdev, nvdev->regs);
	nvdev->regs = NULL;
out_disable:
	if (ret == -EBUSY)
		pci_err(pdev, "device memory overlaps another device's poison range\n");
	nvgrace_core_disable(vdev);
	return ret;
}

static void nvgrace_gpu_close_device(struct vfio_device *core_vdev)
{
	struct nvgrace_vfio_device *nvdev = vdev_to_nvgrace(core_vdev);

	/* The records stay: the next open still refuses known-bad pages. */
	nvgrace_poison_unregister_keep(&nvdev->resmem.poison);
	nvgrace_poison_unregister_keep(&nvdev->usemem.poison);

	mutex_lock(&nvdev->remap_lock);
	if (nvdev->usemem.memaddr) {
		memunmap(nvdev->usemem.memaddr);
		nvdev->usemem.memaddr = NULL;
	}
	if (nvdev->resmem.ioaddr) {
		iounmap(nvdev->resmem.ioaddr);
		nvdev->resmem.ioaddr = NULL;
	}
	mutex_unlock(&nvdev->remap_lock);

	if (nvdev->regs) {
		pci_iounmap(nvdev->core_device.pdev, nvdev->regs);
		nvdev->regs = NULL;
	}

	vfio_pci_core_close_device(core_vdev);
}

/* ---- mmap and faults --------------------------------------------------- */

static bool nvgrace_aligned_for_order(struct vm_area_struct *vma,
				      unsigned long addr, unsigned long pfn,
				      unsigned int order)
{
	return !(order && (addr < vma->vm_start ||
			   addr + (PAGE_SIZE << order) > vma->vm_end ||
			   !IS_ALIGNED(pfn, 1UL << order)));
}

/*
 * Map the PMD-sized block around the faulting page with PTEs, clamped to
 * the VMA, skipping poisoned pages. Mainline maps one page per fault when it
 * cannot use a huge mapping; doing the block costs nothing more per page and
 * makes a mapping the kernel cannot map huge (kernels before 6.12, or an
 * unaligned address) take 512 times fewer faults.
 */
static vm_fault_t nvgrace_map_ptes(struct vm_fault *vmf,
				   struct nvgrace_mem_region *region,
				   unsigned long pfn)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long fault = vmf->address & PAGE_MASK;
	unsigned long start = max(ALIGN_DOWN(fault, PMD_SIZE), vma->vm_start);
	unsigned long end = min(ALIGN_DOWN(fault, PMD_SIZE) + PMD_SIZE,
				vma->vm_end);
	unsigned long addr;
	vm_fault_t ret;

	ret = vmf_insert_pfn(vma, fault, pfn);
	if (ret & VM_FAULT_ERROR)
		return ret;

	for (addr = start; addr < end; addr += PAGE_SIZE) {
		unsigned long p = pfn - ((fault - addr) >> PAGE_SHIFT);

		if (addr == fault)
			continue;
		if (addr > fault)
			p = pfn + ((addr - fault) >> PAGE_SHIFT);
		if (nvgrace_poison_check(&region->poison, p, 1))
			continue;
		if (vmf_insert_pfn(vma, addr, p) & VM_FAULT_ERROR)
			break;
	}
	return VM_FAULT_NOPAGE;
}

static vm_fault_t nvgrace_insert(struct vm_fault *vmf,
				 struct nvgrace_mem_region *region,
				 unsigned long pfn, unsigned int order)
{
	if (!order)
		return nvgrace_map_ptes(vmf, region, pfn);
	if (order == PMD_SHIFT - PAGE_SHIFT)
		return nvgrace_insert_pfn_pmd(vmf, pfn);
	if (order == PUD_SHIFT - PAGE_SHIFT)
		return nvgrace_insert_pfn_pud(vmf, pfn);
	return VM_FAULT_FALLBACK;
}

static void nvgrace_count_fault(struct nvgrace_vfio_device *nvdev,
				unsigned int order)
{
	enum nvgrace_fault_kind kind = NVGRACE_FAULT_PTE;

	if (order == PMD_SHIFT - PAGE_SHIFT)
		kind = NVGRACE_FAULT_PMD;
	else if (order == PUD_SHIFT - PAGE_SHIFT)
		kind = NVGRACE_FAULT_PUD;
	atomic_long_inc(&nvdev->faults[kind]);
}

/*
 * The GPU is still training after a reset. The wait (up to ready_timeout_ms,
 * 600 s at most) must not hold the fault's lock either, the mmap lock or the
 * per-VMA lock, which would stall every mmap(), munmap() and fault of the
 * process (a VM's whole VMM): drop it, wait, and have the fault retried. The
 * file reference keeps the device open meanwhile. A retry after the
 * deadline fails the fault (-ETIME from the test). Faults that cannot be
 * retried (no FAULT_FLAG_ALLOW_RETRY: some GUP users) do not come here: they
 * wait with the fault's lock held but still without memory_lock, as the
 * only other choice is to fail them.
 */
static vm_fault_t nvgrace_fault_wait_ready(struct vm_fault *vmf,
					   struct nvgrace_vfio_device *nvdev)
{
	struct file *file;

	/* The caller keeps its lock and comes back later. */
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;

	file = get_file(vmf->vma->vm_file);
	nvgrace_release_fault_lock(vmf);
	if (!nvgrace_lock_ready(nvdev, NVGRACE_WAIT_READY | NVGRACE_WAIT_BUSY))
		up_read(&nvdev->core_device.memory_lock);
	fput(file);
	return VM_FAULT_RETRY;
}

static vm_fault_t nvgrace_gpu_vfio_pci_huge_fault(struct vm_fault *vmf,
						  unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct nvgrace_vfio_device *nvdev = vma->vm_private_data;
	struct vfio_pci_core_device *vdev = &nvdev->core_device;
	unsigned int index = vma->vm_pgoff >> NVGRACE_PGOFF_SHIFT;
	struct nvgrace_mem_region *region;
	unsigned long addr, pfn;
	vm_fault_t ret;
	int rc;

	region = nvgrace_gpu_memregion(index, nvdev);
	if (!region)
		return VM_FAULT_SIGBUS;

	addr = ALIGN_DOWN(vmf->address, PAGE_SIZE << order);
	pfn = PHYS_PFN(region->phys) + (vma->vm_pgoff & NVGRACE_PGOFF_MASK) +
	      ((addr - vma->vm_start) >> PAGE_SHIFT);
	if (!nvgrace_aligned_for_order(vma, addr, pfn, order))
		return VM_FAULT_FALLBACK;

	/* No waiting for a runtime-suspended device. */
	down_read(&vdev->memory_lock);
	rc = vdev->pm_runtime_engaged;
	up_read(&vdev->memory_lock);
	if (rc)
		return VM_FAULT_SIGBUS;

	/*
	 * A fault that cannot drop its lock waits for readiness under it, but
	 * never for a blocking decode change (before v6.10): vfio-pci-core
	 * zaps its own mappings in it under each mm's mmap lock.
	 */
	rc = nvgrace_lock_ready(nvdev, vmf->flags & FAULT_FLAG_ALLOW_RETRY ?
				0 : NVGRACE_WAIT_READY);
	if ((rc == -EAGAIN || rc == -EBUSY) &&
	    (vmf->flags & FAULT_FLAG_ALLOW_RETRY))
		return nvgrace_fault_wait_ready(vmf, nvdev);
	if (rc)
		return VM_FAULT_SIGBUS;

	if (vdev->pm_runtime_engaged || !nvgrace_memory_enabled(vdev)) {
		ret = VM_FAULT_SIGBUS;
	} else if (nvgrace_poison_check_fault(&region->poison, pfn,
					      1UL << order, vmf->flags)) {
		/* Only the poisoned page is lost: refuse it, map neighbours. */
		ret = order ? VM_FAULT_FALLBACK : VM_FAULT_HWPOISON;
	} else {
		ret = nvgrace_insert(vmf, region, pfn, order);
	}
	up_read(&vdev->memory_lock);

	if (!(ret & (VM_FAULT_ERROR | VM_FAULT_FALLBACK)))
		nvgrace_count_fault(nvdev, order);
	dev_dbg_ratelimited(&vdev->pdev->dev, "fault order %u pfn %#lx: %#x\n",
			    order, pfn, (__force unsigned int)ret);
	return ret;
}

static vm_fault_t nvgrace_gpu_vfio_pci_fault(struct vm_fault *vmf)
{
	return nvgrace_gpu_vfio_pci_huge_fault(vmf, 0);
}

static const struct vm_operations_struct nvgrace_gpu_vfio_pci_mmap_ops = {
	.fault = nvgrace_gpu_vfio_pci_fault,
#ifdef NVGRACE_HUGE_FAULT
	.huge_fault = nvgrace_gpu_vfio_pci_huge_fault,
#endif
};

static int nvgrace_gpu_mmap(struct vfio_device *core_vdev,
			    struct vm_area_struct *vma)
{
	struct nvgrace_vfio_device *nvdev = vdev_to_nvgrace(core_vdev);
	unsigned int index = vma->vm_pgoff >> NVGRACE_PGOFF_SHIFT;
	struct nvgrace_mem_region *region;
	u64 len, pgoff, end;
	int ret;

	region = nvgrace_gpu_memregion(index, nvdev);
	if (!region)
		return vfio_pci_core_mmap(core_vdev, vma);

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	pgoff = vma->vm_pgoff & NVGRACE_PGOFF_MASK;
	if (check_sub_overflow(vma->vm_end, vma->vm_start, &len) ||
	    check_add_overflow(PFN_PHYS(pgoff), len, &end))
		return -EOVERFLOW;
	/* Nothing past the real memory: the BAR's padding is not mappable. */
	if (end > region->length)
		return -EINVAL;

	/* Before v6.10: the VMA's file becomes one of our inode (mapinode.c). */
	ret = nvgrace_mapinode_attach(nvdev, vma);
	if (ret)
		return ret;

	nvgrace_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
			     VM_DONTDUMP);
	if (index == NVGRACE_RESMEM_INDEX) {
		/*
		 * resmem is the uncached carve-out: write-combine (Normal-NC on
		 * arm64), and tell KVM it may map it Normal-NC at stage 2; the
		 * GPU has no problem with uncontained NC accesses.
		 */
		nvgrace_vm_flags_set(vma, VM_ALLOW_ANY_UNCACHED);
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	}
	/* usemem keeps the default, cacheable, page protection. */

	vma->vm_ops = &nvgrace_gpu_vfio_pci_mmap_ops;
	vma->vm_private_data = nvdev;
	return 0;
}

#ifdef HAVE_VFIO_DEVICE_OPS_GET_UNMAPPED_AREA
/*
 * Not in mainline, which has no such hook: the companion patch
 * packaging/kernel-patches/7.3-vfio adds vfio_device_ops.get_unmapped_area.
 * A mapping of usemem or resmem whose address the caller leaves to the
 * kernel goes where the virtual address is congruent with the physical one
 * modulo a PUD (at least 1 GiB mapped) or a PMD, so that the fault handler
 * maps huge blocks as it does for QEMU's own aligned mappings. Like
 * thp_get_unmapped_area(): ask for the length plus one block and place the
 * mapping inside. MAP_FIXED, other regions, short mappings and a failure
 * of the padded request get the default placement, and a hint the default
 * placement grants is kept, as without the hook. Offsets past the memory
 * are left to nvgrace_gpu_mmap() to refuse.
 */
static unsigned long
nvgrace_gpu_get_unmapped_area(struct vfio_device *core_vdev, struct file *file,
			      unsigned long addr, unsigned long len,
			      unsigned long pgoff, unsigned long flags)
{
	struct nvgrace_vfio_device *nvdev = vdev_to_nvgrace(core_vdev);
	unsigned int index = pgoff >> NVGRACE_PGOFF_SHIFT;
	struct nvgrace_mem_region *region = nvgrace_gpu_memregion(index, nvdev);
	unsigned long off = PFN_PHYS(pgoff & NVGRACE_PGOFF_MASK);
	unsigned long align = len >= PUD_SIZE ? PUD_SIZE : PMD_SIZE;
	unsigned long ret;

	if (!region || (flags & MAP_FIXED) || len < PMD_SIZE ||
	    off >= region->length || len + align < len)
		goto plain;
	if (addr) {
		ret = mm_get_unmapped_area(file, addr, len, pgoff, flags);
		if (ret == addr)
			return ret;
	}

	ret = mm_get_unmapped_area(file, 0, len + align, pgoff, flags);
	if (IS_ERR_VALUE(ret))
		goto plain;
	return ret + ((region->phys + off - ret) & (align - 1));

plain:
	return mm_get_unmapped_area(file, addr, len, pgoff, flags);
}
#endif

/* ---- region info --------------------------------------------------------- */

static int nvgrace_region_info_caps(struct nvgrace_vfio_device *nvdev,
				    struct nvgrace_mem_region *region,
				    struct vfio_region_info *info,
				    struct vfio_info_cap *caps)
{
	struct vfio_region_info_cap_sparse_mmap *sparse;
	size_t size = struct_size(sparse, areas, 1);
	int ret;

	/* Only the real memory is mappable, not the BAR's padding. */
	sparse = kzalloc(size, GFP_KERNEL);
	if (!sparse)
		return -ENOMEM;
	sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sparse->header.version = 1;
	sparse->nr_areas = 1;
	sparse->areas[0].offset = 0;
	sparse->areas[0].size = region->length;
	ret = vfio_info_add_capability(caps, &sparse->header, size);
	kfree(sparse);
	if (ret)
		return ret;

	info->offset = VFIO_PCI_INDEX_TO_OFFSET(info->index);
	info->size = region->bar_size;
	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP;
	return 0;
}

#ifdef HAVE_VFIO_DEVICE_OPS_GET_REGION_INFO_CAPS
static int nvgrace_gpu_ioctl_get_region_info(struct vfio_device *core_vdev,
					     struct vfio_region_info *info,
					     struct vfio_info_cap *caps)
{
	struct nvgrace_vfio_device *nvdev = vdev_to_nvgrace(core_vdev);
	struct nvgrace_mem_region *region;

	region = nvgrace_gpu_memregion(info->index, nvdev);
	if (!region)
		return vfio_pci_ioctl_get_region_info(core_vdev, info, caps);
	return nvgrace_region_info_caps(nvdev, region, info, caps);
}
#else
/* Before v6.19 region info is an ioctl the variant driver intercepts. */
static long nvgrace_ioctl_region_info(struct vfio_device *core_vdev,
				      unsigned long arg)
{
	struct nvgrace_vfio_device *nvdev = vdev_to_nvgrace(core_vdev);
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct nvgrace_mem_region *region;
	struct vfio_region_info info;
	int ret;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	region = nvgrace_gpu_memregion(info.index, nvdev);
	if (!region)
		return vfio_pci_core_ioctl(core_vdev, VFIO_DEVICE_GET_REGION_INFO,
					   arg);

	ret = nvgrace_region_info_caps(nvdev, region, &info, &caps);
	if (ret)
		return ret;

	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
			info.cap_offset = 0;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user((void __user *)arg + sizeof(info),
					 caps.buf, caps.size)) {
				kfree(caps.buf);
				return -EFAULT;
			}
			info.cap_offset = sizeof(info);
		}
		kfree(caps.buf);
	}
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}
#endif

static long nvgrace_gpu_ioctl(struct vfio_device *core_vdev, unsigned int cmd,
			      unsigned long arg)
{
	struct nvgrace_vfio_device *nvdev = vdev_to_nvgrace(core_vdev);

	switch (cmd) {
	case VFIO_DEVICE_IOEVENTFD:
		/* The emulated BARs have no MMIO to bind an eventfd to. */
		return -ENOTTY;
#ifndef HAVE_VFIO_DEVICE_OPS_GET_REGION_INFO_CAPS
	case VFIO_DEVICE_GET_REGION_INFO:
		return nvgrace_ioctl_region_info(core_vdev, arg);
#endif
	case VFIO_DEVICE_RESET:
		nvgrace_gpu_init_fake_bar_emu_regs(nvdev);
		return vfio_pci_core_ioctl(core_vdev, cmd, arg);
	default:
		return vfio_pci_core_ioctl(core_vdev, cmd, arg);
	}
}

static int nvgrace_device_feature(struct vfio_device *core_vdev, u32 flags,
				  void __user *arg, size_t argsz)
{
	struct nvgrace_vfio_device *nvdev = vdev_to_nvgrace(core_vdev);
	int ret;

	ret = vfio_pci_core_ioctl_feature(core_vdev, flags, arg, argsz);
	/* Low-power entry: the core refuses new faults; drop the old pages. */
	if (!ret && nvdev->core_device.pm_runtime_engaged)
		nvgrace_zap_mappings(nvdev);
	return ret;
}

/* ---- config space: the emulated BARs ----------------------------------- */

static ssize_t nvgrace_gpu_read_config_emu(struct nvgrace_vfio_device *nvdev,
					   char __user *buf, size_t count,
					   loff_t *ppos)
{
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	static const struct {
		unsigned int index, reg;
	} bars[] = {
		{ NVGRACE_RESMEM_INDEX, PCI_BASE_ADDRESS_2 },
		{ NVGRACE_USEMEM_INDEX, PCI_BASE_ADDRESS_4 },
	};
	ssize_t ret;
	int i;

	ret = vfio_pci_core_read(&nvdev->core_device.vdev, buf, count, ppos);
	if (ret <= 0)
		return ret;

	/*
	 * Overlay each emulated BAR the access covers. Mainline overlays only
	 * the first one it finds; an access spanning both gets both here.
	 */
	for (i = 0; i < ARRAY_SIZE(bars); i++) {
		struct nvgrace_mem_region *region;
		size_t off, n, reg_off;
		__le64 val;

		region = nvgrace_gpu_memregion(bars[i].index, nvdev);
		if (!region || !nvgrace_intersect(pos, ret, bars[i].reg,
						  sizeof(val), &off, &n,
						  &reg_off))
			continue;
		val = cpu_to_le64(nvgrace_bar_read_value(region->bar_size,
							 le64_to_cpu(region->bar_val)));
		if (copy_to_user(buf + off, (u8 *)&val + reg_off, n)) {
			*ppos -= ret;
			return -EFAULT;
		}
	}
	return ret;
}

static ssize_t nvgrace_gpu_write_config_emu(struct nvgrace_vfio_device *nvdev,
					    const char __user *buf,
					    size_t count, loff_t *ppos)
{
	struct vfio_pci_core_device *vdev = &nvdev->core_device;
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	static const struct {
		unsigned int index, reg;
	} bars[] = {
		{ NVGRACE_RESMEM_INDEX, PCI_BASE_ADDRESS_2 },
		{ NVGRACE_USEMEM_INDEX, PCI_BASE_ADDRESS_4 },
	};
	size_t off, n, reg_off;
	bool blocking;
	ssize_t ret;
	int i;

	for (i = 0; i < ARRAY_SIZE(bars); i++) {
		struct nvgrace_mem_region *region;

		region = nvgrace_gpu_memregion(bars[i].index, nvdev);
		if (!region || !nvgrace_intersect(pos, count, bars[i].reg,
						  sizeof(u64), &off, &n,
						  &reg_off))
			continue;
		/*
		 * Bytes before the emulated register go to the core first, as
		 * a short write; mainline would store them in the register.
		 */
		if (off) {
			count = off;
			break;
		}
		if (copy_from_user((u8 *)&region->bar_val + reg_off, buf, n))
			return -EFAULT;
		*ppos += n;
		return n;
	}

	/* PCI_COMMAND and the PM control register: decode and power state. */
	blocking = nvgrace_intersect(pos, count, PCI_COMMAND, 2, &off, &n,
				     &reg_off) ||
		   (vdev->pdev->pm_cap &&
		    nvgrace_intersect(pos, count, vdev->pdev->pm_cap + PCI_PM_CTRL,
				      2, &off, &n, &reg_off));
	if (blocking)
		nvgrace_block_faults(nvdev);
	ret = vfio_pci_core_write(&vdev->vdev, buf, count, ppos);
	if (blocking)
		nvgrace_unblock_faults(nvdev);
	/* Memory decode off or D3: no mapping may stay. */
	else if (ret > 0 && !nvgrace_memory_enabled(vdev))
		nvgrace_zap_mappings(nvdev);
	return ret;
}

/* ---- read() / write() on the emulated regions ------------------------- */

static int nvgrace_gpu_map_device_mem(struct nvgrace_vfio_device *nvdev,
				      struct nvgrace_mem_region *region)
{
	int ret = 0;

	mutex_lock(&nvdev->remap_lock);
	if (region->memaddr)
		goto out;
	if (region == &nvdev->usemem)
		region->memaddr = memremap(region->phys, region->length,
					   MEMREMAP_WB);
	else
		region->ioaddr = ioremap_wc(region->phys, region->length);
	if (!region->memaddr)
		ret = -ENOMEM;
out:
	mutex_unlock(&nvdev->remap_lock);
	return ret;
}

/*
 * Take memory_lock for read with the GPU ready, for a copy of @n bytes of
 * @region at @offset: 0 with the lock held, or an error without it. A
 * copy touching a poisoned page would hit the error again: -EIO.
 */
static int nvgrace_mem_lock_range(struct nvgrace_vfio_device *nvdev,
				  struct nvgrace_mem_region *region,
				  u64 offset, size_t n)
{
	unsigned long pfn = PHYS_PFN(region->phys + offset);
	unsigned long last = PHYS_PFN(region->phys + offset + n - 1);
	int ret;

	ret = nvgrace_lock_ready(nvdev, NVGRACE_WAIT_READY | NVGRACE_WAIT_BUSY);
	if (ret)
		return ret;
	if (nvgrace_poison_check(&region->poison, pfn, last - pfn + 1)) {
		up_read(&nvdev->core_device.memory_lock);
		return -EIO;
	}
	return 0;
}

/*
 * One chunk between the device memory and a kernel buffer, under
 * memory_lock with the GPU ready. No user memory is touched here.
 */
static int nvgrace_mem_copy(struct nvgrace_vfio_device *nvdev,
			    struct nvgrace_mem_region *region, u64 offset,
			    void *kbuf, size_t n, bool write)
{
	int ret;

	ret = nvgrace_mem_lock_range(nvdev, region, offset, n);
	if (ret)
		return ret;
	/*
	 * resmem: mainline uses vfio_pci_core_do_io_rw(), from v6.9 with a
	 * signature change in v6.19; the same accesses here.
	 */
	if (region == &nvdev->resmem && write)
		nvgrace_io_write(region->ioaddr + offset, kbuf, n);
	else if (region == &nvdev->resmem)
		nvgrace_io_read(kbuf, region->ioaddr + offset, n);
	else if (write)
		memcpy(region->memaddr + offset, kbuf, n);
	else
		memcpy(kbuf, region->memaddr + offset, n);
	up_read(&nvdev->core_device.memory_lock);
	return 0;
}

/*
 * The user buffer of read() and write() may be a mapping of this same
 * device: copying to or from it can fault into
 * nvgrace_gpu_vfio_pci_huge_fault(), which takes memory_lock for read
 * again, and a writer of memory_lock (a PCI_COMMAND write, a reset) queued
 * between the two acquisitions would wait for the first while the second
 * waits for it: a deadlock no signal breaks. A userfaultfd-backed buffer
 * would hold memory_lock for as long as its handler likes. Mainline
 * nvgrace-gpu (v7.3) copies to and from user memory under memory_lock with
 * page faults enabled, and has this deadlock; vfio-pci-core's do_io_rw
 * bounces through a register-sized variable instead.
 *
 * Here usemem (cacheable, plain memcpy) is copied straight between the
 * user buffer and the device memory under memory_lock with page faults
 * disabled: a missing user page ends the copy short instead of faulting.
 * Then memory_lock is dropped, the rest of the user range is faulted in
 * (which may enter our fault handler or userfaultfd, now without the lock)
 * and the copy resumes where it stopped, after taking memory_lock and
 * testing readiness and poison again. User pages can be taken away again
 * before the retry (a decode toggle zaps this device's mappings, reclaim,
 * munmap): after NVGRACE_RW_RETRIES short copies in a row without a full
 * chunk, one chunk goes through the kernel bounce buffer, which never
 * touches user memory under memory_lock, so the loop always progresses.
 * resmem (write-combined, naturally aligned readX()/writeX() accesses)
 * always goes through the bounce buffer.
 */
#define NVGRACE_RW_CHUNK	SZ_256K	/* most copied per memory_lock hold */
#define NVGRACE_BOUNCE_CHUNK	SZ_64K
#define NVGRACE_RW_RETRIES	4

/*
 * Up to @n bytes between usemem at @offset and the user buffer @ubuf,
 * under memory_lock with page faults disabled; *@left is set to the bytes
 * not copied because a user page was not present. The caller checked
 * access_ok().
 */
static int nvgrace_mem_copy_user(struct nvgrace_vfio_device *nvdev,
				 struct nvgrace_mem_region *region, u64 offset,
				 char __user *ubuf, size_t n, bool write,
				 size_t *left)
{
	void *mem = region->memaddr + offset;
	int ret;

	ret = nvgrace_mem_lock_range(nvdev, region, offset, n);
	if (ret)
		return ret;
	/*
	 * The _inatomic copies neither fault nor zero the tail of a short
	 * copy from user memory (copy_from_user() would write zeroes to the
	 * device memory past the fault).
	 */
	pagefault_disable();
	if (write)
		*left = __copy_from_user_inatomic(mem, ubuf, n);
	else
		*left = __copy_to_user_inatomic(ubuf, mem, n);
	pagefault_enable();
	up_read(&nvdev->core_device.memory_lock);
	return 0;
}

/* One chunk of at most NVGRACE_BOUNCE_CHUNK through the bounce buffer. */
static int nvgrace_mem_bounce(struct nvgrace_vfio_device *nvdev,
			      struct nvgrace_mem_region *region, u64 offset,
			      char __user *ubuf, size_t n, bool write,
			      void *bounce)
{
	int ret;

	if (write && copy_from_user(bounce, ubuf, n))
		return -EFAULT;
	ret = nvgrace_mem_copy(nvdev, region, offset, bounce, n, write);
	if (ret)
		return ret;
	if (!write && copy_to_user(ubuf, bounce, n))
		return -EFAULT;
	return 0;
}

static ssize_t nvgrace_mem_chunks(struct nvgrace_vfio_device *nvdev,
				  struct nvgrace_mem_region *region,
				  char __user *buf, size_t count, u64 offset,
				  bool write)
{
	bool direct = region == &nvdev->usemem;
	size_t done = 0, left, bchunk = 0;
	unsigned int tries = 0;
	void *bounce = NULL;
	int ret = 0;

	if (!access_ok(buf, count))
		return -EFAULT;
	ret = nvgrace_gpu_map_device_mem(nvdev, region);
	if (ret)
		return ret;

	while (done < count) {
		size_t n;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (direct && tries < NVGRACE_RW_RETRIES) {
			n = min_t(size_t, count - done, NVGRACE_RW_CHUNK);
			left = 0;
			ret = nvgrace_mem_copy_user(nvdev, region,
						    offset + done, buf + done,
						    n, write, &left);
			if (ret)
				break;
			done += n - left;
			if (!left) {
				tries = 0;
				cond_resched();
				continue;
			}
			/* A user page was missing: fault it in unlocked. */
			atomic_long_inc(&nvdev->rw_faultin);
			tries++;
			n = left;
			left = write ? fault_in_readable(buf + done, n) :
				       fault_in_writeable(buf + done, n);
			if (left == n) {
				ret = -EFAULT;
				break;
			}
			continue;
		}

		if (!bounce) {
			bchunk = min_t(size_t, count - done,
				       NVGRACE_BOUNCE_CHUNK);
			bounce = kmalloc(bchunk, GFP_KERNEL | __GFP_NOWARN);
			if (!bounce && bchunk > PAGE_SIZE) {
				bchunk = PAGE_SIZE;
				bounce = kmalloc(bchunk, GFP_KERNEL);
			}
			if (!bounce) {
				ret = -ENOMEM;
				break;
			}
		}
		n = min(bchunk, count - done);
		if (direct)
			atomic_long_inc(&nvdev->rw_bounced);
		ret = nvgrace_mem_bounce(nvdev, region, offset + done,
					 buf + done, n, write, bounce);
		if (ret)
			break;
		done += n;
		tries = 0;
		cond_resched();
	}
	kfree(bounce);
	/* What was copied before an error counts, as for any read()/write(). */
	return done ? done : ret;
}

/*
 * The emulated BAR is the memory's length rounded up to a power of two.
 * Accesses starting past the BAR are -EINVAL, ones running past it are
 * clipped; bytes between the memory's end and the BAR's read as 0xFF and
 * writes there are dropped.
 */
static ssize_t nvgrace_mem_rw(struct nvgrace_vfio_device *nvdev,
			      struct nvgrace_mem_region *region,
			      char __user *buf, size_t count, loff_t *ppos,
			      bool write)
{
	u64 offset = *ppos & VFIO_PCI_OFFSET_MASK;
	size_t mem_count = 0, i;
	ssize_t done;

	if (offset >= region->bar_size)
		return -EINVAL;
	count = min_t(size_t, count, region->bar_size - offset);
	if (offset < region->length)
		mem_count = min_t(size_t, count, region->length - offset);

	if (mem_count) {
		done = nvgrace_mem_chunks(nvdev, region, buf, mem_count, offset,
					  write);
		if (done < 0)
			return done;
		if (done < mem_count) {
			*ppos += done;
			return done;
		}
	}

	if (!write) {
		for (i = mem_count; i < count; i++)
			if (put_user(0xff, (u8 __user *)buf + i))
				return -EFAULT;
	}

	*ppos += count;
	return count;
}

static ssize_t nvgrace_rw(struct vfio_device *core_vdev, char __user *buf,
			  size_t count, loff_t *ppos, bool write)
{
	struct nvgrace_vfio_device *nvdev = vdev_to_nvgrace(core_vdev);
	unsigned int index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	struct nvgrace_mem_region *region;
	struct device *dev = &nvdev->core_device.pdev->dev;
	ssize_t ret;

	region = nvgrace_gpu_memregion(index, nvdev);
	if (region) {
		if (pm_runtime_resume_and_get(dev))
			return -EIO;
		ret = nvgrace_mem_rw(nvdev, region, buf, count, ppos, write);
		pm_runtime_put(dev);
		return ret;
	}

	if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		return write ?
			nvgrace_gpu_write_config_emu(nvdev, buf, count, ppos) :
			nvgrace_gpu_read_config_emu(nvdev, buf, count, ppos);

	return write ? vfio_pci_core_write(core_vdev, buf, count, ppos) :
		       vfio_pci_core_read(core_vdev, buf, count, ppos);
}

static ssize_t nvgrace_gpu_read(struct vfio_device *core_vdev, char __user *buf,
				size_t count, loff_t *ppos)
{
	return nvgrace_rw(core_vdev, buf, count, ppos, false);
}

static ssize_t nvgrace_gpu_write(struct vfio_device *core_vdev,
				 const char __user *buf, size_t count,
				 loff_t *ppos)
{
	return nvgrace_rw(core_vdev, (char __user *)buf, count, ppos, true);
}

/* ---- dma-buf export (kernels whose vfio-pci-core has it, v6.19) ------ */

#ifdef HAVE_VFIO_PCI_CORE_PCI_OPS
/*
 * The emulated regions export the device memory behind them; only the real
 * memory, not the BAR's padding. The GPU's memory has the same P2P
 * properties as its BAR0, so BAR0's provider stands for it (as mainline).
 */
static int nvgrace_get_dmabuf_phys(struct vfio_pci_core_device *vdev,
				   struct p2pdma_provider **provider,
				   unsigned int region_index,
				   struct nvgrace_phys_vec *phys_vec,
				   struct vfio_region_dma_range *dma_ranges,
				   size_t nr_ranges)
{
	struct nvgrace_mem_region *region;

	region = nvgrace_gpu_memregion(region_index, to_nvgrace(vdev));
	if (!region)
		return vfio_pci_core_get_dmabuf_phys(vdev, provider,
						     region_index, phys_vec,
						     dma_ranges, nr_ranges);
	*provider = pcim_p2pdma_provider(vdev->pdev, 0);
	if (!*provider)
		return -EINVAL;
	return vfio_pci_core_fill_phys_vec(phys_vec, dma_ranges, nr_ranges,
					   region->phys, region->length);
}

static const struct vfio_pci_device_ops nvgrace_gpu_pci_dev_ops = {
	.get_dmabuf_phys = nvgrace_get_dmabuf_phys,
};

static const struct vfio_pci_device_ops nvgrace_gpu_pci_dev_core_ops = {
	.get_dmabuf_phys = vfio_pci_core_get_dmabuf_phys,
};

static void nvgrace_set_pci_ops(struct nvgrace_vfio_device *nvdev)
{
	nvdev->core_device.pci_ops = nvdev->usemem.length ?
		&nvgrace_gpu_pci_dev_ops : &nvgrace_gpu_pci_dev_core_ops;
}
#else
static void nvgrace_set_pci_ops(struct nvgrace_vfio_device *nvdev)
{
}
#endif

/* ---- device ops ---------------------------------------------------------- */

/* The members both device ops share: vfio-pci-core's, where it has them. */
#ifdef HAVE_VFIO_DEVICE_OPS_MATCH_TOKEN_UUID
#define NVGRACE_OPS_TOKEN .match_token_uuid = vfio_pci_core_match_token_uuid,
#else
#define NVGRACE_OPS_TOKEN
#endif
#ifdef HAVE_VFIO_DEVICE_OPS_BIND_IOMMUFD
#define NVGRACE_OPS_IOMMUFD						\
	.bind_iommufd	= vfio_iommufd_physical_bind,			\
	.unbind_iommufd	= vfio_iommufd_physical_unbind,			\
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
#else
#define NVGRACE_OPS_IOMMUFD
#endif
#ifdef HAVE_VFIO_DEVICE_OPS_DETACH_IOAS
#define NVGRACE_OPS_DETACH .detach_ioas = vfio_iommufd_physical_detach_ioas,
#else
#define NVGRACE_OPS_DETACH
#endif
#define NVGRACE_OPS_COMMON						\
	.init		= vfio_pci_core_init_dev,			\
	.release	= vfio_pci_core_release_dev,			\
	.request	= vfio_pci_core_request,			\
	.match		= vfio_pci_core_match,				\
	NVGRACE_OPS_TOKEN NVGRACE_OPS_IOMMUFD NVGRACE_OPS_DETACH

/* With device memory: the emulated regions. */
static const struct vfio_device_ops nvgrace_gpu_pci_ops = {
	.name		= "nvgrace-vfio-pci",
	.open_device	= nvgrace_gpu_open_device,
	.close_device	= nvgrace_gpu_close_device,
	.ioctl		= nvgrace_gpu_ioctl,
#ifdef HAVE_VFIO_DEVICE_OPS_GET_REGION_INFO_CAPS
	.get_region_info_caps = nvgrace_gpu_ioctl_get_region_info,
#endif
	.device_feature	= nvgrace_device_feature,
	.read		= nvgrace_gpu_read,
	.write		= nvgrace_gpu_write,
	.mmap		= nvgrace_gpu_mmap,
#ifdef HAVE_VFIO_DEVICE_OPS_GET_UNMAPPED_AREA
	.get_unmapped_area = nvgrace_gpu_get_unmapped_area,
#endif
	NVGRACE_OPS_COMMON
};

static int nvgrace_gpu_core_open_device(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);
	int ret;

	ret = nvgrace_core_enable(vdev);
	if (ret)
		return ret;
	vfio_pci_core_finish_enable(vdev);
	return 0;
}

/*
 * Without usable device-memory properties: vfio-pci, but for an open that
 * cannot keep the device's config state (nvgrace_core_enable()).
 */
static const struct vfio_device_ops nvgrace_gpu_pci_core_ops = {
	.name		= "nvgrace-vfio-pci-core",
	.open_device	= nvgrace_gpu_core_open_device,
	.close_device	= vfio_pci_core_close_device,
	.ioctl		= vfio_pci_core_ioctl,
#ifdef HAVE_VFIO_DEVICE_OPS_GET_REGION_INFO_CAPS
	.get_region_info_caps = vfio_pci_ioctl_get_region_info,
#endif
	.device_feature	= vfio_pci_core_ioctl_feature,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.mmap		= vfio_pci_core_mmap,
	NVGRACE_OPS_COMMON
};

/* ---- probe ------------------------------------------------------------- */

/*
 * Read the device-memory window. Same checks as mainline: either property
 * missing is reported by the caller as "no device memory", values that do
 * not fit the kernel's types are -EOVERFLOW, and a zero size (firmware's
 * report of a C2C link failure) is -ENOMEM. Beyond mainline, a window that
 * wraps around the physical address space is -EOVERFLOW too.
 */
static int nvgrace_gpu_fetch_memory_property(struct pci_dev *pdev, u64 *phys,
					     u64 *length)
{
	int ret;

	ret = device_property_read_u64(&pdev->dev, "nvidia,gpu-mem-base-pa",
				       phys);
	if (ret)
		return ret;
	if (*phys > type_max(phys_addr_t))
		return -EOVERFLOW;

	ret = device_property_read_u64(&pdev->dev, "nvidia,gpu-mem-size",
				       length);
	if (ret)
		return ret;
	if (*length > type_max(size_t))
		return -EOVERFLOW;
	if (*length == 0)
		return -ENOMEM;

	if (*phys + *length - 1 < *phys)
		return -EOVERFLOW;
	return 0;
}

/*
 * Beyond mainline, which takes the firmware's window as it comes: refuse
 * one the driver cannot serve safely, saying why. Each refusal leaves the
 * device to plain vfio-pci behaviour (no emulated regions).
 * - The base must be page aligned and the window at least a page: mmap(),
 *   the fault handler and the poison ranges work in whole pages.
 * - It must not overlap System RAM: read(), write() and mmap() would hand
 *   kernel memory to the device's user (region_intersects(), the test
 *   the kernel's own memremap() makes).
 * - Each emulated BAR (the region rounded up to a power of two) must fit in
 *   a VFIO region's offset span (1 << VFIO_PCI_OFFSET_SHIFT, 1 TiB), which
 *   also keeps roundup_pow_of_two() far from overflowing: the layout gives
 *   -E2BIG.
 * mem_status shows -EINVAL as "absent" (a missing property), so refusals
 * use other codes: -EFAULT for the base, -ERANGE for sizes.
 */
static int nvgrace_check_window(struct pci_dev *pdev, u64 phys, u64 length,
				bool mig_bug, struct nvgrace_layout *l)
{
	int ret;

	BUILD_BUG_ON(NVGRACE_REGION_SPAN != 1ULL << VFIO_PCI_OFFSET_SHIFT);

	if (!PAGE_ALIGNED(phys)) {
		pci_err(pdev, "device memory base %#llx is not aligned to the %lu-byte page size, refusing it\n",
			phys, PAGE_SIZE);
		return -EFAULT;
	}
	if (length < PAGE_SIZE) {
		pci_err(pdev, "device memory size %#llx is less than a page (%lu bytes), refusing it\n",
			length, PAGE_SIZE);
		return -ERANGE;
	}
	if (region_intersects(phys, length, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pci_err(pdev, "device memory %#llx+%#llx overlaps System RAM, refusing it\n",
			phys, length);
		return -EADDRINUSE;
	}

	ret = nvgrace_layout_split(phys, length, mig_bug, l);
	if (ret == -EINVAL)	/* too small to split */
		ret = -ERANGE;
	if (ret == -E2BIG)
		pci_err(pdev, "device memory %#llx+%#llx needs an emulated BAR larger than a VFIO region (%llu GiB), refusing it\n",
			phys, length, NVGRACE_REGION_SPAN >> 30);
	else if (ret)
		pci_err(pdev, "device memory %#llx+%#llx cannot be split (%pe), refusing it\n",
			phys, length, ERR_PTR(ret));
	return ret;
}

static void nvgrace_gpu_init_nvdev_struct(struct nvgrace_vfio_device *nvdev,
					  const struct nvgrace_layout *l)
{
	nvdev->usemem.phys = l->use_phys;
	nvdev->usemem.length = l->use_len;
	nvdev->usemem.bar_size = l->use_bar;
	nvdev->resmem.phys = l->res_phys;
	nvdev->resmem.length = l->res_len;
	nvdev->resmem.bar_size = l->res_bar;
}

static bool nvgrace_gpu_has_mig_hw_bug(struct pci_dev *pdev)
{
	u16 bitmap = 0;
	int dvsec;

	dvsec = pci_find_dvsec_capability(pdev, PCI_VENDOR_ID_NVIDIA,
					  NVGRACE_DVSEC_GPU_CAP);
	if (dvsec)
		pci_read_config_word(pdev, dvsec + NVGRACE_DVSEC_BITMAP,
				     &bitmap);
	return nvgrace_mig_hw_bug(dvsec, bitmap);
}

/*
 * Grace Blackwell trains HBM after boot, so the GPU may not be ready when
 * the driver binds: wait for the C2C link and HBM training registers (or
 * the CXL DVSEC on Blackwell-Next). Harmless on Hopper. A GPU that never
 * gets ready fails the probe with -ETIME.
 */
static int
nvgrace_gpu_probe_check_device_ready(struct nvgrace_vfio_device *nvdev)
{
	struct pci_dev *pdev = nvdev->core_device.pdev;
	void __iomem *regs;
	int ret;

	if (nvdev->cxl_dvsec)
		return nvgrace_probe_poll_ready(nvdev, NULL);

	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 0) < NVGRACE_REGS_LEN) {
		pci_err(pdev, "BAR0 is not a memory BAR of at least %#x bytes: no readiness registers\n",
			NVGRACE_REGS_LEN);
		return -ENODEV;
	}

	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	ret = pci_request_selected_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		goto out_disable;
	regs = pci_iomap_range(pdev, 0, 0, NVGRACE_REGS_LEN);
	if (!regs) {
		ret = -ENOMEM;
		goto out_release;
	}

	ret = nvgrace_probe_poll_ready(nvdev, regs);

	pci_iounmap(pdev, regs);
out_release:
	pci_release_selected_regions(pdev, BIT(0));
out_disable:
	pci_disable_device(pdev);
	return ret;
}

static int nvgrace_gpu_probe(struct pci_dev *pdev,
			     const struct pci_device_id *id)
{
	const struct vfio_device_ops *ops = &nvgrace_gpu_pci_core_ops;
	struct nvgrace_vfio_device *nvdev;
	struct nvgrace_layout layout;
	u64 phys = 0, length = 0;
	bool mig_bug = false;
	int mem_status, ret;

	mem_status = nvgrace_gpu_fetch_memory_property(pdev, &phys, &length);
	if (!mem_status) {
		mig_bug = nvgrace_gpu_has_mig_hw_bug(pdev);
		mem_status = nvgrace_check_window(pdev, phys, length, mig_bug,
						  &layout);
	}
	if (!mem_status)
		ops = &nvgrace_gpu_pci_ops;

	nvdev = vfio_alloc_device(nvgrace_vfio_device, core_device.vdev,
				  &pdev->dev, ops);
	if (IS_ERR(nvdev))
		return PTR_ERR(nvdev);

	mutex_init(&nvdev->remap_lock);
	ret = nvgrace_mapinode_init(nvdev);
	if (ret)
		goto out_put_vdev;
	nvdev->mem_status = mem_status;
	nvdev->cxl_dvsec = pci_find_dvsec_capability(pdev, PCI_VENDOR_ID_CXL,
						     PCI_DVSEC_CXL_DEVICE);

	ret = nvgrace_gpu_probe_check_device_ready(nvdev);
	if (ret)
		goto out_mapinode;

	nvdev->mem_phys = phys;
	nvdev->mem_length = length;
	if (!mem_status) {
		nvdev->has_mig_hw_bug = mig_bug;
		nvgrace_gpu_init_nvdev_struct(nvdev, &layout);
		pci_info(pdev, "device memory %pa, %zu MiB: usemem %zu MiB%s, ready after %u ms\n",
			 &nvdev->mem_phys, nvdev->mem_length >> 20,
			 nvdev->usemem.length >> 20,
			 nvdev->has_mig_hw_bug ? ", resmem (Hopper MIG carve-out)" : "",
			 nvdev->ready_wait_ms);
	} else if (mem_status == -EINVAL) {
		pci_info(pdev, "no device-memory properties, plain vfio-pci behaviour\n");
	} else {
		pci_warn(pdev, "device-memory properties unusable (%pe), plain vfio-pci behaviour\n",
			 ERR_PTR(mem_status));
	}

	nvgrace_set_pci_ops(nvdev);
	dev_set_drvdata(&pdev->dev, &nvdev->core_device);
	ret = vfio_pci_core_register_device(&nvdev->core_device);
	if (ret)
		goto out_mapinode;
	return 0;

out_mapinode:
	nvgrace_mapinode_exit(nvdev);
out_put_vdev:
	vfio_put_device(&nvdev->core_device.vdev);
	return ret;
}

static void nvgrace_gpu_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core_device = dev_get_drvdata(&pdev->dev);

	vfio_pci_core_unregister_device(core_device);
	/* Unbind: the device's poison records go with it. */
	nvgrace_poison_unregister(&to_nvgrace(core_device)->resmem.poison);
	nvgrace_poison_unregister(&to_nvgrace(core_device)->usemem.poison);
	nvgrace_mapinode_exit(to_nvgrace(core_device));
	vfio_put_device(&core_device->vdev);
}

/* Every ID is override-only: the driver binds through driver_override. */
static const struct pci_device_id nvgrace_gpu_vfio_pci_table[] = {
	/* GH200 120GB */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x2342) },
	/* GH200 480GB */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x2345) },
	/* GH200 SKU */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x2348) },
	/* GB200 SKU */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x2941) },
	/* GB300 SKU */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x31C2) },
	{}
};
MODULE_DEVICE_TABLE(pci, nvgrace_gpu_vfio_pci_table);

/*
 * Before v6.10, a reset of the GPU of any kind zaps this driver's mappings
 * here: pci_reset_function() and pci_reset_bus() call this for each device
 * they reset, and when VFIO starts the reset (VFIO_DEVICE_RESET, or a hot
 * reset through this device's fd or a sibling's) vfio-pci-core holds the
 * device's memory_lock for write until it is over, so no fault maps a page
 * again meanwhile. The zap takes no mmap lock (mapinode.c). From v6.10 the
 * core zaps them itself.
 */
static void nvgrace_gpu_vfio_pci_reset_prepare(struct pci_dev *pdev)
{
	nvgrace_zap_mappings(to_nvgrace(dev_get_drvdata(&pdev->dev)));
}

/*
 * A reset of the GPU (any kind: VFIO's, a bus reset, AER recovery) makes
 * its readiness unknown; the next access waits for it again.
 */
static void nvgrace_gpu_vfio_pci_reset_done(struct pci_dev *pdev)
{
	struct nvgrace_vfio_device *nvdev = to_nvgrace(dev_get_drvdata(&pdev->dev));

	WRITE_ONCE(nvdev->reset_jiffies, jiffies);
	/* A reader seeing reset_done sees the time of this reset. */
	smp_wmb();
	WRITE_ONCE(nvdev->reset_done, true);
	atomic_inc(&nvdev->resets);
}

static const struct pci_error_handlers nvgrace_gpu_vfio_pci_err_handlers = {
	.error_detected	= vfio_pci_core_aer_err_detected,
	.reset_prepare	= nvgrace_gpu_vfio_pci_reset_prepare,
	.reset_done	= nvgrace_gpu_vfio_pci_reset_done,
};

static struct pci_driver nvgrace_gpu_vfio_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = nvgrace_gpu_vfio_pci_table,
	.probe = nvgrace_gpu_probe,
	.remove = nvgrace_gpu_remove,
	.err_handler = &nvgrace_gpu_vfio_pci_err_handlers,
	.driver_managed_dma = true,
	.dev_groups = nvgrace_vfio_groups,
	.groups = nvgrace_vfio_drv_groups,
};

static int __init nvgrace_vfio_init(void)
{
	int ret;

	ret = pci_register_driver(&nvgrace_gpu_vfio_pci_driver);
	if (ret)
		return ret;
	nvgrace_kvm_report();
	return 0;
}

static void __exit nvgrace_vfio_exit(void)
{
	pci_unregister_driver(&nvgrace_gpu_vfio_pci_driver);
}

module_init(nvgrace_vfio_init);
module_exit(nvgrace_vfio_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO PCI variant driver for NVIDIA Grace GPUs with coherent device memory");
MODULE_VERSION(NVGRACE_VERSION);
