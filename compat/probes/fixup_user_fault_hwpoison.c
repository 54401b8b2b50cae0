// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_FIXUP_USER_FAULT_HWPOISON: fixup_user_fault() returns -EHWPOISON for
 * a page its fault handler refused with VM_FAULT_HWPOISON, and KVM sends the
 * VMM SIGBUS BUS_MCEERR_AR for it, instead of failing KVM_RUN with EFAULT.
 * Only the pack's companion patch 0006 ("mm: Add poison error check in
 * fixup_user_fault() for mapped PFN", packaging/kernel-patches/<series>)
 * does that and defines the marker; mainline (up to 7.3 at least) has
 * neither. nvgrace-poison zaps poisoned pages under a VMM only with it.
 */
#include <linux/mm.h>

#ifndef FIXUP_USER_FAULT_HWPOISON
#error "no FIXUP_USER_FAULT_HWPOISON"
#endif
