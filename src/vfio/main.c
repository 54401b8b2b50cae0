// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-vfio-pci: VFIO PCI variant driver for NVIDIA Grace Hopper and
 * Grace Blackwell GPUs, built out of tree for kernels 6.1 and later.
 *
 * The driver binds only through driver_override (all its IDs are
 * override-only), so it never takes a GPU away from another driver by
 * accident. It reads the GPU's coherent memory window from the firmware
 * properties nvidia,gpu-mem-base-pa and nvidia,gpu-mem-size; when they are
 * absent the device behaves exactly like it would under vfio-pci.
 */

#include <linux/device.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/property.h>
#include <linux/vfio_pci_core.h>

#include "nvgrace-compat.h"

struct nvgrace_vfio_device {
	struct vfio_pci_core_device core_device;
	/* Coherent device memory from firmware; mem_length 0 when absent. */
	phys_addr_t mem_phys;
	size_t mem_length;
	/* Why the properties were not used (0, or the errno of the read). */
	int mem_status;
};

static struct nvgrace_vfio_device *
to_nvgrace(struct vfio_pci_core_device *core_device)
{
	return container_of(core_device, struct nvgrace_vfio_device,
			    core_device);
}

/*
 * Read the device-memory window. Same checks as mainline: either property
 * missing is reported by the caller as "no device memory", values that do
 * not fit the kernel's types are -EOVERFLOW, and a zero size (firmware's
 * report of a C2C link failure) is -ENOMEM.
 */
static int nvgrace_vfio_read_mem_props(struct pci_dev *pdev, u64 *phys,
				       u64 *length)
{
	int ret;

	ret = device_property_read_u64(&pdev->dev, "nvidia,gpu-mem-base-pa",
				       phys);
	if (ret)
		return ret;
	if (*phys > type_max(phys_addr_t))
		return -EOVERFLOW;

	ret = device_property_read_u64(&pdev->dev, "nvidia,gpu-mem-size",
				       length);
	if (ret)
		return ret;
	if (*length > type_max(size_t))
		return -EOVERFLOW;
	if (*length == 0)
		return -ENOMEM;

	/* The window must not wrap around the physical address space. */
	if (*phys + *length - 1 < *phys)
		return -EOVERFLOW;
	return 0;
}

static int nvgrace_vfio_open_device(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);
	int ret;

	ret = vfio_pci_core_enable(vdev);
	if (ret)
		return ret;

	vfio_pci_core_finish_enable(vdev);
	return 0;
}

static const struct vfio_device_ops nvgrace_vfio_ops = {
	.name		= "nvgrace-vfio-pci",
	.init		= vfio_pci_core_init_dev,
	.release	= vfio_pci_core_release_dev,
	.open_device	= nvgrace_vfio_open_device,
	.close_device	= vfio_pci_core_close_device,
	.ioctl		= vfio_pci_core_ioctl,
#ifdef HAVE_VFIO_DEVICE_OPS_GET_REGION_INFO_CAPS
	.get_region_info_caps = vfio_pci_ioctl_get_region_info,
#endif
	.device_feature	= vfio_pci_core_ioctl_feature,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.mmap		= vfio_pci_core_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
#ifdef HAVE_VFIO_DEVICE_OPS_MATCH_TOKEN_UUID
	.match_token_uuid = vfio_pci_core_match_token_uuid,
#endif
#ifdef HAVE_VFIO_DEVICE_OPS_BIND_IOMMUFD
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
#endif
#ifdef HAVE_VFIO_DEVICE_OPS_DETACH_IOAS
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
#endif
};

static int nvgrace_vfio_probe(struct pci_dev *pdev,
			      const struct pci_device_id *id)
{
	struct nvgrace_vfio_device *nvdev;
	u64 phys = 0, length = 0;
	int ret;

	nvdev = vfio_alloc_device(nvgrace_vfio_device, core_device.vdev,
				  &pdev->dev, &nvgrace_vfio_ops);
	if (IS_ERR(nvdev))
		return PTR_ERR(nvdev);

	ret = nvgrace_vfio_read_mem_props(pdev, &phys, &length);
	nvdev->mem_status = ret;
	if (!ret) {
		nvdev->mem_phys = phys;
		nvdev->mem_length = length;
		pci_info(pdev, "device memory %pa, %zu MiB\n",
			 &nvdev->mem_phys, nvdev->mem_length >> 20);
	} else if (ret == -EINVAL) {
		/* No properties: a plain vfio-pci device. */
		pci_info(pdev, "no device-memory properties, plain vfio-pci behaviour\n");
	} else {
		pci_warn(pdev, "device-memory properties unusable (%pe), plain vfio-pci behaviour\n",
			 ERR_PTR(ret));
	}

	dev_set_drvdata(&pdev->dev, &nvdev->core_device);
	ret = vfio_pci_core_register_device(&nvdev->core_device);
	if (ret)
		goto out_put_vdev;
	return 0;

out_put_vdev:
	vfio_put_device(&nvdev->core_device.vdev);
	return ret;
}

static void nvgrace_vfio_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core_device = dev_get_drvdata(&pdev->dev);

	vfio_pci_core_unregister_device(core_device);
	vfio_put_device(&core_device->vdev);
}

/* Operator-visible state, in the PCI device's sysfs directory. */
static ssize_t mem_phys_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct nvgrace_vfio_device *nvdev = to_nvgrace(dev_get_drvdata(dev));

	return sysfs_emit(buf, "0x%llx\n", (u64)nvdev->mem_phys);
}
static DEVICE_ATTR_RO(mem_phys);

static ssize_t mem_length_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct nvgrace_vfio_device *nvdev = to_nvgrace(dev_get_drvdata(dev));

	return sysfs_emit(buf, "%zu\n", nvdev->mem_length);
}
static DEVICE_ATTR_RO(mem_length);

static ssize_t mem_status_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct nvgrace_vfio_device *nvdev = to_nvgrace(dev_get_drvdata(dev));

	if (!nvdev->mem_status)
		return sysfs_emit(buf, "ok\n");
	if (nvdev->mem_status == -EINVAL)
		return sysfs_emit(buf, "absent\n");
	return sysfs_emit(buf, "invalid %d\n", nvdev->mem_status);
}
static DEVICE_ATTR_RO(mem_status);

static struct attribute *nvgrace_vfio_attrs[] = {
	&dev_attr_mem_phys.attr,
	&dev_attr_mem_length.attr,
	&dev_attr_mem_status.attr,
	NULL,
};

static const struct attribute_group nvgrace_vfio_group = {
	.name = "nvgrace",
	.attrs = nvgrace_vfio_attrs,
};

static const struct attribute_group *nvgrace_vfio_groups[] = {
	&nvgrace_vfio_group,
	NULL,
};

/* Every ID is override-only: the driver binds through driver_override. */
static const struct pci_device_id nvgrace_vfio_table[] = {
	/* GH200 120GB/480GB */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x2342) },
	/* GH200 SKU */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x2345) },
	/* GH200 SKU */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x2348) },
	/* GB200 SKU */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x2941) },
	/* GB300 SKU */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x31C2) },
	{}
};
MODULE_DEVICE_TABLE(pci, nvgrace_vfio_table);

static struct pci_driver nvgrace_vfio_driver = {
	.name = KBUILD_MODNAME,
	.id_table = nvgrace_vfio_table,
	.probe = nvgrace_vfio_probe,
	.remove = nvgrace_vfio_remove,
	.err_handler = &vfio_pci_core_err_handlers,
	.driver_managed_dma = true,
	.dev_groups = nvgrace_vfio_groups,
};

module_pci_driver(nvgrace_vfio_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO PCI variant driver for NVIDIA Grace GPUs with coherent device memory");
MODULE_VERSION(NVGRACE_VERSION);
