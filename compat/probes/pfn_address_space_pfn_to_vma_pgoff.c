// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_PFN_ADDRESS_SPACE_PFN_TO_VMA_PGOFF: struct pfn_address_space has the
 * pfn_to_vma_pgoff callback.
 * Added in v6.19-rc4 by "mm: fixup pfnmap memory failure handling to use
 * pgoff".
 */
#include <linux/memory-failure.h>

static int probe_cb(struct vm_area_struct *vma, unsigned long pfn,
		    pgoff_t *pgoff)
{
	return -EINVAL;
}

static struct pfn_address_space probe_space __maybe_unused = {
	.pfn_to_vma_pgoff = probe_cb,
};
