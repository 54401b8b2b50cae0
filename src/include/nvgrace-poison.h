/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nvgrace-poison: memory-failure routing for device memory without
 * struct page.
 *
 * A driver that maps device memory into user space describes each PFN range
 * with a struct nvgrace_pfn_space and registers it. When a memory failure is
 * reported on a PFN inside a registered range, the poison handler records the
 * PFN, finds the mappings of that range through @mapping, translates the PFN
 * into a file offset of each VMA with @pfn_to_vma_pgoff, zaps the page (the
 * whole huge entry around it) and sends SIGBUS (BUS_MCEERR_AO) to the
 * processes that mapped it. The driver then refuses the page in its fault
 * handler and read()/write() paths through nvgrace_poison_check().
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
/* nvgrace-probes: register_pfn_address_space */
#ifdef HAVE_REGISTER_PFN_ADDRESS_SPACE
#include <linux/memory-failure.h>
#endif

struct nvgrace_poison_rec;

struct nvgrace_pfn_space {
	/* Filled in by the driver before registration. */
	unsigned long pfn_first;	/* first PFN of the range */
	unsigned long pfn_last;		/* last PFN of the range, inclusive */
	struct address_space *mapping;	/* mappings of the range hang off it */
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
	bool overflow;			/* more poison than max_records */
	spinlock_t lock;		/* protects the records */
	struct nvgrace_poison_rec *recs; /* poisoned PFNs, sorted */
	unsigned int nr_recs;
	unsigned int cap_recs;
	unsigned int nr_pending;	/* records not handled yet */
	struct list_head pending;	/* on the handler's work list */
#ifdef HAVE_REGISTER_PFN_ADDRESS_SPACE
	struct pfn_address_space native;
	bool native_registered;
#endif
};

int nvgrace_poison_register(struct nvgrace_pfn_space *space);
void nvgrace_poison_unregister(struct nvgrace_pfn_space *space);
bool nvgrace_poison_pfn_registered(unsigned long pfn);
bool nvgrace_poison_check(struct nvgrace_pfn_space *space, unsigned long pfn,
			  unsigned long nr_pages);

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
int nvgrace_poison_show_list(struct nvgrace_pfn_space *space, char *buf,
			     int at);

#endif /* NVGRACE_POISON_H */
