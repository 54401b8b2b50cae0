// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_RELEASE_FAULT_LOCK: release_fault_lock(vmf) drops whichever lock a
 * fault runs under, the per-VMA lock or the mmap lock. Absent in v6.5,
 * present from v6.7, where faults on file-backed VMAs (VFIO's PFNMAP
 * mappings included) started to run under the per-VMA lock. Before it,
 * ->fault and ->huge_fault of such a VMA run only under the mmap lock
 * (the per-VMA path returned VM_FAULT_RETRY first), so mmap_read_unlock()
 * is the right way to drop it there.
 */
#include <linux/mm.h>

static void probe(struct vm_fault *vmf) __maybe_unused;
static void probe(struct vm_fault *vmf)
{
	release_fault_lock(vmf);
}
