// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_HUGE_PFNMAP: the kernel can map PFNMAP VMAs with PMD (and, where the
 * architecture allows, PUD) entries through huge_fault.
 * Added in v6.12 by Peter Xu's series "mm: Support huge pfnmaps"
 * (CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP; arm64 selects it with THP, PMD only).
 */
#include <linux/mm.h>

#ifndef CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP
#error "no huge PFNMAP support in this kernel"
#endif
