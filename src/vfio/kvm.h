/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What KVM does with the GPU memory on this kernel and CPU: the load
 * message and the driver's sysfs attributes (src/vfio/kvm.c).
 */
#ifndef NVGRACE_VFIO_KVM_H
#define NVGRACE_VFIO_KVM_H

struct attribute_group;

extern const struct attribute_group *nvgrace_vfio_drv_groups[];

void nvgrace_kvm_report(void);

#endif /* NVGRACE_VFIO_KVM_H */
