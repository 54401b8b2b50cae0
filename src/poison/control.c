// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-poison: the control interface.
 *
 * debugfs (root only), /sys/kernel/debug/nvgrace-poison/:
 *   inject    write a PFN (decimal or 0x hex): reports a memory failure on
 *             it through the same path as a hardware report and returns
 *             once its range's work has handled it (processes signalled,
 *             zapped if the module zaps). Errors: EINVAL not a number,
 *             ENXIO in no registered range, EHWPOISON already poisoned,
 *             ENOSPC its range already holds max_records pages; each with
 *             one line in the kernel log.
 *   ranges    one line per registered range:
 *             "0xFIRST-0xLAST poisoned=N dropped=D"
 *   poisoned  one line per poisoned PFN: "0xPFN SOURCE"
 *   fail_victim_alloc/  (kernels with CONFIG_FAULT_INJECTION_DEBUG_FS) the
 *             kernel's fault-injection attributes for the handler's one
 *             allocation, the note of a process to signal (handler.c)
 *
 * sysfs, /sys/kernel/nvgrace_poison/:
 *   sources   active event sources ("inject native", "inject ghes", ...)
 *   ranges    number of registered ranges
 *   poisoned  number of poisoned PFNs recorded in them
 *   signals   SIGBUS signals sent by the handler since load
 *   dropped   reports not recorded because their range was full
 *   zap       1 when poisoned pages are zapped out of mappings (module
 *             parameter zap and the kernel), else 0
 */
#define pr_fmt(fmt) "nvgrace-poison: " fmt

#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include "control.h"
#include "sources.h"
#include "records.h"
#include "handler.h"

static struct dentry *nvgrace_debugfs;
static struct kobject *nvgrace_kobj;

static ssize_t nvgrace_inject_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	unsigned long pfn;
	char buf[32];
	char *s;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!count || count >= sizeof(buf)) {
		pr_warn("inject: write one page frame number, e.g. 0x8000010\n");
		return -EINVAL;
	}
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	s = strim(buf);
	ret = kstrtoul(s, 0, &pfn);
	if (ret) {
		pr_warn("inject: '%s' is not a page frame number\n", s);
		return -EINVAL;
	}

	ret = nvgrace_poison_report_wait(pfn, NVGRACE_POISON_SRC_INJECT);
	if (ret == -ENXIO) {
		pr_warn("inject: pfn %#lx is in no registered range, nothing done\n",
			pfn);
		return ret;
	}
	if (ret == -EHWPOISON) {
		pr_warn("inject: pfn %#lx is already poisoned\n", pfn);
		return ret;
	}
	if (ret == -ENOSPC) {
		pr_warn("inject: pfn %#lx not recorded, its range is full (max_records)\n",
			pfn);
		return ret;
	}
	if (ret)
		return ret;
	pr_info("inject: memory failure on pfn %#lx handled\n", pfn);
	return count;
}

static const struct file_operations nvgrace_inject_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = nvgrace_inject_write,
	.llseek = noop_llseek,
};

static int nvgrace_ranges_show(struct seq_file *m, void *v)
{
	nvgrace_poison_seq_ranges(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvgrace_ranges);

static int nvgrace_poisoned_show(struct seq_file *m, void *v)
{
	nvgrace_poison_seq_poisoned(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvgrace_poisoned);

static ssize_t sources_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return nvgrace_poison_sources_show(buf);
}

static struct kobj_attribute sources_attr = __ATTR_RO(sources);

static ssize_t ranges_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%u\n", nvgrace_poison_nr_ranges());
}

static struct kobj_attribute ranges_attr = __ATTR_RO(ranges);

static ssize_t poisoned_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%lu\n", nvgrace_poison_nr_poisoned());
}

static struct kobj_attribute poisoned_attr = __ATTR_RO(poisoned);

static ssize_t signals_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&nvgrace_poison_nr_signals));
}

static struct kobj_attribute signals_attr = __ATTR_RO(signals);

static ssize_t dropped_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&nvgrace_poison_nr_dropped));
}

static struct kobj_attribute dropped_attr = __ATTR_RO(dropped);

static ssize_t zap_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%d\n", nvgrace_poison_zaps());
}

static struct kobj_attribute zap_attr = __ATTR_RO(zap);

static struct attribute *nvgrace_attrs[] = {
	&sources_attr.attr,
	&ranges_attr.attr,
	&poisoned_attr.attr,
	&signals_attr.attr,
	&dropped_attr.attr,
	&zap_attr.attr,
	NULL,
};

static const struct attribute_group nvgrace_group = {
	.attrs = nvgrace_attrs,
};

int nvgrace_poison_control_init(void)
{
	int ret;

	nvgrace_kobj = kobject_create_and_add("nvgrace_poison", kernel_kobj);
	if (!nvgrace_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(nvgrace_kobj, &nvgrace_group);
	if (ret) {
		kobject_put(nvgrace_kobj);
		nvgrace_kobj = NULL;
		return ret;
	}

	/* debugfs is optional: errors are not fatal and need no checks. */
	nvgrace_debugfs = debugfs_create_dir("nvgrace-poison", NULL);
	debugfs_create_file("inject", 0200, nvgrace_debugfs, NULL,
			    &nvgrace_inject_fops);
	debugfs_create_file("ranges", 0400, nvgrace_debugfs, NULL,
			    &nvgrace_ranges_fops);
	debugfs_create_file("poisoned", 0400, nvgrace_debugfs, NULL,
			    &nvgrace_poisoned_fops);
	nvgrace_poison_handler_debugfs(nvgrace_debugfs);
	return 0;
}

void nvgrace_poison_control_exit(void)
{
	debugfs_remove_recursive(nvgrace_debugfs);
	nvgrace_debugfs = NULL;
	if (nvgrace_kobj) {
		sysfs_remove_group(nvgrace_kobj, &nvgrace_group);
		kobject_put(nvgrace_kobj);
		nvgrace_kobj = NULL;
	}
}
