// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_FOLLOW_PFNMAP_START: follow_pfnmap_start()/follow_pfnmap_end() replace
 * follow_pte() for looking up PFNs of a PFNMAP VMA.
 * Added in v6.12 by "mm: new follow_pfnmap API".
 */
#include <linux/mm.h>

static int probe(struct follow_pfnmap_args *args) __maybe_unused;
static int probe(struct follow_pfnmap_args *args)
{
	int ret = follow_pfnmap_start(args);

	if (!ret)
		follow_pfnmap_end(args);
	return ret;
}
