/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copies between a kernel buffer and an __iomem mapping of device memory
 * (resmem, write-combine), in naturally aligned accesses of up to 8 bytes,
 * byte for byte on either CPU endianness: readX() returns the device's
 * little-endian bytes as a CPU value and cpu_to_leX() turns that back into
 * the same bytes in memory order (writeX() the reverse). Kept apart from
 * main.c so that KUnit (tests/modules/kunit-vfio.c) tests them.
 */
#ifndef NVGRACE_VFIO_IOCOPY_H
#define NVGRACE_VFIO_IOCOPY_H

#include <linux/io.h>
#include <linux/string.h>
#include <linux/types.h>

/* The widest naturally aligned access at @p with @left bytes to go. */
static inline size_t nvgrace_io_width(const void __iomem *p,
				      size_t left)
{
	unsigned long a = (unsigned long)p;

	if (IS_ALIGNED(a, 8) && left >= 8)
		return 8;
	if (IS_ALIGNED(a, 4) && left >= 4)
		return 4;
	if (IS_ALIGNED(a, 2) && left >= 2)
		return 2;
	return 1;
}

/* @count bytes from device memory at @src to @dst. */
static inline void nvgrace_io_read(void *dst, const void __iomem *src,
				   size_t count)
{
	size_t done, n;

	for (done = 0; done < count; done += n) {
		const void __iomem *p = src + done;
		u8 *d = (u8 *)dst + done;

		n = nvgrace_io_width(p, count - done);
		if (n == 8) {
			__le64 v = cpu_to_le64(readq(p));

			memcpy(d, &v, n);
		} else if (n == 4) {
			__le32 v = cpu_to_le32(readl(p));

			memcpy(d, &v, n);
		} else if (n == 2) {
			__le16 v = cpu_to_le16(readw(p));

			memcpy(d, &v, n);
		} else {
			*d = readb(p);
		}
	}
}

/* @count bytes from @src to device memory at @dst. */
static inline void nvgrace_io_write(void __iomem *dst,
				    const void *src, size_t count)
{
	size_t done, n;

	for (done = 0; done < count; done += n) {
		void __iomem *p = dst + done;
		const u8 *s = (const u8 *)src + done;

		n = nvgrace_io_width(p, count - done);
		if (n == 8) {
			__le64 v;

			memcpy(&v, s, n);
			writeq(le64_to_cpu(v), p);
		} else if (n == 4) {
			__le32 v;

			memcpy(&v, s, n);
			writel(le32_to_cpu(v), p);
		} else if (n == 2) {
			__le16 v;

			memcpy(&v, s, n);
			writew(le16_to_cpu(v), p);
		} else {
			writeb(*s, p);
		}
	}
}

#endif /* NVGRACE_VFIO_IOCOPY_H */
