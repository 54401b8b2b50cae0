// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-test-poison: test-only module that plays a device-memory driver
 * for nvgrace-poison, independently of the VFIO driver.
 *
 * It maps the BAR 2 of QEMU's ivshmem-plain device (MMIO without struct
 * page, like Grace GPU memory) through /dev/nvgrace-poison-test: mmap
 * offset = offset in the BAR, VM_PFNMAP, filled at fault time (PMD entries
 * where the kernel can map huge PFNs), refusing poisoned pages through
 * nvgrace_poison_check() like the driver does; read() refuses them with EIO.
 * The range is registered with nvgrace-poison while the device is open.
 *
 * Parameters:
 *   mem=DDDD:BB:DD.F  device whose BAR 2 is mapped (default: first 1af4:1110)
 *   extra_ranges=N    also register N small dummy ranges (benchmarks, and
 *                     a range whose fault lock hold_fault_lock holds, PFNs
 *                     from 1 << (46 - PAGE_SHIFT), 16 each, 32 apart)
 *
 * debugfs /sys/kernel/debug/nvgrace-poison-test/:
 *   memory_failure  write a PFN of the BAR: calls the kernel's own
 *                   memory_failure(pfn, MF_SW_SIMULATED), returns its error
 *   faults_pte, faults_pmd, faults_poisoned  fault counters
 *   base_pfn        first PFN of the BAR
 *   hold_fault_lock write N: a kernel thread holds the fault lock (for
 *                   read, as a fault waiting for the device would) for N
 *                   ms; the write returns at once
 *
 * Never installed by the packages.
 */
#define pr_fmt(fmt) "nvgrace-test-poison: " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "nvgrace-poison.h"

/*
 * nvgrace-probes: vmf_insert_pfn_pmd_pfn_t vmf_insert_pfn_pmd_ulong
 * nvgrace-probes: huge_fault_order vm_flags_set
 */
#if defined(HAVE_VMF_INSERT_PFN_PMD_PFN_T)
#include <linux/pfn_t.h>
#endif

/* PMD faults: ->huge_fault(vmf, order) and huge PFN mappings (v6.12). */
#if defined(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP) && defined(HAVE_HUGE_FAULT_ORDER) && \
	(defined(HAVE_VMF_INSERT_PFN_PMD_ULONG) || defined(HAVE_VMF_INSERT_PFN_PMD_PFN_T))
#define TP_HUGE_FAULT 1
#endif

static char *mem;
module_param(mem, charp, 0444);
MODULE_PARM_DESC(mem, "PCI address of the device whose BAR 2 is mapped (default: first 1af4:1110)");
static unsigned int extra_ranges;
module_param(extra_ranges, uint, 0444);
MODULE_PARM_DESC(extra_ranges, "dummy ranges registered besides the BAR");

static struct pci_dev *tp_pdev;
static unsigned long tp_base_pfn, tp_nr_pages;
static DECLARE_RWSEM(tp_fault_lock);
static DEFINE_MUTEX(tp_open_lock);
static unsigned int tp_opens;
static struct nvgrace_pfn_space tp_space;
static struct nvgrace_pfn_space *tp_extra;
static struct address_space tp_dummy_mapping;
static struct dentry *tp_debugfs;
static u64 tp_faults_pte, tp_faults_pmd, tp_faults_poisoned;

static const struct vm_operations_struct tp_vm_ops;

static int tp_pfn_to_vma_pgoff(struct vm_area_struct *vma, unsigned long pfn,
			       pgoff_t *pgoff)
{
	unsigned long off;

	if (vma->vm_ops != &tp_vm_ops)
		return -EINVAL;
	if (pfn < tp_base_pfn || pfn - tp_base_pfn >= tp_nr_pages)
		return -EINVAL;
	off = pfn - tp_base_pfn;
	if (off < vma->vm_pgoff || off - vma->vm_pgoff >= vma_pages(vma))
		return -EINVAL;
	*pgoff = off;
	return 0;
}

static int tp_dummy_pgoff(struct vm_area_struct *vma, unsigned long pfn,
			  pgoff_t *pgoff)
{
	return -EINVAL;
}

static vm_fault_t tp_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long pfn = tp_base_pfn + vmf->pgoff;
	vm_fault_t ret;

	if (vmf->pgoff >= tp_nr_pages)
		return VM_FAULT_SIGBUS;
	down_read(&tp_fault_lock);
	if (nvgrace_poison_check_fault(&tp_space, pfn, 1, vmf->flags)) {
		tp_faults_poisoned++;
		ret = VM_FAULT_HWPOISON;
	} else {
		tp_faults_pte++;
		ret = vmf_insert_pfn(vma, vmf->address & PAGE_MASK, pfn);
	}
	up_read(&tp_fault_lock);
	return ret;
}

#ifdef TP_HUGE_FAULT
static vm_fault_t tp_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	unsigned long addr = vmf->address & ~((PAGE_SIZE << order) - 1);
	unsigned long pgoff, pfn;
	vm_fault_t ret;

	if (order != PMD_SHIFT - PAGE_SHIFT)
		return VM_FAULT_FALLBACK;
	if (addr < vmf->vma->vm_start ||
	    addr + (PAGE_SIZE << order) > vmf->vma->vm_end)
		return VM_FAULT_FALLBACK;
	pgoff = vmf->vma->vm_pgoff + ((addr - vmf->vma->vm_start) >> PAGE_SHIFT);
	pfn = tp_base_pfn + pgoff;
	if (pgoff + (1UL << order) > tp_nr_pages ||
	    !IS_ALIGNED(pfn, 1UL << order))
		return VM_FAULT_FALLBACK;

	down_read(&tp_fault_lock);
	if (nvgrace_poison_check_fault(&tp_space, pfn, 1UL << order,
				       vmf->flags)) {
		ret = VM_FAULT_FALLBACK;
	} else {
#ifdef HAVE_VMF_INSERT_PFN_PMD_ULONG
		ret = vmf_insert_pfn_pmd(vmf, pfn, false);
#else
		ret = vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), false);
#endif
		if (ret == VM_FAULT_NOPAGE)
			tp_faults_pmd++;
	}
	up_read(&tp_fault_lock);
	return ret;
}
#endif

static const struct vm_operations_struct tp_vm_ops = {
	.fault = tp_fault,
#ifdef TP_HUGE_FAULT
	.huge_fault = tp_huge_fault,
#endif
};

static int tp_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff >= tp_nr_pages ||
	    vma_pages(vma) > tp_nr_pages - vma->vm_pgoff)
		return -EINVAL;
#ifdef HAVE_VM_FLAGS_SET
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
#else
	vma->vm_flags |= VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP;
#endif
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vma->vm_ops = &tp_vm_ops;
	return 0;
}

static ssize_t tp_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	unsigned long pgoff = *ppos >> PAGE_SHIFT;
	unsigned long off = *ppos & ~PAGE_MASK;
	void __iomem *va;
	void *tmp;
	size_t n;

	if (*ppos < 0 || pgoff >= tp_nr_pages)
		return 0;
	n = min_t(size_t, count, PAGE_SIZE - off);
	if (nvgrace_poison_check(&tp_space, tp_base_pfn + pgoff, 1))
		return -EIO;
	tmp = kmalloc(n, GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	va = ioremap(PFN_PHYS(tp_base_pfn + pgoff), PAGE_SIZE);
	if (!va) {
		kfree(tmp);
		return -ENOMEM;
	}
	memcpy_fromio(tmp, va + off, n);
	iounmap(va);
	if (copy_to_user(buf, tmp, n))
		n = -EFAULT;
	else
		*ppos += n;
	kfree(tmp);
	return n;
}

static int tp_open(struct inode *inode, struct file *file)
{
	int ret = 0;

	mutex_lock(&tp_open_lock);
	if (!tp_opens) {
		tp_space.pfn_first = tp_base_pfn;
		tp_space.pfn_last = tp_base_pfn + tp_nr_pages - 1;
		tp_space.mapping = file->f_mapping;
		tp_space.pfn_to_vma_pgoff = tp_pfn_to_vma_pgoff;
		tp_space.fault_lock = &tp_fault_lock;
		ret = nvgrace_poison_register(&tp_space);
	}
	if (!ret)
		tp_opens++;
	mutex_unlock(&tp_open_lock);
	return ret;
}

static int tp_release(struct inode *inode, struct file *file)
{
	mutex_lock(&tp_open_lock);
	if (!--tp_opens)
		nvgrace_poison_unregister(&tp_space);
	mutex_unlock(&tp_open_lock);
	return 0;
}

static const struct file_operations tp_fops = {
	.owner = THIS_MODULE,
	.open = tp_open,
	.release = tp_release,
	.mmap = tp_mmap,
	.read = tp_read,
	.llseek = default_llseek,
};

static struct miscdevice tp_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "nvgrace-poison-test",
	.fops = &tp_fops,
	.mode = 0600,
};

static ssize_t tp_mf_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	unsigned long pfn;
	int ret;

	ret = kstrtoul_from_user(ubuf, count, 0, &pfn);
	if (ret)
		return ret;
	/* Never poison anything but the stand-in's BAR. */
	if (pfn < tp_base_pfn || pfn - tp_base_pfn >= tp_nr_pages)
		return -ERANGE;
	ret = memory_failure(pfn, MF_SW_SIMULATED);
	nvgrace_poison_flush();
	pr_info("memory_failure(%#lx, MF_SW_SIMULATED) = %d\n", pfn, ret);
	return ret < 0 ? ret : count;
}

static const struct file_operations tp_mf_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = tp_mf_write,
	.llseek = noop_llseek,
};

/* Play a fault stuck in a readiness wait with the fault lock held. */
static struct task_struct *tp_hold_task;
static bool tp_hold_done;

static int tp_hold_fn(void *data)
{
	unsigned long ms = (unsigned long)data;

	down_read(&tp_fault_lock);
	msleep(ms);
	up_read(&tp_fault_lock);
	pr_info("fault lock held for %lu ms\n", ms);
	WRITE_ONCE(tp_hold_done, true);
	/* Stay until tp_exit() or the next hold reaps us. */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static ssize_t tp_hold_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	struct task_struct *t;
	unsigned long ms;
	int ret;

	ret = kstrtoul_from_user(ubuf, count, 0, &ms);
	if (ret)
		return ret;
	if (!ms || ms > 60000)
		return -ERANGE;
	mutex_lock(&tp_open_lock);
	if (tp_hold_task) {
		/* One at a time; reap the last one if it is done. */
		if (!tp_hold_done) {
			mutex_unlock(&tp_open_lock);
			return -EBUSY;
		}
		kthread_stop(tp_hold_task);
		put_task_struct(tp_hold_task);
		tp_hold_task = NULL;
	}
	tp_hold_done = false;
	t = kthread_create(tp_hold_fn, (void *)ms, "nvgrace-tp-hold");
	if (IS_ERR(t)) {
		mutex_unlock(&tp_open_lock);
		return PTR_ERR(t);
	}
	tp_hold_task = get_task_struct(t);
	wake_up_process(t);
	mutex_unlock(&tp_open_lock);
	return count;
}

static const struct file_operations tp_hold_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = tp_hold_write,
	.llseek = noop_llseek,
};

static int tp_register_extra(void)
{
	/* Far above any PFN QEMU's machines use; 16 PFNs each, 16 apart. */
	unsigned long first = 1UL << (46 - PAGE_SHIFT);
	unsigned int i;
	int ret;

	if (!extra_ranges)
		return 0;
	tp_dummy_mapping.i_mmap = RB_ROOT_CACHED;
	init_rwsem(&tp_dummy_mapping.i_mmap_rwsem);
	tp_extra = kvcalloc(extra_ranges, sizeof(*tp_extra), GFP_KERNEL);
	if (!tp_extra)
		return -ENOMEM;
	for (i = 0; i < extra_ranges; i++) {
		tp_extra[i].pfn_first = first + 32UL * i;
		tp_extra[i].pfn_last = first + 32UL * i + 15;
		tp_extra[i].mapping = &tp_dummy_mapping;
		tp_extra[i].pfn_to_vma_pgoff = tp_dummy_pgoff;
		/* hold_fault_lock stalls their handling too. */
		tp_extra[i].fault_lock = &tp_fault_lock;
		ret = nvgrace_poison_register(&tp_extra[i]);
		if (ret) {
			while (i--)
				nvgrace_poison_unregister(&tp_extra[i]);
			kvfree(tp_extra);
			tp_extra = NULL;
			return ret;
		}
	}
	return 0;
}

static void tp_unregister_extra(void)
{
	unsigned int i;

	if (!tp_extra)
		return;
	for (i = 0; i < extra_ranges; i++)
		nvgrace_poison_unregister(&tp_extra[i]);
	kvfree(tp_extra);
	tp_extra = NULL;
}

static int __init tp_init(void)
{
	unsigned int domain, bus, slot, fn;
	int ret;

	if (mem) {
		if (sscanf(mem, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4)
			return -EINVAL;
		tp_pdev = pci_get_domain_bus_and_slot(domain, bus,
						      PCI_DEVFN(slot, fn));
	} else {
		tp_pdev = pci_get_device(0x1af4, 0x1110, NULL);
	}
	if (!tp_pdev) {
		pr_err("no device memory stand-in found\n");
		return -ENODEV;
	}
	if (!pci_resource_len(tp_pdev, 2)) {
		ret = -ENODEV;
		goto err_put;
	}
	ret = pci_enable_device_mem(tp_pdev);
	if (ret)
		goto err_put;
	tp_base_pfn = PHYS_PFN(pci_resource_start(tp_pdev, 2));
	tp_nr_pages = pci_resource_len(tp_pdev, 2) >> PAGE_SHIFT;

	ret = tp_register_extra();
	if (ret)
		goto err_disable;
	ret = misc_register(&tp_misc);
	if (ret)
		goto err_extra;

	tp_debugfs = debugfs_create_dir("nvgrace-poison-test", NULL);
	debugfs_create_file("memory_failure", 0200, tp_debugfs, NULL,
			    &tp_mf_fops);
	debugfs_create_u64("faults_pte", 0400, tp_debugfs, &tp_faults_pte);
	debugfs_create_u64("faults_pmd", 0400, tp_debugfs, &tp_faults_pmd);
	debugfs_create_u64("faults_poisoned", 0400, tp_debugfs,
			   &tp_faults_poisoned);
	debugfs_create_ulong("base_pfn", 0400, tp_debugfs, &tp_base_pfn);
	debugfs_create_file("hold_fault_lock", 0200, tp_debugfs, NULL,
			    &tp_hold_fops);
	pr_info("BAR 2 of %s: pfn %#lx, %lu pages, %u extra ranges\n",
		pci_name(tp_pdev), tp_base_pfn, tp_nr_pages, extra_ranges);
	return 0;

err_extra:
	tp_unregister_extra();
err_disable:
	pci_disable_device(tp_pdev);
err_put:
	pci_dev_put(tp_pdev);
	return ret;
}

static void __exit tp_exit(void)
{
	if (tp_hold_task) {
		kthread_stop(tp_hold_task);
		put_task_struct(tp_hold_task);
	}
	debugfs_remove_recursive(tp_debugfs);
	misc_deregister(&tp_misc);
	tp_unregister_extra();
	pci_disable_device(tp_pdev);
	pci_dev_put(tp_pdev);
}

module_init(tp_init);
module_exit(tp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only device-memory mapper for nvgrace-poison");
