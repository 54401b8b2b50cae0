// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-bench: time what a VMM does with a Grace GPU's usemem (VFIO region 4)
 * through whichever VFIO driver holds the device, the pack's or mainline's,
 * so the two can be compared in the same boot. Only the VFIO uAPI is used
 * (no driver sysfs): the memory length comes from the region's sparse-mmap
 * capability, the faults from getrusage().
 *
 *   vfio-bench BDF LABEL ROUND
 *
 * Measures, over the whole of usemem:
 *   touch_1g   first touch (one store per page) of a mapping at a 1 GiB-
 *              aligned address (PUD mappings where the kernel has them)
 *   touch_2m   the same at an address 2 MiB- but not 1 GiB-aligned (PMD)
 *   touch_any  the same at the address mmap(NULL) picks (VFIO has no
 *              get_unmapped_area without the companion patch
 *              packaging/kernel-patches/7.3-vfio: usually neither)
 *   pwrite     pwrite() in 64 MiB chunks
 *   pread      pread() in 64 MiB chunks
 * and prints for each "# BENCH-VS drv=LABEL round=ROUND what=NAME ms=T
 * faults=N mib=M" (faults: minor faults of the process meanwhile), then one
 * TAP line saying whether every measurement worked. Exit status 1 when one
 * failed, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "tap.h"
#include "vfio-open.h"

#define CHUNK 0x4000000ULL	/* 64 MiB */
#define GIB 0x40000000ULL
#define MIB2 0x200000ULL

static const char *label;
static int round_no;
static struct vfio_handle h;
static sigjmp_buf fault_jmp;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(fault_jmp, 1);
}

static void report(const char *what, double ms, long faults, __u64 len,
		   const char *extra)
{
	printf("# BENCH-VS drv=%s round=%d what=%s ms=%.1f faults=%ld mib=%llu%s%s\n",
	       label, round_no, what, ms, faults,
	       (unsigned long long)(len >> 20), extra ? " " : "",
	       extra ? extra : "");
	fflush(stdout);
}

/* Length of region 4's mmap-able part (its sparse-mmap area), 0 if none. */
static __u64 usemem_length(void)
{
	struct vfio_region_info *info;
	struct vfio_info_cap_header *cap;
	struct vfio_region_info_cap_sparse_mmap *sparse;
	__u32 argsz = 4096, off;
	__u64 len = 0;

	info = calloc(1, argsz);
	if (!info)
		return 0;
	info->argsz = argsz;
	info->index = VFIO_PCI_BAR4_REGION_INDEX;
	if (ioctl(h.device, VFIO_DEVICE_GET_REGION_INFO, info) ||
	    !(info->flags & VFIO_REGION_INFO_FLAG_CAPS) || info->argsz > argsz)
		goto out;
	for (off = info->cap_offset; off; off = cap->next) {
		cap = (struct vfio_info_cap_header *)((char *)info + off);
		if (cap->id != VFIO_REGION_INFO_CAP_SPARSE_MMAP)
			continue;
		sparse = (struct vfio_region_info_cap_sparse_mmap *)cap;
		if (sparse->nr_areas == 1 && sparse->areas[0].offset == 0)
			len = sparse->areas[0].size;
		break;
	}
out:
	free(info);
	return len;
}

/* One store per page of M; -1 if one raised SIGBUS. */
static int store_pages(__u64 *m, __u64 len)
{
	__u64 page = sysconf(_SC_PAGESIZE), off;

	if (sigsetjmp(fault_jmp, 1))
		return -1;
	for (off = 0; off < len; off += page)
		__atomic_store_n(&m[off / 8], off, __ATOMIC_RELAXED);
	return 0;
}

/*
 * First touch of LEN bytes mapped at an address ALIGN-aligned plus SKEW
 * (ALIGN 0: where mmap(NULL) puts it). Returns 0 or -1.
 */
static int touch(const char *what, __u64 len, __u64 align, __u64 skew)
{
	__u64 span = 0;
	__u64 *m;
	char *res = NULL, *at = NULL;
	char extra[64];
	double t0, t1;
	long f0, f1;

	if (align) {
		span = len + align + skew;
		res = mmap(NULL, span, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (res == MAP_FAILED) {
			ok(0, "%s round %d: %s: reserve %llu MiB (%s)", label,
			   round_no, what, (unsigned long long)(span >> 20),
			   strerror(errno));
			return -1;
		}
		at = (char *)((((uintptr_t)res + align - 1) & ~(uintptr_t)(align - 1)) + skew);
	}
	m = mmap(at, len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | (at ? MAP_FIXED : 0), h.device,
		 (off_t)VFIO_PCI_BAR4_REGION_INDEX << 40);
	if (m == MAP_FAILED) {
		ok(0, "%s round %d: %s: mmap usemem (%s)", label, round_no,
		   what, strerror(errno));
		if (res)
			munmap(res, span);
		return -1;
	}
	f0 = minflt();
	t0 = now_ms();
	if (store_pages(m, len)) {
		ok(0, "%s round %d: %s: SIGBUS while storing to the mapping", label,
		   round_no, what);
		munmap((void *)m, len);
		if (res)
			munmap(res, span);
		return -1;
	}
	t1 = now_ms();
	f1 = minflt();
	snprintf(extra, sizeof(extra), "va_align=%s",
		 !((uintptr_t)m & (GIB - 1)) ? "1g" :
		 !((uintptr_t)m & (MIB2 - 1)) ? "2m" : "page");
	report(what, t1 - t0, f1 - f0, len, extra);
	munmap((void *)m, len);
	if (res)
		munmap(res, span);
	return 0;
}

/* pread() or pwrite() of LEN bytes of usemem in 64 MiB chunks. */
static int copy(int write, __u64 len, char *buf)
{
	const char *what = write ? "pwrite" : "pread";
	off_t base = (off_t)VFIO_PCI_BAR4_REGION_INDEX << 40;
	__u64 off, n;
	double t0, t1;
	long f0, f1;
	ssize_t r;

	f0 = minflt();
	t0 = now_ms();
	for (off = 0; off < len; off += n) {
		n = len - off < CHUNK ? len - off : CHUNK;
		r = write ? pwrite(h.device, buf, n, base + off) :
			    pread(h.device, buf, n, base + off);
		if (r != (ssize_t)n) {
			ok(0, "%s round %d: %s at %#llx: %zd (%s)", label,
			   round_no, what, (unsigned long long)off, r,
			   r < 0 ? strerror(errno) : "short");
			return -1;
		}
	}
	t1 = now_ms();
	f1 = minflt();
	report(what, t1 - t0, f1 - f0, len, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	__u64 len;
	char *buf;
	int bad = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: vfio-bench BDF LABEL ROUND\n");
		return 2;
	}
	label = argv[2];
	round_no = atoi(argv[3]);
	sigaction(SIGBUS, &sa, NULL);
	if (vfio_open(argv[1], &h)) {
		ok(0, "%s round %d: open %s through VFIO (%s: %s)", label,
		   round_no, argv[1], vfio_open_failed, strerror(errno));
		return 1;
	}
	len = usemem_length();
	if (!len || len % MIB2) {
		ok(0, "%s round %d: usemem length from the sparse-mmap cap (%llu)",
		   label, round_no, (unsigned long long)len);
		return 1;
	}
	buf = malloc(CHUNK);
	if (!buf) {
		ok(0, "%s round %d: allocate the copy buffer", label, round_no);
		return 1;
	}
	memset(buf, 0x5a, CHUNK);

	bad |= touch("touch_1g", len, GIB, 0);
	bad |= touch("touch_2m", len, GIB, MIB2);
	bad |= touch("touch_any", len, 0, 0);
	bad |= copy(1, len, buf);
	bad |= copy(0, len, buf);
	ok(!bad, "%s round %d: usemem (%llu MiB) first touch x3, pwrite, pread",
	   label, round_no, (unsigned long long)(len >> 20));
	free(buf);
	vfio_close(&h);
	return failures ? 1 : 0;
}
