// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-poison: memory-failure routing for device-memory PFN ranges.
 *
 * The range registry: registration refuses empty, inverted, incomplete and
 * overlapping ranges, and lookups find the range that owns a PFN. The ranges
 * are kept in an rbtree ordered by first PFN; since they never overlap, the
 * owner of a PFN is the last range starting at or before it.
 *
 * The handling path, the same for every event source (sources.c) and for the
 * debugfs injection (iface.c):
 *
 *  1. nvgrace_poison_report(), callable in any context (the GHES notifier
 *     runs in IRQ context, the memory_failure tracepoint with preemption
 *     disabled): find the range, record the PFN in the range's sorted record
 *     table, marked pending, and queue the range's work. The table is
 *     allocated at the first registration (max_records entries), so a
 *     report never allocates: none is lost to an allocation failure. A
 *     report past the bound is counted and logged, and the range stays in
 *     use. From here on nvgrace_poison_check() refuses the PFN.
 *  2. The range's work (process context, no global lock held): wait out
 *     faults that checked before the record (the driver's fault_lock), then
 *     walk the mapping's VMAs, keep those for which the driver's
 *     pfn_to_vma_pgoff() says they map the PFN, zap the huge-aligned block
 *     around the page in each when zapping is safe (see nvgrace_poison_zaps())
 *     and send SIGBUS BUS_MCEERR_AO with the page's address to every
 *     early-kill process mapping it (vm.memory_failure_early_kill,
 *     prctl(PR_MCE_KILL)). Each range has its own work item on an unbound
 *     workqueue: a device whose fault_lock is held through a long readiness
 *     wait delays only its own poison handling.
 *
 * Records survive nvgrace_poison_unregister_keep() (device close): the next
 * user of the device is refused the known-bad pages too. They go with
 * nvgrace_poison_unregister() (driver unbind) or nvgrace_poison_clear().
 *
 * Locks: nvgrace_poison_lock (mutex) serialises registration and the debug
 * listings, never held while waiting for a device; nvgrace_poison_tree_lock
 * (irq-safe spinlock) protects the tree for lookups in atomic context; each
 * range's lock (irq-safe, nested inside the tree lock) protects its records.
 * Only the spinlocks are taken by nvgrace_poison_check(), and neither is
 * held while zapping or signalling, so the driver's fault path (mmap_lock,
 * then memory_lock, then check) cannot deadlock with the work (fault_lock,
 * then i_mmap_rwsem).
 */
#define pr_fmt(fmt) "nvgrace-poison: " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/printk.h>
#include <linux/rbtree.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "internal.h"

/* nvgrace-probes: zap_special_vma_range fixup_user_fault_hwpoison */

#define NVGRACE_POISON_MAX_RECORDS	1048576

static unsigned int max_records = 4096;

static int nvgrace_param_set_records(const char *val,
				     const struct kernel_param *kp)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret || n < 1 || n > NVGRACE_POISON_MAX_RECORDS) {
		pr_err("%s must be a number from 1 to %u, not '%.*s'\n",
		       kp->name, NVGRACE_POISON_MAX_RECORDS,
		       (int)strcspn(val, "\n"), val);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = n;
	return 0;
}

static const struct kernel_param_ops nvgrace_records_ops = {
	.set = nvgrace_param_set_records,
	.get = param_get_uint,
};

module_param_cb(max_records, &nvgrace_records_ops, &max_records, 0444);
MODULE_PARM_DESC(max_records,
		 "poisoned PFNs recorded per range (1-1048576, default 4096), preallocated at the range's first registration; reports past it are counted, not recorded");

/*
 * Zapping a poisoned page out of the mappings makes the next touch fault. A
 * process touching it then gets BUS_MCEERR_AR from the fault handler's
 * VM_FAULT_HWPOISON, but KVM refaults through fixup_user_fault(), which
 * turns VM_FAULT_HWPOISON into -EFAULT unless the kernel has the companion
 * patch 0006 (FIXUP_USER_FAULT_HWPOISON): KVM_RUN would fail and the VMM
 * would stop the VM for good. So by default pages are zapped only on such
 * kernels; elsewhere they stay mapped, as mainline's in-tree driver leaves
 * them, and only new mappings and read()/write() are refused.
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

static DEFINE_MUTEX(nvgrace_poison_lock);
static DEFINE_SPINLOCK(nvgrace_poison_tree_lock);
static struct rb_root nvgrace_poison_ranges = RB_ROOT;
static unsigned int nvgrace_poison_ranges_nr;
static struct workqueue_struct *nvgrace_poison_wq;
static DECLARE_WAIT_QUEUE_HEAD(nvgrace_poison_users_wq);

static void nvgrace_poison_work_fn(struct work_struct *work);

atomic_long_t nvgrace_poison_nr_events[NVGRACE_POISON_SRC_NR];
atomic_long_t nvgrace_poison_nr_signals;
atomic_long_t nvgrace_poison_nr_dropped;

static const char *const nvgrace_poison_src_names[NVGRACE_POISON_SRC_NR] = {
	[NVGRACE_POISON_SRC_INJECT] = "inject",
	[NVGRACE_POISON_SRC_NATIVE] = "native",
	[NVGRACE_POISON_SRC_GHES] = "ghes",
};

const char *nvgrace_poison_src_name(enum nvgrace_poison_source src)
{
	return src < NVGRACE_POISON_SRC_NR ? nvgrace_poison_src_names[src] : "?";
}

/* The registered range containing @pfn, or NULL. Caller holds a lock. */
static struct nvgrace_pfn_space *nvgrace_poison_find(unsigned long pfn)
{
	struct rb_node *n = nvgrace_poison_ranges.rb_node;
	struct nvgrace_pfn_space *best = NULL;

	while (n) {
		struct nvgrace_pfn_space *s =
			rb_entry(n, struct nvgrace_pfn_space, node);

		if (pfn < s->pfn_first) {
			n = n->rb_left;
		} else {
			best = s;
			n = n->rb_right;
		}
	}
	if (best && pfn <= best->pfn_last)
		return best;
	return NULL;
}

/* Does [first, last] intersect a registered range? Caller holds a lock. */
static bool nvgrace_poison_overlaps(unsigned long first, unsigned long last)
{
	struct rb_node *n = nvgrace_poison_ranges.rb_node;

	while (n) {
		struct nvgrace_pfn_space *s =
			rb_entry(n, struct nvgrace_pfn_space, node);

		if (last < s->pfn_first)
			n = n->rb_left;
		else if (first > s->pfn_last)
			n = n->rb_right;
		else
			return true;
	}
	return false;
}

/* Index of the first record >= @pfn. Caller holds space->lock. */
static unsigned int nvgrace_poison_lower_bound(struct nvgrace_pfn_space *space,
					       unsigned long pfn)
{
	unsigned int lo = 0, hi = space->nr_recs;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (space->recs[mid].pfn < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Record @pfn in @space, pending. Returns 0 when newly recorded,
 * -EHWPOISON when it was already recorded, -ENOSPC when the table is full.
 * Caller holds space->lock; may run in atomic context; never allocates.
 */
static int nvgrace_poison_record(struct nvgrace_pfn_space *space,
				 unsigned long pfn,
				 enum nvgrace_poison_source src,
				 const struct mm_struct *signalled)
{
	unsigned int i = nvgrace_poison_lower_bound(space, pfn);
	struct nvgrace_poison_rec *r;

	if (i < space->nr_recs && space->recs[i].pfn == pfn)
		return -EHWPOISON;
	if (space->nr_recs >= space->cap_recs) {
		space->nr_dropped++;
		return -ENOSPC;
	}
	memmove(&space->recs[i + 1], &space->recs[i],
		(space->nr_recs - i) * sizeof(*space->recs));
	r = &space->recs[i];
	r->pfn = pfn;
	r->src = src;
	r->signalled = signalled;
	r->pending = true;
	space->nr_pending++;
	WRITE_ONCE(space->nr_recs, space->nr_recs + 1);
	return 0;
}

/*
 * Report @pfn; on success with @wait, return with a reference on the range
 * in *@waitp (the caller flushes its work, then drops the reference).
 */
static int nvgrace_poison_do_report(unsigned long pfn,
				    enum nvgrace_poison_source src,
				    const struct mm_struct *signalled,
				    struct nvgrace_pfn_space **waitp)
{
	struct nvgrace_pfn_space *space;
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&nvgrace_poison_tree_lock, flags);
	space = nvgrace_poison_find(pfn);
	if (!space) {
		ret = -ENXIO;
		goto out;
	}
	spin_lock(&space->lock);
	ret = nvgrace_poison_record(space, pfn, src, signalled);
	spin_unlock(&space->lock);
	if (ret == -ENOSPC) {
		atomic_long_inc(&nvgrace_poison_nr_dropped);
		pr_err_ratelimited("range %#lx-%#lx: %u poisoned pages recorded (max_records), pfn %#lx not recorded: mappings and signals unchanged, the page is not refused\n",
				   space->pfn_first, space->pfn_last,
				   space->cap_recs, pfn);
		goto out;
	}
	if (ret)
		goto out;

	atomic_long_inc(&nvgrace_poison_nr_events[src]);
	queue_work(nvgrace_poison_wq, &space->work);
	if (waitp) {
		atomic_inc(&space->users);
		*waitp = space;
	}
out:
	spin_unlock_irqrestore(&nvgrace_poison_tree_lock, flags);
	return ret;
}

/**
 * nvgrace_poison_report_mm() - report a memory failure on @pfn
 * @pfn: page frame number
 * @src: where the report came from
 * @signalled: the mm of a process the kernel already signalled for this
 *	       failure (native path), or NULL
 *
 * Any context; never allocates. Return: 0 when the PFN was recorded and its
 * handling queued, -ENXIO when no registered range contains it, -EHWPOISON
 * when it was already poisoned, -ENOSPC when its range already holds
 * max_records poisoned pages.
 */
int nvgrace_poison_report_mm(unsigned long pfn, enum nvgrace_poison_source src,
			     const struct mm_struct *signalled)
{
	return nvgrace_poison_do_report(pfn, src, signalled, NULL);
}

/**
 * nvgrace_poison_report() - report a memory failure on a registered PFN
 * @pfn: page frame number
 * @src: where the report came from
 *
 * Records @pfn and queues its handling (zap, SIGBUS); callable in any
 * context. nvgrace_poison_flush() waits for the handling.
 *
 * Return: 0, -ENXIO when no registered range contains @pfn, -EHWPOISON when
 * it is already poisoned, -ENOSPC when its range is full (max_records).
 */
int nvgrace_poison_report(unsigned long pfn, enum nvgrace_poison_source src)
{
	return nvgrace_poison_do_report(pfn, src, NULL, NULL);
}
EXPORT_SYMBOL_GPL(nvgrace_poison_report);

/*
 * Report @pfn and wait until its range's work has handled it, without
 * waiting for other ranges. Process context.
 */
int nvgrace_poison_report_wait(unsigned long pfn,
			       enum nvgrace_poison_source src)
{
	struct nvgrace_pfn_space *space = NULL;
	int ret;

	ret = nvgrace_poison_do_report(pfn, src, NULL, &space);
	if (space) {
		flush_work(&space->work);
		if (atomic_dec_and_test(&space->users))
			wake_up_all(&nvgrace_poison_users_wq);
	}
	return ret;
}

/**
 * nvgrace_poison_flush() - wait until every queued report has been handled
 */
void nvgrace_poison_flush(void)
{
	flush_workqueue(nvgrace_poison_wq);
}
EXPORT_SYMBOL_GPL(nvgrace_poison_flush);

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

/* A process mapping the poisoned page, to be signalled. */
struct nvgrace_poison_victim {
	struct list_head list;
	struct mm_struct *mm;		/* compared only */
	unsigned long addr;
	struct task_struct *task;
};

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

static void nvgrace_poison_handle(struct nvgrace_pfn_space *space,
				  unsigned long pfn,
				  const struct mm_struct *signalled)
{
	struct address_space *mapping = space->mapping;
	struct nvgrace_poison_victim *v, *tmp;
	bool do_zap = nvgrace_poison_zaps();
	bool sysctl_early;
	struct task_struct *p;
	struct rb_node *rb;
	LIST_HEAD(victims);

	/* Faults that checked before the record have mapped by now. */
	if (space->fault_lock && do_zap) {
		down_write(space->fault_lock);
		up_write(space->fault_lock);
	}
	sysctl_early = nvgrace_poison_sysctl_early_kill();

	i_mmap_lock_read(mapping);
	/*
	 * Every VMA of the mapping: the interval-tree helpers are not
	 * exported, and the driver's callback decides which VMAs map the PFN
	 * (on kernels without a per-device inode the mapping is shared by
	 * every anonymous-inode file).
	 */
	for (rb = rb_first_cached(&mapping->i_mmap); rb; rb = rb_next(rb)) {
		struct vm_area_struct *vma =
			rb_entry(rb, struct vm_area_struct, shared.rb);
		unsigned long addr;
		pgoff_t pgoff;

		if (space->pfn_to_vma_pgoff(vma, pfn, &pgoff))
			continue;
		if (pgoff < vma->vm_pgoff)
			continue;
		addr = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
		if (addr < vma->vm_start || addr >= vma->vm_end)
			continue;

		if (do_zap)
			nvgrace_poison_zap(vma, addr);

		if (vma->vm_mm == signalled)
			continue;
		v = kzalloc_obj(*v, GFP_KERNEL);
		if (!v) {
			pr_err("pfn %#lx: out of memory, a process mapping it is not signalled\n",
			       pfn);
			continue;
		}
		v->mm = vma->vm_mm;
		v->addr = addr;
		list_add_tail(&v->list, &victims);
	}

	if (!list_empty(&victims)) {
		rcu_read_lock();
		for_each_process(p) {
			struct mm_struct *mm = READ_ONCE(p->mm);

			if (!mm)
				continue;
			list_for_each_entry(v, &victims, list) {
				struct task_struct *t;

				if (v->mm != mm || v->task)
					continue;
				t = nvgrace_early_thread(p, sysctl_early);
				if (t)
					v->task = get_task_struct(t);
			}
		}
		rcu_read_unlock();
	}
	i_mmap_unlock_read(mapping);

	list_for_each_entry_safe(v, tmp, &victims, list) {
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
		kfree(v);
	}
	if (!do_zap)
		pr_info_ratelimited("pfn %#lx: left mapped (zap=%s, no fixup_user_fault poison report in this kernel): new mappings and read/write are refused\n",
				    pfn, nvgrace_zap_names[READ_ONCE(zap)]);
}

/*
 * The range's work: handle its pending records one by one. The range stays
 * registered (or its unregistration waits in flush_work()) while this runs.
 */
static void nvgrace_poison_work_fn(struct work_struct *work)
{
	struct nvgrace_pfn_space *space =
		container_of(work, struct nvgrace_pfn_space, work);
	const struct mm_struct *signalled;
	unsigned long flags, pfn;
	unsigned int i;

	for (;;) {
		spin_lock_irqsave(&space->lock, flags);
		for (i = 0; space->nr_pending && i < space->nr_recs; i++)
			if (space->recs[i].pending)
				break;
		if (!space->nr_pending || i == space->nr_recs) {
			spin_unlock_irqrestore(&space->lock, flags);
			return;
		}
		space->recs[i].pending = false;
		space->nr_pending--;
		pfn = space->recs[i].pfn;
		signalled = space->recs[i].signalled;
		spin_unlock_irqrestore(&space->lock, flags);
		nvgrace_poison_handle(space, pfn, signalled);
	}
}

/* First registration of @space: its lock, record table and work. */
static int nvgrace_poison_space_setup(struct nvgrace_pfn_space *space)
{
	struct nvgrace_poison_rec *recs;
	unsigned long flags;
	unsigned int cap;

	if (space->ready)
		return 0;
	/* A range never holds more poisoned pages than it has pages. */
	cap = max_records;
	if (space->pfn_last - space->pfn_first < cap)
		cap = space->pfn_last - space->pfn_first + 1;
	recs = kvcalloc(cap, sizeof(*recs), GFP_KERNEL);
	if (!recs)
		return -ENOMEM;
	spin_lock_init(&space->lock);
	spin_lock_irqsave(&space->lock, flags);
	space->recs = recs;
	space->cap_recs = cap;
	space->nr_recs = 0;
	space->nr_pending = 0;
	space->nr_dropped = 0;
	spin_unlock_irqrestore(&space->lock, flags);
	INIT_WORK(&space->work, nvgrace_poison_work_fn);
	atomic_set(&space->users, 0);
	WRITE_ONCE(space->ready, true);
	return 0;
}

/**
 * nvgrace_poison_register() - register a PFN range for poison routing
 * @space: the range; @pfn_first, @pfn_last, @mapping and @pfn_to_vma_pgoff
 *	   must be set (@fault_lock optionally); zeroed before its first
 *	   registration. It must stay allocated until
 *	   nvgrace_poison_unregister().
 *
 * The first registration allocates the range's record table (max_records
 * entries, or one per page of a smaller range). A range unregistered with
 * nvgrace_poison_unregister_keep() and registered again keeps its records:
 * its poisoned pages stay refused.
 *
 * On kernels with register_pfn_address_space() the range is registered
 * there too, so the kernel's memory_failure() reaches it.
 *
 * Return: 0, -EINVAL for an incomplete or inverted range or one that is
 * already registered, -EBUSY when the range overlaps a registered one,
 * -ENOMEM when its record table cannot be allocated.
 */
int nvgrace_poison_register(struct nvgrace_pfn_space *space)
{
	struct rb_node **link = &nvgrace_poison_ranges.rb_node, *parent = NULL;
	unsigned long flags;
	int ret = 0;

	if (!space || !space->mapping || !space->pfn_to_vma_pgoff)
		return -EINVAL;
	if (space->pfn_last < space->pfn_first)
		return -EINVAL;

	mutex_lock(&nvgrace_poison_lock);
	if (space->registered) {
		ret = -EINVAL;
		goto out;
	}
	if (nvgrace_poison_overlaps(space->pfn_first, space->pfn_last)) {
		ret = -EBUSY;
		goto out;
	}
	ret = nvgrace_poison_space_setup(space);
	if (ret)
		goto out;

	ret = nvgrace_poison_native_register(space);
	if (ret)
		goto out;

	while (*link) {
		struct nvgrace_pfn_space *s =
			rb_entry(*link, struct nvgrace_pfn_space, node);

		parent = *link;
		if (space->pfn_first < s->pfn_first)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	spin_lock_irqsave(&nvgrace_poison_tree_lock, flags);
	rb_link_node(&space->node, parent, link);
	rb_insert_color(&space->node, &nvgrace_poison_ranges);
	nvgrace_poison_ranges_nr++;
	spin_unlock_irqrestore(&nvgrace_poison_tree_lock, flags);
	WRITE_ONCE(space->registered, true);
out:
	mutex_unlock(&nvgrace_poison_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(nvgrace_poison_register);

/**
 * nvgrace_poison_unregister_keep() - unregister a range, keep its records
 * @space: the range; one that is not registered (or NULL) is a no-op.
 *
 * Reports on the range's PFNs are no longer accepted; those already
 * recorded are handled before this returns and stay recorded, so that
 * nvgrace_poison_check() still refuses them and a later
 * nvgrace_poison_register() of @space starts with them. May sleep; waits
 * only for this range's work, with no global lock held.
 */
void nvgrace_poison_unregister_keep(struct nvgrace_pfn_space *space)
{
	unsigned long flags;

	if (!space)
		return;

	mutex_lock(&nvgrace_poison_lock);
	if (!space->registered) {
		mutex_unlock(&nvgrace_poison_lock);
		return;
	}
	nvgrace_poison_native_unregister(space);
	spin_lock_irqsave(&nvgrace_poison_tree_lock, flags);
	rb_erase(&space->node, &nvgrace_poison_ranges);
	RB_CLEAR_NODE(&space->node);
	nvgrace_poison_ranges_nr--;
	spin_unlock_irqrestore(&nvgrace_poison_tree_lock, flags);
	WRITE_ONCE(space->registered, false);
	mutex_unlock(&nvgrace_poison_lock);

	/* Nothing queues the work any more: let it finish, then the waiters. */
	flush_work(&space->work);
	wait_event(nvgrace_poison_users_wq, !atomic_read(&space->users));
}
EXPORT_SYMBOL_GPL(nvgrace_poison_unregister_keep);

/**
 * nvgrace_poison_unregister() - remove a range registered with
 *				 nvgrace_poison_register() and its records
 * @space: the range, registered or not (or NULL): error and removal paths
 *	   may call this unconditionally.
 *
 * Drops the range's poison records and frees its table; may sleep.
 */
void nvgrace_poison_unregister(struct nvgrace_pfn_space *space)
{
	struct nvgrace_poison_rec *recs;
	unsigned long flags;

	if (!space)
		return;
	nvgrace_poison_unregister_keep(space);

	mutex_lock(&nvgrace_poison_lock);
	if (!space->ready) {
		mutex_unlock(&nvgrace_poison_lock);
		return;
	}
	spin_lock_irqsave(&space->lock, flags);
	recs = space->recs;
	space->recs = NULL;
	WRITE_ONCE(space->nr_recs, 0);
	space->cap_recs = 0;
	space->nr_pending = 0;
	space->nr_dropped = 0;
	spin_unlock_irqrestore(&space->lock, flags);
	WRITE_ONCE(space->ready, false);
	mutex_unlock(&nvgrace_poison_lock);
	kvfree(recs);
}
EXPORT_SYMBOL_GPL(nvgrace_poison_unregister);

/**
 * nvgrace_poison_clear() - forget the poisoned pages of @space
 * @space: a range, registered or not
 *
 * For an operator who knows the memory was repaired or replaced (the
 * driver's "poisoned" sysfs attribute). Reports already recorded are
 * handled first. Pages stay mapped where they are; new mappings get them
 * again. Process context.
 *
 * Return: the number of records dropped.
 */
unsigned int nvgrace_poison_clear(struct nvgrace_pfn_space *space)
{
	unsigned long flags;
	unsigned int n;

	if (!space || !READ_ONCE(space->ready))
		return 0;
	flush_work(&space->work);
	spin_lock_irqsave(&space->lock, flags);
	n = space->nr_recs;
	WRITE_ONCE(space->nr_recs, 0);
	space->nr_pending = 0;
	space->nr_dropped = 0;
	spin_unlock_irqrestore(&space->lock, flags);
	if (n)
		pr_info("range %#lx-%#lx: %u poison records cleared\n",
			space->pfn_first, space->pfn_last, n);
	return n;
}
EXPORT_SYMBOL_GPL(nvgrace_poison_clear);

/**
 * nvgrace_poison_pfn_registered() - is @pfn inside a registered range?
 * @pfn: page frame number
 */
bool nvgrace_poison_pfn_registered(unsigned long pfn)
{
	unsigned long flags;
	bool found;

	spin_lock_irqsave(&nvgrace_poison_tree_lock, flags);
	found = nvgrace_poison_find(pfn);
	spin_unlock_irqrestore(&nvgrace_poison_tree_lock, flags);
	return found;
}
EXPORT_SYMBOL_GPL(nvgrace_poison_pfn_registered);

/**
 * nvgrace_poison_check() - does [@pfn, @pfn + @nr_pages) hold a poisoned PFN?
 * @space: a range, registered or not, (or NULL: nothing is poisoned)
 * @pfn: first PFN to test
 * @nr_pages: number of PFNs
 *
 * Called by the driver before it maps or copies device memory: from its
 * fault handler (a poisoned PFN is refused, a huge mapping containing one
 * falls back to smaller ones) and from read()/write() (-EIO). Never sleeps;
 * takes only the range's spinlock.
 */
bool nvgrace_poison_check(struct nvgrace_pfn_space *space, unsigned long pfn,
			  unsigned long nr_pages)
{
	unsigned long flags;
	unsigned int i;
	bool hit;

	if (!space || !nr_pages || !READ_ONCE(space->nr_recs))
		return false;

	spin_lock_irqsave(&space->lock, flags);
	i = nvgrace_poison_lower_bound(space, pfn);
	hit = i < space->nr_recs && space->recs[i].pfn - pfn < nr_pages;
	spin_unlock_irqrestore(&space->lock, flags);
	return hit;
}
EXPORT_SYMBOL_GPL(nvgrace_poison_check);

/**
 * nvgrace_poison_check_fault() - must a fault refuse [@pfn, @pfn + @nr_pages)?
 * @space: a range (or NULL)
 * @pfn: first PFN the fault would map
 * @nr_pages: number of PFNs
 * @fault_flags: the fault's vmf->flags
 *
 * A user-mode access to a poisoned page is refused (the caller returns
 * VM_FAULT_HWPOISON: BUS_MCEERR_AR for the process). So is any other fault
 * (KVM's fixup_user_fault(), a kernel copy from user memory) where
 * nvgrace_poison_zaps(); where it does not, such a fault is served as
 * mainline serves it, since refusing it would turn KVM_RUN into EFAULT
 * and stop the VM: on hardware the access then raises the memory error
 * itself.
 */
bool nvgrace_poison_check_fault(struct nvgrace_pfn_space *space,
				unsigned long pfn, unsigned long nr_pages,
				unsigned int fault_flags)
{
	if (!nvgrace_poison_check(space, pfn, nr_pages))
		return false;
	return (fault_flags & FAULT_FLAG_USER) || nvgrace_poison_zaps();
}
EXPORT_SYMBOL_GPL(nvgrace_poison_check_fault);

/**
 * nvgrace_poison_count() - number of poisoned PFNs recorded in @space
 * @space: a range
 */
unsigned int nvgrace_poison_count(struct nvgrace_pfn_space *space)
{
	return space ? READ_ONCE(space->nr_recs) : 0;
}
EXPORT_SYMBOL_GPL(nvgrace_poison_count);

/**
 * nvgrace_poison_pfns() - the poisoned PFNs recorded in @space
 * @space: a range, registered or not
 * @pfns: where to copy them, in ascending order
 * @max: room in @pfns (0 to only count)
 * @dropped: set to the number of reports that found the table full
 *
 * One consistent snapshot, taken under the range's lock. The driver formats
 * it for its own sysfs. A range that was never registered has no records.
 *
 * Return: how many PFNs are recorded (at most @max of them copied).
 */
unsigned int nvgrace_poison_pfns(struct nvgrace_pfn_space *space,
				 unsigned long *pfns, unsigned int max,
				 unsigned long *dropped)
{
	unsigned long flags;
	unsigned int i, nr;

	*dropped = 0;
	/* The lock is set up by the first registration. */
	if (!space || !READ_ONCE(space->ready))
		return 0;
	spin_lock_irqsave(&space->lock, flags);
	nr = space->nr_recs;
	for (i = 0; i < nr && i < max; i++)
		pfns[i] = space->recs[i].pfn;
	*dropped = space->nr_dropped;
	spin_unlock_irqrestore(&space->lock, flags);
	return nr;
}
EXPORT_SYMBOL_GPL(nvgrace_poison_pfns);

/*
 * The registered range containing @pfn, or NULL. The caller must keep the
 * range registered by other means (the native callback runs under the
 * kernel's pfn_space_lock, which unregistration takes).
 */
struct nvgrace_pfn_space *nvgrace_poison_space_of(unsigned long pfn)
{
	struct nvgrace_pfn_space *space;
	unsigned long flags;

	spin_lock_irqsave(&nvgrace_poison_tree_lock, flags);
	space = nvgrace_poison_find(pfn);
	spin_unlock_irqrestore(&nvgrace_poison_tree_lock, flags);
	return space;
}

unsigned int nvgrace_poison_nr_ranges(void)
{
	return READ_ONCE(nvgrace_poison_ranges_nr);
}

unsigned long nvgrace_poison_nr_poisoned(void)
{
	unsigned long flags, n = 0;
	struct rb_node *rb;

	spin_lock_irqsave(&nvgrace_poison_tree_lock, flags);
	for (rb = rb_first(&nvgrace_poison_ranges); rb; rb = rb_next(rb))
		n += rb_entry(rb, struct nvgrace_pfn_space, node)->nr_recs;
	spin_unlock_irqrestore(&nvgrace_poison_tree_lock, flags);
	return n;
}

/* debugfs "ranges": one line per range. Under the mutex: may sleep. */
void nvgrace_poison_seq_ranges(struct seq_file *m)
{
	struct rb_node *rb;

	mutex_lock(&nvgrace_poison_lock);
	for (rb = rb_first(&nvgrace_poison_ranges); rb; rb = rb_next(rb)) {
		struct nvgrace_pfn_space *s =
			rb_entry(rb, struct nvgrace_pfn_space, node);

		seq_printf(m, "%#lx-%#lx poisoned=%u dropped=%lu\n",
			   s->pfn_first, s->pfn_last, READ_ONCE(s->nr_recs),
			   READ_ONCE(s->nr_dropped));
	}
	mutex_unlock(&nvgrace_poison_lock);
}

/* debugfs "poisoned": one line per poisoned PFN with its source. */
void nvgrace_poison_seq_poisoned(struct seq_file *m)
{
	struct rb_node *rb;
	unsigned long flags;
	unsigned int i;

	mutex_lock(&nvgrace_poison_lock);
	for (rb = rb_first(&nvgrace_poison_ranges); rb; rb = rb_next(rb)) {
		struct nvgrace_pfn_space *s =
			rb_entry(rb, struct nvgrace_pfn_space, node);

		/*
		 * Records go away only under the mutex; a concurrent report
		 * may shift them, which this debug listing tolerates.
		 */
		for (i = 0; i < READ_ONCE(s->nr_recs); i++) {
			struct nvgrace_poison_rec r;

			spin_lock_irqsave(&s->lock, flags);
			if (i >= s->nr_recs) {
				spin_unlock_irqrestore(&s->lock, flags);
				break;
			}
			r = s->recs[i];
			spin_unlock_irqrestore(&s->lock, flags);
			seq_printf(m, "%#lx %s\n", r.pfn,
				   nvgrace_poison_src_name(r.src));
		}
	}
	mutex_unlock(&nvgrace_poison_lock);
}

static int __init nvgrace_poison_init(void)
{
	int ret;

	/* Unbound: one range's work may wait long for its device. */
	nvgrace_poison_wq = alloc_workqueue("nvgrace_poison", WQ_UNBOUND, 0);
	if (!nvgrace_poison_wq)
		return -ENOMEM;
	ret = nvgrace_poison_iface_init();
	if (ret)
		goto out_wq;
	ret = nvgrace_poison_sources_init();
	if (ret)
		goto out_iface;
	pr_info("zap=%s: poisoned pages are %s\n", nvgrace_zap_names[zap],
		nvgrace_poison_zaps() ? "zapped out of mappings" :
		"left mapped (this kernel reports no poison from fixup_user_fault())");
	return 0;

out_iface:
	nvgrace_poison_iface_exit();
out_wq:
	destroy_workqueue(nvgrace_poison_wq);
	return ret;
}

static void __exit nvgrace_poison_exit(void)
{
	nvgrace_poison_sources_exit();
	nvgrace_poison_iface_exit();
	destroy_workqueue(nvgrace_poison_wq);
	/* Users hold a module reference while they have ranges registered. */
	WARN_ON(!RB_EMPTY_ROOT(&nvgrace_poison_ranges));
}

module_init(nvgrace_poison_init);
module_exit(nvgrace_poison_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Memory-failure routing for device memory without struct page");
MODULE_VERSION(NVGRACE_VERSION);
/* Build facts for modinfo (compat/gen-config.sh): see nvgrace-vfio doctor. */
MODULE_INFO(nvgrace_kernel, NVGRACE_BUILD_KERNEL);
MODULE_INFO(nvgrace_probes, NVGRACE_BUILD_PROBES);
MODULE_INFO(nvgrace_probes_absent, NVGRACE_BUILD_PROBES_ABSENT);
MODULE_INFO(nvgrace_features, NVGRACE_BUILD_FEATURES);
MODULE_INFO(nvgrace_features_lost, NVGRACE_BUILD_FEATURES_LOST);
