/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nvgrace-vfio-pci: the decisions that depend only on numbers, kept free of
 * device access so the KUnit suite can check every branch, including the
 * Blackwell and CXL ones no test device can reach.
 */
#ifndef NVGRACE_VFIO_LAYOUT_H
#define NVGRACE_VFIO_LAYOUT_H

#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/log2.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/pci_regs.h>
#include <linux/sizes.h>
#include <linux/time64.h>
#include <linux/types.h>

/*
 * Hopper's MIG hardware bug needs an uncached carve-out ("resmem") of at
 * least 1 GiB at the end of device memory; the cacheable rest ("usemem") is
 * a multiple of 512 MiB, a fixed ABI value between GPU firmware and the VM's
 * GPU driver.
 */
#define NVGRACE_RESMEM_SIZE	SZ_1G
#define NVGRACE_MEMBLK_SIZE	SZ_512M

/*
 * A VFIO region's offset span: VFIO PCI puts region N at N << 40 in the
 * device file (VFIO_PCI_OFFSET_SHIFT), so no emulated BAR may be larger.
 */
#define NVGRACE_REGION_SPAN	BIT_ULL(40)

struct nvgrace_layout {
	u64 use_phys, use_len, use_bar;
	u64 res_phys, res_len, res_bar;	/* res_len 0: no resmem region */
};

/*
 * Split device memory [@phys, @phys + @len) into usemem and resmem.
 * Hopper (@mig_bug): 1 GiB resmem, usemem rounded down to 512 MiB blocks,
 * resmem takes the rest (>= 1 GiB, < 1.5 GiB) at the end. Blackwell: all of
 * it is usemem. Each region's BAR size is its length rounded up to a power
 * of two. Returns -EINVAL when Hopper memory is too small for a usemem block,
 * -EOVERFLOW when the window does not fit the address space, -E2BIG when a
 * BAR would be larger than a VFIO region (checked before rounding up, so
 * roundup_pow_of_two() never overflows).
 */
static inline int nvgrace_layout_split(u64 phys, u64 len, bool mig_bug,
				       struct nvgrace_layout *l)
{
	u64 end;

	*l = (struct nvgrace_layout){ .use_phys = phys };
	if (!len || check_add_overflow(phys, len - 1, &end))
		return -EOVERFLOW;

	if (!mig_bug) {
		if (len > NVGRACE_REGION_SPAN)
			return -E2BIG;
		l->use_len = len;
		l->use_bar = roundup_pow_of_two(len);
		return 0;
	}

	if (len < NVGRACE_RESMEM_SIZE)
		return -EINVAL;
	l->use_len = round_down(len - NVGRACE_RESMEM_SIZE, NVGRACE_MEMBLK_SIZE);
	if (!l->use_len)
		return -EINVAL;
	/* resmem is under 1.5 GiB: only usemem can be too large */
	if (l->use_len > NVGRACE_REGION_SPAN)
		return -E2BIG;
	l->use_bar = roundup_pow_of_two(l->use_len);
	l->res_phys = phys + l->use_len;
	l->res_len = len - l->use_len;
	l->res_bar = roundup_pow_of_two(l->res_len);
	return 0;
}

/*
 * Hopper has the MIG bug; Blackwell says it does not with bit 0 of the word
 * at 0xA of NVIDIA's DVSEC 3. No DVSEC (@dvsec 0) means Hopper.
 */
#define NVGRACE_MIG_CACHED_RESMEM	BIT(0)

static inline bool nvgrace_mig_hw_bug(int dvsec, u16 bitmap)
{
	return !(dvsec && (bitmap & NVGRACE_MIG_CACHED_RESMEM));
}

/*
 * CXL Device DVSEC Range 1 Size Low: Memory_Info_Valid must come up within
 * 1 s, Memory_Active within the Memory_Active_Timeout field (bits 15:13:
 * 1, 4, 16, 64, 256 s; reserved encodings treated as 256 s). CXL r4.0
 * section 8.1.3.8.2.
 */
#define NVGRACE_CXL_MEM_INFO_VALID	BIT(0)
#define NVGRACE_CXL_MEM_ACTIVE		BIT(1)
#define NVGRACE_CXL_TIMEOUT_SHIFT	13
#define NVGRACE_CXL_TIMEOUT_MASK	0x7

static inline unsigned long nvgrace_cxl_active_timeout_ms(u32 status)
{
	u32 t = (status >> NVGRACE_CXL_TIMEOUT_SHIFT) & NVGRACE_CXL_TIMEOUT_MASK;

	return MSEC_PER_SEC << (2 * min_t(u32, t, 4));
}

static inline bool nvgrace_cxl_mem_active(u32 status)
{
	return (status & NVGRACE_CXL_MEM_INFO_VALID) &&
	       (status & NVGRACE_CXL_MEM_ACTIVE);
}

/*
 * Where an access [@pos, @pos + @count) meets a register [@reg, @reg + @len):
 * the offset into the access, the number of bytes and the offset into the
 * register. False when they do not meet.
 */
static inline bool nvgrace_intersect(u64 pos, size_t count, u64 reg,
				     size_t len, size_t *buf_off,
				     size_t *n, size_t *reg_off)
{
	u64 start = max(pos, reg);
	u64 end = min(pos + count, reg + len);

	if (start >= end)
		return false;
	*buf_off = start - pos;
	*n = end - start;
	*reg_off = start - reg;
	return true;
}

/*
 * Emulated 64-bit prefetchable BAR: what a config read returns for the value
 * @val the guest wrote, so that writing all-ones reads back the size mask.
 */
static inline u64 nvgrace_bar_read_value(u64 bar_size, u64 val)
{
	return (val & ~(bar_size - 1)) | PCI_BASE_ADDRESS_MEM_TYPE_64 |
	       PCI_BASE_ADDRESS_MEM_PREFETCH;
}

#endif /* NVGRACE_VFIO_LAYOUT_H */
