/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfio-open.h: open a PCI device through the VFIO group/container uAPI, for
 * the guest test programs. Header-only; each program is one file.
 */
#ifndef NVGRACE_VFIO_OPEN_H
#define NVGRACE_VFIO_OPEN_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

/* Why the last vfio_open() failed: the call that failed. */
static const char *vfio_open_failed;

struct vfio_handle {
	int container, group, device;
};

/*
 * Open DDDD:BB:DD.F: container, group (type1v2 IOMMU), device fd.
 * Returns 0, or -1 with errno set and vfio_open_failed naming the step.
 */
static int vfio_open(const char *bdf, struct vfio_handle *h)
{
	struct vfio_group_status gstatus = { .argsz = sizeof(gstatus) };
	char path[PATH_MAX + 16], link[PATH_MAX];
	ssize_t len;
	char *name;

	h->container = -1;
	h->group = -1;
	h->device = -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0) {
		vfio_open_failed = "iommu_group link";
		return -1;
	}
	link[len] = '\0';
	name = strrchr(link, '/');
	snprintf(path, sizeof(path), "/dev/vfio/%s", name ? name + 1 : link);

	vfio_open_failed = "/dev/vfio/vfio";
	h->container = open("/dev/vfio/vfio", O_RDWR);
	if (h->container < 0)
		return -1;
	vfio_open_failed = "VFIO_GET_API_VERSION";
	if (ioctl(h->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return -1;
	vfio_open_failed = "group open";
	h->group = open(path, O_RDWR);
	if (h->group < 0)
		return -1;
	vfio_open_failed = "VFIO_GROUP_GET_STATUS";
	if (ioctl(h->group, VFIO_GROUP_GET_STATUS, &gstatus))
		return -1;
	if (!(gstatus.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		vfio_open_failed = "group not viable";
		errno = EBUSY;
		return -1;
	}
	vfio_open_failed = "VFIO_GROUP_SET_CONTAINER";
	if (ioctl(h->group, VFIO_GROUP_SET_CONTAINER, &h->container))
		return -1;
	vfio_open_failed = "VFIO_SET_IOMMU";
	if (ioctl(h->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -1;
	vfio_open_failed = "VFIO_GROUP_GET_DEVICE_FD";
	h->device = ioctl(h->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (h->device < 0)
		return -1;
	vfio_open_failed = NULL;
	return 0;
}

static void vfio_close(struct vfio_handle *h)
{
	if (h->device >= 0)
		close(h->device);
	if (h->group >= 0)
		close(h->group);
	if (h->container >= 0)
		close(h->container);
	h->container = -1;
	h->group = -1;
	h->device = -1;
}

#endif /* NVGRACE_VFIO_OPEN_H */
