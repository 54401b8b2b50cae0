/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The build facts each module carries for modinfo: the kernel release it
 * was built against, the probes that fired and did not, and the features
 * built in and lost (NVGRACE_BUILD_*, from compat/gen-config.sh).
 * `nvgrace-vfio doctor` reads them; HACKING lists the fields.
 *
 * Include this once per module, in the file that has MODULE_LICENSE():
 * every MODULE_INFO() adds a .modinfo entry, so a second include would
 * repeat them.
 */
#ifndef NVGRACE_BUILDINFO_H
#define NVGRACE_BUILDINFO_H

#include <linux/module.h>

MODULE_INFO(nvgrace_kernel, NVGRACE_BUILD_KERNEL);
MODULE_INFO(nvgrace_probes, NVGRACE_BUILD_PROBES);
MODULE_INFO(nvgrace_probes_absent, NVGRACE_BUILD_PROBES_ABSENT);
MODULE_INFO(nvgrace_features, NVGRACE_BUILD_FEATURES);
MODULE_INFO(nvgrace_features_lost, NVGRACE_BUILD_FEATURES_LOST);

#endif /* NVGRACE_BUILDINFO_H */
