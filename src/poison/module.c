// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-poison: memory-failure routing for device-memory PFN ranges
 * (the API: <nvgrace-poison.h>). A driver registers the PFN ranges it maps
 * to user space (register.c); reports of a memory failure on them, from the
 * kernel (sources.c) or the debugfs injection (control.c), are recorded
 * (records.c) and handled: zap, SIGBUS (handler.c).
 *
 * Files, each using only those below it (no file calls up the list):
 *   module.c   init/exit and the module's identity
 *   control.c  debugfs (injection, listings) and sysfs counters
 *   register.c the range registration API
 *   sources.c  the event sources (native memory_failure(), GHES)
 *   records.c  the range registry, the poison records, reports, checks
 *   handler.c  the handling of a poisoned PFN
 * Module parameters live with the code they tune: max_records in
 * records.c, zap in handler.c.
 */
#define pr_fmt(fmt) "nvgrace-poison: " fmt

#include <linux/module.h>
#include <linux/printk.h>

#include "control.h"
#include "sources.h"
#include "records.h"
#include "handler.h"
#include "nvgrace-buildinfo.h"	/* build facts for modinfo */

static int __init nvgrace_poison_init(void)
{
	int ret;

	ret = nvgrace_poison_records_init();
	if (ret)
		return ret;
	ret = nvgrace_poison_control_init();
	if (ret)
		goto out_records;
	ret = nvgrace_poison_sources_init();
	if (ret)
		goto out_control;
	pr_info("zap=%s: poisoned pages are %s\n", nvgrace_poison_zap_mode(),
		nvgrace_poison_zaps() ? "zapped out of mappings" :
		"left mapped (this kernel reports no poison from fixup_user_fault())");
	return 0;

out_control:
	nvgrace_poison_control_exit();
out_records:
	nvgrace_poison_records_exit();
	return ret;
}

static void __exit nvgrace_poison_exit(void)
{
	nvgrace_poison_sources_exit();
	nvgrace_poison_control_exit();
	nvgrace_poison_records_exit();
}

module_init(nvgrace_poison_init);
module_exit(nvgrace_poison_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Memory-failure routing for device memory without struct page");
MODULE_VERSION(NVGRACE_VERSION);
