/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfio-open.h: open a PCI device through the VFIO group/container uAPI or
 * through its VFIO cdev and iommufd, for the guest test programs.
 * Header-only; each program is one file.
 */
#ifndef NVGRACE_VFIO_OPEN_H
#define NVGRACE_VFIO_OPEN_H

#include <dirent.h>
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
	int container, group, device, iommufd;
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
	h->iommufd = -1;
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

/*
 * The VFIO device cdev with iommufd (v6.6 uAPI). Defined here because the
 * guest programs build against older userspace headers; only the fields
 * every kernel accepts are used.
 */
struct ng_bind_iommufd {
	__u32 argsz, flags;
	__s32 iommufd;
	__u32 out_devid;
};

struct ng_attach_pt {
	__u32 argsz, flags, pt_id;
};

struct ng_ioas_alloc {
	__u32 size, flags, out_ioas_id;
};

#define NG_VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)
#define NG_VFIO_DEVICE_ATTACH_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)
#define NG_IOMMU_IOAS_ALLOC		_IO(';', 0x81)

/*
 * The device's cdev, /dev/vfio/devices/vfioN (N from sysfs vfio-dev/), in
 * @path; -1 with errno ENODEV when the device has none (a kernel without
 * CONFIG_VFIO_DEVICE_CDEV, before v6.6).
 */
static inline int vfio_cdev_path(const char *bdf, char *path, size_t size)
{
	struct dirent *de;
	char dir[PATH_MAX];
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d) {
		errno = ENODEV;
		return -1;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4))
			break;
	if (de)
		snprintf(path, size, "/dev/vfio/devices/%s", de->d_name);
	closedir(d);
	if (!de) {
		errno = ENODEV;
		return -1;
	}
	return 0;
}

/*
 * Open DDDD:BB:DD.F through its cdev: open it and /dev/iommu, bind, attach
 * to a new IOAS. Returns 0, or -1 with errno set and vfio_open_failed
 * naming the step.
 */
static inline int vfio_open_cdev(const char *bdf, struct vfio_handle *h)
{
	struct ng_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct ng_attach_pt attach = { .argsz = sizeof(attach) };
	struct ng_ioas_alloc ioas = { .size = sizeof(ioas) };
	char path[PATH_MAX];

	h->container = -1;
	h->group = -1;
	h->device = -1;
	h->iommufd = -1;
	vfio_open_failed = "VFIO cdev in sysfs (vfio-dev/)";
	if (vfio_cdev_path(bdf, path, sizeof(path)))
		return -1;
	vfio_open_failed = "open /dev/vfio/devices/vfioN";
	h->device = open(path, O_RDWR);
	if (h->device < 0)
		return -1;
	vfio_open_failed = "open /dev/iommu";
	h->iommufd = open("/dev/iommu", O_RDWR);
	if (h->iommufd < 0)
		return -1;
	bind.iommufd = h->iommufd;
	vfio_open_failed = "VFIO_DEVICE_BIND_IOMMUFD";
	if (ioctl(h->device, NG_VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -1;
	vfio_open_failed = "IOMMU_IOAS_ALLOC";
	if (ioctl(h->iommufd, NG_IOMMU_IOAS_ALLOC, &ioas))
		return -1;
	attach.pt_id = ioas.out_ioas_id;
	vfio_open_failed = "VFIO_DEVICE_ATTACH_IOMMUFD_PT";
	if (ioctl(h->device, NG_VFIO_DEVICE_ATTACH_PT, &attach))
		return -1;
	vfio_open_failed = NULL;
	return 0;
}

static void vfio_close(struct vfio_handle *h)
{
	if (h->device >= 0)
		close(h->device);
	if (h->iommufd >= 0)
		close(h->iommufd);
	if (h->group >= 0)
		close(h->group);
	if (h->container >= 0)
		close(h->container);
	h->container = -1;
	h->group = -1;
	h->device = -1;
	h->iommufd = -1;
}

#endif /* NVGRACE_VFIO_OPEN_H */
