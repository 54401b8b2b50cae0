// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_ZAP_SPECIAL_VMA_RANGE: zap_special_vma_range() zaps page table
 * entries of a VM_PFNMAP/VM_MIXEDMAP VMA. It replaced zap_vma_ptes() (same
 * arguments, same checks) in v7.1; earlier kernels export only
 * zap_vma_ptes().
 *
 * nvgrace-probe: symbol zap_special_vma_range
 */
#include <linux/mm.h>

static void probe(struct vm_area_struct *vma) __maybe_unused;
static void probe(struct vm_area_struct *vma)
{
	zap_special_vma_range(vma, vma->vm_start, PAGE_SIZE);
}
