// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VM_FLAGS_SET: vm_flags_set()/vm_flags_clear() exist; vma->vm_flags is
 * read-only outside them.
 * Added in v6.3 by "mm: introduce vma->vm_flags wrapper
 * functions".
 */
#include <linux/mm.h>

static void probe(struct vm_area_struct *vma) __maybe_unused;
static void probe(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_IO);
	vm_flags_clear(vma, VM_MAYEXEC);
}
