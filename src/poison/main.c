// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-poison: registry of device-memory PFN ranges for memory-failure
 * routing.
 *
 * This file holds the range registry: registration refuses empty, inverted,
 * incomplete and overlapping ranges, and lookups find the range that owns a
 * PFN. The ranges are kept in an rbtree ordered by first PFN; since they never
 * overlap, the owner of a PFN is the last range starting at or before it.
 */

#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/rbtree.h>

#include "nvgrace-poison.h"

static DEFINE_MUTEX(nvgrace_poison_lock);
static struct rb_root nvgrace_poison_ranges = RB_ROOT;

/* The registered range containing @pfn, or NULL. Caller holds the lock. */
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

/* Does [first, last] intersect a registered range? Caller holds the lock. */
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

/**
 * nvgrace_poison_register() - register a PFN range for poison routing
 * @space: the range; @pfn_first, @pfn_last, @mapping and @pfn_to_vma_pgoff
 *	   must be set. It must stay allocated until unregistered.
 *
 * Return: 0, -EINVAL for an incomplete or inverted range or one that is
 * already registered, -EBUSY when the range overlaps a registered one.
 */
int nvgrace_poison_register(struct nvgrace_pfn_space *space)
{
	struct rb_node **link = &nvgrace_poison_ranges.rb_node, *parent = NULL;
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
	while (*link) {
		struct nvgrace_pfn_space *s =
			rb_entry(*link, struct nvgrace_pfn_space, node);

		parent = *link;
		if (space->pfn_first < s->pfn_first)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&space->node, parent, link);
	rb_insert_color(&space->node, &nvgrace_poison_ranges);
	space->registered = true;
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
 */
void nvgrace_poison_unregister(struct nvgrace_pfn_space *space)
{
	if (!space)
		return;

	mutex_lock(&nvgrace_poison_lock);
	if (space->registered) {
		rb_erase(&space->node, &nvgrace_poison_ranges);
		RB_CLEAR_NODE(&space->node);
		space->registered = false;
	}
	mutex_unlock(&nvgrace_poison_lock);
}
EXPORT_SYMBOL_GPL(nvgrace_poison_unregister);

/**
 * nvgrace_poison_pfn_registered() - is @pfn inside a registered range?
 * @pfn: page frame number
 */
bool nvgrace_poison_pfn_registered(unsigned long pfn)
{
	bool found;

	mutex_lock(&nvgrace_poison_lock);
	found = nvgrace_poison_find(pfn);
	mutex_unlock(&nvgrace_poison_lock);
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
 * falls back to smaller ones) and from read()/write() (-EIO). Never sleeps.
 */
bool nvgrace_poison_check(struct nvgrace_pfn_space *space, unsigned long pfn,
			  unsigned long nr_pages)
{
	/* Poison recording arrives with the handling path. */
	return false;
}
EXPORT_SYMBOL_GPL(nvgrace_poison_check);

static int __init nvgrace_poison_init(void)
{
	pr_info("nvgrace-poison: range registry ready\n");
	return 0;
}

static void __exit nvgrace_poison_exit(void)
{
	/* Users hold a module reference while they have ranges registered. */
	WARN_ON(!RB_EMPTY_ROOT(&nvgrace_poison_ranges));
}

module_init(nvgrace_poison_init);
module_exit(nvgrace_poison_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Memory-failure routing for device memory without struct page");
MODULE_VERSION(NVGRACE_VERSION);
