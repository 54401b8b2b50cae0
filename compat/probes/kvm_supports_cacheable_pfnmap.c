// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_KVM_SUPPORTS_CACHEABLE_PFNMAP: arm64 KVM maps cacheable VM_PFNMAP
 * memory as Normal cacheable at stage 2, and kvm_supports_cacheable_pfnmap()
 * in <asm/kvm_mmu.h> says whether this CPU allows it (FEAT_S2FWB and
 * CTR_EL0.DIC). Added in v6.17 by commit 0c67288e0c8b ("KVM: arm64: Allow
 * cacheable stage 2 mapping using VMA flags"), or by the pack's companion
 * kernel patches (packaging/kernel-patches) on older series. arm64 only.
 */
#include <linux/kvm_host.h>
#include <asm/kvm_mmu.h>

static bool probe(void) __maybe_unused;
static bool probe(void)
{
	return kvm_supports_cacheable_pfnmap();
}
