// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_HUGE_FAULT_ORDER: vm_operations_struct.huge_fault takes
 * (struct vm_fault *, unsigned int order); enum page_entry_size is gone.
 * Changed in v6.6 by "mm: remove enum page_entry_size".
 *
 * A function pointer test cannot tell the two forms apart (an enum is
 * compatible with unsigned int), so this probe declares the enum itself:
 * that compiles only when the kernel no longer defines it.
 */
#include <linux/mm.h>

enum page_entry_size { PROBE_PE_SIZE };
