/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nvgrace-poison: memory-failure routing for device memory without
 * struct page.
 *
 * A driver that maps device memory into user space describes each PFN range
 * with a struct nvgrace_pfn_space and registers it. When a memory failure is
 * reported on a PFN inside a registered range, the poison handler finds the
 * mappings of that range through @mapping and translates the PFN into a file
 * offset of each VMA with @pfn_to_vma_pgoff.
 *
 * The structure mirrors mainline's struct pfn_address_space
 * (<linux/memory-failure.h>, v6.19) so that a driver reads the same on kernels
 * with and without the native API.
 */
#ifndef NVGRACE_POISON_H
#define NVGRACE_POISON_H

#include <linux/fs.h>
#include <linux/mm_types.h>
#include <linux/rbtree.h>
#include <linux/types.h>

struct nvgrace_pfn_space {
	/* Filled in by the driver before registration. */
	unsigned long pfn_first;	/* first PFN of the range */
	unsigned long pfn_last;		/* last PFN of the range, inclusive */
	struct address_space *mapping;	/* mappings of the range hang off it */
	/*
	 * Translate @pfn into the page offset it has in @vma. Returns 0 and
	 * sets *@pgoff, or a negative errno when @vma does not map @pfn.
	 * Called with the mapping's i_mmap lock held for read.
	 */
	int (*pfn_to_vma_pgoff)(struct vm_area_struct *vma, unsigned long pfn,
				pgoff_t *pgoff);

	/* Private to nvgrace-poison. */
	struct rb_node node;
	bool registered;
};

int nvgrace_poison_register(struct nvgrace_pfn_space *space);
void nvgrace_poison_unregister(struct nvgrace_pfn_space *space);
bool nvgrace_poison_pfn_registered(unsigned long pfn);
bool nvgrace_poison_check(struct nvgrace_pfn_space *space, unsigned long pfn,
			  unsigned long nr_pages);

#endif /* NVGRACE_POISON_H */
