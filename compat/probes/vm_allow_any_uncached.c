// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VM_ALLOW_ANY_UNCACHED: VM_ALLOW_ANY_UNCACHED exists, letting KVM map a
 * write-combine PFNMAP as Normal-NC at stage 2.
 * Added in v6.9 by "mm: Introduce new flag to indicate wc safe".
 */
#include <linux/mm.h>

#ifndef VM_ALLOW_ANY_UNCACHED
#error "no VM_ALLOW_ANY_UNCACHED"
#endif
