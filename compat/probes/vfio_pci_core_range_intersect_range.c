// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_VFIO_PCI_CORE_RANGE_INTERSECT_RANGE: vfio-pci-core exports
 * vfio_pci_core_range_intersect_range().
 * Added in v6.9 by "vfio/pci: rename and export
 * range_intersect_range".
 */
#include <linux/vfio_pci_core.h>

static int probe(void) __maybe_unused;
static int probe(void)
{
	loff_t start;
	size_t count;
	size_t ofs;

	return vfio_pci_core_range_intersect_range(0, 8, 0, 4, &start, &count,
						   &ofs);
}
