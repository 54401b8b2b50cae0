// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-vfio-pci: the driver's own list of its mappings, for kernels
 * without a per-device VFIO inode (mainline before v6.10, "vfio/pci: Use
 * unmap_mapping_range()"). There vfio-pci-core zaps on reset and memory
 * disable only the VMAs it created itself; this driver tracks its VMAs
 * (mmap(), and the copies vm_ops->open() sees) and zaps them at the same
 * points, keeping faults blocked meanwhile. On later kernels the core zaps
 * the device inode's mappings, ours included, and nvgrace.h makes all of
 * this empty inline functions.
 */

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
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
 * Zap every mapping of the device memory. Page tables may only be walked
 * with the owning mm's mmap lock held, and vm_ops->close() runs under that
 * lock and takes vma_lock, so vma_lock is dropped around taking it: one mm
 * at a time, marking the VMAs done with a generation number.
 */
void nvgrace_zap_mappings(struct nvgrace_vfio_device *nvdev)
{
	struct nvgrace_vma *t;
	unsigned long gen;

	mutex_lock(&nvdev->vma_lock);
	gen = ++nvdev->zap_gen;
	for (;;) {
		struct mm_struct *mm = NULL;

		list_for_each_entry(t, &nvdev->vma_list, node) {
			if (t->gen == gen)
				continue;
			if (mmget_not_zero(t->vma->vm_mm)) {
				mm = t->vma->vm_mm;
				break;
			}
			/* The mm is exiting: its mappings go with it. */
			t->gen = gen;
		}
		mutex_unlock(&nvdev->vma_lock);
		if (!mm)
			return;

		mmap_read_lock(mm);
		mutex_lock(&nvdev->vma_lock);
		list_for_each_entry(t, &nvdev->vma_list, node) {
			struct vm_area_struct *vma = t->vma;

			if (t->gen == gen || vma->vm_mm != mm)
				continue;
			t->gen = gen;
			/* Skip a VMA munmap() has already detached. */
			if (vma_lookup(mm, vma->vm_start) == vma)
				zap_vma_ptes(vma, vma->vm_start,
					     vma->vm_end - vma->vm_start);
		}
		mutex_unlock(&nvdev->vma_lock);
		mmap_read_unlock(mm);
		mmput(mm);
		mutex_lock(&nvdev->vma_lock);
	}
}

/*
 * Keep this driver's pages unmapped for the whole of a reset or a memory
 * decode change made through this device's fd. vfio-pci-core before v6.10
 * zaps only its own mappings under memory_lock; zapping ours only before
 * and after the operation left a window in which a fault mapped a page
 * again and it stayed mapped while the device was reset. So: block faults
 * (they wait, without their locks, see nvgrace_lock_ready()), wait out the
 * ones in flight (they hold memory_lock for read), zap; after the
 * operation zap again and unblock. A reset through a sibling device's fd
 * (a bus reset) gives this driver no hook before it: its mappings stay
 * until that reset is over, a limit of these kernels.
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

/* The address space all anon-inode files (so VFIO device files) share. */
static struct address_space *nvgrace_anon_mapping;

int nvgrace_anon_mapping_init(void)
{
	static const struct file_operations fops = { .owner = THIS_MODULE };
	struct file *file;

	file = anon_inode_getfile("[nvgrace]", &fops, NULL, O_RDONLY);
	if (IS_ERR(file))
		return PTR_ERR(file);
	nvgrace_anon_mapping = file->f_mapping;
	fput(file);
	return 0;
}

struct address_space *
nvgrace_device_mapping(struct nvgrace_vfio_device *nvdev)
{
	return nvgrace_anon_mapping;
}

void nvgrace_tracker_init(struct nvgrace_vfio_device *nvdev)
{
	mutex_init(&nvdev->vma_lock);
	INIT_LIST_HEAD(&nvdev->vma_list);
}

/*
 * A new mapping of the device memory (mmap()): track it. The file must be
 * a VFIO device file, whose mappings hang off the anon-inode address space:
 * zapping and poison handling find the VMAs through it.
 */
int nvgrace_track_vma(struct nvgrace_vfio_device *nvdev,
		      struct vm_area_struct *vma)
{
	struct nvgrace_vma *t;

	if (vma->vm_file->f_mapping != nvgrace_anon_mapping)
		return -ENODEV;
	t = kmalloc_obj(*t, GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	nvgrace_vma_add(nvdev, t, vma);
	return 0;
}
#endif /* !HAVE_VFIO_DEVICE_INODE */
