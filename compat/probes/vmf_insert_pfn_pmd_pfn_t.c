// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VMF_INSERT_PFN_PMD_PFN_T: vmf_insert_pfn_pmd(vmf, pfn_t, bool) exists.
 * Before v6.4 it is an inline wrapper of the exported _prot variant; v6.4
 * exports it directly (7b806d229ef1, "mm: remove vmf_insert_pfn_xxx_prot()
 * for huge page-table entries"); v6.17 replaces pfn_t with unsigned long
 * ("mm: Remove pXX_devmap page table bit and pfn_t type").
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/pfn_t.h>

static vm_fault_t probe(struct vm_fault *vmf, unsigned long pfn)
	__maybe_unused;
static vm_fault_t probe(struct vm_fault *vmf, unsigned long pfn)
{
	return vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), false);
}
