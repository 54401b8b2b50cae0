// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-vfio-pci: the operator-visible state, in the device's "nvgrace"
 * sysfs group (README, "sysfs"). Mainline has none of it.
 */

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "nvgrace-compat.h"
#include "nvgrace.h"

static struct nvgrace_vfio_device *dev_to_nvgrace(struct device *dev)
{
	return to_nvgrace(dev_get_drvdata(dev));
}

static ssize_t mem_phys_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "0x%llx\n", (u64)dev_to_nvgrace(dev)->mem_phys);
}
static DEVICE_ATTR_RO(mem_phys);

static ssize_t mem_length_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%zu\n", dev_to_nvgrace(dev)->mem_length);
}
static DEVICE_ATTR_RO(mem_length);

static ssize_t mem_status_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct nvgrace_vfio_device *nvdev = dev_to_nvgrace(dev);

	if (!nvdev->mem_status)
		return sysfs_emit(buf, "ok\n");
	if (nvdev->mem_status == -EINVAL)
		return sysfs_emit(buf, "absent\n");
	return sysfs_emit(buf, "invalid %d\n", nvdev->mem_status);
}
static DEVICE_ATTR_RO(mem_status);

static ssize_t mode_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct nvgrace_vfio_device *nvdev = dev_to_nvgrace(dev);

	if (!nvdev->usemem.length)
		return sysfs_emit(buf, "vfio-pci\n");
	return sysfs_emit(buf, "%s\n", nvdev->has_mig_hw_bug ?
			  "split" : "whole");
}
static DEVICE_ATTR_RO(mode);

static ssize_t region_show(struct nvgrace_mem_region *region, char *buf)
{
	if (!region->length)
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "0x%llx %zu %zu\n", (u64)region->phys,
			  region->length, region->bar_size);
}

static ssize_t usemem_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return region_show(&dev_to_nvgrace(dev)->usemem, buf);
}
static DEVICE_ATTR_RO(usemem);

static ssize_t resmem_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return region_show(&dev_to_nvgrace(dev)->resmem, buf);
}
static DEVICE_ATTR_RO(resmem);

static ssize_t ready_wait_ms_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dev_to_nvgrace(dev)->ready_wait_ms));
}
static DEVICE_ATTR_RO(ready_wait_ms);

static ssize_t resets_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&dev_to_nvgrace(dev)->resets));
}
static DEVICE_ATTR_RO(resets);

/*
 * Poisoned pages of the device memory, recorded by nvgrace-poison while the
 * device is open (its ranges are registered from open to close). The
 * records outlive close: they go at unbind, or when an operator who knows
 * the memory is good again writes 0 here.
 */
static ssize_t poisoned_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct nvgrace_vfio_device *nvdev = dev_to_nvgrace(dev);

	return sysfs_emit(buf, "%u\n",
			  nvgrace_poison_count(&nvdev->usemem.poison) +
			  nvgrace_poison_count(&nvdev->resmem.poison));
}

static ssize_t poisoned_store(struct device *dev,
			      struct device_attribute *attr, const char *buf,
			      size_t count)
{
	struct nvgrace_vfio_device *nvdev = dev_to_nvgrace(dev);
	unsigned int val;

	if (kstrtouint(buf, 0, &val) || val) {
		dev_warn(dev, "poisoned: write 0 to clear the poison records\n");
		return -EINVAL;
	}
	nvgrace_poison_clear(&nvdev->usemem.poison);
	nvgrace_poison_clear(&nvdev->resmem.poison);
	return count;
}
static DEVICE_ATTR_RW(poisoned);

/*
 * One "0x<pfn>" per line, then "dropped <n>" when reports found the table
 * full; what does not fit in the sysfs page is left out.
 */
static int poisoned_list_emit(struct nvgrace_pfn_space *space, char *buf,
			      int len)
{
	unsigned long *pfns, dropped;
	unsigned int nr, i;

	nr = nvgrace_poison_pfns(space, NULL, 0, &dropped);
	if (nr) {
		pfns = kmalloc_array(nr, sizeof(*pfns), GFP_KERNEL);
		if (!pfns)
			return -ENOMEM;
		/* Records may have come or gone since: print what is copied. */
		nr = min(nvgrace_poison_pfns(space, pfns, nr, &dropped), nr);
		for (i = 0; i < nr && len < PAGE_SIZE - 32; i++)
			len += sysfs_emit_at(buf, len, "%#lx\n", pfns[i]);
		kfree(pfns);
	}
	if (dropped)
		len += sysfs_emit_at(buf, len, "dropped %lu\n", dropped);
	return len;
}

static ssize_t poisoned_list_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct nvgrace_vfio_device *nvdev = dev_to_nvgrace(dev);
	int len;

	len = poisoned_list_emit(&nvdev->usemem.poison, buf, 0);
	if (len < 0)
		return len;
	return poisoned_list_emit(&nvdev->resmem.poison, buf, len);
}
static DEVICE_ATTR_RO(poisoned_list);

static ssize_t faults_show(struct device *dev, enum nvgrace_fault_kind kind,
			   char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&dev_to_nvgrace(dev)->faults[kind]));
}

static ssize_t faults_pte_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return faults_show(dev, NVGRACE_FAULT_PTE, buf);
}
static DEVICE_ATTR_RO(faults_pte);

static ssize_t faults_pmd_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return faults_show(dev, NVGRACE_FAULT_PMD, buf);
}
static DEVICE_ATTR_RO(faults_pmd);

static ssize_t faults_pud_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return faults_show(dev, NVGRACE_FAULT_PUD, buf);
}
static DEVICE_ATTR_RO(faults_pud);

/* How often usemem read()/write() took their slow paths (main.c). */
static ssize_t rw_faultin_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&dev_to_nvgrace(dev)->rw_faultin));
}
static DEVICE_ATTR_RO(rw_faultin);

static ssize_t rw_bounced_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&dev_to_nvgrace(dev)->rw_bounced));
}
static DEVICE_ATTR_RO(rw_bounced);

static ssize_t huge_orders_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	/* Which mapping sizes this kernel lets the fault handler use. */
	return sysfs_emit(buf, "pte%s%s\n",
#ifdef NVGRACE_HUGE_FAULT
			  IS_ENABLED(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP) ? " pmd" : "",
			  nvgrace_can_insert_pud() ? " pud" : ""
#else
			  "", ""
#endif
			  );
}
static DEVICE_ATTR_RO(huge_orders);

static struct attribute *nvgrace_vfio_attrs[] = {
	&dev_attr_mem_phys.attr,
	&dev_attr_mem_length.attr,
	&dev_attr_mem_status.attr,
	&dev_attr_mode.attr,
	&dev_attr_usemem.attr,
	&dev_attr_resmem.attr,
	&dev_attr_ready_wait_ms.attr,
	&dev_attr_resets.attr,
	&dev_attr_faults_pte.attr,
	&dev_attr_faults_pmd.attr,
	&dev_attr_faults_pud.attr,
	&dev_attr_rw_faultin.attr,
	&dev_attr_rw_bounced.attr,
	&dev_attr_huge_orders.attr,
	&dev_attr_poisoned.attr,
	&dev_attr_poisoned_list.attr,
	NULL,
};

static const struct attribute_group nvgrace_vfio_group = {
	.name = "nvgrace",
	.attrs = nvgrace_vfio_attrs,
};

const struct attribute_group *nvgrace_vfio_groups[] = {
	&nvgrace_vfio_group,
	NULL,
};
