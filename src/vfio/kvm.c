// SPDX-License-Identifier: GPL-2.0-only
/*
 * What KVM on this host does with the GPU memory the driver maps into a VMM.
 *
 * The usemem region is a cacheable VM_PFNMAP mapping. arm64 KVM maps such
 * memory as Normal cacheable at stage 2 only when it has the logic for it
 * (mainline from 6.17, or the pack's companion series in
 * packaging/kernel-patches) and the CPU has FEAT_S2FWB and CTR_EL0.DIC;
 * without the logic the guest gets Device memory, and with the logic but
 * without those CPU features KVM refuses the memslot. The driver works the
 * same either way; this file only tells the operator, once at load and in
 * the driver's sysfs directory (/sys/bus/pci/drivers/nvgrace_vfio_pci/):
 *
 *   kvm_cacheable_pfnmap  native, patched, absent, or n/a (not arm64)
 *   cpu_fwb, cpu_dic      1 or 0 (arm64 only)
 *
 * native and patched come from compile probes (see compat/probes/), the
 * CPU features from the kernel's own capability bits; where the kernel has
 * the logic, the verdict is its own kvm_supports_cacheable_pfnmap().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/sysfs.h>

#ifdef HAVE_KVM_SUPPORTS_CACHEABLE_PFNMAP
#include <linux/kvm_host.h>
#include <asm/kvm_mmu.h>
#endif

#include "kvm.h"

/* nvgrace-probes: kvm_supports_cacheable_pfnmap kvm_arm_cacheable_pfnmap_backport */

static const char *nvgrace_kvm_support(void)
{
#if defined(HAVE_KVM_ARM_CACHEABLE_PFNMAP_BACKPORT)
	return "patched";
#elif defined(HAVE_KVM_SUPPORTS_CACHEABLE_PFNMAP)
	return "native";
#elif defined(CONFIG_ARM64)
	return "absent";
#else
	return "n/a";
#endif
}

#ifdef CONFIG_ARM64
static bool nvgrace_cpu_fwb(void)
{
	return cpus_have_final_cap(ARM64_HAS_STAGE2_FWB);
}

static bool nvgrace_cpu_dic(void)
{
	return cpus_have_final_cap(ARM64_HAS_CACHE_DIC);
}

static const char *nvgrace_yes_no(bool v)
{
	return v ? "yes" : "no";
}

void nvgrace_kvm_report(void)
{
	const char *kind = nvgrace_kvm_support();
	bool fwb = nvgrace_cpu_fwb(), dic = nvgrace_cpu_dic();

#ifdef HAVE_KVM_SUPPORTS_CACHEABLE_PFNMAP
	if (kvm_supports_cacheable_pfnmap()) {
		pr_info("KVM cacheable PFNMAP: %s; the CPU has FEAT_S2FWB and CTR_EL0.DIC: guests map GPU memory cacheable\n",
			kind);
		return;
	}
	pr_notice("KVM cacheable PFNMAP: %s, but the CPU lacks what it needs (FEAT_S2FWB %s, CTR_EL0.DIC %s): KVM refuses memslots on GPU memory\n",
		  kind, nvgrace_yes_no(fwb), nvgrace_yes_no(dic));
#else
	pr_notice("KVM cacheable PFNMAP: %s (CPU FEAT_S2FWB %s, CTR_EL0.DIC %s): guests see GPU memory as Device memory; use a 6.17 or later kernel or the pack's kernel patches\n",
		  kind, nvgrace_yes_no(fwb), nvgrace_yes_no(dic));
#endif
}

static ssize_t cpu_fwb_show(struct device_driver *drv, char *buf)
{
	return sysfs_emit(buf, "%d\n", nvgrace_cpu_fwb());
}
static DRIVER_ATTR_RO(cpu_fwb);

static ssize_t cpu_dic_show(struct device_driver *drv, char *buf)
{
	return sysfs_emit(buf, "%d\n", nvgrace_cpu_dic());
}
static DRIVER_ATTR_RO(cpu_dic);
#else
void nvgrace_kvm_report(void)
{
	pr_info("KVM cacheable PFNMAP: %s (stage-2 memory types are an arm64 matter; other architectures are for build testing)\n",
		nvgrace_kvm_support());
}
#endif

static ssize_t kvm_cacheable_pfnmap_show(struct device_driver *drv, char *buf)
{
	return sysfs_emit(buf, "%s\n", nvgrace_kvm_support());
}
static DRIVER_ATTR_RO(kvm_cacheable_pfnmap);

static struct attribute *nvgrace_vfio_drv_attrs[] = {
	&driver_attr_kvm_cacheable_pfnmap.attr,
#ifdef CONFIG_ARM64
	&driver_attr_cpu_fwb.attr,
	&driver_attr_cpu_dic.attr,
#endif
	NULL,
};

static const struct attribute_group nvgrace_vfio_drv_group = {
	.attrs = nvgrace_vfio_drv_attrs,
};

const struct attribute_group *nvgrace_vfio_drv_groups[] = {
	&nvgrace_vfio_drv_group,
	NULL,
};
