// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-vfio-pci: an address space of the driver's own for its mappings,
 * on kernels without a per-device VFIO inode (mainline before v6.10, "vfio:
 * Create vfio_fs_type with inode per device"). There the device's files
 * have no address space of their own: the group's device file is an
 * anonymous-inode file, whose inode every anon-inode file of the system
 * shares, and the cdev's is the character device's. vfio-pci-core zaps on
 * reset and memory disable only the VMAs it created itself, and a driver
 * could zap its own only by walking each mm's page tables under its mmap
 * lock, which cannot be done under memory_lock (the fault path takes the
 * mmap lock, then memory_lock).
 *
 * So each device gets an inode of a small pseudo filesystem of this module,
 * and mmap() of the device memory puts a file of that inode in the VMA
 * (what mainline gives every VFIO device from v6.10, for our VMAs only):
 * the kernel links the VMA into that inode's mapping after ->mmap() returns,
 * and so do fork(), split and mremap(). Zapping is then unmap_mapping_range()
 * on that mapping, which takes i_mmap_rwsem and the page-table locks but no
 * mmap lock, so it may run under memory_lock: from the driver's
 * reset_prepare() handler, which pci_reset_bus() calls for every device it
 * resets while vfio-pci-core holds their memory_locks for write, a hot reset
 * through a sibling device's fd included; nvgrace-poison walks the same
 * mapping. The file holds the VFIO device file the mapping was made
 * through, so a mapping keeps the device open as before. On later kernels
 * the core zaps the device inode's mappings, ours included, nvgrace-poison
 * walks that inode's mapping, and nvgrace.h makes all of this empty inline
 * functions.
 */

#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pci.h>
#include <linux/pseudo_fs.h>
#include <linux/string.h>
#include <linux/vfio_pci_core.h>

#include "nvgrace-compat.h"
#include "nvgrace.h"

/* nvgrace-probes: vfio_device_inode */

#ifndef HAVE_VFIO_DEVICE_INODE
#define NVGRACE_FS_MAGIC	0x6e676d66	/* "ngmf" */

static struct vfsmount *nvgrace_mnt;
static int nvgrace_mnt_count;

/* /proc/PID/maps names a mapping "nvgrace-vfio:[BDF]". */
static char *nvgrace_fs_dname(struct dentry *dentry, char *buf, int len)
{
	static const char pre[] = "nvgrace-vfio:[", post[] = "]";
	size_t n = dentry->d_name.len;
	char *p;

	if (len < 0 || sizeof(pre) - 1 + n + sizeof(post) > (size_t)len)
		return ERR_PTR(-ENAMETOOLONG);
	p = buf + len - (sizeof(pre) - 1 + n + sizeof(post));
	memcpy(p, pre, sizeof(pre) - 1);
	memcpy(p + sizeof(pre) - 1, dentry->d_name.name, n);
	memcpy(p + sizeof(pre) - 1 + n, post, sizeof(post));
	return p;
}

static const struct dentry_operations nvgrace_fs_dops = {
	.d_dname = nvgrace_fs_dname,
};

static int nvgrace_fs_init_fs_context(struct fs_context *fc)
{
	struct pseudo_fs_context *ctx = init_pseudo(fc, NVGRACE_FS_MAGIC);

	if (!ctx)
		return -ENOMEM;
	ctx->dops = &nvgrace_fs_dops;
	return 0;
}

/*
 * Mounted (internally, never registered) while a device is bound. No
 * .owner: a module reference from the mount would keep the module loaded
 * while devices are bound, and unbinding them is what module unload does.
 * Nothing outlives the last unbind: files of the mount hold a reference on
 * the module (their fops) and on a VFIO device file, so unbind waits for
 * them, and the last simple_release_fs() unmounts synchronously.
 */
static struct file_system_type nvgrace_fs_type = {
	.name = "nvgrace-vfio",
	.init_fs_context = nvgrace_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

/* The file in a VMA: it keeps the VFIO device file it was made for open. */
static int nvgrace_map_release(struct inode *inode, struct file *file)
{
	fput(file->private_data);
	return 0;
}

static const struct file_operations nvgrace_map_fops = {
	.owner = THIS_MODULE,
	.release = nvgrace_map_release,
};

/*
 * A new mapping of the device memory (mmap()): replace the VMA's file, the
 * VFIO device file (the group's device file or the cdev, both reach this
 * through vfio_device_fops), with a file of the device's own inode, as
 * dma-buf exporters do; mmap_region() then links the VMA into that inode's
 * mapping. The new file holds the VFIO file, as the VMA did.
 */
int nvgrace_mapinode_attach(struct nvgrace_vfio_device *nvdev,
			    struct vm_area_struct *vma)
{
	struct file *file;

	/* alloc_file_pseudo() takes over an inode reference on success. */
	ihold(nvdev->inode);
	/* __fput() drops the module reference of the file's fops. */
	__module_get(THIS_MODULE);
	file = alloc_file_pseudo(nvdev->inode, nvgrace_mnt,
				 pci_name(nvdev->core_device.pdev),
				 vma->vm_file->f_flags & O_ACCMODE,
				 &nvgrace_map_fops);
	if (IS_ERR(file)) {
		module_put(THIS_MODULE);
		iput(nvdev->inode);
		return PTR_ERR(file);
	}
	file->private_data = get_file(vma->vm_file);
	vma_set_file(vma, file);
	/* The VMA holds the file now. */
	fput(file);
	return 0;
}

/*
 * Zap every mapping of the device memory. Takes the inode's i_mmap_rwsem
 * for read and page-table locks, never an mmap lock: may run under
 * memory_lock, as mainline's vfio_pci_zap_bars() does from v6.10.
 */
void nvgrace_zap_mappings(struct nvgrace_vfio_device *nvdev)
{
	unmap_mapping_range(nvdev->inode->i_mapping, 0, 0, true);
}

/*
 * Keep this driver's pages unmapped for the whole of a memory decode or
 * power state change made through this device's fd (a config space write).
 * vfio-pci-core before v6.10 zaps only its own mappings under memory_lock
 * and has no hook for a variant driver there; zapping ours only before and
 * after the write would leave a window in which a fault maps a page again
 * and it stays mapped with decode off. So: block faults (they wait, without
 * their locks where they can drop them, see nvgrace_lock_ready()), wait out
 * the ones in flight (they hold memory_lock for read), zap; after the write
 * zap again and unblock.
 *
 * Resets need none of this: whatever starts them (VFIO_DEVICE_RESET, a hot
 * reset through this device's fd or a sibling's), vfio-pci-core holds
 * memory_lock for write around the reset, and the driver's reset_prepare()
 * handler zaps under it (nvgrace_zap_mappings()).
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

/* How nvgrace-poison finds the VMAs mapping @space: the inode's mapping. */
void nvgrace_mapinode_space(struct nvgrace_vfio_device *nvdev,
			    struct nvgrace_pfn_space *space)
{
	space->mapping = nvdev->inode->i_mapping;
}

/* At probe: the device's inode, and the filesystem while a device has one. */
int nvgrace_mapinode_init(struct nvgrace_vfio_device *nvdev)
{
	struct inode *inode;
	int ret;

	atomic_set(&nvdev->faults_blocked, 0);
	ret = simple_pin_fs(&nvgrace_fs_type, &nvgrace_mnt, &nvgrace_mnt_count);
	if (ret)
		return ret;
	inode = alloc_anon_inode(nvgrace_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		simple_release_fs(&nvgrace_mnt, &nvgrace_mnt_count);
		return PTR_ERR(inode);
	}
	nvdev->inode = inode;
	return 0;
}

/* At remove, or a failed probe: no file of the inode is left. */
void nvgrace_mapinode_exit(struct nvgrace_vfio_device *nvdev)
{
	iput(nvdev->inode);
	nvdev->inode = NULL;
	simple_release_fs(&nvgrace_mnt, &nvgrace_mnt_count);
}
#endif /* !HAVE_VFIO_DEVICE_INODE */
