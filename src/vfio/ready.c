// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-vfio-pci: the GPU's readiness. Grace Blackwell trains its HBM
 * after boot and every GPU retrains after a reset; until the C2C link is
 * up and HBM trained (BAR0 registers, or Memory_Active in the CXL Device
 * DVSEC on Blackwell-Next), accesses to device memory are not allowed.
 *
 * Mainline has this in its main.c: nvgrace_gpu_wait_device_ready_legacy()
 * and _cxl() (here nvgrace_probe_poll_ready(), one loop for both), and
 * nvgrace_gpu_test_device_ready_cxl() and nvgrace_gpu_check_device_ready()
 * under the same names. Here no wait sleeps holding memory_lock or the
 * fault's lock (nvgrace_lock_ready() is the one retry of the fault and
 * read()/write() paths), and the timing is two module parameters.
 */

#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>

#include "nvgrace-compat.h"
#include "nvgrace.h"
#include "layout.h"

/* Readiness wait: mainline polls every second for up to 30 s. */
static unsigned int ready_timeout_ms = 30000;
static unsigned int ready_poll_ms = 1000;

static int nvgrace_param_set_ms(const char *val, const struct kernel_param *kp,
				unsigned int max)
{
	unsigned int ms;
	int ret;

	ret = kstrtouint(val, 0, &ms);
	if (ret || ms < 1 || ms > max) {
		pr_err("nvgrace-vfio-pci: %s must be a number of milliseconds from 1 to %u, not '%.*s'\n",
		       kp->name, max, (int)strcspn(val, "\n"), val);
		return -EINVAL;
	}
	WRITE_ONCE(*(unsigned int *)kp->arg, ms);
	return 0;
}

static int nvgrace_param_set_timeout(const char *val,
				     const struct kernel_param *kp)
{
	return nvgrace_param_set_ms(val, kp, 600000);
}

static int nvgrace_param_set_poll(const char *val,
				  const struct kernel_param *kp)
{
	return nvgrace_param_set_ms(val, kp, 1000);
}

static const struct kernel_param_ops nvgrace_timeout_ops = {
	.set = nvgrace_param_set_timeout,
	.get = param_get_uint,
};

static const struct kernel_param_ops nvgrace_poll_ops = {
	.set = nvgrace_param_set_poll,
	.get = param_get_uint,
};

module_param_cb(ready_timeout_ms, &nvgrace_timeout_ops, &ready_timeout_ms,
		0644);
MODULE_PARM_DESC(ready_timeout_ms,
		 "How long to wait for the GPU's C2C link and HBM training, in ms (1-600000, default 30000)");
module_param_cb(ready_poll_ms, &nvgrace_poll_ops, &ready_poll_ms, 0644);
MODULE_PARM_DESC(ready_poll_ms,
		 "Interval between readiness checks, in ms (1-1000, default 1000)");

/* One look at the BAR0 registers: 0 ready, -EAGAIN not yet. */
static int nvgrace_test_ready_regs(void __iomem *regs)
{
	if (ioread32(regs + NVGRACE_C2C_LINK_REG) == NVGRACE_READY &&
	    ioread32(regs + NVGRACE_HBM_TRAINING_REG) == NVGRACE_READY)
		return 0;
	return -EAGAIN;
}

/* One look at the CXL Device DVSEC: 0 ready, -EAGAIN not yet, -ENODEV gone. */
static int nvgrace_gpu_test_device_ready_cxl(struct nvgrace_vfio_device *nvdev,
					     u32 *status)
{
	u32 val;

	pci_read_config_dword(nvdev->core_device.pdev,
			      nvdev->cxl_dvsec + PCI_DVSEC_CXL_RANGE_SIZE_LOW(0),
			      &val);
	if (val == ~0U)
		return -ENODEV;
	*status = val;
	return nvgrace_cxl_mem_active(val) ? 0 : -EAGAIN;
}

/*
 * Until when a GPU that started training at @start may take. BAR0 registers:
 * ready_timeout_ms. CXL (mainline v7.2): Memory_Info_Valid within 1 s, then
 * Memory_Active within the timeout the device advertises (<= 256 s); here
 * both count from @start.
 */
static unsigned long nvgrace_ready_deadline(struct nvgrace_vfio_device *nvdev,
					    unsigned long start, u32 status)
{
	unsigned long ms = READ_ONCE(ready_timeout_ms);

	if (nvdev->cxl_dvsec) {
		ms = MSEC_PER_SEC;
		if (status & NVGRACE_CXL_MEM_INFO_VALID)
			ms += nvgrace_cxl_active_timeout_ms(status);
	}
	return start + msecs_to_jiffies(ms);
}

/*
 * Sleep one poll interval, holding no lock. Only a fatal signal ends the
 * wait (-EINTR); an early wake-up for any other reason just polls again.
 */
static int nvgrace_poll_sleep(void)
{
	schedule_timeout_killable(msecs_to_jiffies(READ_ONCE(ready_poll_ms)));
	return fatal_signal_pending(current) ? -EINTR : 0;
}

/*
 * Readiness at probe, no lock held: poll the registers (or the CXL DVSEC)
 * until ready, -ETIME (said in the log) at the deadline, -EINTR on a fatal
 * signal.
 */
int nvgrace_probe_poll_ready(struct nvgrace_vfio_device *nvdev,
			     void __iomem *regs)
{
	unsigned long start = jiffies;
	u32 status = 0;
	int ret;

	for (;;) {
		if (nvdev->cxl_dvsec)
			ret = nvgrace_gpu_test_device_ready_cxl(nvdev, &status);
		else
			ret = nvgrace_test_ready_regs(regs);
		if (ret != -EAGAIN)
			break;
		if (time_after(jiffies,
			       nvgrace_ready_deadline(nvdev, start, status))) {
			pci_err(nvdev->core_device.pdev,
				"GPU not ready after %u ms (C2C link or HBM training), giving up\n",
				READ_ONCE(ready_timeout_ms));
			return -ETIME;
		}
		ret = nvgrace_poll_sleep();
		if (ret)
			return ret;
	}
	if (!ret)
		WRITE_ONCE(nvdev->ready_wait_ms,
			   jiffies_to_msecs(jiffies - start));
	return ret;
}

/*
 * After a reset, before the first access, the GPU must be ready: speculative
 * CPU accesses to its memory before that log (harmless) corrected RAS
 * errors. One quick test with memory_lock held for read: 0 when ready (and
 * from then on without testing), -EAGAIN not yet, -EIO memory decode off or
 * D3 (the registers cannot be read), -ETIME not ready ready_timeout_ms after
 * the reset, -ENODEV the device is gone, -EBUSY a memory-decode or power
 * change through this device's fd is under way (nvgrace_block_faults(),
 * before v6.10).
 */
static int nvgrace_gpu_check_device_ready(struct nvgrace_vfio_device *nvdev)
{
	struct vfio_pci_core_device *vdev = &nvdev->core_device;
	unsigned long since;
	u32 status = 0;
	int ret;

	lockdep_assert_held_read(&vdev->memory_lock);

	if (nvgrace_faults_blocked(nvdev))
		return -EBUSY;
	if (!READ_ONCE(nvdev->reset_done))
		return 0;
	/* reset_jiffies after reset_done: nvgrace_gpu_vfio_pci_reset_done() */
	smp_rmb();
	since = READ_ONCE(nvdev->reset_jiffies);
	if (!nvgrace_memory_enabled(vdev))
		return -EIO;

	if (nvdev->cxl_dvsec)
		ret = nvgrace_gpu_test_device_ready_cxl(nvdev, &status);
	else
		ret = nvgrace_test_ready_regs(nvdev->regs);
	if (ret == -EAGAIN &&
	    time_after(jiffies, nvgrace_ready_deadline(nvdev, since, status)))
		ret = -ETIME;
	if (ret)
		return ret;

	WRITE_ONCE(nvdev->ready_wait_ms, jiffies_to_msecs(jiffies - since));
	WRITE_ONCE(nvdev->reset_done, false);
	return 0;
}

/*
 * Take memory_lock for read with the GPU ready for access: the one readiness
 * retry of the fault and read()/write() paths. The wait never sleeps under
 * memory_lock: each poll takes the lock, tests once and drops it, so a
 * PCI_COMMAND write or a reset is never held up by a GPU still training.
 * Mainline (v7.3) sleeps up to the whole timeout under memory_lock (and the
 * mmap lock, in the fault path), and takes an early wake-up for a kill.
 * Returns 0 with the lock held, or an error without it; -EAGAIN (GPU not
 * ready yet) and -EBUSY (decode change under way) unless @wait says to wait
 * for it.
 */
int nvgrace_lock_ready(struct nvgrace_vfio_device *nvdev, unsigned int wait)
{
	struct rw_semaphore *lock = &nvdev->core_device.memory_lock;
	int ret;

	for (;;) {
		down_read(lock);
		ret = nvgrace_gpu_check_device_ready(nvdev);
		if (!ret)
			return 0;
		up_read(lock);
		if (ret == -EAGAIN && (wait & NVGRACE_WAIT_READY)) {
			/* The test gives -ETIME, against the reset's deadline. */
			ret = nvgrace_poll_sleep();
		} else if (ret == -EBUSY && (wait & NVGRACE_WAIT_BUSY)) {
			/* A config write: short, poll quickly. */
			schedule_timeout_killable(msecs_to_jiffies(10));
			ret = fatal_signal_pending(current) ? -EINTR : 0;
		}
		if (ret)
			return ret;
	}
}
