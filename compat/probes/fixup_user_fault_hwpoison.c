// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_FIXUP_USER_FAULT_HWPOISON: KVM faults VM_PFNMAP pages in with
 * fixup_user_fault_hwpoison(), which returns -EHWPOISON for a page its fault
 * handler refused with VM_FAULT_HWPOISON, and sends the VMM SIGBUS
 * BUS_MCEERR_AR for it, instead of failing KVM_RUN with EFAULT (other
 * callers of fixup_user_fault() keep -EFAULT). Only the pack's companion
 * patch 0006 ("KVM: Report a poisoned VM_PFNMAP page as a memory error",
 * packaging/kernel-patches/<series>) does that and defines the marker;
 * mainline (up to 7.3 at least) has neither. nvgrace-poison zaps poisoned
 * pages under a VMM only with it.
 */
#include <linux/mm.h>

#ifndef FIXUP_USER_FAULT_HWPOISON
#error "no FIXUP_USER_FAULT_HWPOISON"
#endif
