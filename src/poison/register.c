// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-poison: the range registration API. Registration refuses empty,
 * inverted, incomplete and overlapping ranges; it sets up the range's
 * records (records.c) and, where the kernel has it, registers the range
 * with the kernel's memory_failure() (sources.c) before the range becomes
 * visible to reports.
 */
#define pr_fmt(fmt) "nvgrace-poison: " fmt

#include <linux/module.h>
#include <linux/mutex.h>

#include "sources.h"
#include "records.h"

/**
 * nvgrace_poison_register() - register a PFN range for poison routing
 * @space: the range; @pfn_first, @pfn_last, @mapping and
 *	   @pfn_to_vma_pgoff must be set (@fault_lock optionally); zeroed
 *	   before its first registration. It must stay allocated until
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

	nvgrace_poison_tree_insert(space);
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
	if (!space)
		return;

	mutex_lock(&nvgrace_poison_lock);
	if (!space->registered) {
		mutex_unlock(&nvgrace_poison_lock);
		return;
	}
	nvgrace_poison_native_unregister(space);
	nvgrace_poison_tree_erase(space);
	WRITE_ONCE(space->registered, false);
	mutex_unlock(&nvgrace_poison_lock);

	nvgrace_poison_wait_handled(space);
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
	if (!space)
		return;
	nvgrace_poison_unregister_keep(space);
	nvgrace_poison_records_free(space);
}
EXPORT_SYMBOL_GPL(nvgrace_poison_unregister);
