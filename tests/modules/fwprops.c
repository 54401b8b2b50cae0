// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-test-fwprops: test-only module that plays the Grace firmware.
 *
 * On a Grace host the GPU's coherent memory window reaches the driver as the
 * ACPI _DSD properties nvidia,gpu-mem-base-pa and nvidia,gpu-mem-size. Under
 * QEMU there is no such firmware, so this module attaches the same
 * properties to the stand-in GPU as a software node; the driver then reads
 * them through its normal device_property_read_u64() path.
 *
 * Parameters:
 *   gpu=DDDD:BB:DD.F  device that plays the GPU (default: first 1234:1111,
 *                     QEMU's bochs-display)
 *   mem=DDDD:BB:DD.F  device whose BAR 2 plays the device memory (default:
 *                     first 1af4:1110, QEMU's ivshmem-plain)
 *   base=, size=      explicit values instead of mem's BAR 2 (tests of bad
 *                     firmware data)
 *   omit=base|size    leave one property out
 *   ready_after_ms=N  play a GPU that finishes HBM training late: clear its
 *                     readiness registers (BAR0 0x1498 and 0x200BC) at load
 *                     and set them to 0xFF N ms later (-1, the default:
 *                     leave them alone)
 *
 * Never installed by the packages.
 */

#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/property.h>
#include <linux/workqueue.h>

static char *gpu;
module_param(gpu, charp, 0444);
MODULE_PARM_DESC(gpu, "PCI address of the stand-in GPU (default: first 1234:1111)");
static char *mem;
module_param(mem, charp, 0444);
MODULE_PARM_DESC(mem, "PCI address of the device whose BAR 2 is the device memory (default: first 1af4:1110)");
static char *base;
module_param(base, charp, 0444);
MODULE_PARM_DESC(base, "explicit nvidia,gpu-mem-base-pa value");
static char *size;
module_param(size, charp, 0444);
MODULE_PARM_DESC(size, "explicit nvidia,gpu-mem-size value");
static char *omit;
module_param(omit, charp, 0444);
MODULE_PARM_DESC(omit, "leave out one property: base or size");

static int ready_after_ms = -1;
module_param(ready_after_ms, int, 0444);
MODULE_PARM_DESC(ready_after_ms, "make the GPU not ready at load and ready this many ms later (-1: leave it)");

#define FWPROPS_C2C_REG		0x1498
#define FWPROPS_HBM_REG		0x200bc

static struct property_entry fwprops_props[3];
static const struct software_node fwprops_node = {
	.name = "nvgrace-test-fwprops",
	.properties = fwprops_props,
};

static struct pci_dev *fwprops_gpu;
static struct pci_dev *fwprops_mem;

static void fwprops_put_mem(void)
{
	if (!fwprops_mem)
		return;
	pci_disable_device(fwprops_mem);
	pci_dev_put(fwprops_mem);
	fwprops_mem = NULL;
}

static void __iomem *fwprops_regs;
static struct delayed_work fwprops_ready_work;

/*
 * The readiness registers through the kernel's own mapping of BAR0: a user
 * mapping of resource0 is revoked as soon as the driver claims the BAR.
 * Memory decode is switched on around the writes.
 */
static void fwprops_set_ready(u32 val)
{
	if (pci_enable_device_mem(fwprops_gpu)) {
		pci_err(fwprops_gpu, "nvgrace-test-fwprops: cannot enable the GPU's BAR0\n");
		return;
	}
	iowrite32(val, fwprops_regs + FWPROPS_C2C_REG);
	iowrite32(val, fwprops_regs + FWPROPS_HBM_REG);
	pci_disable_device(fwprops_gpu);
}

static void fwprops_ready_fn(struct work_struct *work)
{
	fwprops_set_ready(0xff);
	pci_info(fwprops_gpu, "nvgrace-test-fwprops: GPU stand-in ready after %d ms\n",
		 ready_after_ms);
}

static int fwprops_start_late_ready(void)
{
	if (pci_resource_len(fwprops_gpu, 0) < FWPROPS_HBM_REG + 4) {
		pci_err(fwprops_gpu, "nvgrace-test-fwprops: BAR0 too small for readiness registers\n");
		return -EINVAL;
	}
	fwprops_regs = ioremap(pci_resource_start(fwprops_gpu, 0),
			       FWPROPS_HBM_REG + 4);
	if (!fwprops_regs)
		return -ENOMEM;
	fwprops_set_ready(0);
	INIT_DELAYED_WORK(&fwprops_ready_work, fwprops_ready_fn);
	schedule_delayed_work(&fwprops_ready_work,
			      msecs_to_jiffies(ready_after_ms));
	return 0;
}

static struct pci_dev *fwprops_find(const char *bdf, unsigned int vendor,
				    unsigned int device, const char *what)
{
	unsigned int domain, bus, slot, fn;
	struct pci_dev *pdev;

	if (!bdf) {
		pdev = pci_get_device(vendor, device, NULL);
		if (!pdev)
			pr_err("nvgrace-test-fwprops: no %04x:%04x device for %s\n",
			       vendor, device, what);
		return pdev;
	}
	if (sscanf(bdf, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4 ||
	    bus > 0xff || slot > 0x1f || fn > 7) {
		pr_err("nvgrace-test-fwprops: %s=%s is not a PCI address DDDD:BB:DD.F\n",
		       what, bdf);
		return ERR_PTR(-EINVAL);
	}
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev)
		pr_err("nvgrace-test-fwprops: %s=%s: no such PCI device\n",
		       what, bdf);
	return pdev;
}

static int fwprops_parse(const char *s, const char *what, u64 *val)
{
	int ret = kstrtou64(s, 0, val);

	if (ret)
		pr_err("nvgrace-test-fwprops: %s=%s is not a number\n", what, s);
	return ret;
}

static int __init fwprops_init(void)
{
	struct pci_dev *memdev = NULL;
	u64 membase = 0, memsize = 0;
	unsigned int n = 0;
	int ret;

	if (omit && strcmp(omit, "base") && strcmp(omit, "size")) {
		pr_err("nvgrace-test-fwprops: omit=%s: expected base or size\n",
		       omit);
		return -EINVAL;
	}

	/*
	 * The device whose BAR 2 plays the memory must decode it, as the real
	 * memory always answers; only explicit base= and size= may do without.
	 */
	memdev = fwprops_find(mem, PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110, "mem");
	if (IS_ERR(memdev))
		return PTR_ERR(memdev);
	if (!memdev && (!base || !size))
		return -ENODEV;
	if (memdev) {
		membase = pci_resource_start(memdev, 2);
		memsize = pci_resource_len(memdev, 2);
		ret = pci_enable_device_mem(memdev);
		if (ret) {
			pci_dev_put(memdev);
			return ret;
		}
		fwprops_mem = memdev;
	}
	if (base) {
		ret = fwprops_parse(base, "base", &membase);
		if (ret)
			goto err_mem;
	}
	if (size) {
		ret = fwprops_parse(size, "size", &memsize);
		if (ret)
			goto err_mem;
	}

	fwprops_gpu = fwprops_find(gpu, 0x1234, 0x1111, "gpu");
	if (IS_ERR_OR_NULL(fwprops_gpu)) {
		ret = fwprops_gpu ? PTR_ERR(fwprops_gpu) : -ENODEV;
		goto err_mem;
	}
	if (fwprops_gpu->dev.driver) {
		pci_err(fwprops_gpu, "nvgrace-test-fwprops: unbind the device first\n");
		ret = -EBUSY;
		goto err_put;
	}

	if (!omit || strcmp(omit, "base"))
		fwprops_props[n++] = PROPERTY_ENTRY_U64("nvidia,gpu-mem-base-pa",
							membase);
	if (!omit || strcmp(omit, "size"))
		fwprops_props[n++] = PROPERTY_ENTRY_U64("nvidia,gpu-mem-size",
							memsize);

	if (ready_after_ms < -1) {
		pr_err("nvgrace-test-fwprops: ready_after_ms=%d: expected -1 or a delay in ms\n",
		       ready_after_ms);
		ret = -EINVAL;
		goto err_put;
	}
	if (ready_after_ms >= 0) {
		ret = fwprops_start_late_ready();
		if (ret)
			goto err_put;
	}

	ret = device_add_software_node(&fwprops_gpu->dev, &fwprops_node);
	if (ret) {
		pci_err(fwprops_gpu, "nvgrace-test-fwprops: cannot attach properties: %d\n",
			ret);
		goto err_stop;
	}
	pci_info(fwprops_gpu, "nvgrace-test-fwprops: base 0x%llx size 0x%llx%s%s\n",
		 membase, memsize, omit ? ", omitted " : "", omit ? omit : "");
	return 0;

err_stop:
	if (fwprops_regs) {
		cancel_delayed_work_sync(&fwprops_ready_work);
		iounmap(fwprops_regs);
	}
err_put:
	pci_dev_put(fwprops_gpu);
err_mem:
	fwprops_put_mem();
	return ret;
}

static void __exit fwprops_exit(void)
{
	if (fwprops_regs) {
		cancel_delayed_work_sync(&fwprops_ready_work);
		iounmap(fwprops_regs);
	}
	device_remove_software_node(&fwprops_gpu->dev);
	pci_dev_put(fwprops_gpu);
	fwprops_put_mem();
}

module_init(fwprops_init);
module_exit(fwprops_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nvgrace-dkms test: firmware memory properties for a stand-in GPU");
