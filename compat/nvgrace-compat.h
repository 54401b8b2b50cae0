/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Thin wrappers over kernel API differences. Every decision here rests on a
 * HAVE_* macro from the generated probe header (see compat/probes/), never
 * on the kernel version number.
 */
#ifndef NVGRACE_COMPAT_H
#define NVGRACE_COMPAT_H

#ifndef NVGRACE_PROBES_DONE
#error "the generated compat header was not force-included; build with the pack's Kbuild"
#endif

#endif /* NVGRACE_COMPAT_H */
