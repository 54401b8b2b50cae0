// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-info: open a PCI device through the VFIO group/container uAPI and
 * print what VFIO reports about it, one key=value per line.
 *
 *   vfio-info DDDD:BB:DD.F
 *
 * Exit status: 0 on success; 2 for bad usage; 1 when a VFIO call fails (the
 * failing call and errno are printed on stderr).
 */
#include <stdio.h>
#include <stdlib.h>

#include "vfio-open.h"

static int fail(const char *what)
{
	fprintf(stderr, "vfio-info: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_handle h;
	unsigned int i;
	int device;

	if (argc != 2) {
		fprintf(stderr, "usage: vfio-info DDDD:BB:DD.F\n");
		return 2;
	}
	if (vfio_open(argv[1], &h))
		return fail(vfio_open_failed);
	device = h.device;
	if (ioctl(device, VFIO_DEVICE_GET_INFO, &dinfo))
		return fail("VFIO_DEVICE_GET_INFO");

	printf("flags=0x%x\n", dinfo.flags);
	printf("pci=%d\n", !!(dinfo.flags & VFIO_DEVICE_FLAGS_PCI));
	printf("reset=%d\n", !!(dinfo.flags & VFIO_DEVICE_FLAGS_RESET));
	printf("num_regions=%u\n", dinfo.num_regions);
	printf("num_irqs=%u\n", dinfo.num_irqs);
	for (i = 0; i < dinfo.num_regions && i <= VFIO_PCI_CONFIG_REGION_INDEX; i++) {
		struct vfio_region_info rinfo = {
			.argsz = sizeof(rinfo), .index = i,
		};

		if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &rinfo))
			return fail("VFIO_DEVICE_GET_REGION_INFO");
		printf("region%u_size=0x%llx\n", i,
		       (unsigned long long)rinfo.size);
		printf("region%u_flags=0x%x\n", i, rinfo.flags);
	}

	vfio_close(&h);
	return 0;
}
