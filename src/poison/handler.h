/* SPDX-License-Identifier: GPL-2.0-only */
/* nvgrace-poison: the handling of a poisoned PFN (handler.c). */
#ifndef NVGRACE_POISON_HANDLER_H
#define NVGRACE_POISON_HANDLER_H

#include <linux/atomic.h>
#include <linux/slab.h>

#include "nvgrace-poison.h"

/* Typed allocation of newer kernels (v7.0), the same on older ones. */
#ifndef kzalloc_obj
#define kzalloc_obj(VAR_OR_TYPE, GFP) kzalloc(sizeof(VAR_OR_TYPE), GFP)
#endif

/* SIGBUS signals sent by the handler since load. */
extern atomic_long_t nvgrace_poison_nr_signals;

void nvgrace_poison_handle(struct nvgrace_pfn_space *space, unsigned long pfn,
			   const struct mm_struct *signalled);
const char *nvgrace_poison_zap_mode(void);

struct dentry;
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
void nvgrace_poison_handler_debugfs(struct dentry *dir);
#else
static inline void nvgrace_poison_handler_debugfs(struct dentry *dir)
{
}
#endif

#endif /* NVGRACE_POISON_HANDLER_H */
