// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-poison: the handling of a poisoned PFN, the bottom of the module.
 * It knows nothing of how reports arrive or are recorded: the range's work
 * (records.c) calls nvgrace_poison_handle() for each pending record. It
 * waits out faults that checked before the record (the driver's
 * fault_lock), walks the range's VMAs (the mapping's i_mmap tree), keeps
 * those for which the driver's pfn_to_vma_pgoff() says they map the PFN,
 * zaps the huge-aligned block around the page in each when zapping is safe
 * (nvgrace_poison_zaps()) and sends SIGBUS BUS_MCEERR_AO with the page's
 * address to every early-kill process mapping it
 * (vm.memory_failure_early_kill, prctl(PR_MCE_KILL)).
 *
 * Files of the module, each using only those below it:
 *   module.c   init/exit
 *   control.c  debugfs (injection, listings) and sysfs counters
 *   register.c the range registration API
 *   sources.c  the event sources (native memory_failure(), GHES)
 *   records.c  the range registry, the poison records, reports, checks
 *   handler.c  this file
 */
#define pr_fmt(fmt) "nvgrace-poison: " fmt

#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/printk.h>
#include <linux/rbtree.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "handler.h"

/* nvgrace-probes: zap_special_vma_range fixup_user_fault_hwpoison */

/*
 * Zapping a poisoned page out of the mappings makes the next touch fault. A
 * process touching it then gets BUS_MCEERR_AR from the fault handler's
 * VM_FAULT_HWPOISON, but KVM refaults through fixup_user_fault(), which
 * turns VM_FAULT_HWPOISON into -EFAULT unless the kernel has the companion
 * patch 0006 (FIXUP_USER_FAULT_HWPOISON: KVM alone then refaults through
 * fixup_user_fault_hwpoison() and gets -EHWPOISON): KVM_RUN would fail and
 * the VMM would stop the VM for good. So by default pages are zapped only
 * on such kernels; elsewhere they stay mapped, as mainline's in-tree driver
 * leaves them, and only new mappings and read()/write() are refused.
 */
enum {
	NVGRACE_ZAP_AUTO,
	NVGRACE_ZAP_ALWAYS,
	NVGRACE_ZAP_NEVER,
};

static const char *const nvgrace_zap_names[] = {
	[NVGRACE_ZAP_AUTO] = "auto",
	[NVGRACE_ZAP_ALWAYS] = "always",
	[NVGRACE_ZAP_NEVER] = "never",
};

static int zap = NVGRACE_ZAP_AUTO;

static int nvgrace_param_set_zap(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(nvgrace_zap_names, val);

	if (i < 0) {
		pr_err("%s must be auto, always or never, not '%.*s'\n",
		       kp->name, (int)strcspn(val, "\n"), val);
		return -EINVAL;
	}
	*(int *)kp->arg = i;
	return 0;
}

static int nvgrace_param_get_zap(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", nvgrace_zap_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops nvgrace_zap_ops = {
	.set = nvgrace_param_set_zap,
	.get = nvgrace_param_get_zap,
};

module_param_cb(zap, &nvgrace_zap_ops, &zap, 0644);
MODULE_PARM_DESC(zap,
		 "zap poisoned pages out of existing mappings: auto (default: only where fixup_user_fault() reports poison to KVM, companion patch 0006), always, never");

/**
 * nvgrace_poison_zaps() - are poisoned pages zapped out of mappings?
 *
 * Also decides whether the driver's fault handler refuses a poisoned page
 * to a fault that does not come from a user-mode access (KVM's
 * fixup_user_fault(), a kernel copy): see nvgrace_poison_check_fault().
 */
bool nvgrace_poison_zaps(void)
{
	switch (READ_ONCE(zap)) {
	case NVGRACE_ZAP_ALWAYS:
		return true;
	case NVGRACE_ZAP_NEVER:
		return false;
	default:
#ifdef HAVE_FIXUP_USER_FAULT_HWPOISON
		return true;
#else
		return false;
#endif
	}
}
EXPORT_SYMBOL_GPL(nvgrace_poison_zaps);

/* How poisoned pages are treated, for the load message. */
const char *nvgrace_poison_zap_mode(void)
{
	return nvgrace_zap_names[READ_ONCE(zap)];
}

atomic_long_t nvgrace_poison_nr_signals;

/*
 * The largest mapping the driver's fault handler may have used for the page:
 * zapping that whole aligned block removes a huge entry containing it.
 */
static unsigned long nvgrace_poison_block_size(void)
{
#if defined(CONFIG_ARCH_SUPPORTS_PUD_PFNMAP)
	return PUD_SIZE;
#elif defined(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP)
	return PMD_SIZE;
#else
	return PAGE_SIZE;
#endif
}

static void nvgrace_poison_zap(struct vm_area_struct *vma, unsigned long addr)
{
	unsigned long size = nvgrace_poison_block_size();
	unsigned long start = ALIGN_DOWN(addr, size);
	unsigned long end = start + size;

	/* A huge entry never crosses the VMA: clamp the block to it. */
	if (start < vma->vm_start)
		start = vma->vm_start;
	if (end > vma->vm_end || end < start)
		end = vma->vm_end;
#ifdef HAVE_ZAP_SPECIAL_VMA_RANGE
	zap_special_vma_range(vma, start, end - start);
#else
	zap_vma_ptes(vma, start, end - start);
#endif
}

/*
 * vm.memory_failure_early_kill: the kernel keeps it to itself (not
 * exported, static from v6.4), so read it as user space does, from procfs
 * under the root of PID 1 (file_open_root()): a kworker's own root is not the system's (the
 * initial rootfs, and from v7.0 an empty nullfs under it). Without procfs
 * the kernel's default, late kill, applies.
 */
static bool nvgrace_poison_sysctl_early_kill(void)
{
	static const char name[] = "proc/sys/vm/memory_failure_early_kill";
	struct task_struct *init;
	char buf[8] = "";
	struct path root;
	struct file *f;
	loff_t pos = 0;
	ssize_t n;
	int val;

	rcu_read_lock();
	init = pid_task(find_vpid(1), PIDTYPE_PID);
	if (init)
		get_task_struct(init);
	rcu_read_unlock();
	if (!init)
		return false;
	task_lock(init);
	f = init->fs ? NULL : ERR_PTR(-ESRCH);
	if (!f)
		get_fs_root(init->fs, &root);
	task_unlock(init);
	put_task_struct(init);
	if (!f) {
		f = file_open_root(&root, name, O_RDONLY, 0);
		path_put(&root);
	}
	if (IS_ERR(f)) {
		pr_warn_once("cannot read /%s (%ld): late kill for processes without PR_MCE_KILL\n",
			     name, PTR_ERR(f));
		return false;
	}
	n = kernel_read(f, buf, sizeof(buf) - 1, &pos);
	fput(f);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return !kstrtoint(strim(buf), 0, &val) && val;
}

/*
 * The thread to send the early (BUS_MCEERR_AO) signal to, or NULL for late
 * kill, as mm/memory-failure.c decides (find_early_kill_thread()): a thread
 * that set PR_MCE_KILL follows its own choice, the others
 * vm.memory_failure_early_kill. A late-kill process gets BUS_MCEERR_AR when
 * it touches the page. Under RCU.
 */
static struct task_struct *nvgrace_early_thread(struct task_struct *p,
						bool sysctl_early)
{
	struct task_struct *t;

	for_each_thread(p, t) {
		if (t->flags & PF_MCE_PROCESS) {
			if (t->flags & PF_MCE_EARLY)
				return t;
		} else if (sysctl_early) {
			return t;
		}
	}
	return NULL;
}

/* A process mapping the poisoned page, to be signalled. */
struct nvgrace_poison_victim {
	struct list_head list;
	struct mm_struct *mm;		/* mmgrab()bed: compared only */
	unsigned long addr;
	struct task_struct *task;
};

/* One poisoned PFN's visit of the range's VMAs. */
struct nvgrace_poison_visit {
	struct nvgrace_pfn_space *space;
	unsigned long pfn;
	const struct mm_struct *signalled;
	bool do_zap;
	bool sysctl_early;
	struct list_head victims;
};

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
/*
 * A fault point for the victim allocation below, so that a test can make it
 * fail in the worker, which no task filter of failslab reaches:
 * /sys/kernel/debug/nvgrace-poison/fail_victim_alloc/ (the kernel's
 * fault-injection attributes: probability, interval, times, ...). Off until
 * probability is set; only in kernels built with fault injection.
 */
static DECLARE_FAULT_ATTR(nvgrace_fail_victim);

void nvgrace_poison_handler_debugfs(struct dentry *dir)
{
	fault_create_debugfs_attr("fail_victim_alloc", dir, &nvgrace_fail_victim);
}
#endif

static struct nvgrace_poison_victim *nvgrace_poison_victim_alloc(void)
{
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	if (should_fail(&nvgrace_fail_victim,
			sizeof(struct nvgrace_poison_victim)))
		return NULL;
#endif
	return kzalloc_obj(struct nvgrace_poison_victim, GFP_KERNEL);
}

/*
 * No victim could be allocated for @mm: signal its process now, from the
 * walk, so that no early-kill process loses its BUS_MCEERR_AO to an
 * allocation failure. Mainline's collect_procs_pfn() (mm/memory-failure.c,
 * 6.19+) allocates its entries with GFP_ATOMIC under i_mmap_rwsem and RCU
 * and, when that fails, logs "Unable to kill proc" and signals nobody; its
 * collect_procs_file() and _anon() lose the process the same way. Here the
 * walk holds only a sleeping lock (i_mmap_rwsem), and
 * send_sig_mceerr() neither sleeps nor takes any of them: it takes the
 * target's siglock (irqsave) and allocates the siginfo with GFP_ATOMIC (if
 * that fails, the kernel still delivers the SIGBUS, without its info). The
 * price, on this rare path only: a walk of the process list under RCU with
 * the walk's locks held, as mainline does for every report.
 */
static void nvgrace_poison_signal_now(struct nvgrace_poison_visit *w,
				      struct mm_struct *mm, unsigned long addr)
{
	struct task_struct *p, *t = NULL;
	int ret;

	rcu_read_lock();
	for_each_process(p) {
		if (READ_ONCE(p->mm) != mm)
			continue;
		t = nvgrace_early_thread(p, w->sysctl_early);
		if (t)
			break;
	}
	if (t) {
		pr_err("pfn %#lx: no memory to defer it, sending SIGBUS (BUS_MCEERR_AO) to %s:%d now, address %#lx\n",
		       w->pfn, t->comm, task_pid_nr(t), addr);
		ret = send_sig_mceerr(BUS_MCEERR_AO, (void __user *)addr,
				      PAGE_SHIFT, t);
		if (ret < 0)
			pr_err("pfn %#lx: cannot signal %s:%d: %d\n",
			       w->pfn, t->comm, task_pid_nr(t), ret);
		else
			atomic_long_inc(&nvgrace_poison_nr_signals);
	}
	rcu_read_unlock();
}

/*
 * One VMA that may map the PFN, with its i_mmap lock held: zap the
 * page's block when zapping, and note the process to be signalled once the
 * locks are dropped (or signal it now if that note cannot be allocated).
 * The mm is grabbed so that comparing it with the processes' later cannot
 * match a new mm at the same address.
 */
static void nvgrace_poison_visit_vma(struct vm_area_struct *vma, void *arg)
{
	struct nvgrace_poison_visit *w = arg;
	struct nvgrace_poison_victim *v;
	unsigned long addr;
	pgoff_t pgoff;

	if (w->space->pfn_to_vma_pgoff(vma, w->pfn, &pgoff))
		return;
	if (pgoff < vma->vm_pgoff)
		return;
	addr = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
	if (addr < vma->vm_start || addr >= vma->vm_end)
		return;

	if (w->do_zap)
		nvgrace_poison_zap(vma, addr);

	if (vma->vm_mm == w->signalled)
		return;
	v = nvgrace_poison_victim_alloc();
	if (!v) {
		nvgrace_poison_signal_now(w, vma->vm_mm, addr);
		return;
	}
	mmgrab(vma->vm_mm);
	v->mm = vma->vm_mm;
	v->addr = addr;
	list_add_tail(&v->list, &w->victims);
}

/*
 * Every VMA of the range's mapping: the interval-tree helpers are not
 * exported, and the driver's callback decides which VMAs map the PFN. The
 * i_mmap lock keeps each VMA and its page tables (munmap() unlinks the VMA
 * from the tree under it before freeing them).
 */
static void nvgrace_poison_walk_mapping(struct nvgrace_pfn_space *space,
					struct nvgrace_poison_visit *w)
{
	struct address_space *mapping = space->mapping;
	struct rb_node *rb;

	i_mmap_lock_read(mapping);
	for (rb = rb_first_cached(&mapping->i_mmap); rb; rb = rb_next(rb))
		nvgrace_poison_visit_vma(rb_entry(rb, struct vm_area_struct,
						  shared.rb), w);
	i_mmap_unlock_read(mapping);
}

/*
 * Handle a recorded poisoned PFN of @space (its work, process context):
 * wait out faults that checked before the record, zap the page out of every
 * mapping when nvgrace_poison_zaps(), and signal every early-kill process
 * that maps it except the one in @signalled (the kernel signalled it).
 *
 * Locks, in order, none held by the caller: @space's fault_lock for write
 * for an instant, released before anything else; then the VMAs: the
 * mapping's i_mmap lock; no lock at all while signalling.
 */
void nvgrace_poison_handle(struct nvgrace_pfn_space *space, unsigned long pfn,
			   const struct mm_struct *signalled)
{
	struct nvgrace_poison_visit w = {
		.space = space,
		.pfn = pfn,
		.signalled = signalled,
		.do_zap = nvgrace_poison_zaps(),
		.victims = LIST_HEAD_INIT(w.victims),
	};
	struct nvgrace_poison_victim *v, *tmp;
	struct task_struct *p;

	/*
	 * Faults that checked before the record have mapped by now; later
	 * ones see the record and refuse the page, so the zap below leaves
	 * it unmapped for good.
	 */
	if (space->fault_lock && w.do_zap) {
		down_write(space->fault_lock);
		up_write(space->fault_lock);
	}
	w.sysctl_early = nvgrace_poison_sysctl_early_kill();

	nvgrace_poison_walk_mapping(space, &w);

	if (!list_empty(&w.victims)) {
		rcu_read_lock();
		for_each_process(p) {
			struct mm_struct *mm = READ_ONCE(p->mm);

			if (!mm)
				continue;
			list_for_each_entry(v, &w.victims, list) {
				struct task_struct *t;

				if (v->mm != mm || v->task)
					continue;
				t = nvgrace_early_thread(p, w.sysctl_early);
				if (t)
					v->task = get_task_struct(t);
			}
		}
		rcu_read_unlock();
	}

	list_for_each_entry_safe(v, tmp, &w.victims, list) {
		if (v->task) {
			int ret;

			pr_err("pfn %#lx: sending SIGBUS (BUS_MCEERR_AO) to %s:%d, address %#lx\n",
			       pfn, v->task->comm, task_pid_nr(v->task),
			       v->addr);
			ret = send_sig_mceerr(BUS_MCEERR_AO,
					      (void __user *)v->addr,
					      PAGE_SHIFT, v->task);
			if (ret < 0)
				pr_err("pfn %#lx: cannot signal %s:%d: %d\n",
				       pfn, v->task->comm,
				       task_pid_nr(v->task), ret);
			else
				atomic_long_inc(&nvgrace_poison_nr_signals);
			put_task_struct(v->task);
		}
		list_del(&v->list);
		mmdrop(v->mm);
		kfree(v);
	}
	if (!w.do_zap)
		pr_info_ratelimited("pfn %#lx: left mapped (zap=%s, no fixup_user_fault poison report in this kernel): new mappings and read/write are refused\n",
				    pfn, nvgrace_zap_names[READ_ONCE(zap)]);
}
