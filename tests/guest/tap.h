/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tap.h: the TAP result line of the guest test programs. Header-only; each
 * program is one file. ok() prints "ok - ..." or "not ok - ..." and counts
 * the failures, which the program returns as its exit status.
 */
#ifndef NVGRACE_TAP_H
#define NVGRACE_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int failures;

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failures++;
}

#endif /* NVGRACE_TAP_H */
