// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_KVM_ARM_CACHEABLE_PFNMAP_BACKPORT: the kernel has the arm64 stage-2
 * cacheable PFNMAP logic from the pack's companion kernel patches (patch 0007
 * of packaging/kernel-patches/<series> defines the marker), not natively.
 * Mainline has no such marker: with HAVE_KVM_SUPPORTS_CACHEABLE_PFNMAP and
 * without this, the logic is native (6.17 and later).
 */
#include <linux/kvm_host.h>
#include <asm/kvm_mmu.h>

#ifndef KVM_ARM_CACHEABLE_PFNMAP_BACKPORT
#error "no KVM_ARM_CACHEABLE_PFNMAP_BACKPORT"
#endif
