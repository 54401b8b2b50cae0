/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Thin wrappers over kernel API differences. Every decision here rests on a
 * HAVE_* macro from the generated probe header (see compat/probes/), never
 * on the kernel version number.
 *
 * nvgrace-probes: vm_flags_set vm_allow_any_uncached huge_fault_order
 * nvgrace-probes: vmf_insert_pfn_pmd_ulong vmf_insert_pfn_pmd_pfn_t
 * nvgrace-probes: vmf_insert_pfn_pud_ulong vmf_insert_pfn_pud_pfn_t
 * nvgrace-probes: vfio_pci_device_ops_phys_vec vfio_pci_device_ops_dma_buf_phys_vec
 * nvgrace-probes: vfio_pci_core_pci_ops release_fault_lock
 */
#ifndef NVGRACE_COMPAT_H
#define NVGRACE_COMPAT_H

#ifndef NVGRACE_PROBES_DONE
#error "the generated compat header was not force-included; build with the pack's Kbuild"
#endif

#include <linux/huge_mm.h>
#include <linux/mm.h>
#include <linux/slab.h>
#if defined(HAVE_VMF_INSERT_PFN_PMD_PFN_T) || defined(HAVE_VMF_INSERT_PFN_PUD_PFN_T)
#include <linux/pfn_t.h>
#endif

/* Typed allocation helper of newer kernels (<linux/slab.h>). */
#ifndef kmalloc_obj
#define kmalloc_obj(VAR_OR_TYPE, GFP) \
	kmalloc(sizeof(VAR_OR_TYPE), GFP)
#endif

/* vm_flags became read-only outside helpers in v6.3 (vm_flags_set). */
static inline void nvgrace_vm_flags_set(struct vm_area_struct *vma,
					vm_flags_t flags)
{
#ifdef HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * VM_ALLOW_ANY_UNCACHED (v6.9) tells KVM it may map a write-combine VMA as
 * Normal-NC at stage 2. Kernels without it have no such KVM logic, so
 * leaving the flag out changes nothing there.
 */
#ifndef HAVE_VM_ALLOW_ANY_UNCACHED
#define VM_ALLOW_ANY_UNCACHED VM_NONE
#endif

/*
 * Huge PFN mappings (v6.12, CONFIG_ARCH_SUPPORTS_{PMD,PUD}_PFNMAP). Each
 * returns VM_FAULT_FALLBACK where the kernel cannot map that order, so the
 * fault handler retries at a smaller one. Where the architecture has them
 * but no form of the insert function compiles, the build warns:
 *
 * nvgrace-feature: huge-pmd
 *   if CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
 *   needs huge_fault_order
 *   needs vmf_insert_pfn_pmd_ulong|vmf_insert_pfn_pmd_pfn_t
 *   lost: huge mappings disabled, device memory is mapped in base pages
 *   instead of 2 MiB (PMD) blocks
 *
 * nvgrace-feature: huge-pud
 *   if CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
 *   needs huge_fault_order
 *   needs vmf_insert_pfn_pud_ulong|vmf_insert_pfn_pud_pfn_t
 *   lost: huge mappings disabled, device memory is mapped without 1 GiB
 *   (PUD) blocks
 */
static inline vm_fault_t nvgrace_insert_pfn_pmd(struct vm_fault *vmf,
						unsigned long pfn)
{
#if !defined(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP)
	return VM_FAULT_FALLBACK;
#elif defined(HAVE_VMF_INSERT_PFN_PMD_ULONG)
	return vmf_insert_pfn_pmd(vmf, pfn, false);
#elif defined(HAVE_VMF_INSERT_PFN_PMD_PFN_T)
	return vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), false);
#else
	return VM_FAULT_FALLBACK;
#endif
}

static inline vm_fault_t nvgrace_insert_pfn_pud(struct vm_fault *vmf,
						unsigned long pfn)
{
#if !defined(CONFIG_ARCH_SUPPORTS_PUD_PFNMAP)
	return VM_FAULT_FALLBACK;
#elif defined(HAVE_VMF_INSERT_PFN_PUD_ULONG)
	return vmf_insert_pfn_pud(vmf, pfn, false);
#elif defined(HAVE_VMF_INSERT_PFN_PUD_PFN_T)
	return vmf_insert_pfn_pud(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), false);
#else
	return VM_FAULT_FALLBACK;
#endif
}

/* Can nvgrace_insert_pfn_pud() map anything on this kernel? */
static inline bool nvgrace_can_insert_pud(void)
{
#if defined(CONFIG_ARCH_SUPPORTS_PUD_PFNMAP) && \
	(defined(HAVE_VMF_INSERT_PFN_PUD_ULONG) || defined(HAVE_VMF_INSERT_PFN_PUD_PFN_T))
	return true;
#else
	return false;
#endif
}

/* dma-buf export (v6.19): the physical-range type was renamed in v7.0. */
#if defined(HAVE_VFIO_PCI_DEVICE_OPS_PHYS_VEC)
#define nvgrace_phys_vec phys_vec
#elif defined(HAVE_VFIO_PCI_DEVICE_OPS_DMA_BUF_PHYS_VEC)
#define nvgrace_phys_vec dma_buf_phys_vec
#elif defined(HAVE_VFIO_PCI_CORE_PCI_OPS)
#error "nvgrace-dkms: get_dmabuf_phys() takes an unknown range type; compat/ needs a probe for it"
#endif

/* The ->huge_fault(vmf, order) form exists with huge PFN mappings (v6.12). */
#if defined(CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP) && defined(HAVE_HUGE_FAULT_ORDER)
#define NVGRACE_HUGE_FAULT 1
#endif

/*
 * CXL Device DVSEC registers (uapi pci_regs.h gained them by v7.2; older
 * kernels define none of them). Values from CXL r4.0 section 8.1.3.
 */
#ifndef PCI_VENDOR_ID_CXL
#define PCI_VENDOR_ID_CXL		0x1e98
#endif
#ifndef PCI_DVSEC_CXL_DEVICE
#define PCI_DVSEC_CXL_DEVICE		0
#endif
#ifndef PCI_DVSEC_CXL_RANGE_SIZE_LOW
#define PCI_DVSEC_CXL_RANGE_SIZE_LOW(i)	(0x1c + (i) * 0x10)
#endif
#ifndef PCI_DVSEC_CXL_MEM_INFO_VALID
#define PCI_DVSEC_CXL_MEM_INFO_VALID	BIT(0)
#endif
#ifndef PCI_DVSEC_CXL_MEM_ACTIVE
#define PCI_DVSEC_CXL_MEM_ACTIVE	BIT(1)
#endif
#ifndef PCI_DVSEC_CXL_MEM_ACTIVE_TIMEOUT
#define PCI_DVSEC_CXL_MEM_ACTIVE_TIMEOUT GENMASK(15, 13)
#endif

/*
 * Drop the lock a fault runs under, before returning VM_FAULT_RETRY. Without
 * release_fault_lock() (before v6.7) ->fault and ->huge_fault of a PFNMAP
 * VMA only run under the mmap lock (compat/probes/release_fault_lock.c).
 */
static inline void nvgrace_release_fault_lock(struct vm_fault *vmf)
{
#ifdef HAVE_RELEASE_FAULT_LOCK
	release_fault_lock(vmf);
#else
	mmap_read_unlock(vmf->vma->vm_mm);
#endif
}

#endif /* NVGRACE_COMPAT_H */
