// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-poison: the range registry and the poison records.
 *
 * The registry: ranges are kept in an rbtree ordered by first PFN; since
 * they never overlap (register.c refuses overlaps), the owner of a PFN is
 * the last range starting at or before it.
 *
 * A report, from any event source (sources.c) or the debugfs injection
 * (control.c): nvgrace_poison_report(), callable in any context (the GHES
 * notifier runs in IRQ context, the memory_failure tracepoint with
 * preemption disabled), finds the range, records the PFN in the range's
 * sorted record table, marked pending, and queues the range's work. The
 * table is allocated at the first registration (max_records entries), so a
 * report never allocates: none is lost to an allocation failure. A report
 * past the bound is counted and logged, and the range stays in use. From
 * here on nvgrace_poison_check() refuses the PFN. The range's work
 * (process context, no global lock held) hands each pending record to
 * nvgrace_poison_handle() (handler.c). Each range has its own work item on
 * an unbound workqueue: a device whose fault_lock is held through a long
 * readiness wait delays only its own poison handling.
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
 * then memory_lock, then check) cannot deadlock with the work, which takes
 * fault_lock (memory_lock) for write and releases it before it takes
 * anything else, then i_mmap_rwsem; no lock while signalling.
 */
#define pr_fmt(fmt) "nvgrace-poison: " fmt

#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/rbtree.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "records.h"
#include "handler.h"

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

/* Serialises registration (register.c) and the debug listings. */
DEFINE_MUTEX(nvgrace_poison_lock);
static DEFINE_SPINLOCK(nvgrace_poison_tree_lock);
static struct rb_root nvgrace_poison_ranges = RB_ROOT;
static unsigned int nvgrace_poison_ranges_nr;
static struct workqueue_struct *nvgrace_poison_wq;
static DECLARE_WAIT_QUEUE_HEAD(nvgrace_poison_users_wq);

atomic_long_t nvgrace_poison_nr_events[NVGRACE_POISON_SRC_NR];
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
bool nvgrace_poison_overlaps(unsigned long first, unsigned long last)
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
int nvgrace_poison_space_setup(struct nvgrace_pfn_space *space)
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

/*
 * Put @space in the tree (nvgrace_poison_register(), under
 * nvgrace_poison_lock): from now on reports on its PFNs are recorded.
 */
void nvgrace_poison_tree_insert(struct nvgrace_pfn_space *space)
{
	struct rb_node **link = &nvgrace_poison_ranges.rb_node, *parent = NULL;
	unsigned long flags;

	lockdep_assert_held(&nvgrace_poison_lock);
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
}

/* Take @space out of the tree, under nvgrace_poison_lock. */
void nvgrace_poison_tree_erase(struct nvgrace_pfn_space *space)
{
	unsigned long flags;

	lockdep_assert_held(&nvgrace_poison_lock);
	spin_lock_irqsave(&nvgrace_poison_tree_lock, flags);
	rb_erase(&space->node, &nvgrace_poison_ranges);
	RB_CLEAR_NODE(&space->node);
	nvgrace_poison_ranges_nr--;
	spin_unlock_irqrestore(&nvgrace_poison_tree_lock, flags);
}

/*
 * Once @space is out of the tree nothing queues its work any more: let the
 * work finish, then the injections waiting on it.
 */
void nvgrace_poison_wait_handled(struct nvgrace_pfn_space *space)
{
	flush_work(&space->work);
	wait_event(nvgrace_poison_users_wq, !atomic_read(&space->users));
}

/* Drop the records of @space, out of the tree, and free its table. */
void nvgrace_poison_records_free(struct nvgrace_pfn_space *space)
{
	struct nvgrace_poison_rec *recs;
	unsigned long flags;

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

int nvgrace_poison_records_init(void)
{
	/* Unbound: one range's work may wait long for its device. */
	nvgrace_poison_wq = alloc_workqueue("nvgrace_poison", WQ_UNBOUND, 0);
	return nvgrace_poison_wq ? 0 : -ENOMEM;
}

void nvgrace_poison_records_exit(void)
{
	destroy_workqueue(nvgrace_poison_wq);
	/* Users hold a module reference while they have ranges registered. */
	WARN_ON(!RB_EMPTY_ROOT(&nvgrace_poison_ranges));
}
