// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-vfio-pci: the driver's own list of its mappings, for kernels
 * without a per-device VFIO inode (mainline before v6.10, "vfio/pci: Use
 * unmap_mapping_range()"). There vfio-pci-core zaps on reset and memory
 * disable only the VMAs it created itself; this driver tracks its VMAs
 * (mmap(), and the copies vm_ops->open() sees) and zaps them at the same
 * points, keeping faults blocked meanwhile, and nvgrace-poison finds through
 * it the VMAs mapping a poisoned page (its walk_vmas). On later kernels the
 * core zaps the device inode's mappings, ours included, nvgrace-poison walks
 * that inode's mapping, and nvgrace.h makes all of this empty inline
 * functions.
 */

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vfio_pci_core.h>

#include "nvgrace-compat.h"
#include "nvgrace.h"

/* nvgrace-probes: vfio_device_inode */

#ifndef HAVE_VFIO_DEVICE_INODE
struct nvgrace_vma {
	struct list_head node;
	struct vm_area_struct *vma;
	unsigned long gen;
};

static void nvgrace_vma_add(struct nvgrace_vfio_device *nvdev,
			    struct nvgrace_vma *t, struct vm_area_struct *vma)
{
	t->vma = vma;
	t->gen = 0;
	mutex_lock(&nvdev->vma_lock);
	list_add(&t->node, &nvdev->vma_list);
	mutex_unlock(&nvdev->vma_lock);
}

/* A VMA copied by fork, split or mremap: track the copy too. */
void nvgrace_vma_open(struct vm_area_struct *vma)
{
	struct nvgrace_vma *t;

	t = kmalloc_obj(*t, GFP_KERNEL | __GFP_NOFAIL);

	nvgrace_vma_add(vma->vm_private_data, t, vma);
}

void nvgrace_vma_close(struct vm_area_struct *vma)
{
	struct nvgrace_vfio_device *nvdev = vma->vm_private_data;
	struct nvgrace_vma *t;

	mutex_lock(&nvdev->vma_lock);
	list_for_each_entry(t, &nvdev->vma_list, node) {
		if (t->vma == vma) {
			list_del(&t->node);
			kfree(t);
			break;
		}
	}
	mutex_unlock(&nvdev->vma_lock);
}

/*
 * Call @fn for every tracked VMA, with its mm's mmap lock held for read and
 * the VMA checked still in its mm. Page tables may only be walked with the
 * owning mm's mmap lock held: munmap() frees them (free_pgtables()) before
 * vm_ops->close() takes the VMA off the list, so a VMA on the list may
 * have none left; vma_lookup() under the mmap lock tells, as munmap()
 * detaches the VMA under the lock taken for write. vm_ops->close() runs
 * under the mmap lock and takes vma_lock, so vma_lock is dropped around
 * taking the mmap lock: one mm at a time, marking the VMAs done with a
 * generation number. walk_lock makes one walk at a time use the marks.
 *
 * Lock order: walk_lock, then an mm's mmap lock (read), then vma_lock.
 * Neither driver lock is taken under memory_lock, nor walk_lock under an
 * mmap lock (mmap(), open() and close() take only vma_lock).
 */
static void nvgrace_walk_mappings(struct nvgrace_vfio_device *nvdev,
				  void (*fn)(struct vm_area_struct *vma,
					     void *arg),
				  void *arg)
{
	struct nvgrace_vma *t;
	unsigned long gen;

	mutex_lock(&nvdev->walk_lock);
	mutex_lock(&nvdev->vma_lock);
	gen = ++nvdev->zap_gen;
	for (;;) {
		struct mm_struct *mm = NULL;

		list_for_each_entry(t, &nvdev->vma_list, node) {
			if (t->gen == gen)
				continue;
			/* A VMA on the list keeps its mm allocated. */
			if (mmget_not_zero(t->vma->vm_mm)) {
				mm = t->vma->vm_mm;
				break;
			}
			/* The mm is exiting: its mappings go with it. */
			t->gen = gen;
		}
		mutex_unlock(&nvdev->vma_lock);
		if (!mm)
			break;

		mmap_read_lock(mm);
		mutex_lock(&nvdev->vma_lock);
		list_for_each_entry(t, &nvdev->vma_list, node) {
			struct vm_area_struct *vma = t->vma;

			if (t->gen == gen || vma->vm_mm != mm)
				continue;
			t->gen = gen;
			/* Skip a VMA munmap() has already detached. */
			if (vma_lookup(mm, vma->vm_start) == vma)
				fn(vma, arg);
		}
		mutex_unlock(&nvdev->vma_lock);
		mmap_read_unlock(mm);
		mmput(mm);
		mutex_lock(&nvdev->vma_lock);
	}
	mutex_unlock(&nvdev->walk_lock);
}

static void nvgrace_zap_vma(struct vm_area_struct *vma, void *arg)
{
	zap_vma_ptes(vma, vma->vm_start, vma->vm_end - vma->vm_start);
}

/* Zap every mapping of the device memory. */
void nvgrace_zap_mappings(struct nvgrace_vfio_device *nvdev)
{
	nvgrace_walk_mappings(nvdev, nvgrace_zap_vma, NULL);
}

/*
 * nvgrace-poison's walk_vmas for this device's ranges: the VMAs of this
 * driver only, where the i_mmap tree of the mapping VFIO device files share
 * would hold every anonymous-inode file of the system. Its callback takes
 * the page table locks and allocates, under vma_lock: nothing of ours.
 */
static void nvgrace_walk_vmas(struct nvgrace_pfn_space *space,
			      void (*fn)(struct vm_area_struct *vma, void *arg),
			      void *arg)
{
	nvgrace_walk_mappings(space->walk_data, fn, arg);
}

/*
 * Keep this driver's pages unmapped for the whole of a reset or a memory
 * decode change made through this device's fd. vfio-pci-core before v6.10
 * zaps only its own mappings under memory_lock; zapping ours only before
 * and after the operation left a window in which a fault mapped a page
 * again and it stayed mapped while the device was reset. So: block faults
 * (they wait, without their locks, see nvgrace_lock_ready()), wait out the
 * ones in flight (they hold memory_lock for read), zap; after the
 * operation zap again and unblock.
 *
 * A hot reset through a sibling device's fd is not covered, a limit of
 * these kernels. It resets this device too: vfio-pci-core (6.1:
 * vfio_pci_dev_set_hot_reset()) takes every device's memory_lock for
 * write, ours included, then pci_reset_bus() calls each driver's
 * err_handler->reset_prepare() and ->reset_done() (pci_dev_save_and_disable(),
 * pci_dev_restore()). New faults wait on memory_lock, but pages mapped
 * before stay mapped until the reset is over. Zapping from reset_prepare()
 * would take each mm's mmap lock under memory_lock held for write, the
 * reverse of the fault path (mmap lock, then memory_lock for read): a fault
 * waiting for memory_lock with its mmap lock held and an munmap() queued
 * for that mmap lock would block the zap's mmap_read_lock() for good, and
 * with it the reset. A trylock would make the zap best-effort, which is no
 * guarantee. Mainline's nvgrace-gpu on 6.8 and 6.9 has the same gap and a
 * wider one: it maps usemem with remap_pfn_range() at mmap() time and the
 * core of those kernels never zaps it, on any reset.
 */
void nvgrace_block_faults(struct nvgrace_vfio_device *nvdev)
{
	struct rw_semaphore *lock = &nvdev->core_device.memory_lock;

	atomic_inc(&nvdev->faults_blocked);
	down_write(lock);
	up_write(lock);
	nvgrace_zap_mappings(nvdev);
}

void nvgrace_unblock_faults(struct nvgrace_vfio_device *nvdev)
{
	nvgrace_zap_mappings(nvdev);
	atomic_dec(&nvdev->faults_blocked);
}

/* How nvgrace-poison finds the VMAs mapping @space: this list. */
void nvgrace_tracker_space(struct nvgrace_vfio_device *nvdev,
			   struct nvgrace_pfn_space *space)
{
	space->mapping = NULL;
	space->walk_vmas = nvgrace_walk_vmas;
	space->walk_data = nvdev;
}

void nvgrace_tracker_init(struct nvgrace_vfio_device *nvdev)
{
	mutex_init(&nvdev->walk_lock);
	mutex_init(&nvdev->vma_lock);
	INIT_LIST_HEAD(&nvdev->vma_list);
}

/*
 * A new mapping of the device memory (mmap()): track it. Any file of the
 * device will do: the group's device file (an anon-inode file) and, from
 * v6.6 with CONFIG_VFIO_DEVICE_CDEV, the cdev (/dev/vfio/devices/vfioN,
 * iommufd), whose f_mapping is the character device inode's. Both reach
 * this driver's mmap() through vfio_device_fops, and zapping and poison
 * handling find the VMA on this list, whatever the file.
 */
int nvgrace_track_vma(struct nvgrace_vfio_device *nvdev,
		      struct vm_area_struct *vma)
{
	struct nvgrace_vma *t;

	t = kmalloc_obj(*t, GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	nvgrace_vma_add(nvdev, t, vma);
	return 0;
}
#endif /* !HAVE_VFIO_DEVICE_INODE */
