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
 *     disabled): find the range, record the PFN in the range's sorted
 *     record array (bounded by max_records), queue an event for the worker.
 *     From here on nvgrace_poison_check() refuses the PFN.
 *  2. The worker (process context, registry mutex held so the range cannot
 *     go away): wait out faults that checked before the record (the
 *     driver's fault_lock), then walk the mapping's VMAs, keep those for
 *     which the driver's pfn_to_vma_pgoff() says they map the PFN, zap the
 *     huge-aligned block around the page in each (later faults refill it at
 *     a smaller order, without the poisoned page), and send SIGBUS
 *     BUS_MCEERR_AO with the page's address to every process mapping it.
 *
 * Locks: nvgrace_poison_lock (mutex) serialises registration and the worker;
 * nvgrace_poison_tree_lock (irq-safe spinlock) protects the tree and the
 * event list for lookups in atomic context; each range's lock (irq-safe,
 * nested inside the tree lock) protects its records. Only the spinlocks are
 * taken by nvgrace_poison_check(), and neither is held while zapping or
 * signalling, so the driver's fault path (mmap_lock, then memory_lock, then
 * check) cannot deadlock with the worker (fault_lock, then i_mmap_rwsem).
 */
#define pr_fmt(fmt) "nvgrace-poison: " fmt

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/rbtree.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "internal.h"

/* nvgrace-probes: zap_special_vma_range */

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
		 "poisoned PFNs recorded per range (1-1048576, default 4096); past it the whole range is refused");

static DEFINE_MUTEX(nvgrace_poison_lock);
static DEFINE_SPINLOCK(nvgrace_poison_tree_lock);
static struct rb_root nvgrace_poison_ranges = RB_ROOT;
static unsigned int nvgrace_poison_ranges_nr;

/* A report waiting for the worker. */
struct nvgrace_poison_event {
	struct list_head list;
	struct nvgrace_pfn_space *space;
	unsigned long pfn;
	/* A process the kernel already signalled (never dereferenced). */
	const struct mm_struct *signalled;
};

static LIST_HEAD(nvgrace_poison_events);
static void nvgrace_poison_work_fn(struct work_struct *work);
static DECLARE_WORK(nvgrace_poison_work, nvgrace_poison_work_fn);

atomic_long_t nvgrace_poison_nr_events[NVGRACE_POISON_SRC_NR];
atomic_long_t nvgrace_poison_nr_signals;
static atomic_long_t nvgrace_poison_nr_lost;

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
 * Record @pfn in @space. Returns 0 when newly recorded (or, past
 * max_records, when the range went into overflow), -EHWPOISON when it was
 * already recorded. Caller holds space->lock; may run in atomic context.
 */
static int nvgrace_poison_record(struct nvgrace_pfn_space *space,
				 unsigned long pfn,
				 enum nvgrace_poison_source src)
{
	unsigned int i = nvgrace_poison_lower_bound(space, pfn);

	if (i < space->nr_recs && space->recs[i].pfn == pfn)
		return -EHWPOISON;

	if (space->nr_recs == space->cap_recs) {
		unsigned int cap = space->cap_recs ? 2 * space->cap_recs : 8;
		struct nvgrace_poison_rec *recs = NULL;

		cap = min(cap, max_records);
		if (cap > space->cap_recs)
			recs = krealloc(space->recs, cap * sizeof(*recs),
					GFP_ATOMIC);
		if (!recs) {
			if (!space->overflow)
				pr_err("range %#lx-%#lx: more than %u poisoned pages recorded, refusing the whole range\n",
				       space->pfn_first, space->pfn_last,
				       space->nr_recs);
			WRITE_ONCE(space->overflow, true);
			return 0;
		}
		space->recs = recs;
		space->cap_recs = cap;
	}
	memmove(&space->recs[i + 1], &space->recs[i],
		(space->nr_recs - i) * sizeof(*space->recs));
	space->recs[i].pfn = pfn;
	space->recs[i].src = src;
	WRITE_ONCE(space->nr_recs, space->nr_recs + 1);
	return 0;
}

/**
 * nvgrace_poison_report_mm() - report a memory failure on @pfn
 * @pfn: page frame number
 * @src: where the report came from
 * @signalled: the mm of a process the kernel already signalled for this
 *	       failure (native path), or NULL
 *
 * Any context. Return: 0 when the PFN was recorded and its handling queued,
 * -ENXIO when no registered range contains it, -EHWPOISON when it was
 * already poisoned.
 */
int nvgrace_poison_report_mm(unsigned long pfn, enum nvgrace_poison_source src,
			     const struct mm_struct *signalled)
{
	struct nvgrace_poison_event *ev;
	struct nvgrace_pfn_space *space;
	unsigned long flags;
	int ret;

	/* Allocated up front: the common case is a PFN of ours. */
	ev = kzalloc_obj(*ev, GFP_ATOMIC);

	spin_lock_irqsave(&nvgrace_poison_tree_lock, flags);
	space = nvgrace_poison_find(pfn);
	if (!space) {
		ret = -ENXIO;
		goto out;
	}
	spin_lock(&space->lock);
	ret = nvgrace_poison_record(space, pfn, src);
	spin_unlock(&space->lock);
	if (ret)
		goto out;

	atomic_long_inc(&nvgrace_poison_nr_events[src]);
	if (ev) {
		ev->space = space;
		ev->pfn = pfn;
		ev->signalled = signalled;
		list_add_tail(&ev->list, &nvgrace_poison_events);
		ev = NULL;
		queue_work(system_wq, &nvgrace_poison_work);
	} else {
		/* Recorded, so refused from now on, but mappings stay. */
		atomic_long_inc(&nvgrace_poison_nr_lost);
		pr_err_ratelimited("pfn %#lx: out of memory, existing mappings not zapped\n",
				   pfn);
	}
out:
	spin_unlock_irqrestore(&nvgrace_poison_tree_lock, flags);
	kfree(ev);
	return ret;
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
 * it is already poisoned.
 */
int nvgrace_poison_report(unsigned long pfn, enum nvgrace_poison_source src)
{
	return nvgrace_poison_report_mm(pfn, src, NULL);
}
EXPORT_SYMBOL_GPL(nvgrace_poison_report);

/**
 * nvgrace_poison_flush() - wait until every queued report has been handled
 */
void nvgrace_poison_flush(void)
{
	flush_work(&nvgrace_poison_work);
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
 * The thread to send the early (AO) signal to, or NULL when the process
 * asked for late kill (prctl PR_MCE_KILL_LATE): it then gets BUS_MCEERR_AR
 * when it touches the page. Unlike RAM, device memory has no replacement
 * page, so processes that chose no policy are killed early. Under RCU.
 */
static struct task_struct *nvgrace_poison_early_thread(struct task_struct *p)
{
	struct task_struct *t;
	bool late = false;

	for_each_thread(p, t) {
		if (t->flags & PF_MCE_PROCESS) {
			if (t->flags & PF_MCE_EARLY)
				return t;
			late = true;
		}
	}
	return late ? NULL : p;
}

static void nvgrace_poison_handle(struct nvgrace_poison_event *ev)
{
	struct nvgrace_pfn_space *space = ev->space;
	struct address_space *mapping = space->mapping;
	struct nvgrace_poison_victim *v, *tmp;
	struct task_struct *p;
	struct rb_node *rb;
	LIST_HEAD(victims);

	/* Faults that checked before the record have mapped by now. */
	if (space->fault_lock) {
		down_write(space->fault_lock);
		up_write(space->fault_lock);
	}

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

		if (space->pfn_to_vma_pgoff(vma, ev->pfn, &pgoff))
			continue;
		if (pgoff < vma->vm_pgoff)
			continue;
		addr = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
		if (addr < vma->vm_start || addr >= vma->vm_end)
			continue;

		nvgrace_poison_zap(vma, addr);

		if (vma->vm_mm == ev->signalled)
			continue;
		v = kzalloc_obj(*v, GFP_KERNEL);
		if (!v) {
			pr_err("pfn %#lx: out of memory, a process mapping it is not signalled\n",
			       ev->pfn);
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
				t = nvgrace_poison_early_thread(p);
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
			       ev->pfn, v->task->comm, task_pid_nr(v->task),
			       v->addr);
			ret = send_sig_mceerr(BUS_MCEERR_AO,
					      (void __user *)v->addr,
					      PAGE_SHIFT, v->task);
			if (ret < 0)
				pr_err("pfn %#lx: cannot signal %s:%d: %d\n",
				       ev->pfn, v->task->comm,
				       task_pid_nr(v->task), ret);
			else
				atomic_long_inc(&nvgrace_poison_nr_signals);
			put_task_struct(v->task);
		}
		list_del(&v->list);
		kfree(v);
	}
}

static void nvgrace_poison_work_fn(struct work_struct *work)
{
	struct nvgrace_poison_event *ev;
	unsigned long flags;

	mutex_lock(&nvgrace_poison_lock);
	for (;;) {
		spin_lock_irqsave(&nvgrace_poison_tree_lock, flags);
		ev = list_first_entry_or_null(&nvgrace_poison_events,
					      struct nvgrace_poison_event, list);
		if (ev)
			list_del(&ev->list);
		spin_unlock_irqrestore(&nvgrace_poison_tree_lock, flags);
		if (!ev)
			break;
		nvgrace_poison_handle(ev);
		kfree(ev);
	}
	mutex_unlock(&nvgrace_poison_lock);
}

/**
 * nvgrace_poison_register() - register a PFN range for poison routing
 * @space: the range; @pfn_first, @pfn_last, @mapping and @pfn_to_vma_pgoff
 *	   must be set (@fault_lock optionally). It must stay allocated until
 *	   unregistered.
 *
 * On kernels with register_pfn_address_space() the range is registered
 * there too, so the kernel's memory_failure() reaches it.
 *
 * Return: 0, -EINVAL for an incomplete or inverted range or one that is
 * already registered, -EBUSY when the range overlaps a registered one.
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
	spin_lock_init(&space->lock);
	space->recs = NULL;
	space->nr_recs = 0;
	space->cap_recs = 0;
	space->overflow = false;

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
 * nvgrace_poison_unregister() - remove a range registered with
 *				 nvgrace_poison_register()
 * @space: the range; unregistering one that is not registered (or NULL) is
 *	   a no-op, so error paths may call this unconditionally.
 *
 * Drops the range's poison records and its pending reports; may sleep.
 */
void nvgrace_poison_unregister(struct nvgrace_pfn_space *space)
{
	struct nvgrace_poison_event *ev, *tmp;
	struct nvgrace_poison_rec *recs;
	unsigned long flags;
	LIST_HEAD(drop);

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
	list_for_each_entry_safe(ev, tmp, &nvgrace_poison_events, list)
		if (ev->space == space)
			list_move(&ev->list, &drop);
	spin_lock(&space->lock);
	recs = space->recs;
	space->recs = NULL;
	WRITE_ONCE(space->nr_recs, 0);
	space->cap_recs = 0;
	WRITE_ONCE(space->overflow, false);
	spin_unlock(&space->lock);
	spin_unlock_irqrestore(&nvgrace_poison_tree_lock, flags);
	WRITE_ONCE(space->registered, false);
	mutex_unlock(&nvgrace_poison_lock);

	list_for_each_entry_safe(ev, tmp, &drop, list)
		kfree(ev);
	kfree(recs);
}
EXPORT_SYMBOL_GPL(nvgrace_poison_unregister);

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
 * @space: a registered range (or NULL: nothing is poisoned)
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

	if (!space || !nr_pages)
		return false;
	if (!READ_ONCE(space->nr_recs) && !READ_ONCE(space->overflow))
		return false;

	spin_lock_irqsave(&space->lock, flags);
	if (space->overflow) {
		hit = true;
	} else {
		i = nvgrace_poison_lower_bound(space, pfn);
		hit = i < space->nr_recs &&
		      space->recs[i].pfn - pfn < nr_pages;
	}
	spin_unlock_irqrestore(&space->lock, flags);
	return hit;
}
EXPORT_SYMBOL_GPL(nvgrace_poison_check);

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
 * nvgrace_poison_show_list() - the poisoned PFNs of @space for sysfs
 * @space: a range, registered or not
 * @buf: the sysfs page
 * @at: where in @buf to start (a driver lists several ranges in one file)
 *
 * One "0x<pfn>" per line, then "overflow" when records were lost. Nothing
 * for a range that is not registered.
 *
 * Return: the length of the text in @buf.
 */
int nvgrace_poison_show_list(struct nvgrace_pfn_space *space, char *buf,
			     int at)
{
	unsigned long flags;
	unsigned int i;
	int len = at;

	/* The lock is set up by the first registration. */
	if (!space || !READ_ONCE(space->registered))
		return len;
	spin_lock_irqsave(&space->lock, flags);
	for (i = 0; i < space->nr_recs && len < PAGE_SIZE - 32; i++)
		len += sysfs_emit_at(buf, len, "%#lx\n", space->recs[i].pfn);
	if (space->overflow)
		len += sysfs_emit_at(buf, len, "overflow\n");
	spin_unlock_irqrestore(&space->lock, flags);
	return len;
}
EXPORT_SYMBOL_GPL(nvgrace_poison_show_list);

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

		seq_printf(m, "%#lx-%#lx poisoned=%u%s\n", s->pfn_first,
			   s->pfn_last, READ_ONCE(s->nr_recs),
			   READ_ONCE(s->overflow) ? " overflow" : "");
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

	ret = nvgrace_poison_iface_init();
	if (ret)
		return ret;
	ret = nvgrace_poison_sources_init();
	if (ret) {
		nvgrace_poison_iface_exit();
		return ret;
	}
	return 0;
}

static void __exit nvgrace_poison_exit(void)
{
	nvgrace_poison_sources_exit();
	nvgrace_poison_iface_exit();
	flush_work(&nvgrace_poison_work);
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
