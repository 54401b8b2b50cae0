/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nvgrace-poison: memory-failure routing for device memory without
 * struct page.
 *
 * A driver that maps device memory into user space describes each PFN range
 * with a struct nvgrace_pfn_space and registers it. When a memory failure is
 * reported on a PFN inside a registered range, the poison handler records the
 * PFN, finds the mappings of that range through @mapping, translates the
 * PFN into a file offset of each VMA with @pfn_to_vma_pgoff and tells the
 * processes that map it, as the kernel's early/late kill policy says
 * (SIGBUS BUS_MCEERR_AO to early-kill processes). Where the kernel reports a
 * refused page to KVM as a memory error (FIXUP_USER_FAULT_HWPOISON, the
 * companion patch 0006) it also zaps the page, so that the next touch gets
 * BUS_MCEERR_AR; elsewhere the page stays mapped, as mainline leaves it. The
 * driver refuses the page in its fault handler (nvgrace_poison_check_fault())
 * and read()/write() paths (nvgrace_poison_check()).
 *
 * Records live in a table of max_records entries allocated at the first
 * registration: a report never allocates memory. They survive
 * nvgrace_poison_unregister_keep() (a device closed and opened again still
 * refuses its known-bad pages) and go with nvgrace_poison_unregister() or
 * nvgrace_poison_clear().
 *
 * The structure mirrors mainline's struct pfn_address_space
 * (<linux/memory-failure.h>, v6.19) so that a driver reads the same on kernels
 * with and without the native API.
 */
#ifndef NVGRACE_POISON_H
#define NVGRACE_POISON_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
/* nvgrace-probes: register_pfn_address_space */
#ifdef HAVE_REGISTER_PFN_ADDRESS_SPACE
#include <linux/memory-failure.h>
#endif

struct nvgrace_poison_rec;

struct nvgrace_pfn_space {
	/* Filled in by the driver before registration. */
	unsigned long pfn_first;	/* first PFN of the range */
	unsigned long pfn_last;		/* last PFN of the range, inclusive */
	/*
	 * The range's VMAs hang off this address space (a per-device inode:
	 * VFIO's from v6.10, the VFIO driver's own before); its i_mmap tree
	 * is walked, as the kernel's native path (v6.19) does.
	 */
	struct address_space *mapping;
	/*
	 * Translate @pfn into the page offset it has in @vma. Returns 0 and
	 * sets *@pgoff, or a negative errno when @vma does not map @pfn
	 * (including VMAs of other files that share @mapping). Called with the
	 * mapping's i_mmap lock held for read, possibly under rcu_read_lock():
	 * must not sleep.
	 */
	int (*pfn_to_vma_pgoff)(struct vm_area_struct *vma, unsigned long pfn,
				pgoff_t *pgoff);
	/*
	 * Optional: the lock the driver's fault handler holds (for read)
	 * across nvgrace_poison_check() and the PFN insertion (vfio-pci-core's
	 * memory_lock). The handler takes it for write for an instant after
	 * recording a poisoned PFN and before zapping, so that a fault that
	 * checked just before the record cannot map the page after the zap.
	 * The driver must not call nvgrace_poison_register()/unregister() while
	 * holding it.
	 */
	struct rw_semaphore *fault_lock;

	/* Private to nvgrace-poison. */
	struct rb_node node;
	bool registered;
	bool ready;			/* lock, table and work set up */
	spinlock_t lock;		/* protects the records */
	struct nvgrace_poison_rec *recs; /* poisoned PFNs, sorted */
	unsigned int nr_recs;
	unsigned int cap_recs;		/* max_records at the first register */
	unsigned int nr_pending;	/* records not handled yet */
	unsigned long nr_dropped;	/* reports past cap_recs */
	struct work_struct work;	/* handles this range's records */
	atomic_t users;			/* injections waiting on @work */
#ifdef HAVE_REGISTER_PFN_ADDRESS_SPACE
	struct pfn_address_space native;
	bool native_registered;
#endif
};

int nvgrace_poison_register(struct nvgrace_pfn_space *space);
void nvgrace_poison_unregister(struct nvgrace_pfn_space *space);
void nvgrace_poison_unregister_keep(struct nvgrace_pfn_space *space);
unsigned int nvgrace_poison_clear(struct nvgrace_pfn_space *space);
bool nvgrace_poison_pfn_registered(unsigned long pfn);
bool nvgrace_poison_check(struct nvgrace_pfn_space *space, unsigned long pfn,
			  unsigned long nr_pages);
bool nvgrace_poison_check_fault(struct nvgrace_pfn_space *space,
				unsigned long pfn, unsigned long nr_pages,
				unsigned int fault_flags);
bool nvgrace_poison_zaps(void);

/* Where a memory-failure report came from. */
enum nvgrace_poison_source {
	NVGRACE_POISON_SRC_INJECT,	/* debugfs injection */
	NVGRACE_POISON_SRC_NATIVE,	/* the kernel's memory_failure() */
	NVGRACE_POISON_SRC_GHES,	/* firmware-first GHES report */
	NVGRACE_POISON_SRC_NR,
};

int nvgrace_poison_report(unsigned long pfn, enum nvgrace_poison_source src);
void nvgrace_poison_flush(void);

/* For the driver's per-device sysfs: count and list of poisoned PFNs. */
unsigned int nvgrace_poison_count(struct nvgrace_pfn_space *space);
unsigned int nvgrace_poison_pfns(struct nvgrace_pfn_space *space,
				 unsigned long *pfns, unsigned int max,
				 unsigned long *dropped);

#endif /* NVGRACE_POISON_H */
