/* SPDX-License-Identifier: GPL-2.0-only */
/* nvgrace-poison: the event sources (sources.c). */
#ifndef NVGRACE_POISON_SOURCES_H
#define NVGRACE_POISON_SOURCES_H

#include <linux/types.h>

#include "nvgrace-poison.h"

int nvgrace_poison_sources_init(void);
void nvgrace_poison_sources_exit(void);
int nvgrace_poison_native_register(struct nvgrace_pfn_space *space);
void nvgrace_poison_native_unregister(struct nvgrace_pfn_space *space);
ssize_t nvgrace_poison_sources_show(char *buf);

#endif /* NVGRACE_POISON_SOURCES_H */
