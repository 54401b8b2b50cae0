// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VMF_INSERT_PFN_PMD_ULONG: vmf_insert_pfn_pmd() takes an unsigned long
 * PFN instead of pfn_t.
 * Changed in v6.17 by "mm: Remove pXX_devmap page table bit and pfn_t type"
 * (the pfn_t removal series).
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>

static vm_fault_t probe(struct vm_fault *vmf, unsigned long pfn)
	__maybe_unused;
static vm_fault_t probe(struct vm_fault *vmf, unsigned long pfn)
{
	return vmf_insert_pfn_pmd(vmf, pfn, false);
}
