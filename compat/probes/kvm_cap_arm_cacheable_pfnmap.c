// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_KVM_CAP_ARM_CACHEABLE_PFNMAP: the kernel's KVM maps cacheable VM_PFNMAP
 * memory as Normal cacheable at stage 2 and reports it with
 * KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED.
 * Added in v6.17 by the series "KVM: arm64: Map GPU device memory as cacheable"
 * ("KVM: arm64: Expose new KVM cap for cacheable PFNMAP"), or by
 * the pack's companion kernel patches on older series.
 */
#include <uapi/linux/kvm.h>

#ifndef KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED
#error "no KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED"
#endif
