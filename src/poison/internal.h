/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nvgrace-poison internals shared by the handler (main.c), the event sources
 * (sources.c) and the debugfs/sysfs interface (iface.c).
 */
#ifndef NVGRACE_POISON_INTERNAL_H
#define NVGRACE_POISON_INTERNAL_H

#include <linux/atomic.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "nvgrace-poison.h"

/* Typed allocation of newer kernels (v7.0), the same on older ones. */
#ifndef kzalloc_obj
#define kzalloc_obj(VAR_OR_TYPE, GFP) kzalloc(sizeof(VAR_OR_TYPE), GFP)
#endif

/* One poisoned PFN of a range. */
struct nvgrace_poison_rec {
	unsigned long pfn;
	/* A process the kernel already signalled (never dereferenced). */
	const struct mm_struct *signalled;
	u8 src;
	bool pending;			/* not handled by the worker yet */
};

extern atomic_long_t nvgrace_poison_nr_events[NVGRACE_POISON_SRC_NR];
extern atomic_long_t nvgrace_poison_nr_signals;
extern atomic_long_t nvgrace_poison_nr_dropped;

const char *nvgrace_poison_src_name(enum nvgrace_poison_source src);
int nvgrace_poison_report_mm(unsigned long pfn, enum nvgrace_poison_source src,
			     const struct mm_struct *signalled);
int nvgrace_poison_report_wait(unsigned long pfn,
			       enum nvgrace_poison_source src);
struct nvgrace_pfn_space *nvgrace_poison_space_of(unsigned long pfn);
unsigned int nvgrace_poison_nr_ranges(void);
unsigned long nvgrace_poison_nr_poisoned(void);
void nvgrace_poison_seq_ranges(struct seq_file *m);
void nvgrace_poison_seq_poisoned(struct seq_file *m);

/* sources.c */
int nvgrace_poison_sources_init(void);
void nvgrace_poison_sources_exit(void);
int nvgrace_poison_native_register(struct nvgrace_pfn_space *space);
void nvgrace_poison_native_unregister(struct nvgrace_pfn_space *space);
ssize_t nvgrace_poison_sources_show(char *buf);

/* iface.c */
int nvgrace_poison_iface_init(void);
void nvgrace_poison_iface_exit(void);

#endif /* NVGRACE_POISON_INTERNAL_H */
