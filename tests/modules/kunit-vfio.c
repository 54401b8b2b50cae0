// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of nvgrace-vfio-pci's decision logic (src/vfio/layout.h): the
 * usemem/resmem split on Hopper and Blackwell, the MIG-bug detection, the
 * CXL readiness decoding and the emulated-BAR arithmetic. The test device
 * can only take the Hopper path; these cover the others. Built only for
 * kernels with CONFIG_KUNIT (the custom test kernels).
 */

#include <kunit/test.h>
#include <linux/module.h>

#include "../../src/vfio/layout.h"
#include "../../src/vfio/iocopy.h"

static void split_hopper_2g(struct kunit *test)
{
	struct nvgrace_layout l;

	KUNIT_ASSERT_EQ(test, nvgrace_layout_split(0x8000000000ULL, SZ_2G, true, &l), 0);
	KUNIT_EXPECT_EQ(test, l.use_phys, 0x8000000000ULL);
	KUNIT_EXPECT_EQ(test, l.use_len, (u64)SZ_1G);
	KUNIT_EXPECT_EQ(test, l.use_bar, (u64)SZ_1G);
	KUNIT_EXPECT_EQ(test, l.res_phys, 0x8000000000ULL + SZ_1G);
	KUNIT_EXPECT_EQ(test, l.res_len, (u64)SZ_1G);
	KUNIT_EXPECT_EQ(test, l.res_bar, (u64)SZ_1G);
}

static void split_hopper_unaligned(struct kunit *test)
{
	/* 96 GiB - 0.3 GiB, like a real GH200: usemem 512 MiB blocks. */
	u64 len = 96ULL * SZ_1G - 300ULL * SZ_1M;
	struct nvgrace_layout l;

	KUNIT_ASSERT_EQ(test, nvgrace_layout_split(0x400000000000ULL, len, true, &l), 0);
	KUNIT_EXPECT_EQ(test, l.use_len % SZ_512M, 0ULL);
	KUNIT_EXPECT_EQ(test, l.use_len, 94ULL * SZ_1G + SZ_512M);
	KUNIT_EXPECT_EQ(test, l.use_bar, 128ULL * SZ_1G);
	KUNIT_EXPECT_EQ(test, l.res_phys, l.use_phys + l.use_len);
	KUNIT_EXPECT_EQ(test, l.res_len, len - l.use_len);
	KUNIT_EXPECT_GE(test, l.res_len, (u64)SZ_1G);
	KUNIT_EXPECT_LT(test, l.res_len, (u64)SZ_1G + SZ_512M);
	KUNIT_EXPECT_EQ(test, l.res_bar, (u64)SZ_2G);
}

static void split_hopper_too_small(struct kunit *test)
{
	struct nvgrace_layout l;

	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(0, SZ_1G + SZ_256M, true, &l), -EINVAL);
	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(0, SZ_512M, true, &l), -EINVAL);
	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(0, SZ_1G + SZ_512M, true, &l), 0);
	KUNIT_EXPECT_EQ(test, l.use_len, (u64)SZ_512M);
}

static void split_blackwell(struct kunit *test)
{
	u64 len = 186ULL * SZ_1G + 12345 * SZ_4K;
	struct nvgrace_layout l;

	KUNIT_ASSERT_EQ(test, nvgrace_layout_split(0x200000000000ULL, len, false, &l), 0);
	KUNIT_EXPECT_EQ(test, l.use_len, len);
	KUNIT_EXPECT_EQ(test, l.use_bar, 256ULL * SZ_1G);
	KUNIT_EXPECT_EQ(test, l.res_len, 0ULL);
	KUNIT_EXPECT_EQ(test, l.res_bar, 0ULL);
}

static void split_overflow(struct kunit *test)
{
	struct nvgrace_layout l;

	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(~0ULL - SZ_1G, SZ_2G, false, &l), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(0x1000, 0, false, &l), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(~0ULL - SZ_2G + 1, SZ_2G, false, &l), 0);
}

/*
 * A BAR larger than a VFIO region (1 TiB) is refused before rounding up, so
 * sizes past 2^63, where roundup_pow_of_two() would overflow, are too.
 */
static void split_too_big(struct kunit *test)
{
	u64 base = 0x400000000000ULL;
	struct nvgrace_layout l;

	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(base, 1ULL << 40, false, &l), 0);
	KUNIT_EXPECT_EQ(test, l.use_bar, 1ULL << 40);
	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(base, (1ULL << 40) + SZ_4K, false, &l),
			-E2BIG);
	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(0x1000, (1ULL << 63) + SZ_1G, false, &l),
			-E2BIG);
	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(0x1000, ~0ULL - 0x1000, false, &l),
			-E2BIG);
	/* Hopper: usemem of exactly 1 TiB fits, one 512 MiB block more not. */
	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(base, (1ULL << 40) + SZ_1G, true, &l), 0);
	KUNIT_EXPECT_EQ(test, l.use_bar, 1ULL << 40);
	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(base, (1ULL << 40) + SZ_2G, true, &l),
			-E2BIG);
	KUNIT_EXPECT_EQ(test, nvgrace_layout_split(0x1000, (1ULL << 63) + SZ_2G, true, &l),
			-E2BIG);
}

/*
 * The resmem copies are byte-exact at every alignment and length: what a
 * read gives is the device memory's bytes in order, what a write leaves is
 * the buffer's bytes and nothing around them. Plain memory stands in for
 * the device (readq() and friends work on it); on a big-endian kernel the
 * old copy through a u64 gave the value's high bytes for accesses under 8
 * bytes. memcmp(), not KUNIT_EXPECT_MEMEQ(): that one came with v6.2.
 */
static void io_copy_bytes(struct kunit *test)
{
	u8 *dev, *buf;
	size_t off, len, i;

	dev = kunit_kzalloc(test, 64, GFP_KERNEL);
	buf = kunit_kzalloc(test, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dev);
	KUNIT_ASSERT_NOT_NULL(test, buf);

	for (off = 0; off < 16; off++) {
		for (len = 0; len <= 40; len++) {
			for (i = 0; i < 64; i++)
				dev[i] = i * 7 + 3;
			memset(buf, 0x5a, 64);
			nvgrace_io_read(buf, (void __iomem __force *)dev + off, len);
			KUNIT_EXPECT_EQ(test, memcmp(buf, dev + off, len), 0);
			KUNIT_EXPECT_EQ(test, buf[len], 0x5a);

			for (i = 0; i < 64; i++)
				buf[i] = 0x80 + i;
			memset(dev, 0xaa, 64);
			nvgrace_io_write((void __iomem __force *)dev + off, buf, len);
			KUNIT_EXPECT_EQ(test, memcmp(dev + off, buf, len), 0);
			for (i = 0; i < 64; i++)
				if (i < off || i >= off + len)
					KUNIT_EXPECT_EQ(test, dev[i], 0xaa);
		}
	}
}

static void io_copy_width(struct kunit *test)
{
	void __iomem *p = (void __iomem __force *)0x1000UL;

	KUNIT_EXPECT_EQ(test, nvgrace_io_width(p, 8), (size_t)8);
	KUNIT_EXPECT_EQ(test, nvgrace_io_width(p, 7), (size_t)4);
	KUNIT_EXPECT_EQ(test, nvgrace_io_width(p + 4, 8), (size_t)4);
	KUNIT_EXPECT_EQ(test, nvgrace_io_width(p + 2, 8), (size_t)2);
	KUNIT_EXPECT_EQ(test, nvgrace_io_width(p + 6, 1), (size_t)1);
	KUNIT_EXPECT_EQ(test, nvgrace_io_width(p + 3, 8), (size_t)1);
}

static void mig_bug_detection(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, nvgrace_mig_hw_bug(0, 0xffff));	/* no DVSEC */
	KUNIT_EXPECT_TRUE(test, nvgrace_mig_hw_bug(0x100, 0xfffe));	/* bit clear */
	KUNIT_EXPECT_FALSE(test, nvgrace_mig_hw_bug(0x100, 0x0001));	/* Blackwell */
}

static void cxl_timeout_decoding(struct kunit *test)
{
	static const unsigned long want[] = {
		1000, 4000, 16000, 64000, 256000, 256000, 256000, 256000,
	};
	u32 t;

	for (t = 0; t < 8; t++)
		KUNIT_EXPECT_EQ(test, nvgrace_cxl_active_timeout_ms(t << 13 | 0x3), want[t]);
	/* Other bits do not leak into the field. */
	KUNIT_EXPECT_EQ(test, nvgrace_cxl_active_timeout_ms(0xffff1fff), 1000UL);
}

static void cxl_mem_active(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, nvgrace_cxl_mem_active(0));
	KUNIT_EXPECT_FALSE(test, nvgrace_cxl_mem_active(NVGRACE_CXL_MEM_INFO_VALID));
	KUNIT_EXPECT_FALSE(test, nvgrace_cxl_mem_active(NVGRACE_CXL_MEM_ACTIVE));
	KUNIT_EXPECT_TRUE(test, nvgrace_cxl_mem_active(NVGRACE_CXL_MEM_INFO_VALID |
							NVGRACE_CXL_MEM_ACTIVE));
}

static void bar_arithmetic(struct kunit *test)
{
	size_t off, n, reg_off;

	KUNIT_EXPECT_EQ(test, nvgrace_bar_read_value(SZ_1G, ~0ULL), 0xffffffffc000000cULL);
	KUNIT_EXPECT_EQ(test, nvgrace_bar_read_value(SZ_1G, 0x1234c0000000ULL),
			0x1234c000000cULL);
	KUNIT_EXPECT_EQ(test, nvgrace_bar_read_value(SZ_2G, 0), 0xcULL);

	/* 4-byte access at 0x1c meets the 8-byte register at 0x18 at its top. */
	KUNIT_ASSERT_TRUE(test, nvgrace_intersect(0x1c, 4, 0x18, 8, &off, &n, &reg_off));
	KUNIT_EXPECT_EQ(test, off, (size_t)0);
	KUNIT_EXPECT_EQ(test, n, (size_t)4);
	KUNIT_EXPECT_EQ(test, reg_off, (size_t)4);
	/* 16 bytes from 0x14 cover it whole, starting 4 bytes in. */
	KUNIT_ASSERT_TRUE(test, nvgrace_intersect(0x14, 16, 0x18, 8, &off, &n, &reg_off));
	KUNIT_EXPECT_EQ(test, off, (size_t)4);
	KUNIT_EXPECT_EQ(test, n, (size_t)8);
	KUNIT_EXPECT_EQ(test, reg_off, (size_t)0);
	/* Adjacent, not overlapping. */
	KUNIT_EXPECT_FALSE(test, nvgrace_intersect(0x10, 8, 0x18, 8, &off, &n, &reg_off));
	KUNIT_EXPECT_FALSE(test, nvgrace_intersect(0x20, 4, 0x18, 8, &off, &n, &reg_off));
}

static struct kunit_case nvgrace_vfio_layout_cases[] = {
	KUNIT_CASE(split_hopper_2g),
	KUNIT_CASE(split_hopper_unaligned),
	KUNIT_CASE(split_hopper_too_small),
	KUNIT_CASE(split_blackwell),
	KUNIT_CASE(split_overflow),
	KUNIT_CASE(split_too_big),
	KUNIT_CASE(io_copy_bytes),
	KUNIT_CASE(io_copy_width),
	KUNIT_CASE(mig_bug_detection),
	KUNIT_CASE(cxl_timeout_decoding),
	KUNIT_CASE(cxl_mem_active),
	KUNIT_CASE(bar_arithmetic),
	{}
};

static struct kunit_suite nvgrace_vfio_layout_suite = {
	.name = "nvgrace-vfio-layout",
	.test_cases = nvgrace_vfio_layout_cases,
};

kunit_test_suites(&nvgrace_vfio_layout_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of nvgrace-vfio-pci's decision logic");
