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
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

static int fail(const char *what)
{
	fprintf(stderr, "vfio-info: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct vfio_group_status gstatus = { .argsz = sizeof(gstatus) };
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	char path[PATH_MAX], link[PATH_MAX];
	int container, group, device;
	unsigned int i;
	ssize_t len;
	char *name;

	if (argc != 2) {
		fprintf(stderr, "usage: vfio-info DDDD:BB:DD.F\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 argv[1]);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return fail(path);
	link[len] = '\0';
	name = strrchr(link, '/');
	snprintf(path, sizeof(path), "/dev/vfio/%s", name ? name + 1 : link);

	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return fail("/dev/vfio/vfio");
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return fail("VFIO_GET_API_VERSION");
	group = open(path, O_RDWR);
	if (group < 0)
		return fail(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &gstatus))
		return fail("VFIO_GROUP_GET_STATUS");
	if (!(gstatus.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		return fail("group not viable");
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return fail("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return fail("VFIO_SET_IOMMU");
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
	if (device < 0)
		return fail("VFIO_GROUP_GET_DEVICE_FD");
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

	close(device);
	close(group);
	close(container);
	return 0;
}
