// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-poison event sources, chosen by compile probes:
 *
 *  native  kernels with register_pfn_address_space() (v6.19): every range is
 *          registered there too, so the kernel's memory_failure() (MCE, SEA,
 *          GHES, memory_failure_queue()) reaches it. mainline's order, all
 *          under its mf_mutex (memory_failure_pfn()):
 *            1. collect_procs_pfn(), under pfn_space_lock: the range's
 *               pfn_to_vma_pgoff callback for each VMA of the current
 *               process and of early-kill processes;
 *            2. kill_procs(): SIGBUS to the processes collected;
 *            3. action_result(): the memory_failure_event tracepoint.
 *          The callback only translates, and only for the current process
 *          (BUS_MCEERR_AR for a synchronous error, with the kernel's own
 *          address): it notes which mm the kernel will signal and records
 *          nothing. The record is made at the tracepoint (3), where the
 *          kernel's handling is done, naming that mm; the module's handler
 *          then zaps and signals every other process, as on every other
 *          kernel. Rule: a report whose range was unregistered between 1
 *          and 3 (close() racing the report; the device has no mapping
 *          left then) is not recorded; the next report of the page (the
 *          next access raises the error again) records it.
 *          Without the tracepoint (a kernel without tracing) the callback
 *          is the only hook, and records: the module then sees only reports
 *          for mappings of early-kill processes and of the process that
 *          consumed the error: the source is "native-partial".
 *  ghes    older kernels that export the GHES memory-error report chain
 *          (v6.2+): firmware-first reports (CPER memory sections with a
 *          physical address, record and section both recoverable or worse:
 *          ghes-filter.h). There, GHES itself drops such addresses
 *          ("Invalid address in generic error data") before
 *          memory_failure(); and from 6.1 to 6.18 the consuming thread of
 *          a synchronous error gets a plain SIGBUS from GHES that this
 *          module cannot prevent.
 *  inject  every kernel: the debugfs injection (control.c).
 */
#define pr_fmt(fmt) "nvgrace-poison: " fmt

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/tracepoint.h>

#include "sources.h"
#include "records.h"

/*
 * nvgrace-probes: register_pfn_address_space pfn_address_space_pfn_to_vma_pgoff
 * nvgrace-probes: ghes_register_report_chain trace_memory_failure_event
 *
 * nvgrace-feature: memory-error-sources
 *   needs register_pfn_address_space+pfn_address_space_pfn_to_vma_pgoff|ghes_register_report_chain
 *   lost: real memory errors on device memory are not routed to VMs, only injected ones
 */
#if defined(HAVE_REGISTER_PFN_ADDRESS_SPACE) && \
	defined(HAVE_PFN_ADDRESS_SPACE_PFN_TO_VMA_PGOFF)
#define NVGRACE_NATIVE 1
#endif

#if defined(HAVE_GHES_REGISTER_REPORT_CHAIN) && !defined(NVGRACE_NATIVE)
#define NVGRACE_GHES 1
#include <acpi/ghes.h>
#include <linux/cper.h>
#include "ghes-filter.h"
#endif

#if defined(NVGRACE_NATIVE) && defined(HAVE_TRACE_MEMORY_FAILURE_EVENT)
#define NVGRACE_TRACEPOINT 1
#include <trace/events/memory-failure.h>
#endif

#ifdef NVGRACE_NATIVE
/*
 * The mm the kernel signals itself for the report in progress: set by the
 * translate callback (step 1), taken by the tracepoint (step 3). Both run
 * under the kernel's mf_mutex, so one report at a time uses it.
 */
static struct {
	unsigned long pfn;
	const struct mm_struct *mm;
} nvgrace_native_signalled;

static const struct mm_struct *nvgrace_native_take_signalled(unsigned long pfn)
{
	const struct mm_struct *mm = NULL;

	if (READ_ONCE(nvgrace_native_signalled.mm) &&
	    READ_ONCE(nvgrace_native_signalled.pfn) == pfn)
		mm = READ_ONCE(nvgrace_native_signalled.mm);
	WRITE_ONCE(nvgrace_native_signalled.mm, NULL);
	return mm;
}
#endif

#ifdef NVGRACE_TRACEPOINT
static struct tracepoint *nvgrace_tp;

/* Step 3: the kernel's handling is done; record, naming who it signalled. */
static void nvgrace_tp_probe(void *data, unsigned long pfn, int type,
			     int result)
{
	/* Preemption is disabled here; report() only takes spinlocks. */
	nvgrace_poison_report_mm(pfn, NVGRACE_POISON_SRC_NATIVE,
				 nvgrace_native_take_signalled(pfn));
}

static void nvgrace_tp_find(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "memory_failure_event"))
		*(struct tracepoint **)priv = tp;
}

static int nvgrace_tp_init(void)
{
	int ret;

	/* The probe's type must match the tracepoint's prototype. */
	(void)sizeof(register_trace_memory_failure_event(nvgrace_tp_probe,
							  NULL));

	for_each_kernel_tracepoint(nvgrace_tp_find, &nvgrace_tp);
	if (!nvgrace_tp)
		return -ENOENT;
	ret = tracepoint_probe_register(nvgrace_tp, nvgrace_tp_probe, NULL);
	if (ret)
		nvgrace_tp = NULL;
	return ret;
}

static void nvgrace_tp_exit(void)
{
	if (!nvgrace_tp)
		return;
	tracepoint_probe_unregister(nvgrace_tp, nvgrace_tp_probe, NULL);
	tracepoint_synchronize_unregister();
	nvgrace_tp = NULL;
}

static bool nvgrace_tp_active(void)
{
	return nvgrace_tp;
}
#else
static int nvgrace_tp_init(void)
{
	return -EOPNOTSUPP;
}

static void nvgrace_tp_exit(void)
{
}

static bool __maybe_unused nvgrace_tp_active(void)
{
	return false;
}
#endif

#ifdef NVGRACE_NATIVE
/*
 * Step 1: the kernel's memory_failure() calls this for each VMA of the
 * processes it is about to signal, under rcu_read_lock() and its
 * pfn_space_lock (which keeps the range registered while we run). Only the
 * current process (the one that consumed the error, for a synchronous
 * report) is left to the kernel: translate its VMAs with the driver's
 * callback and note that the kernel signals it. Every other process is the
 * handler's. Records nothing, except without the tracepoint (see above).
 */
static int nvgrace_native_pgoff(struct vm_area_struct *vma, unsigned long pfn,
				pgoff_t *pgoff)
{
	struct nvgrace_pfn_space *space;
	int ret = -ENOENT;

	space = nvgrace_poison_space_of(pfn);
	if (!space)
		return -ENOENT;

	if (current->mm && vma->vm_mm == current->mm) {
		ret = space->pfn_to_vma_pgoff(vma, pfn, pgoff);
		if (!ret) {
			WRITE_ONCE(nvgrace_native_signalled.pfn, pfn);
			WRITE_ONCE(nvgrace_native_signalled.mm, current->mm);
		}
	}
	if (!nvgrace_tp_active())
		nvgrace_poison_report_mm(pfn, NVGRACE_POISON_SRC_NATIVE,
					 nvgrace_native_take_signalled(pfn));
	return ret;
}

int nvgrace_poison_native_register(struct nvgrace_pfn_space *space)
{
	int ret;

	/* The kernel finds the range's VMAs through the mapping only. */
	if (!space->mapping)
		return -EINVAL;
	memset(&space->native, 0, sizeof(space->native));
	space->native.node.start = space->pfn_first;
	space->native.node.last = space->pfn_last;
	space->native.mapping = space->mapping;
	space->native.pfn_to_vma_pgoff = nvgrace_native_pgoff;
	ret = register_pfn_address_space(&space->native);
	if (ret) {
		pr_err("range %#lx-%#lx: register_pfn_address_space: %d\n",
		       space->pfn_first, space->pfn_last, ret);
		return ret;
	}
	space->native_registered = true;
	return 0;
}

void nvgrace_poison_native_unregister(struct nvgrace_pfn_space *space)
{
	if (!space->native_registered)
		return;
	unregister_pfn_address_space(&space->native);
	space->native_registered = false;
}
#else
int nvgrace_poison_native_register(struct nvgrace_pfn_space *space)
{
	return 0;
}

void nvgrace_poison_native_unregister(struct nvgrace_pfn_space *space)
{
}
#endif

#ifdef NVGRACE_GHES
static int nvgrace_ghes_notify(struct notifier_block *nb, unsigned long sev,
			       void *data)
{
	struct cper_sec_mem_err *mem_err = data;

	/* Corrected errors (record or section) leave the page usable. */
	if (!nvgrace_ghes_mem_poisons(sev >= GHES_SEV_RECOVERABLE, mem_err))
		return NOTIFY_DONE;
	if (nvgrace_poison_report(PHYS_PFN(mem_err->physical_addr),
				  NVGRACE_POISON_SRC_GHES))
		return NOTIFY_DONE;
	return NOTIFY_OK;
}

static struct notifier_block nvgrace_ghes_nb = {
	.notifier_call = nvgrace_ghes_notify,
};
#endif

static bool nvgrace_ghes_on;

static int nvgrace_sources_fmt(char *buf, size_t size)
{
	int len = scnprintf(buf, size, "inject");

#ifdef NVGRACE_NATIVE
	len += scnprintf(buf + len, size - len, nvgrace_tp_active() ?
			 " native" : " native-partial");
#endif
	if (nvgrace_ghes_on)
		len += scnprintf(buf + len, size - len, " ghes");
	len += scnprintf(buf + len, size - len, "\n");
	return len;
}

ssize_t nvgrace_poison_sources_show(char *buf)
{
	return nvgrace_sources_fmt(buf, PAGE_SIZE);
}

int nvgrace_poison_sources_init(void)
{
	char buf[64];
	int ret;

	ret = nvgrace_tp_init();
	if (ret && ret != -EOPNOTSUPP)
		pr_warn("memory_failure_event tracepoint unavailable (%d): native reports seen only for early-kill mappings\n",
			ret);
#ifdef NVGRACE_GHES
	ghes_register_report_chain(&nvgrace_ghes_nb);
	nvgrace_ghes_on = true;
#endif
	nvgrace_sources_fmt(buf, sizeof(buf));
	pr_info("event sources: %s", buf);
	return 0;
}

void nvgrace_poison_sources_exit(void)
{
#ifdef NVGRACE_GHES
	if (nvgrace_ghes_on)
		ghes_unregister_report_chain(&nvgrace_ghes_nb);
	nvgrace_ghes_on = false;
#endif
	nvgrace_tp_exit();
}
