// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-mem: exercise nvgrace-vfio-pci's emulated device-memory regions from
 * userspace through the VFIO uAPI. Each command prints TAP lines ("ok - ",
 * "not ok - ", "ok - ... # SKIP") and "# " diagnostics, and exits 1 if any
 * check failed, 2 on bad usage.
 *
 *   vfio-mem regions BDF      region info, sparse-mmap cap, bad queries
 *   vfio-mem barsize BDF      BAR sizing through config space, every width
 *   vfio-mem rw BDF           read()/write(): inside, padding, past the end
 *   vfio-mem mmap BDF INDEX   bad mmaps, then the whole region: first touch,
 *                             pattern, host-check lines for the backing file
 *   vfio-mem reset BDF MS     VFIO_DEVICE_RESET while mapped with the GPU
 *                             not ready; a child makes it ready after MS ms
 *   vfio-mem memdisable BDF   memory decode off: mapping faults SIGBUS; on
 *                             again: faults back in with the data intact
 *   vfio-mem ioeventfd BDF    VFIO_DEVICE_IOEVENTFD is refused
 *   vfio-mem dmabuf BDF       dma-buf export of device memory (v6.19 uAPI)
 *   vfio-mem cdev BDF         open through the VFIO cdev + iommufd instead
 *                             of the group, then region info and a mapping
 *   vfio-mem hold BDF         open the device, print "held", wait for SIGTERM
 *   vfio-mem place BDF HOOK   where mmap(NULL) puts usemem and resmem, and
 *                             which faults first touch takes there, beside
 *                             a misaligned and an aligned MAP_FIXED mapping;
 *                             HOOK 1: the driver places mappings (companion
 *                             VFIO patch), which must be congruent
 *   vfio-mem pmdsize          print the PMD mapping size of this kernel
 *   vfio-mem regs BDF VALUE   write VALUE to both readiness registers in BAR0
 *                             through sysfs resource0 (no driver bound)
 *   vfio-mem store BDF BAR OFFSET VALUE
 *                             store u64 VALUE at OFFSET of BAR through sysfs
 *                             resourceBAR of a device no driver holds (memory
 *                             decode switched on and left on): a doorbell
 *                             for a VM that maps the same memory
 *
 * The device's nvgrace sysfs directory gives the expected values.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "tap.h"
#include "vfio-open.h"

#define C2C_REG		0x1498
#define HBM_REG		0x200bc
#define MAGIC		0x4e56475200000000ULL	/* "NVGR" */

static const char *bdf;

static void skip(const char *what, const char *why)
{
	printf("ok - %s # SKIP %s\n", what, why);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct region {
	__u64 phys, length, bar_size;
};

/* /sys/bus/pci/devices/BDF/nvgrace/NAME as "0xPHYS LENGTH BARSIZE". */
static int sysfs_region(const char *name, struct region *r)
{
	unsigned long long phys, length, bar_size;
	char path[256];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvgrace/%s",
		 bdf, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fscanf(f, "%llx %llu %llu", &phys, &length, &bar_size);
	fclose(f);
	r->phys = phys;
	r->length = length;
	r->bar_size = bar_size;
	return n == 3 ? 0 : -1;
}

static struct vfio_handle h;

static void open_device(void)
{
	if (vfio_open(bdf, &h)) {
		printf("not ok - open %s through VFIO (%s: %s)\n", bdf,
		       vfio_open_failed, strerror(errno));
		exit(1);
	}
}

static off_t region_off(unsigned int index)
{
	return (off_t)index << 40;
}

static int region_of(unsigned int index, struct region *r)
{
	return sysfs_region(index == 4 ? "usemem" : "resmem", r);
}

/* Run FN on usemem, and on resmem where the device has it. */
static void run_on_regions(void (*fn)(unsigned int, const struct region *),
			   const char *what)
{
	struct region r;

	if (region_of(4, &r))
		ok(0, "usemem in sysfs");
	else
		fn(4, &r);
	if (region_of(2, &r))
		skip(what, "no resmem on this device");
	else
		fn(2, &r);
}

/* ---- regions ----------------------------------------------------------- */

static void check_region_info(unsigned int index, const struct region *r)
{
	char buf[512];
	struct vfio_region_info *info = (void *)buf;
	struct vfio_info_cap_header *cap;
	struct vfio_region_info_cap_sparse_mmap *sparse = NULL;

	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(buf);
	info->index = index;
	if (ioctl(h.device, VFIO_DEVICE_GET_REGION_INFO, info)) {
		ok(0, "region %u info (%s)", index, strerror(errno));
		return;
	}
	ok(info->size == r->bar_size,
	   "region %u size is the emulated BAR size %#llx (got %#llx)",
	   index, r->bar_size, (unsigned long long)info->size);
	ok(info->offset == (__u64)region_off(index),
	   "region %u offset is index << 40", index);
	ok((info->flags & 7) == (VFIO_REGION_INFO_FLAG_READ |
				 VFIO_REGION_INFO_FLAG_WRITE |
				 VFIO_REGION_INFO_FLAG_MMAP),
	   "region %u is readable, writable and mappable (flags %#x)", index,
	   info->flags);
	ok(info->flags & VFIO_REGION_INFO_FLAG_CAPS && info->cap_offset,
	   "region %u has a capability chain", index);
	for (cap = info->cap_offset ? (void *)(buf + info->cap_offset) : NULL;
	     cap; cap = cap->next ? (void *)(buf + cap->next) : NULL) {
		if ((char *)cap + sizeof(*cap) > buf + sizeof(buf))
			break;
		if (cap->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP)
			sparse = (void *)cap;
	}
	ok(sparse && sparse->nr_areas == 1 && sparse->areas[0].offset == 0 &&
	   sparse->areas[0].size == r->length,
	   "region %u sparse-mmap cap: one area [0, %#llx)", index,
	   r->length);

	/* Too small a buffer: the size needed comes back, no cap copied. */
	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(*info);
	info->index = index;
	ok(!ioctl(h.device, VFIO_DEVICE_GET_REGION_INFO, info) &&
	   info->argsz > sizeof(*info) && info->cap_offset == 0,
	   "region %u info with a short buffer asks for %u bytes", index,
	   info->argsz);
}

static int cmd_regions(void)
{
	struct vfio_region_info info = { .argsz = sizeof(info) };

	open_device();
	run_on_regions(check_region_info, "region info");

	info.index = 1000;
	errno = 0;
	ok(ioctl(h.device, VFIO_DEVICE_GET_REGION_INFO, &info) && errno == EINVAL,
	   "region info for a bad index is EINVAL (%s)", strerror(errno));
	info.argsz = 4;
	info.index = 4;
	errno = 0;
	ok(ioctl(h.device, VFIO_DEVICE_GET_REGION_INFO, &info) && errno == EINVAL,
	   "region info with argsz below the minimum is EINVAL (%s)",
	   strerror(errno));
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* ---- BAR sizing --------------------------------------------------------- */

static off_t cfg(unsigned int reg)
{
	return region_off(VFIO_PCI_CONFIG_REGION_INDEX) + reg;
}

static int cfg_write(unsigned int reg, __u64 val, unsigned int width)
{
	return pwrite(h.device, &val, width, cfg(reg)) == (ssize_t)width ? 0 : -1;
}

static __u64 cfg_read64(unsigned int reg, unsigned int width)
{
	__u64 val = 0, part;
	unsigned int i;

	for (i = 0; i < 8; i += width) {
		part = 0;
		if (pread(h.device, &part, width, cfg(reg + i)) != (ssize_t)width)
			return ~0ULL;
		val |= part << (8 * i);
	}
	return val;
}

static void bar_write64(unsigned int reg, __u64 val, unsigned int width)
{
	unsigned int i;

	for (i = 0; i < 8; i += width)
		cfg_write(reg + i, val >> (8 * i), width);
}

static int cmd_barsize(void)
{
	static const unsigned int widths[] = { 1, 2, 4, 8 };
	struct { unsigned int index, reg; } bars[] = { { 4, 0x20 }, { 2, 0x18 } };
	unsigned int b, w;
	__u64 got, want, addr;
	struct region r;
	unsigned char bytes[16];

	open_device();
	for (b = 0; b < 2; b++) {
		if (region_of(bars[b].index, &r)) {
			skip("BAR sizing of resmem", "no resmem on this device");
			continue;
		}
		want = ~(r.bar_size - 1) | 0xc;
		got = cfg_read64(bars[b].reg, 4);
		ok(got == 0xc,
		   "BAR%u reads 64-bit prefetchable, address 0 after open (%#llx)",
		   bars[b].index, got);
		for (w = 0; w < 4; w++) {
			bar_write64(bars[b].reg, ~0ULL, widths[w]);
			got = cfg_read64(bars[b].reg, widths[w]);
			ok(got == want,
			   "BAR%u sizing with %u-byte accesses: %#llx (want %#llx)",
			   bars[b].index, widths[w], got, want);
		}
		addr = 0x0000123400000000ULL & ~(r.bar_size - 1);
		bar_write64(bars[b].reg, addr, 4);
		got = cfg_read64(bars[b].reg, 8);
		ok(got == (addr | 0xc), "BAR%u keeps an address written to it (%#llx)",
		   bars[b].index, got);
		/* Unaligned: zero 3 bytes at offset 5 of an all-ones register. */
		bar_write64(bars[b].reg, ~0ULL, 8);
		memset(bytes, 0, sizeof(bytes));
		ok(pwrite(h.device, bytes, 3, cfg(bars[b].reg + 5)) == 3,
		   "BAR%u takes an unaligned 3-byte write", bars[b].index);
		got = cfg_read64(bars[b].reg, 1);
		want = (0x000000ffffffffffULL & ~(r.bar_size - 1)) | 0xc;
		ok(got == want, "BAR%u after the unaligned write: %#llx (want %#llx)",
		   bars[b].index, got, want);
		bar_write64(bars[b].reg, 0, 8);
	}

	/* One read across BAR2..BAR5 sees both emulated BARs at once. */
	if (!region_of(2, &r)) {
		bar_write64(0x18, ~0ULL, 4);
		bar_write64(0x20, ~0ULL, 4);
		ok(pread(h.device, bytes, 16, cfg(0x18)) == 16,
		   "16-byte config read across BAR2-BAR5");
		memcpy(&got, bytes, 8);
		ok(got == (~(r.bar_size - 1) | 0xc), "BAR2 in the wide read");
		region_of(4, &r);
		memcpy(&got, bytes + 8, 8);
		ok(got == (~(r.bar_size - 1) | 0xc), "BAR4 in the wide read");
	}

	/* A device reset clears the emulated BARs, like real ones. */
	bar_write64(0x20, ~0ULL, 4);
	if (ioctl(h.device, VFIO_DEVICE_RESET)) {
		skip("emulated BARs cleared by VFIO_DEVICE_RESET", strerror(errno));
	} else {
		got = cfg_read64(0x20, 4);
		ok(got == 0xc, "emulated BAR4 cleared by VFIO_DEVICE_RESET (%#llx)", got);
	}
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* ---- read()/write() ----------------------------------------------------- */

/* A buffer the kernel cannot write to. */
static void *bad_buffer(void)
{
	static void *p;

	if (!p)
		p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p;
}

static void rw_region(unsigned int index, const struct region *r)
{
	static const unsigned char ones[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	off_t base = region_off(index);
	unsigned char in[64], out[64];
	ssize_t n;
	unsigned int i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + index);
	ok(pwrite(h.device, out, sizeof(out), base + 0x1000) == sizeof(out),
	   "region %u: write 64 bytes", index);
	memset(in, 0, sizeof(in));
	ok(pread(h.device, in, sizeof(in), base + 0x1000) == sizeof(in) &&
	   !memcmp(in, out, sizeof(in)), "region %u: read them back", index);
	/* Unaligned, odd sizes. */
	ok(pwrite(h.device, out, 3, base + 0x2001) == 3,
	   "region %u: unaligned 3-byte write", index);
	memset(in, 0, sizeof(in));
	ok(pread(h.device, in, 13, base + 0x1ffd) == 13 && !memcmp(in + 4, out, 3),
	   "region %u: unaligned 13-byte read sees it", index);
	/* The last bytes of memory. */
	ok(pwrite(h.device, out, 8, base + r->length - 8) == 8,
	   "region %u: write the last 8 bytes of memory", index);

	if (r->length < r->bar_size) {
		memset(in, 0, sizeof(in));
		n = pread(h.device, in, 16, base + r->length - 8);
		ok(n == 16 && !memcmp(in, out, 8) &&
		   !memcmp(in + 8, ones, 8),
		   "region %u: read across the end of memory: data, then 0xFF padding", index);
		ok(pwrite(h.device, out, 16, base + r->length + 64) == 16,
		   "region %u: write into the padding is accepted", index);
		memset(in, 0, sizeof(in));
		ok(pread(h.device, in, 16, base + r->length + 64) == 16 &&
		   !memcmp(in, ones, 16),
		   "region %u: ...and dropped (reads 0xFF)", index);
	} else {
		skip("read/write across the padding", "memory fills the BAR");
	}

	n = pread(h.device, in, 16, base + r->bar_size - 4);
	ok(n == 4, "region %u: read running past the BAR is clipped (%zd)", index, n);
	errno = 0;
	n = pread(h.device, in, 4, base + r->bar_size);
	ok(n < 0 && errno == EINVAL, "region %u: read at the BAR's end is EINVAL (%s)",
	   index, strerror(errno));
	errno = 0;
	n = pwrite(h.device, in, 4, base + r->bar_size + 4096);
	ok(n < 0 && errno == EINVAL, "region %u: write past the BAR is EINVAL (%s)",
	   index, strerror(errno));
	errno = 0;
	n = pread(h.device, bad_buffer(), 8, base + 0x1000);
	ok(n < 0 && errno == EFAULT, "region %u: read into a bad buffer is EFAULT (%s)",
	   index, strerror(errno));
}

static int cmd_rw(void)
{
	char c;

	open_device();
	run_on_regions(rw_region, "read/write");
	errno = 0;
	ok(pread(h.device, &c, 1, region_off(100)) < 0 && errno == EINVAL,
	   "read of a region that does not exist is EINVAL (%s)", strerror(errno));
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* ---- mmap -------------------------------------------------------------- */

static sigjmp_buf fault_jmp;
static int fault_code;	/* written by the signal handler */

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	__atomic_store_n(&fault_code, si->si_code, __ATOMIC_RELAXED);
	siglongjmp(fault_jmp, 1);
}

static void catch_sigbus(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/* Accesses the compiler must make exactly as written (device memory). */
static __u64 mem_read(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void mem_write(__u64 *p, __u64 val)
{
	__atomic_store_n(p, val, __ATOMIC_RELAXED);
}

/* Touch one word; 0 if it worked, else the signal's si_code. */
static int touch(__u64 *p, int write, __u64 val)
{
	int code;

	__atomic_store_n(&fault_code, 0, __ATOMIC_RELAXED);
	if (sigsetjmp(fault_jmp, 1)) {
		code = __atomic_load_n(&fault_code, __ATOMIC_RELAXED);
		return code ? code : -1;
	}
	if (write)
		mem_write(p, val);
	else
		mem_read(p);
	return 0;
}

/*
 * mmap LEN bytes of region INDEX at an address aligned to ALIGN (a huge
 * mapping needs the address and the PFN aligned alike; VFIO does not align
 * mmap(NULL) for us, QEMU does).
 */
static void *map_aligned(unsigned int index, __u64 len, __u64 align)
{
	char *res, *at;

	res = mmap(NULL, len + align, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	at = (char *)(((unsigned long)res + align - 1) & ~(unsigned long)(align - 1));
	return mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		    h.device, region_off(index));
}

static int cmd_mmap(unsigned int index)
{
	__u64 len, off, base, pages, bad = 0, page = sysconf(_SC_PAGESIZE);
	struct region r, use;
	__u64 *m;
	double t0, t1;
	void *p;

	open_device();
	catch_sigbus();
	if (region_of(index, &r)) {
		skip("mmap", "no such emulated region");
		return 0;
	}
	region_of(4, &use);

	/* Bad requests. */
	errno = 0;
	p = mmap(NULL, r.length + page, PROT_READ, MAP_SHARED, h.device,
		 region_off(index));
	ok(p == MAP_FAILED && errno == EINVAL,
	   "region %u: mmap past the end of memory is EINVAL (%s)", index, strerror(errno));
	if (r.length < r.bar_size) {
		errno = 0;
		p = mmap(NULL, page, PROT_READ, MAP_SHARED, h.device,
			 region_off(index) + r.length);
		ok(p == MAP_FAILED && errno == EINVAL,
		   "region %u: mmap of the BAR padding is EINVAL (%s)", index, strerror(errno));
	}
	errno = 0;
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, h.device,
		 region_off(index));
	ok(p == MAP_FAILED && errno == EINVAL,
	   "region %u: private mmap is EINVAL (%s)", index, strerror(errno));

	/*
	 * The whole region, 1 GiB-aligned (PUD), pattern on every page. The
	 * pattern is a function of the offset in device memory, so every test
	 * writes the same value to the same place of the backing file.
	 */
	base = r.phys - use.phys;
	len = r.length;
	pages = len / page;
	m = map_aligned(index, len, 1ULL << 30);
	if (m == MAP_FAILED) {
		ok(0, "region %u: mmap of the whole region (%s)", index, strerror(errno));
		return 1;
	}
	ok(1, "region %u: mmap of the whole region (%llu MiB)", index, len >> 20);
	t0 = now_ms();
	for (off = 0; off < len; off += page) {
		if (touch(&m[off / 8], 1, MAGIC ^ (base + off))) {
			bad++;
			break;
		}
	}
	t1 = now_ms();
	ok(!bad, "region %u: first touch of all %llu pages", index, pages);
	if (bad)
		return 1;
	printf("# first-touch region %u: %llu MiB in %.1f ms\n", index,
	       len >> 20, t1 - t0);
	printf("# NVGRACE-METRIC first_touch_ms_region%u %.1f\n", index, t1 - t0);
	for (off = 0, bad = 0; off < len; off += page)
		if (mem_read(&m[off / 8]) != (MAGIC ^ (base + off)))
			bad++;
	ok(!bad, "region %u: every page reads back its pattern (%llu bad)", index, bad);

	/* The same memory through read(): mmap and read() agree. */
	{
		__u64 v = 0;

		ok(pread(h.device, &v, 8, region_off(index) + len / 2) == 8 &&
		   v == (MAGIC ^ (base + len / 2)),
		   "region %u: read() sees what the mapping wrote",
		   index);
	}
	/*
	 * What the host must find in the backing file (offset from usemem).
	 * Not the first page: later tests (nested KVM) write their own there.
	 */
	for (off = len / 8; off < len; off += len / 8)
		printf("# NVGRACE-HOSTCHECK %#llx u64:%#llx\n", base + off,
		       (unsigned long long)(MAGIC ^ (base + off)));
	printf("# NVGRACE-HOSTCHECK %#llx u64:%#llx\n",
	       base + len - page, (unsigned long long)(MAGIC ^ (base + len - page)));
	munmap((void *)m, len);
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* Open the device and map LEN bytes of usemem, 2 MiB-aligned; NULL on failure. */
static __u64 *open_and_map(__u64 len)
{
	void *m;

	open_device();
	catch_sigbus();
	m = map_aligned(4, len, 2ULL << 20);
	if (m == MAP_FAILED) {
		ok(0, "mmap %llu MiB of usemem (%s)", len >> 20, strerror(errno));
		return NULL;
	}
	return m;
}

/* ---- reset ------------------------------------------------------------- */

static int regs_write(__u32 val)
{
	off_t bar0 = region_off(VFIO_PCI_BAR0_REGION_INDEX);

	return pwrite(h.device, &val, 4, bar0 + C2C_REG) == 4 &&
	       pwrite(h.device, &val, 4, bar0 + HBM_REG) == 4 ? 0 : -1;
}

static int cmd_reset(unsigned int delay_ms)
{
	__u64 len = 4ULL << 20, i;
	__u64 *m;
	double t0, t1;
	pid_t child;
	int status;

	m = open_and_map(len);
	if (!m)
		return 1;
	for (i = 0; i < len / 8; i += 512)
		mem_write(&m[i], MAGIC ^ i);
	ok(!regs_write(0), "GPU made not ready through BAR0 (registers cleared)");
	if (ioctl(h.device, VFIO_DEVICE_RESET)) {
		skip("VFIO_DEVICE_RESET while mapped", strerror(errno));
		return failures ? 1 : 0;
	}
	ok(1, "VFIO_DEVICE_RESET while mapped");
	child = fork();
	if (child == 0) {
		usleep(delay_ms * 1000);
		_exit(regs_write(0xff) ? 1 : 0);
	}
	t0 = now_ms();
	ok(!touch(&m[0], 0, 0), "first access after the reset succeeds");
	t1 = now_ms();
	waitpid(child, &status, 0);
	ok(WIFEXITED(status) && !WEXITSTATUS(status), "GPU made ready after %u ms", delay_ms);
	ok(t1 - t0 >= delay_ms * 0.8,
	   "first access waited for readiness: %.0f ms (GPU ready after %u ms)",
	   t1 - t0, delay_ms);
	for (i = 0; i < len / 8; i += 512)
		if (mem_read(&m[i]) != (MAGIC ^ i))
			break;
	ok(i >= len / 8, "the data survived the reset and faults back in");
	t0 = now_ms();
	mem_read(&m[len / 8 - 1]);
	t1 = now_ms();
	ok(t1 - t0 < delay_ms / 2.0, "later accesses do not wait (%.1f ms)", t1 - t0);
	munmap((void *)m, len);
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* ---- memory decode off ------------------------------------------------- */

static int cmd_memdisable(void)
{
	__u64 len = 4ULL << 20;
	__u64 *m;
	__u16 cmd = 0, off;
	int code;

	m = open_and_map(len);
	if (!m)
		return 1;
	ok(!touch(&m[0], 1, MAGIC), "mapping works with memory decode on");
	if (pread(h.device, &cmd, 2, cfg(0x4)) != 2) {
		ok(0, "read PCI_COMMAND");
		return 1;
	}
	off = cmd & ~0x2;
	ok(pwrite(h.device, &off, 2, cfg(0x4)) == 2, "clear PCI_COMMAND memory decode");
	code = touch(&m[0], 0, 0);
	ok(code == BUS_ADRERR, "access with decode off: SIGBUS (si_code %d)", code);
	code = touch(&m[len / 8 - 1], 0, 0);
	ok(code == BUS_ADRERR, "a never-touched page too: SIGBUS (si_code %d)", code);
	ok(pwrite(h.device, &cmd, 2, cfg(0x4)) == 2, "set memory decode again");
	code = touch(&m[0], 0, 0);
	ok(!code && mem_read(&m[0]) == MAGIC, "mapping faults back in with the data intact");
	munmap((void *)m, len);
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* ---- misc ----------------------------------------------------------- */

static int cmd_ioeventfd(void)
{
	struct vfio_device_ioeventfd ev = {
		.argsz = sizeof(ev), .flags = VFIO_DEVICE_IOEVENTFD_32,
		.offset = (__u64)region_off(4), .data = 0, .fd = -1,
	};

	open_device();
	errno = 0;
	ok(ioctl(h.device, VFIO_DEVICE_IOEVENTFD, &ev) && errno == ENOTTY,
	   "VFIO_DEVICE_IOEVENTFD is refused with ENOTTY (%s)", strerror(errno));
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* The device through its cdev and iommufd (vfio-open.h), then usemem. */
static int cmd_cdev(void)
{
	__u64 *m;
	struct region r;

	if (vfio_open_cdev(bdf, &h)) {
		ok(0, "open %s through its VFIO cdev and iommufd: %s: %s", bdf,
		   vfio_open_failed, strerror(errno));
		vfio_close(&h);
		return 1;
	}
	ok(1, "open %s through its VFIO cdev and iommufd (bind, IOAS, attach)",
	   bdf);
	if (region_of(4, &r)) {
		ok(0, "usemem in sysfs");
		return 1;
	}
	check_region_info(4, &r);
	catch_sigbus();
	m = map_aligned(4, 64ULL << 20, 2ULL << 20);
	ok(m != MAP_FAILED, "mmap 64 MiB of usemem through the cdev");
	if (m == MAP_FAILED)
		return 1;
	ok(!touch(&m[4096], 1, MAGIC) && mem_read(&m[4096]) == MAGIC,
	   "write and read back through the cdev mapping");
	munmap((void *)m, 64ULL << 20);
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* VFIO_DEVICE_FEATURE_DMA_BUF (v6.19 uAPI), defined here for old headers. */
#define NG_FEATURE_DMA_BUF	11

struct ng_dma_buf_req {
	struct vfio_device_feature hdr;
	__u32 region_index, open_flags, flags, nr_ranges;
	__u64 offset, length;
};

static int dmabuf_get(unsigned int index, __u64 offset, __u64 length)
{
	struct ng_dma_buf_req req = {
		.hdr.argsz = sizeof(req),
		.hdr.flags = VFIO_DEVICE_FEATURE_GET | NG_FEATURE_DMA_BUF,
		.region_index = index, .open_flags = O_RDWR | O_CLOEXEC,
		.nr_ranges = 1, .offset = offset, .length = length,
	};

	return ioctl(h.device, VFIO_DEVICE_FEATURE, &req);
}

/* The "size:" a dma-buf's fdinfo reports, or -1. */
static long long dmabuf_size(int fd)
{
	char path[64], line[128];
	long long size = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "size: %lld", &size) == 1)
			break;
	fclose(f);
	return size;
}

static int cmd_dmabuf(void)
{
	struct region r;
	int fd;

	open_device();
	if (region_of(2, &r)) {
		skip("dma-buf export of resmem", "no resmem on this device");
		return 0;
	}
	fd = dmabuf_get(2, 0, 2 << 20);
	if (fd < 0 && errno == ENOTTY) {
		skip("dma-buf export of device memory",
		     "this kernel's vfio-pci has no dma-buf export");
		return 0;
	}
	ok(fd >= 0, "dma-buf export of 2 MiB of resmem (%s)", fd < 0 ? strerror(errno) : "fd");
	if (fd >= 0) {
		ok(dmabuf_size(fd) == 2 << 20, "the dma-buf is 2 MiB (%lld)", dmabuf_size(fd));
		close(fd);
	}
	errno = 0;
	fd = dmabuf_get(2, r.length - 4096, 8192);
	ok(fd < 0 && errno == EINVAL,
	   "dma-buf export running past the memory is EINVAL (%s)", strerror(errno));
	errno = 0;
	fd = dmabuf_get(2, 0, 0);
	ok(fd < 0 && errno == EINVAL, "empty dma-buf range is EINVAL (%s)", strerror(errno));
	vfio_close(&h);
	return failures ? 1 : 0;
}

static int cmd_hold(void)
{
	open_device();
	printf("held\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

static int sysfs_enable(int on)
{
	char path[256];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/enable", bdf);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "vfio-mem: %s: %s\n", path, strerror(errno));
		return 1;
	}
	ret = fprintf(f, "%d\n", on) < 0;
	return fclose(f) || ret;
}

static int cmd_regs(__u32 val)
{
	char path[256];
	__u32 *c2c, *hbm;
	void *bar;
	int fd;

	/* Memory decode must be on for the writes to reach the BAR. */
	if (sysfs_enable(1))
		return 1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		fprintf(stderr, "vfio-mem: %s: %s\n", path, strerror(errno));
		return 1;
	}
	bar = mmap(NULL, HBM_REG + 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED) {
		fprintf(stderr, "vfio-mem: mmap %s: %s\n", path, strerror(errno));
		return 1;
	}
	c2c = (__u32 *)((char *)bar + C2C_REG);
	hbm = (__u32 *)((char *)bar + HBM_REG);
	__atomic_store_n(c2c, val, __ATOMIC_RELAXED);
	__atomic_store_n(hbm, val, __ATOMIC_RELAXED);
	if (__atomic_load_n(hbm, __ATOMIC_RELAXED) != val)
		return 1;
	return sysfs_enable(0);
}

static int cmd_store(unsigned int bar, __u64 off, __u64 val)
{
	long pg = sysconf(_SC_PAGESIZE);
	__u64 start = off & ~(__u64)(pg - 1);
	char path[256];
	__u8 *map;
	__u64 *p;
	int fd;

	if (bar > 5 || (off & 7)) {
		fprintf(stderr, "vfio-mem: store: BAR 0-5, OFFSET 8-byte aligned\n");
		return 2;
	}
	if (sysfs_enable(1))
		return 1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%u", bdf,
		 bar);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		fprintf(stderr, "vfio-mem: %s: %s\n", path, strerror(errno));
		return 1;
	}
	map = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)start);
	close(fd);
	if (map == MAP_FAILED) {
		fprintf(stderr, "vfio-mem: mmap %s +0x%llx: %s\n", path,
			(unsigned long long)start, strerror(errno));
		return 1;
	}
	p = (__u64 *)(map + (off - start));
	__atomic_store_n(p, val, __ATOMIC_RELAXED);
	if (__atomic_load_n(p, __ATOMIC_RELAXED) != val) {
		fprintf(stderr, "vfio-mem: store: read back a different value\n");
		return 1;
	}
	return munmap(map, pg) ? 1 : 0;
}

/* ---- place: mmap(NULL) placement ---------------------------------------- */

#define GIB_SZ	0x40000000ULL

/* The driver's fault counters: pte, pmd, pud (sysfs nvgrace/faults_*). */
static int fault_counts(long c[3])
{
	static const char *const kind[] = { "pte", "pmd", "pud" };
	char path[256];
	unsigned int i;
	FILE *f;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvgrace/faults_%s",
			 bdf, kind[i]);
		f = fopen(path, "r");
		if (!f)
			return -1;
		if (fscanf(f, "%ld", &c[i]) != 1)
			c[i] = -1;
		fclose(f);
	}
	return c[0] < 0 || c[1] < 0 || c[2] < 0 ? -1 : 0;
}

/*
 * First touch of LEN bytes at M, one store per page of the value the page
 * holds (the host checks what 40-regions and 41-padding wrote after the
 * boot); prints a PLACE line and leaves in D[] the driver's pte, pmd and
 * pud faults meanwhile.
 */
static int touch_place(const char *what, unsigned int index, __u64 *m,
		       __u64 len, __u64 phys, long d[3])
{
	long psz = sysconf(_SC_PAGESIZE), c0[3], c1[3];
	double t0, ms;
	__u64 i;

	if (fault_counts(c0))
		return -1;
	t0 = now_ms();
	for (i = 0; i < len / 8; i += psz / 8)
		__atomic_store_n(&m[i], __atomic_load_n(&m[i], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	ms = now_ms() - t0;
	if (fault_counts(c1))
		return -1;
	for (i = 0; i < 3; i++)
		d[i] = c1[i] - c0[i];
	printf("# PLACE region=%u what=%s va=%p va-pa%%2M=%#llx va-pa%%1G=%#llx",
	       index, what, (void *)m, (unsigned long long)(((uintptr_t)m - phys) & (0x200000 - 1)),
	       (unsigned long long)(((uintptr_t)m - phys) & (GIB_SZ - 1)));
	printf(" ms=%.1f pte=%ld pmd=%ld pud=%ld mib=%llu\n", ms, d[0], d[1], d[2],
	       (unsigned long long)(len >> 20));
	return 0;
}

/* LEN bytes of region INDEX mapped MAP_FIXED at an address VA - PHYS = DELTA mod ALIGN. */
static void *map_at(unsigned int index, __u64 len, __u64 phys, __u64 align, __u64 delta)
{
	char *r, *va;

	r = mmap(NULL, len + 2 * align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return MAP_FAILED;
	va = r + ((phys + delta - (uintptr_t)r) & (align - 1));
	munmap(r, len + 2 * align);
	return mmap(va, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, h.device,
		    region_off(index));
}

/*
 * Map LEN bytes of region INDEX at VA - PHYS = DELTA mod ALIGN, first-touch
 * them as WHAT (touch_place()) and unmap: 0, or -1 after a failed TAP line
 * naming DESC.
 */
static int touch_at(const char *what, const char *desc, const char *name,
		    unsigned int index, __u64 len, __u64 phys, __u64 align,
		    __u64 delta, long d[3])
{
	void *m = map_at(index, len, phys, align, delta);
	int ret;

	if (m == MAP_FAILED) {
		ok(0, "%s: %s (%s)", name, desc, strerror(errno));
		return -1;
	}
	ret = touch_place(what, index, m, len, phys, d);
	if (ret)
		ok(0, "%s: %s (fault counters in sysfs)", name, desc);
	munmap(m, len);
	return ret;
}

static void place_region(unsigned int index, const struct region *r, int hook)
{
	long psz = sysconf(_SC_PAGESIZE), pmd = psz * (psz / 8), dany[3], doff[3], dal[3];
	__u64 len = r->length, align = len >= GIB_SZ ? GIB_SZ : (__u64)pmd;
	const char *name = index == 4 ? "usemem" : "resmem";
	void *m, *hint;
	__u64 first;

	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, h.device, region_off(index));
	if (m == MAP_FAILED) {
		ok(0, "%s: mmap(NULL) of the whole region (%s)", name, strerror(errno));
		return;
	}
	if (pread(h.device, &first, sizeof(first), region_off(index)) != sizeof(first)) {
		ok(0, "%s: pread of the first word (%s)", name, strerror(errno));
		munmap(m, len);
		return;
	}
	if (hook)
		ok((((uintptr_t)m - r->phys) & (align - 1)) == 0,
		   "%s: mmap(NULL) puts the mapping at a VA congruent with its PA modulo %llu MiB (va %p, pa %#llx)",
		   name, (unsigned long long)(align >> 20), m, (unsigned long long)r->phys);
	else
		skip("mmap(NULL) placement",
		     "the driver has no get_unmapped_area hook (kernel without the companion VFIO patch)");
	/*
	 * Not measured: the first touch of the boot also makes the host
	 * allocate the backing file's pages, which would count against
	 * whichever placement came first.
	 */
	if (touch_at("warm-up", "warm-up pass at a congruent VA", name, index, len,
		     r->phys, align, 0, dal)) {
		munmap(m, len);
		return;
	}
	if (touch_place("any", index, m, len, r->phys, dany)) {
		ok(0, "%s: fault counters in sysfs", name);
		munmap(m, len);
		return;
	}
	munmap(m, len);
	/* What mmap(NULL) gives without placement, at worst: one page off. */
	if (touch_at("off", "MAP_FIXED at a VA one page off the PMD congruence", name,
		     index, len, r->phys, pmd, psz, doff) ||
	    touch_at("aligned", "MAP_FIXED at a congruent VA", name, index, len,
		     r->phys, align, 0, dal))
		return;
	ok(doff[0] > 0 && !doff[1] && !doff[2],
	   "%s: a misaligned MAP_FIXED mapping still works, with PTE faults only (%ld)",
	   name, doff[0]);
	if (hook)
		ok(dany[0] == dal[0] && dany[1] == dal[1] && dany[2] == dal[2],
		   "%s: first touch through mmap(NULL) takes the faults of an aligned mapping (pte/pmd/pud %ld/%ld/%ld, aligned %ld/%ld/%ld)",
		   name, dany[0], dany[1], dany[2], dal[0], dal[1], dal[2]);

	/* A hint the kernel can grant is kept, even off the congruence. */
	hint = map_at(index, len, r->phys, pmd, psz);
	if (hint != MAP_FAILED) {
		munmap(hint, len);
		m = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_SHARED, h.device,
			 region_off(index));
		ok(m == hint, "%s: a free hint address is kept (%p, got %p)", name, hint, m);
		if (m != MAP_FAILED) {
			ok(__atomic_load_n((__u64 *)m, __ATOMIC_RELAXED) == first,
			   "%s: the hinted mapping reads the data", name);
			munmap(m, len);
		}
	}
	/* Short mappings, and offsets past the memory, as without the hook. */
	m = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_SHARED, h.device, region_off(index));
	ok(m != MAP_FAILED && __atomic_load_n((__u64 *)m, __ATOMIC_RELAXED) == first,
	   "%s: mmap(NULL) of one page works", name);
	if (m != MAP_FAILED)
		munmap(m, psz);
	errno = 0;
	m = mmap(NULL, 2 * pmd, PROT_READ | PROT_WRITE, MAP_SHARED, h.device,
		 region_off(index) + r->bar_size);
	ok(m == MAP_FAILED && errno == EINVAL,
	   "%s: mmap(NULL) past the BAR is EINVAL (%s)", name, strerror(errno));
	if (m != MAP_FAILED)
		munmap(m, 2 * pmd);
	errno = 0;
	m = mmap(NULL, 2 * pmd, PROT_READ | PROT_WRITE, MAP_SHARED, h.device,
		 region_off(index) + ((len - pmd) & ~((__u64)pmd - 1)));
	ok(m == MAP_FAILED && errno == EINVAL,
	   "%s: mmap(NULL) running past the memory is EINVAL (%s)", name, strerror(errno));
	if (m != MAP_FAILED)
		munmap(m, 2 * pmd);
}

static int cmd_place(int hook)
{
	struct region r;
	void *m;

	open_device();
	if (region_of(4, &r))
		ok(0, "usemem in sysfs");
	else
		place_region(4, &r, hook);
	if (region_of(2, &r))
		skip("resmem placement", "no resmem on this device");
	else
		place_region(2, &r, hook);
	/* Other regions go to vfio-pci-core, with the default placement. */
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, h.device, region_off(0));
	ok(m != MAP_FAILED, "BAR0 maps with mmap(NULL)%s%s", m == MAP_FAILED ? ": " : "",
	   m == MAP_FAILED ? strerror(errno) : "");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	vfio_close(&h);
	return failures ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "%s",
		"vfio-mem regions|barsize|rw|ioeventfd|memdisable|dmabuf|cdev|hold BDF\n"
		"vfio-mem mmap BDF INDEX | reset BDF DELAY_MS | regs BDF VALUE | place BDF HOOK\n"
		"vfio-mem store BDF BAR OFFSET VALUE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc == 2 && !strcmp(argv[1], "pmdsize")) {
		/* a page table page holds PAGE_SIZE / 8 entries */
		long page = sysconf(_SC_PAGESIZE);

		printf("%ld\n", page * (page / 8));
		return 0;
	}
	if (argc < 3)
		usage();
	cmd = argv[1];
	bdf = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "regions"))
		return cmd_regions();
	if (!strcmp(cmd, "barsize"))
		return cmd_barsize();
	if (!strcmp(cmd, "rw"))
		return cmd_rw();
	if (!strcmp(cmd, "mmap") && argc == 4)
		return cmd_mmap(strtoul(argv[3], NULL, 0));
	if (!strcmp(cmd, "reset") && argc == 4)
		return cmd_reset(strtoul(argv[3], NULL, 0));
	if (!strcmp(cmd, "memdisable"))
		return cmd_memdisable();
	if (!strcmp(cmd, "ioeventfd"))
		return cmd_ioeventfd();
	if (!strcmp(cmd, "dmabuf"))
		return cmd_dmabuf();
	if (!strcmp(cmd, "cdev"))
		return cmd_cdev();
	if (!strcmp(cmd, "hold"))
		return cmd_hold();
	if (!strcmp(cmd, "place") && argc == 4)
		return cmd_place(atoi(argv[3]));
	if (!strcmp(cmd, "regs") && argc >= 4)
		return cmd_regs(strtoul(argv[3], NULL, 0));
	if (!strcmp(cmd, "store") && argc == 6)
		return cmd_store(strtoul(argv[3], NULL, 0),
				 strtoull(argv[4], NULL, 0),
				 strtoull(argv[5], NULL, 0));
	usage();
	return 2;
}
