/* SPDX-License-Identifier: GPL-2.0-only */
/* nvgrace-poison: debugfs and sysfs (control.c). */
#ifndef NVGRACE_POISON_CONTROL_H
#define NVGRACE_POISON_CONTROL_H

int nvgrace_poison_control_init(void);
void nvgrace_poison_control_exit(void);

#endif /* NVGRACE_POISON_CONTROL_H */
