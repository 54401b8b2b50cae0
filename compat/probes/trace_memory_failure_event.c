// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_TRACE_MEMORY_FAILURE_EVENT: <trace/events/memory-failure.h> declares
 * the memory_failure_event tracepoint (pfn, type, result) that
 * memory_failure() fires for every report, including PFNs without struct
 * page on kernels with register_pfn_address_space(); a module can attach a
 * probe to it (found with for_each_kernel_tracepoint()).
 * The event lived in <ras/ras_event.h> before; its own header is first in
 * v6.19 (same prototype). Only kernels with the native PFN path need it.
 *
 * nvgrace-probe: symbol for_each_kernel_tracepoint
 * nvgrace-probe: symbol tracepoint_probe_register
 */
#include <trace/events/memory-failure.h>

static void probe_cb(void *data, unsigned long pfn, int type, int result)
{
}

static int probe(void) __maybe_unused;
static int probe(void)
{
	return sizeof(register_trace_memory_failure_event(probe_cb, NULL));
}
