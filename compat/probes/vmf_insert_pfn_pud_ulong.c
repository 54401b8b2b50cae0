// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VMF_INSERT_PFN_PUD_ULONG: vmf_insert_pfn_pud() takes an unsigned long
 * PFN and is exported. Changed in v6.17 by "mm: Remove pXX_devmap page table
 * bit and pfn_t type"; only architectures with PUD-sized PFN mappings
 * (x86_64, not arm64) export it.
 *
 * nvgrace-probe: symbol vmf_insert_pfn_pud
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>

static vm_fault_t probe(struct vm_fault *vmf, unsigned long pfn)
	__maybe_unused;
static vm_fault_t probe(struct vm_fault *vmf, unsigned long pfn)
{
	return vmf_insert_pfn_pud(vmf, pfn, false);
}
