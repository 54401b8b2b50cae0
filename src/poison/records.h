/* SPDX-License-Identifier: GPL-2.0-only */
/* nvgrace-poison: the range registry and the poison records (records.c). */
#ifndef NVGRACE_POISON_RECORDS_H
#define NVGRACE_POISON_RECORDS_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>

#include "nvgrace-poison.h"

/* One poisoned PFN of a range. */
struct nvgrace_poison_rec {
	unsigned long pfn;
	/* A process the kernel already signalled (never dereferenced). */
	const struct mm_struct *signalled;
	u8 src;
	bool pending;			/* not handled by the worker yet */
};

/* Serialises registration (register.c) and the debug listings. */
extern struct mutex nvgrace_poison_lock;

extern atomic_long_t nvgrace_poison_nr_events[NVGRACE_POISON_SRC_NR];
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

/* For register.c, under nvgrace_poison_lock where it says so. */
bool nvgrace_poison_overlaps(unsigned long first, unsigned long last);
int nvgrace_poison_space_setup(struct nvgrace_pfn_space *space);
void nvgrace_poison_tree_insert(struct nvgrace_pfn_space *space);
void nvgrace_poison_tree_erase(struct nvgrace_pfn_space *space);
void nvgrace_poison_wait_handled(struct nvgrace_pfn_space *space);
void nvgrace_poison_records_free(struct nvgrace_pfn_space *space);

int nvgrace_poison_records_init(void);
void nvgrace_poison_records_exit(void);

#endif /* NVGRACE_POISON_RECORDS_H */
