// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-vmm: a tiny KVM VMM that proves which memory type KVM gives a
 * memslot at stage 2. It creates a VM with one vCPU, backs a memslot with
 * the mapping named on the command line (nvgrace-vfio-pci's usemem region,
 * a BAR through sysfs, or anonymous memory) and runs a hand-assembled arm64
 * L2 guest that accesses it: aligned and unaligned loads and stores, LDADD,
 * CAS, LDXR/STXR, then a pattern that the VMM checks through its own
 * mapping, then optionally touches N MiB twice so that the number of
 * stage-2 faults can be estimated from KVM's "exits" statistic.
 *
 * The L2 guest runs with its MMU off. With FEAT_S2FWB the stage-2 memory
 * type then decides the access type alone: Normal cacheable at stage 2
 * makes every access Normal, Device at stage 2 makes unaligned accesses
 * fault. So what the guest sees is the stage-2 attribute KVM chose.
 *
 *   nvgrace-vmm [options] SOURCE
 *     SOURCE   anon | file:PATH | vfio:DDDD:BB:DD.F:INDEX
 *     --size BYTES       memslot size (default: the source's size, at most
 *                        1 GiB; anon: 64 MiB)
 *     --offset BYTES     offset into file: (default 0)
 *     --pattern BYTES    bytes of pattern the guest writes (default 65536)
 *     --touch MIB        touch MIB MiB, one store per 4 KiB, twice
 *     --poke OFFSET      last, load 8 bytes at OFFSET (e.g. a poisoned page:
 *                        reported as the SIGBUS KVM sends, or the error)
 *     --write-file PATH=VALUE  write VALUE to PATH once the source is open
 *                        and mapped, before the guest runs (e.g. a poison
 *                        injection while the VFIO device is open)
 *     --cap-only         print the capability and exit
 *
 * Output: key=value lines; "access.NAME=ok|fault|kvm-error|wrong ..." per
 * access, "result=done" when the guest ran to its end. Exit status: 0 when
 * the results are complete (the caller judges them), 1 on an unexpected
 * failure, 2 on usage errors, 3 when the source cannot be opened or mapped,
 * 77 when KVM or the architecture is not available.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#ifndef __aarch64__

int main(void)
{
	printf("nvgrace-vmm: unsupported on this arch (arm64 only)\n");
	return 77;
}

#else /* __aarch64__ */

#include <linux/kvm.h>
#include <linux/vfio.h>

#ifndef KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED
#define KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED 243
#endif

#define CODE_IPA	0x10000000ULL
#define CODE_SIZE	0x10000ULL
#define VECTORS_OFF	0x800
#define MMIO_IPA	0x20000000ULL
#define TEST_IPA	0x40000000ULL
#define PATTERN		0x4e56475256000000ULL
#define PREFILL_SIZE	0x1000
#define PATTERN_OFF	0x1000
#define TOUCH_STRIDE	4096
#define RUN_TIMEOUT	120	/* seconds, below the guest runner's 300 */
#define SZ_1M		0x100000ULL
#define SZ_1G		0x40000000ULL

/*
 * The L2 guest. x0 = TEST_IPA, x1 = PATTERN, x13 = pattern bytes,
 * x14 = bytes to touch, x15 = touch stride, x17 = offset of the last load
 * (0: none), x28 = MMIO_IPA. It reports
 * through MMIO writes: +0x00 test number, +0x08 a value, +0x30 done; its
 * exception vectors report ESR, FAR and ELR at +0x10/+0x18/+0x20 and skip
 * the faulting instruction.
 */
static const unsigned int guest_code[] = {
	0x1000400a, /* 000: adr x10, 800 */
	0xd518c00a, /* 004: msr vbar_el1, x10 */
	0xd5033fdf, /* 008: isb */
	0xd2800029, /* 00c: mov x9, #0x1 */
	0xf9000389, /* 010: str x9, [x28] */
	0xf9400002, /* 014: ldr x2, [x0] */
	0xf9000782, /* 018: str x2, [x28, #8] */
	0xd2800049, /* 01c: mov x9, #0x2 */
	0xf9000389, /* 020: str x9, [x28] */
	0xf9000401, /* 024: str x1, [x0, #8] */
	0xf9400402, /* 028: ldr x2, [x0, #8] */
	0xf9000782, /* 02c: str x2, [x28, #8] */
	0xd2800069, /* 030: mov x9, #0x3 */
	0xf9000389, /* 034: str x9, [x28] */
	0xf8411002, /* 038: ldur x2, [x0, #17] */
	0xf9000782, /* 03c: str x2, [x28, #8] */
	0xd2800089, /* 040: mov x9, #0x4 */
	0xf9000389, /* 044: str x9, [x28] */
	0xf8021001, /* 048: stur x1, [x0, #33] */
	0xf8421002, /* 04c: ldur x2, [x0, #33] */
	0xf9000782, /* 050: str x2, [x28, #8] */
	0xd28000a9, /* 054: mov x9, #0x5 */
	0xf9000389, /* 058: str x9, [x28] */
	0x91010005, /* 05c: add x5, x0, #0x40 */
	0xd28000a3, /* 060: mov x3, #0x5 */
	0xf90000a3, /* 064: str x3, [x5] */
	0xd28000e3, /* 068: mov x3, #0x7 */
	0xaa1f03e4, /* 06c: mov x4, xzr */
	0xf82300a4, /* 070: ldadd x3, x4, [x5] */
	0xf94000a2, /* 074: ldr x2, [x5] */
	0xf9000784, /* 078: str x4, [x28, #8] */
	0xf9000782, /* 07c: str x2, [x28, #8] */
	0xd28000c9, /* 080: mov x9, #0x6 */
	0xf9000389, /* 084: str x9, [x28] */
	0x91012005, /* 088: add x5, x0, #0x48 */
	0xd2800226, /* 08c: mov x6, #0x11 */
	0xf90000a6, /* 090: str x6, [x5] */
	0xd2800447, /* 094: mov x7, #0x22 */
	0xc8a67ca7, /* 098: cas x6, x7, [x5] */
	0xf94000a2, /* 09c: ldr x2, [x5] */
	0xf9000786, /* 0a0: str x6, [x28, #8] */
	0xf9000782, /* 0a4: str x2, [x28, #8] */
	0xd28000e9, /* 0a8: mov x9, #0x7 */
	0xf9000389, /* 0ac: str x9, [x28] */
	0x91014005, /* 0b0: add x5, x0, #0x50 */
	0xd2800606, /* 0b4: mov x6, #0x30 */
	0xf90000a6, /* 0b8: str x6, [x5] */
	0xd2800048, /* 0bc: mov x8, #0x2 */
	0xc85f7ca2, /* 0c0: ldxr x2, [x5] */
	0x91000442, /* 0c4: add x2, x2, #0x1 */
	0xc8087ca2, /* 0c8: stxr w8, x2, [x5] */
	0xf94000a2, /* 0cc: ldr x2, [x5] */
	0xf9000788, /* 0d0: str x8, [x28, #8] */
	0xf9000782, /* 0d4: str x2, [x28, #8] */
	0xd2800109, /* 0d8: mov x9, #0x8 */
	0xf9000389, /* 0dc: str x9, [x28] */
	0x9140040b, /* 0e0: add x11, x0, #0x1, lsl #12 */
	0xaa0d03f0, /* 0e4: mov x16, x13 */
	0xb40000b0, /* 0e8: cbz x16, fc */
	0xca0b0022, /* 0ec: eor x2, x1, x11 */
	0xf8008562, /* 0f0: str x2, [x11], #8 */
	0xf1002210, /* 0f4: subs x16, x16, #0x8 */
	0x54ffffa8, /* 0f8: b.hi ec */
	0xf900078b, /* 0fc: str x11, [x28, #8] */
	0xd2800129, /* 100: mov x9, #0x9 */
	0xf9000389, /* 104: str x9, [x28] */
	0xaa0003eb, /* 108: mov x11, x0 */
	0xaa0e03f0, /* 10c: mov x16, x14 */
	0xb40001b0, /* 110: cbz x16, 144 */
	0xf9000161, /* 114: str x1, [x11] */
	0x8b0f016b, /* 118: add x11, x11, x15 */
	0xeb0f0210, /* 11c: subs x16, x16, x15 */
	0x54ffffa8, /* 120: b.hi 114 */
	0xd2800149, /* 124: mov x9, #0xa */
	0xf9000389, /* 128: str x9, [x28] */
	0xaa0003eb, /* 12c: mov x11, x0 */
	0xaa0e03f0, /* 130: mov x16, x14 */
	0xf9000161, /* 134: str x1, [x11] */
	0x8b0f016b, /* 138: add x11, x11, x15 */
	0xeb0f0210, /* 13c: subs x16, x16, x15 */
	0x54ffffa8, /* 140: b.hi 134 */
	0xd2800169, /* 144: mov x9, #0xb */
	0xf9000389, /* 148: str x9, [x28] */
	0xd2800189, /* 14c: mov x9, #0xc */
	0xf9000389, /* 150: str x9, [x28] */
	0xb4000071, /* 154: cbz x17, 160 */
	0xf8716802, /* 158: ldr x2, [x0, x17] */
	0xf9000782, /* 15c: str x2, [x28, #8] */
	0xf9001b9f, /* 160: str xzr, [x28, #48] */
	0x14000000, /* 164: b 164 */
};

/* Each of the 16 vector slots (0x80 bytes apart, from VECTORS_OFF). */
static const unsigned int guest_vector[] = {
	0xd538520a, /* mrs x10, esr_el1 */
	0xf9000b8a, /* str x10, [x28, #16] */
	0xd538600a, /* mrs x10, far_el1 */
	0xf9000f8a, /* str x10, [x28, #24] */
	0xd538402a, /* mrs x10, elr_el1 */
	0xf900138a, /* str x10, [x28, #32] */
	0x9100114a, /* add x10, x10, #0x4 */
	0xd518402a, /* msr elr_el1, x10 */
	0xd69f03e0, /* eret */
};

enum { T_NONE, T_LOAD, T_STORE, T_ULOAD, T_USTORE, T_LDADD, T_CAS, T_EXCL,
	T_PATTERN, T_TOUCH1, T_TOUCH2, T_TOUCHED, T_POKE, T_MAX };

static const char * const test_name[T_MAX] = {
	[T_LOAD] = "aligned_load",
	[T_STORE] = "aligned_store",
	[T_ULOAD] = "unaligned_load",
	[T_USTORE] = "unaligned_store",
	[T_LDADD] = "atomic_ldadd",
	[T_CAS] = "atomic_cas",
	[T_EXCL] = "exclusive_ldxr_stxr",
	[T_PATTERN] = "pattern",
	[T_POKE] = "poke",
};

struct result {
	int seen;
	int faults;
	unsigned long long esr, far, elr;
	int kvm_errno;
	int sigbus_code;
	unsigned long long sigbus_addr;
	int nvals;
	unsigned long long val[4];
};

static struct result res[T_MAX];
static unsigned long long touch_exits[3];
static unsigned long long pattern_bytes = 65536, pattern_bad;
static int pattern_checked, pattern_good;
static struct timespec touch_time[3];

static int kvm_fd = -1, vm_fd = -1, vcpu_fd = -1, stats_fd = -1;
static int debug;
static struct kvm_run *run;
static unsigned char *mem;
static unsigned long long mem_size;

/*
 * SIGBUS from KVM (a memory error on the page behind a stage-2 fault):
 * KVM_RUN returns EINTR after the handler, run_guest() picks it up.
 */
static int sigbus_code;
static unsigned long long sigbus_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	sigbus_code = si->si_code;
	sigbus_addr = (unsigned long)si->si_addr;
}

/* SIGALRM only interrupts KVM_RUN (no SA_RESTART); run_guest() checks the time. */
static void on_alarm(int sig)
{
	(void)sig;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Plain aligned 64-bit accesses to the test memory, which may be Device
 * memory in this process too (an unaligned access there raises SIGBUS).
 */
static void mem_write64(unsigned long long off, unsigned long long v)
{
	__atomic_store_n((unsigned long long *)(mem + off), v, __ATOMIC_RELAXED);
}

static unsigned long long mem_read64(unsigned long long off)
{
	return __atomic_load_n((unsigned long long *)(mem + off), __ATOMIC_RELAXED);
}

static int die(const char *what)
{
	fprintf(stderr, "nvgrace-vmm: %s: %s\n", what, strerror(errno));
	return 1;
}

static unsigned long long core_reg(size_t off)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
		(off / sizeof(__u32));
}

static int set_reg(size_t off, unsigned long long val)
{
	struct kvm_one_reg r = { .id = core_reg(off), .addr = (unsigned long)&val };

	return ioctl(vcpu_fd, KVM_SET_ONE_REG, &r);
}

static int get_reg(size_t off, unsigned long long *val)
{
	struct kvm_one_reg r = { .id = core_reg(off), .addr = (unsigned long)val };

	return ioctl(vcpu_fd, KVM_GET_ONE_REG, &r);
}

#define XREG(n)	offsetof(struct kvm_regs, regs.regs[n])
#define PC_REG	offsetof(struct kvm_regs, regs.pc)
#define PSTATE	offsetof(struct kvm_regs, regs.pstate)

/* The vCPU's "exits" counter from its binary statistics, or ~0 if absent. */
static unsigned long long exits_stat(void)
{
	static long long data_off = -1;
	struct kvm_stats_header hdr;
	unsigned long long v;
	size_t dsz;
	char *descs;
	__u32 i;

	if (stats_fd < 0)
		return ~0ULL;
	if (data_off < 0) {
		if (pread(stats_fd, &hdr, sizeof(hdr), 0) != sizeof(hdr))
			return ~0ULL;
		dsz = sizeof(struct kvm_stats_desc) + hdr.name_size;
		descs = calloc(hdr.num_desc, dsz);
		if (!descs)
			return ~0ULL;
		if (pread(stats_fd, descs, hdr.num_desc * dsz, hdr.desc_offset) !=
		    (ssize_t)(hdr.num_desc * dsz)) {
			free(descs);
			return ~0ULL;
		}
		for (i = 0; i < hdr.num_desc; i++) {
			struct kvm_stats_desc *d = (void *)(descs + i * dsz);

			if (!strcmp(d->name, "exits")) {
				data_off = hdr.data_offset + d->offset;
				break;
			}
		}
		free(descs);
		if (data_off < 0)
			return ~0ULL;
	}
	if (pread(stats_fd, &v, sizeof(v), data_off) != sizeof(v))
		return ~0ULL;
	return v;
}

/* The byte the VMM puts at offset i of the memslot before the run. */
static unsigned char prefill_byte(unsigned int i)
{
	return (unsigned char)(i * 7 + 3);
}

/* Little-endian 64-bit value of the prefill bytes at offset i. */
static unsigned long long prefill_u64(unsigned int i)
{
	unsigned long long v = 0;
	int b;

	for (b = 7; b >= 0; b--)
		v = (v << 8) | prefill_byte(i + b);
	return v;
}

static void prefill(void)
{
	unsigned int i;

	for (i = 0; i < PREFILL_SIZE; i += 8)
		mem_write64(i, prefill_u64(i));
}

static int open_vfio_region(const char *spec, unsigned long long *size,
			    unsigned long long *offset, int *fd)
{
	struct vfio_group_status gstatus = { .argsz = sizeof(gstatus) };
	struct vfio_region_info rinfo = { .argsz = sizeof(rinfo) };
	char bdf[64], path[PATH_MAX + 16], link[PATH_MAX], *colon, *name;
	int container, group, device;
	ssize_t len;

	snprintf(bdf, sizeof(bdf), "%s", spec);
	colon = strrchr(bdf, ':');
	if (!colon || colon == bdf)
		return -1;
	*colon = '\0';
	rinfo.index = strtoul(colon + 1, NULL, 0);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return die("iommu_group link");
	link[len] = '\0';
	name = strrchr(link, '/');
	snprintf(path, sizeof(path), "/dev/vfio/%s", name ? name + 1 : link);

	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return die("/dev/vfio/vfio");
	group = open(path, O_RDWR);
	if (group < 0)
		return die(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &gstatus))
		return die("VFIO_GROUP_GET_STATUS");
	if (!(gstatus.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "nvgrace-vmm: VFIO group not viable\n");
		return -1;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return die("VFIO_SET_IOMMU");
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (device < 0)
		return die("VFIO_GROUP_GET_DEVICE_FD");
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &rinfo))
		return die("VFIO_DEVICE_GET_REGION_INFO");
	printf("source.region_size=0x%llx\n", (unsigned long long)rinfo.size);
	printf("source.region_flags=0x%x\n", rinfo.flags);
	if (!(rinfo.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		fprintf(stderr, "nvgrace-vmm: region %u cannot be mmapped\n",
			rinfo.index);
		return -1;
	}
	*size = rinfo.size;
	*offset = rinfo.offset;
	*fd = device;
	return 0;
}

/* Largest power of two <= v, at most 1 GiB. */
static unsigned long long map_align(unsigned long long v)
{
	unsigned long long a = SZ_1G;

	while (a > v)
		a >>= 1;
	return a;
}

/*
 * Map SIZE bytes of FD at OFFSET (FD < 0: shared anonymous memory) at a
 * virtual address aligned like the memslot's IPA (up to 1 GiB), so that
 * the host can use block mappings at stage 1 and KVM at stage 2.
 */
static void *map_aligned(int fd, unsigned long long size,
			 unsigned long long offset)
{
	unsigned long long align = map_align(size);
	unsigned char *resv, *at;
	void *p;

	resv = mmap(NULL, size + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return MAP_FAILED;
	at = (unsigned char *)(((unsigned long)resv + align - 1) & ~(align - 1));
	if (fd < 0)
		p = mmap(at, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	else
		p = mmap(at, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, offset);
	if (p == MAP_FAILED) {
		munmap(resv, size + align);
		return MAP_FAILED;
	}
	if (at > resv)
		munmap(resv, at - resv);
	if (at + size < resv + size + align)
		munmap(at + size, resv + size + align - (at + size));
	return p;
}

static int open_source(const char *src, unsigned long long want_size,
		       unsigned long long file_off)
{
	unsigned long long size = want_size, off = file_off, avail;
	struct stat st;
	int fd = -1;

	if (!strcmp(src, "anon")) {
		if (!size)
			size = 64 * SZ_1M;
	} else if (!strncmp(src, "file:", 5)) {
		fd = open(src + 5, O_RDWR | O_SYNC);
		if (fd < 0)
			return die(src + 5);
		if (fstat(fd, &st))
			return die("fstat");
		avail = st.st_size > (off_t)off ? st.st_size - off : 0;
		if (!size)
			size = avail < SZ_1G ? avail : SZ_1G;
	} else if (!strncmp(src, "vfio:", 5)) {
		if (open_vfio_region(src + 5, &avail, &off, &fd))
			return -1;
		if (!size)
			size = avail < SZ_1G ? avail : SZ_1G;
		if (size > avail) {
			fprintf(stderr, "nvgrace-vmm: region is only 0x%llx bytes\n",
				avail);
			return -1;
		}
	} else {
		fprintf(stderr, "nvgrace-vmm: unknown source %s\n", src);
		return -1;
	}
	if (!size || size % (unsigned long long)sysconf(_SC_PAGESIZE)) {
		fprintf(stderr, "nvgrace-vmm: bad size 0x%llx\n", size);
		return -1;
	}
	mem = map_aligned(fd, size, off);
	if (mem == MAP_FAILED) {
		mem = NULL;
		return die("mmap of the source");
	}
	mem_size = size;
	printf("source=%s\n", src);
	printf("source.size=0x%llx\n", size);
	printf("source.va_align=0x%llx\n", map_align(size));
	return 0;
}

static int check_pattern(unsigned long long bytes, unsigned long long *bad);

static void record_mmio(unsigned long long off, unsigned long long val,
			int *cur, int *done)
{
	struct result *r = &res[*cur];

	switch (off) {
	case 0x00:
		if (val < T_MAX) {
			*cur = (int)val;
			res[*cur].seen = 1;
			/*
			 * The pattern is complete when the next test begins,
			 * and the touch passes may overwrite it.
			 */
			if (*cur == T_TOUCH1 && !pattern_checked) {
				pattern_good = check_pattern(pattern_bytes,
							     &pattern_bad);
				pattern_checked = 1;
			}
			if (*cur >= T_TOUCH1 && *cur <= T_TOUCHED) {
				touch_exits[*cur - T_TOUCH1] = exits_stat();
				clock_gettime(CLOCK_MONOTONIC,
					      &touch_time[*cur - T_TOUCH1]);
			}
		}
		break;
	case 0x08:
		if (r->nvals < 4)
			r->val[r->nvals++] = val;
		break;
	case 0x10:
		if (!r->faults++)
			r->esr = val;
		break;
	case 0x18:
		if (r->faults == 1)
			r->far = val;
		break;
	case 0x20:
		if (r->faults == 1)
			r->elr = val;
		break;
	case 0x30:
		*done = 1;
		break;
	}
}

/* Run the guest until it reports done; 0 when it did. */
static int run_guest(void)
{
	int cur = T_NONE, done = 0, errors = 0, i;
	double deadline = now() + RUN_TIMEOUT;
	unsigned long long pc, val;

	while (!done) {
		alarm(5);
		sigbus_code = 0;
		i = ioctl(vcpu_fd, KVM_RUN, 0);
		if (debug > 0) {
			debug--;
			fprintf(stderr, "debug: KVM_RUN=%d errno=%d exit=%u sigbus=%d test=%d\n",
				i, i < 0 ? errno : 0, run->exit_reason, sigbus_code, cur);
		}
		if (i < 0) {
			if (errno == EINTR && sigbus_code &&
			    sigbus_code != BUS_MCEERR_AR) {
				/* Asynchronous (e.g. BUS_MCEERR_AO): note it. */
				printf("async_sigbus=code=%d addr=0x%llx test=%d\n",
				       sigbus_code, sigbus_addr, cur);
				continue;
			}
			if (errno == EINTR && sigbus_code) {
				/* KVM could not map the page: skip the access. */
				res[cur].sigbus_code = sigbus_code;
				res[cur].sigbus_addr = sigbus_addr;
				if (++errors > 32 || get_reg(PC_REG, &pc) ||
				    set_reg(PC_REG, pc + 4)) {
					printf("run=sigbus test=%d\n", cur);
					return -1;
				}
				continue;
			}
			if (errno == EINTR && now() > deadline) {
				printf("run=timeout test=%d\n", cur);
				return -1;
			}
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/*
			 * KVM refused the access (stage-2 fault handling
			 * failed). Record it and skip the instruction.
			 */
			if (!res[cur].kvm_errno)
				res[cur].kvm_errno = errno;
			if (++errors > 32 || get_reg(PC_REG, &pc) ||
			    set_reg(PC_REG, pc + 4)) {
				printf("run=kvm-error errno=%d test=%d\n", errno, cur);
				return -1;
			}
			continue;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write) {
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
				break;
			}
			val = 0;
			memcpy(&val, run->mmio.data,
			       run->mmio.len < 8 ? run->mmio.len : 8);
			record_mmio(run->mmio.phys_addr - MMIO_IPA, val, &cur,
				    &done);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			printf("run=system-event type=%u test=%d\n",
			       run->system_event.type, cur);
			return -1;
		case KVM_EXIT_FAIL_ENTRY:
			printf("run=fail-entry reason=0x%llx test=%d\n",
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			       cur);
			return -1;
		default:
			printf("run=exit-%u test=%d\n", run->exit_reason, cur);
			return -1;
		}
	}
	alarm(0);
	return 0;
}

/* Expected values reported by each test when nothing faults. */
static int values_ok(int t, const struct result *r)
{
	switch (t) {
	case T_LOAD:
		return r->nvals == 1 && r->val[0] == prefill_u64(0);
	case T_STORE:
		return r->nvals == 1 && r->val[0] == PATTERN;
	case T_ULOAD:
		return r->nvals == 1 && r->val[0] == prefill_u64(0x11);
	case T_USTORE:
		return r->nvals == 1 && r->val[0] == PATTERN;
	case T_LDADD:
		return r->nvals == 2 && r->val[0] == 5 && r->val[1] == 12;
	case T_CAS:
		return r->nvals == 2 && r->val[0] == 0x11 && r->val[1] == 0x22;
	case T_EXCL:
		return r->nvals == 2 && r->val[0] == 0 && r->val[1] == 0x31;
	default:
		return 1;
	}
}

/* What the pattern test left in memory, seen through our own mapping. */
static int check_pattern(unsigned long long bytes, unsigned long long *bad)
{
	unsigned long long off, want;

	for (off = 0; off < bytes; off += 8) {
		want = PATTERN ^ (TEST_IPA + PATTERN_OFF + off);
		if (mem_read64(PATTERN_OFF + off) != want) {
			*bad = PATTERN_OFF + off;
			return 0;
		}
	}
	return 1;
}

static void print_fault(const struct result *r)
{
	printf("fault esr=0x%llx ec=0x%llx dfsc=0x%llx",
	       r->esr, (r->esr >> 26) & 0x3f, r->esr & 0x3f);
	printf(" far=0x%llx elr=0x%llx faults=%d", r->far, r->elr, r->faults);
}

static void report(int poke)
{
	int t, i;

	for (t = T_LOAD; t <= T_POKE; t++) {
		struct result *r = &res[t];

		if (!test_name[t] || (t == T_POKE && !poke))
			continue;
		printf("access.%s=", test_name[t]);
		if (!r->seen)
			printf("not-run");
		else if (r->sigbus_code)
			printf("sigbus code=%d addr=0x%llx", r->sigbus_code,
			       r->sigbus_addr);
		else if (r->kvm_errno)
			printf("kvm-error errno=%d (%s)", r->kvm_errno,
			       strerror(r->kvm_errno));
		else if (r->faults)
			print_fault(r);
		else if (t == T_PATTERN)
			printf("%s", !pattern_checked ? "unchecked" :
			       pattern_good ? "ok" : "wrong");
		else
			printf("%s", values_ok(t, r) ? "ok" : "wrong");
		for (i = 0; i < r->nvals; i++)
			printf(" v%d=0x%llx", i, r->val[i]);
		if (t == T_PATTERN && r->seen && !r->faults && !r->kvm_errno) {
			printf(" bytes=%llu", pattern_bytes);
			if (pattern_checked && !pattern_good)
				printf(" first_bad_offset=0x%llx", pattern_bad);
		}
		printf("\n");
	}
}

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/*
 * PATH=VALUE: write VALUE to PATH. A SIGBUS it causes (a memory error
 * reported to processes mapping the page) is printed.
 */
static int do_write_file(const char *spec)
{
	char path[PATH_MAX];
	const char *eq = strchr(spec, '=');
	ssize_t n;
	int fd;

	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(path)) {
		fprintf(stderr, "nvgrace-vmm: --write-file wants PATH=VALUE\n");
		return -1;
	}
	memcpy(path, spec, eq - spec);
	path[eq - spec] = '\0';
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		printf("write_file=error errno=%d (%s)\n", errno, strerror(errno));
		return -1;
	}
	sigbus_code = 0;
	n = write(fd, eq + 1, strlen(eq + 1));
	if (n < 0)
		printf("write_file=error errno=%d (%s)\n", errno, strerror(errno));
	else
		printf("write_file=ok\n");
	close(fd);
	if (sigbus_code)
		printf("write_file.sigbus=code=%d addr=0x%llx\n", sigbus_code,
		       sigbus_addr);
	sigbus_code = 0;
	return n < 0 ? -1 : 0;
}

static int bad_usage(void)
{
	fprintf(stderr,
		"usage: nvgrace-vmm [--size BYTES] [--offset BYTES] [--pattern BYTES]\n"
		"                   [--touch MIB] [--cap-only] anon|file:PATH|vfio:BDF:INDEX\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long long size = 0, file_off = 0;
	unsigned long long touch = 0, poke = 0, faults1, faults2;
	const char *write_file = NULL;
	struct kvm_userspace_memory_region slot = { 0 };
	struct kvm_vcpu_init init;
	struct sigaction sa = { 0 };
	const char *src = NULL;
	unsigned char *code;
	int cap_only = 0, i, cap, mmap_size;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--debug")) {
			debug = 200;
			continue;
		}
		if (!strcmp(a, "--cap-only")) {
			cap_only = 1;
			continue;
		}
		if (a[0] != '-') {
			if (src)
				return bad_usage();
			src = a;
			continue;
		}
		if (!v)
			return bad_usage();
		i++;
		if (!strcmp(a, "--size"))
			size = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--offset"))
			file_off = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--pattern"))
			pattern_bytes = strtoull(v, NULL, 0) & ~7ULL;
		else if (!strcmp(a, "--touch"))
			touch = strtoull(v, NULL, 0) * SZ_1M;
		else if (!strcmp(a, "--write-file"))
			write_file = v;
		else if (!strcmp(a, "--poke"))
			poke = strtoull(v, NULL, 0) & ~7ULL;
		else
			return bad_usage();
	}
	if (!src && !cap_only)
		return bad_usage();

	setvbuf(stdout, NULL, _IOLBF, 0);
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		printf("nvgrace-vmm: no /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		return die("KVM_CREATE_VM");

	printf("page_size=%ld\n", sysconf(_SC_PAGESIZE));
	cap = ioctl(vm_fd, KVM_CHECK_EXTENSION,
		    KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED);
	if (cap < 0)
		printf("cap.cacheable_pfnmap=error errno=%d\n", errno);
	else
		printf("cap.cacheable_pfnmap=%d\n", cap);
	if (cap_only)
		return 0;

	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);

	if (open_source(src, size, file_off))
		return 3;
	if (pattern_bytes > mem_size - PATTERN_OFF)
		pattern_bytes = mem_size - PATTERN_OFF;
	if (touch > mem_size)
		touch = mem_size;
	if (poke >= mem_size) {
		fprintf(stderr, "nvgrace-vmm: --poke 0x%llx is outside the memslot\n", poke);
		return 2;
	}
	prefill();
	if (write_file && do_write_file(write_file))
		return 1;

	code = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return die("mmap code");
	memcpy(code, guest_code, sizeof(guest_code));
	for (i = 0; i < 16; i++)
		memcpy(code + VECTORS_OFF + i * 0x80, guest_vector,
		       sizeof(guest_vector));

	slot.slot = 0;
	slot.guest_phys_addr = CODE_IPA;
	slot.memory_size = CODE_SIZE;
	slot.userspace_addr = (unsigned long)code;
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot))
		return die("code memslot");

	slot.slot = 1;
	slot.guest_phys_addr = TEST_IPA;
	slot.memory_size = mem_size;
	slot.userspace_addr = (unsigned long)mem;
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot)) {
		printf("memslot=error errno=%d (%s)\n", errno, strerror(errno));
		return 0;
	}
	printf("memslot=ok\n");

	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0)
		return die("KVM_CREATE_VCPU");
	mmap_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < 0)
		return die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu_fd, 0);
	if (run == MAP_FAILED)
		return die("mmap kvm_run");
	if (ioctl(vm_fd, KVM_ARM_PREFERRED_TARGET, &init))
		return die("KVM_ARM_PREFERRED_TARGET");
	if (ioctl(vcpu_fd, KVM_ARM_VCPU_INIT, &init))
		return die("KVM_ARM_VCPU_INIT");
	stats_fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, 0);

	if (set_reg(PC_REG, CODE_IPA) ||
	    set_reg(PSTATE, 0x3c5) ||	/* EL1h, D, A, I, F masked */
	    set_reg(XREG(0), TEST_IPA) ||
	    set_reg(XREG(1), PATTERN) ||
	    set_reg(XREG(13), pattern_bytes) ||
	    set_reg(XREG(14), touch) ||
	    set_reg(XREG(15), TOUCH_STRIDE) ||
	    set_reg(XREG(17), poke) ||
	    set_reg(XREG(28), MMIO_IPA))
		return die("KVM_SET_ONE_REG");

	sa.sa_handler = on_alarm;
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, NULL);
	i = run_guest();
	report(poke != 0);
	if (touch && res[T_TOUCHED].seen && touch_exits[0] != ~0ULL) {
		faults1 = touch_exits[1] - touch_exits[0];
		faults2 = touch_exits[2] - touch_exits[1];
		printf("touch.bytes=%llu stride=%d\n", touch, TOUCH_STRIDE);
		printf("touch.exits_first=%llu exits_second=%llu\n", faults1, faults2);
		printf("touch.stage2_faults=%llu\n",
		       faults1 > faults2 ? faults1 - faults2 : 0);
		printf("touch.seconds_first=%.3f seconds_second=%.3f\n",
		       secs(&touch_time[0], &touch_time[1]),
		       secs(&touch_time[1], &touch_time[2]));
	}
	if (i)
		return 1;
	printf("result=done\n");
	return 0;
}

#endif /* __aarch64__ */
