// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_REGISTER_PFN_ADDRESS_SPACE: <linux/memory-failure.h> with
 * register_pfn_address_space(), so memory_failure() reaches PFNs without
 * struct page that a driver registered.
 * Added in v6.19-rc1 by "mm: handle poisoning of pfn without struct pages".
 */
#include <linux/memory-failure.h>

static int probe(struct pfn_address_space *pfn_space) __maybe_unused;
static int probe(struct pfn_address_space *pfn_space)
{
	int ret = register_pfn_address_space(pfn_space);

	if (!ret)
		unregister_pfn_address_space(pfn_space);
	return ret;
}
