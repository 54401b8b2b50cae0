// SPDX-License-Identifier: GPL-2.0-only
// guest-cflags: -pthread
/*
 * nvgrace-stress: concurrency stress and fault injection for nvgrace-vfio-pci
 * through the VFIO group uAPI, for the guest tests (static, one file).
 *
 *   nvgrace-stress run BDF [options]
 *	Sessions of SESSION seconds until at least SECONDS seconds and OPS
 *	operations are done. In each session one device handle is shared by:
 *	  rw0, rw1   pread/pwrite of usemem and resmem into plain memory,
 *		     every successful write read back and compared
 *	  uffd	     pread/pwrite into a userfaultfd-backed buffer whose pages
 *		     a handler thread supplies late (--copy-faults; skipped
 *		     without userfaultfd)
 *	  self	     pread/pwrite into a fresh, untouched mapping of the same
 *		     device (--copy-faults)
 *	  mmap	     mmap (2 MiB-aligned) / touch every page / check / munmap
 *	  toggle     PCI_COMMAND memory enable off and on through config space
 *	  reset	     VFIO_DEVICE_RESET (FLR) and VFIO_DEVICE_PCI_HOT_RESET
 *		     (EAGAIN/EBUSY when the device lock is taken: "refused")
 *	  poison     nvgrace-poison debugfs inject of a page in a zone nobody
 *		     else uses, then read() must fail with EIO and a touch must
 *		     raise SIGBUS BUS_MCEERR_AR (skipped without the debugfs file)
 *	  reopen     a second device fd from the group: open, read, close
 *		     (ENODEV while an unbind waits for the device: "refused")
 *	Between sessions everything is closed (the driver's last close runs)
 *	and the device opened again; while it is gone (a shell loop unbinds
 *	and binds it) the open is retried for up to 120 s.
 *	A watchdog process fails the run when any thread spends more than HANG
 *	seconds in one operation (exit 4). Afterwards a final open + read/write + mmap
 *	check of both regions.
 *	Options: --seconds S (60) --ops N (3000) --session S (10)
 *		 --hang S (60) --copy-faults --no-poison --no-reset
 *	--copy-faults: the I/O buffers are fresh pages for every call, and the
 *	uffd and self threads run (all make the user copy inside read()/write()
 *	fault); without it the buffers are touched beforehand.
 *
 *   nvgrace-stress check BDF
 *	Only the final check.
 *
 *   nvgrace-stress faults BDF [--max N] [--budget S]
 *	Systematic allocation-failure injection (/proc/thread-self/fail-nth,
 *	failslab and fail_page_alloc with their stack filter set to the module
 *	under test): for each operation (open, region info, mmap+touch,
 *	read/write, reset, poison inject, close) fail its 1st, 2nd, ...
 *	allocation until the operation runs without reaching the N-th; after
 *	each, the operation must have returned an error or succeeded, and the
 *	device must still work. An operation stops early after --max sites
 *	(300) or --budget seconds (120; every try opens and closes, so resets,
 *	the device): that is reported, not failed.
 *
 * Output: TAP lines ("ok - ...", "not ok - ..."), "# " diagnostics, one
 * "# NVGRACE-METRIC stress ..." line. Exit 0 if every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/userfaultfd.h>

#include "vfio-open.h"

#define C2C_REG		0x1498
#define HBM_REG		0x200bc
#define SLICE		(8ULL << 20)	/* per-thread slice of each region */
/*
 * Where this program writes in each region: AREA + 8 slices. Earlier guest
 * tests leave words there that the host checks in the backing file after
 * the run (NVGRACE-HOSTCHECK): 70-kvm-pfnmap's L2 guest at usemem + 0x1008
 * (its memslot is usemem's first 64 MiB) and 40-regions' at every 128 MiB
 * of both regions. The poison zone (the last pages of usemem) is only read.
 */
#define AREA		(64ULL << 20)
#define POISON_PAGES	32
#define MAX_IO		(64 << 10)
#define PMD_ALIGN	(2ULL << 20)
#define PCI_COMMAND_OFF	0x4
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Sequentially consistent accesses to what threads and processes share. */
#define ld(p)		__atomic_load_n((p), __ATOMIC_SEQ_CST)
#define st(p, v)	__atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define add(p, v)	__atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)

static const char *bdf;
static long psz;
static int failures;

static void tap(int cond, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("%s - %s\n", cond ? "ok" : "not ok", line);
	fflush(stdout);
	if (!cond)
		add(&failures, 1);
}

static void diag(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# %s\n", line);
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long now_us(void)
{
	return (long)(now_s() * 1e6);
}

static __u64 xorshift(__u64 *s)
{
	__u64 x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static off_t region_off(unsigned int index)
{
	return (off_t)index << 40;
}

static off_t cfg(unsigned int reg)
{
	return region_off(VFIO_PCI_CONFIG_REGION_INDEX) + reg;
}

/* ---- device memory layout (nvgrace sysfs) ----------------------------- */

struct mem {
	unsigned int index;
	__u64 phys, length;
	int present;
};

static struct mem usemem = { .index = VFIO_PCI_BAR4_REGION_INDEX };
static struct mem resmem = { .index = VFIO_PCI_BAR2_REGION_INDEX };

static int sysfs_mem(const char *name, struct mem *m)
{
	unsigned long long phys, length, bar;
	char path[256];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvgrace/%s", bdf, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fscanf(f, "%llx %llu %llu", &phys, &length, &bar);
	fclose(f);
	m->present = n == 3;
	m->phys = phys;
	m->length = length;
	return 0;
}

/* Poison zone: the last POISON_PAGES pages of usemem, used by nobody else. */
static __u64 poison_off(unsigned int i)
{
	return usemem.length - (__u64)(POISON_PAGES - i) * psz;
}

/* ---- per-thread state, counters, watchdog ---------------------------- */

enum { E_EIO, E_EFAULT, E_SHORT, E_SIGBUS, E_REFUSED, E_AO, E_NCLASS };
static const char *const class_name[E_NCLASS] = {
	"EIO", "EFAULT", "short", "SIGBUS", "refused", "SIGBUS-AO"
};

struct worker {
	const char *name;
	pthread_t thread;
	pid_t tid;
	int slot;			/* slice index */
	__u64 seed;
	long ops;		/* this session */
	long total_ops;		/* all sessions */
	long cls[E_NCLASS];
	long unexpected;
	long hb;			/* start of the current operation (us), 0 idle */
	const char *op;
	void *(*fn)(void *arg);
	int enabled;
	const char *why_off;
};

static int stop;
static double hang_s = 60;
/*
 * --copy-faults: operations whose user copy inside read()/write() faults
 * (fresh buffers, a userfaultfd buffer, a mapping of the same device). A
 * driver that copies user memory under memory_lock deadlocks on them once
 * another thread maps or unmaps and a third toggles memory or resets.
 */
static int copy_faults;
static struct vfio_handle h;		/* the session's handle */

static __thread struct worker *self;
static __thread sigjmp_buf jmp;
static __thread int armed;		/* the SIGBUS handler may jump */
static __thread int sig_code;
static long sigbus_ao;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "nvgrace-stress: unexpected SIGBUS outside a guarded access\n";

	(void)sig;
	(void)uc;
	if (si->si_code == BUS_MCEERR_AO) {
		add(&sigbus_ao, 1);
		return;
	}
	if (!ld(&armed)) {
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(3);
		_exit(3);
	}
	st(&sig_code, si->si_code);
	siglongjmp(jmp, 1);
}

static void op_begin(const char *op)
{
	st(&self->op, op);
	st(&self->hb, now_us());
}

static void op_end(void)
{
	st(&self->hb, 0L);
	add(&self->ops, 1);
	add(&self->total_ops, 1);
}

static void count(int cls)
{
	add(&self->cls[cls], 1);
}

/* An errno the operation must never return: report the first few. */
static void unexpected(const char *what, int err)
{
	long n = add(&self->unexpected, 1);

	if (n < 5)
		tap(0, "%s: %s: error %d (%s) not expected", self->name, what, err,
		    strerror(err));
}

/* Accesses the compiler must make exactly as written (device memory). */
static __u64 mem_read(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void mem_write(__u64 *p, __u64 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Touch one word; 0 if it worked, else the SIGBUS si_code. */
static int touch(__u64 *p, int write, __u64 val, __u64 *got)
{
	st(&sig_code, 0);
	if (sigsetjmp(jmp, 1)) {
		st(&armed, 0);
		return ld(&sig_code) ? ld(&sig_code) : -1;
	}
	st(&armed, 1);
	if (write)
		mem_write(p, val);
	else
		*got = mem_read(p);
	st(&armed, 0);
	return 0;
}

static void *map_aligned(int fd, unsigned int index, __u64 off, __u64 len)
{
	char *res, *at;
	void *m;

	res = mmap(NULL, len + PMD_ALIGN, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	at = (char *)(((unsigned long)res + PMD_ALIGN - 1) & ~(PMD_ALIGN - 1));
	m = mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		 region_off(index) + off);
	if (m == MAP_FAILED) {
		int e = errno;

		munmap(res, len + PMD_ALIGN);
		errno = e;
		return MAP_FAILED;
	}
	/* Drop the reservation around the mapping. */
	if (at > res)
		munmap(res, at - res);
	if ((char *)res + len + PMD_ALIGN > at + len)
		munmap(at + len, (char *)res + len + PMD_ALIGN - (at + len));
	return m;
}

static void fill(__u64 *b, size_t n, __u64 seed)
{
	size_t i;

	for (i = 0; i < n / 8; i++)
		b[i] = seed ^ (i * 0x9e3779b97f4a7c15ULL);
}

/* ---- workers ---------------------------------------------------------- */

static struct mem *pick_mem(__u64 r)
{
	return (resmem.present && (r & 1)) ? &resmem : &usemem;
}

/* offset and length of a random I/O in this thread's slice of m */
static __u64 pick_io(int slot, size_t *len)
{
	__u64 r = xorshift(&self->seed);

	*len = 8 * (1 + (r % (MAX_IO / 8)));
	return AREA + (__u64)slot * SLICE + 8 * ((r >> 20) % ((SLICE - MAX_IO) / 8));
}

/* pwrite then pread back into plain memory; data compared when both worked */
static void *rw_worker(void *arg)
{
	__u64 *wbuf = NULL, *rbuf = NULL;
	size_t len;
	ssize_t n;

	self = arg;
	self->tid = gettid();
	while (!ld(&stop)) {
		struct mem *m = pick_mem(xorshift(&self->seed));
		__u64 off = pick_io(self->slot, &len);
		__u64 seed = xorshift(&self->seed);
		int wrote;

		/* fresh, untouched pages for every pair, or one prefaulted pair */
		if (copy_faults || !wbuf) {
			if (wbuf) {
				munmap(wbuf, MAX_IO);
				munmap(rbuf, MAX_IO);
			}
			wbuf = mmap(NULL, MAX_IO, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			rbuf = mmap(NULL, MAX_IO, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (wbuf == MAP_FAILED || rbuf == MAP_FAILED) {
				unexpected("mmap buffers", errno);
				return NULL;
			}
			if (!copy_faults)
				memset(rbuf, 0, MAX_IO);
		}

		fill(wbuf, len, seed);
		op_begin("pwrite");
		n = pwrite(h.device, wbuf, len, region_off(m->index) + off);
		op_end();
		wrote = n == (ssize_t)len;
		if (n < 0 && errno == EIO)
			count(E_EIO);
		else if (!wrote)
			unexpected("pwrite", n < 0 ? errno : EMSGSIZE);
		op_begin("pread");
		n = pread(h.device, rbuf, len, region_off(m->index) + off);
		op_end();
		if (n < 0 && errno == EIO) {
			count(E_EIO);
		} else if (n != (ssize_t)len) {
			unexpected("pread", n < 0 ? errno : EMSGSIZE);
		} else if (wrote && memcmp(wbuf, rbuf, len)) {
			tap(0, "%s: region %u offset %#llx: read back differs from the write",
			    self->name, m->index, off);
			add(&self->unexpected, 1);
		}
	}
	munmap(wbuf, MAX_IO);
	munmap(rbuf, MAX_IO);
	return NULL;
}

/* read()/write() with the user buffer a fresh mapping of the same device */
static void *self_worker(void *arg)
{
	size_t len = 256 << 10;
	__u64 src, dst;
	void *m;
	ssize_t n;
	int i;

	self = arg;
	self->tid = gettid();
	src = AREA + (__u64)self->slot * SLICE;
	dst = src + SLICE / 2;
	while (!ld(&stop)) {
		op_begin("mmap (self)");
		m = map_aligned(h.device, usemem.index, dst, len);
		op_end();
		if (m == MAP_FAILED) {
			unexpected("mmap", errno);
			continue;
		}
		for (i = 0; i < 2; i++) {
			op_begin(i ? "pwrite from own mapping" : "pread into own mapping");
			if (i)
				n = pwrite(h.device, m, len, region_off(usemem.index) + src);
			else
				n = pread(h.device, m, len, region_off(usemem.index) + src);
			op_end();
			if (n == (ssize_t)len)
				continue;
			if (n < 0 && errno == EIO)
				count(E_EIO);
			else if (n < 0 && errno == EFAULT)
				count(E_EFAULT);	/* mapping's fault failed: memory off */
			else if (n > 0 && n < (ssize_t)len)
				/* the same, after some of the driver's 64 KiB chunks */
				count(E_SHORT);
			else
				unexpected(i ? "pwrite from own mapping" : "pread into own mapping",
					   n < 0 ? errno : EMSGSIZE);
		}
		munmap(m, len);
	}
	return NULL;
}

/* userfaultfd: pages of the buffer arrive only when the handler supplies them */
struct uffd_ctx {
	int fd;
	void *page;
	int done;	/* the worker issues no more faults */
	long served;
};

static void *uffd_handler(void *arg)
{
	struct uffd_ctx *u = arg;
	struct pollfd pfd = { .fd = u->fd, .events = POLLIN };
	struct uffd_msg msg;

	while (!ld(&u->done)) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (read(u->fd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		usleep(200);	/* the faulting copy sleeps meanwhile */
		struct uffdio_copy c = {
			.dst = msg.arg.pagefault.address & ~(__u64)(psz - 1),
			.src = (unsigned long)u->page,
			.len = psz,
		};
		if (!ioctl(u->fd, UFFDIO_COPY, &c))
			add(&u->served, 1);
	}
	return NULL;
}

static int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *uffd_worker(void *arg)
{
	struct uffd_ctx u = { .fd = -1 };
	pthread_t ht;
	size_t len = MAX_IO;
	ssize_t n;
	int i;

	self = arg;
	self->tid = gettid();
	u.fd = uffd_open();
	u.page = aligned_alloc(psz, psz);
	if (u.fd < 0 || !u.page) {
		unexpected("userfaultfd", errno);
		return NULL;
	}
	memset(u.page, 0x5a, psz);
	pthread_create(&ht, NULL, uffd_handler, &u);
	while (!ld(&stop)) {
		void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct uffdio_register reg = {
			.range = { .start = (unsigned long)buf, .len = len },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};
		struct mem *m = pick_mem(xorshift(&self->seed));
		size_t l;
		__u64 off = pick_io(self->slot, &l);

		if (buf == MAP_FAILED || ioctl(u.fd, UFFDIO_REGISTER, &reg)) {
			unexpected("uffd register", errno);
			break;
		}
		for (i = 0; i < 2; i++) {
			op_begin(i ? "pwrite from uffd buffer" : "pread into uffd buffer");
			/* the first op's pages are there now: pwrite gets a fresh range */
			if (i) {
				madvise(buf, len, MADV_DONTNEED);
				n = pwrite(h.device, buf, l, region_off(m->index) + off);
			} else {
				n = pread(h.device, buf, l, region_off(m->index) + off);
			}
			op_end();
			if (n == (ssize_t)l)
				continue;
			if (n < 0 && errno == EIO)
				count(E_EIO);
			else
				unexpected(i ? "pwrite from uffd buffer" : "pread into uffd buffer",
					   n < 0 ? errno : EMSGSIZE);
		}
		munmap(buf, len);
	}
	st(&u.done, 1);
	pthread_join(ht, NULL);
	diag("%s: the handler supplied %ld pages", self->name, ld(&u.served));
	close(u.fd);
	free(u.page);
	return NULL;
}

static void *mmap_worker(void *arg)
{
	__u64 base, len, i, got, seed;
	__u64 *m;
	int code;

	self = arg;
	self->tid = gettid();
	base = AREA + (__u64)self->slot * SLICE;
	while (!ld(&stop)) {
		__u64 r = xorshift(&self->seed);

		len = psz * (1 + r % (SLICE / 2 / psz));
		op_begin("mmap");
		m = map_aligned(h.device, usemem.index, base + ((r >> 32) & 1) * SLICE / 2, len);
		op_end();
		if (m == MAP_FAILED) {
			unexpected("mmap", errno);
			continue;
		}
		seed = xorshift(&self->seed);
		op_begin("touch");
		code = 0;
		for (i = 0; i < len / 8 && !code; i += psz / 8)
			code = touch(&m[i], 1, seed ^ i, NULL);
		for (i = 0; i < len / 8 && !code; i += psz / 8) {
			code = touch(&m[i], 0, 0, &got);
			if (!code && got != (seed ^ i)) {
				tap(0, "%s: mapped word %#llx reads %#llx, wrote %#llx",
				    self->name, i * 8, got, seed ^ i);
				add(&self->unexpected, 1);
				break;
			}
		}
		op_end();
		if (code == BUS_ADRERR)
			count(E_SIGBUS);	/* memory decode off or resetting */
		else if (code)
			unexpected("touch (SIGBUS si_code)", code);
		op_begin("munmap");
		munmap(m, len);
		op_end();
	}
	return NULL;
}

static int toggles_left_off;

static void *toggle_worker(void *arg)
{
	__u16 cmd = 0, off;

	self = arg;
	self->tid = gettid();
	while (!ld(&stop)) {
		op_begin("PCI_COMMAND memory off/on");
		if (pread(h.device, &cmd, 2, cfg(PCI_COMMAND_OFF)) != 2) {
			unexpected("read PCI_COMMAND", errno);
		} else {
			off = cmd & ~2;
			if (pwrite(h.device, &off, 2, cfg(PCI_COMMAND_OFF)) != 2)
				unexpected("clear memory enable", errno);
			usleep(xorshift(&self->seed) % 2000);
			cmd |= 2;
			if (pwrite(h.device, &cmd, 2, cfg(PCI_COMMAND_OFF)) != 2) {
				unexpected("set memory enable", errno);
				toggles_left_off = 1;
			}
		}
		op_end();
		usleep(1000 + xorshift(&self->seed) % 20000);
	}
	return NULL;
}

/* The stand-in's readiness registers in BAR0, 0xFF: ready. */
/*
 * BAR0 writes fail with EIO while the toggle thread has memory decode off
 * (vfio-pci-core refuses BAR accesses then). Decode comes back on within a
 * toggle cycle, which on a debug kernel under load can take far longer
 * than the 100 ms this retried for once (6.12-debug: EIO after 100 tries).
 * Retry EIO for up to 5 s; any other error, or EIO past that, is reported.
 */
static int regs_ready(int fd)
{
	__u32 v = 0xff;
	off_t bar0 = region_off(VFIO_PCI_BAR0_REGION_INDEX);
	double end = now_s() + 5;

	do {
		if (pwrite(fd, &v, 4, bar0 + C2C_REG) == 4 &&
		    pwrite(fd, &v, 4, bar0 + HBM_REG) == 4)
			return 0;
		if (errno != EIO)
			break;
		usleep(1000);
	} while (now_s() < end);
	return -1;
}

static int hot_reset(void)
{
	struct {
		struct vfio_pci_hot_reset r;
		__s32 fds[1];
	} hr = { .r = { .argsz = sizeof(hr), .count = 1 }, .fds = { h.group } };

	return ioctl(h.device, VFIO_DEVICE_PCI_HOT_RESET, &hr);
}

static void *reset_worker(void *arg)
{
	long k = 0;

	self = arg;
	self->tid = gettid();
	while (!ld(&stop)) {
		int hot = k++ & 1, ret;

		op_begin(hot ? "VFIO_DEVICE_PCI_HOT_RESET" : "VFIO_DEVICE_RESET");
		ret = hot ? hot_reset() : ioctl(h.device, VFIO_DEVICE_RESET);
		op_end();
		if (ret && (errno == EBUSY || errno == EAGAIN))
			count(E_REFUSED);
		else if (ret)
			unexpected(hot ? "hot reset" : "FLR", errno);
		/* keep the stand-in ready for the next access */
		op_begin("readiness registers");
		if (regs_ready(h.device))
			unexpected("write readiness registers", errno);
		op_end();
		usleep(20000 + xorshift(&self->seed) % 60000);
	}
	return NULL;
}

static const char *inject_path = "/sys/kernel/debug/nvgrace-poison/inject";

static int inject(int fd, __u64 pfn)
{
	char s[32];
	int n = snprintf(s, sizeof(s), "%#llx\n", pfn);

	return pwrite(fd, s, n, 0) == n ? 0 : -1;
}

static void *poison_worker(void *arg)
{
	int fd = open(inject_path, O_WRONLY), code, j;
	__u64 *m, got, off;
	char buf[64];
	ssize_t n;

	memset(buf, 0, sizeof(buf));
	self = arg;
	self->tid = gettid();
	if (fd < 0) {
		unexpected("open debugfs inject", errno);
		return NULL;
	}
	while (!ld(&stop)) {
		unsigned int i = xorshift(&self->seed) % POISON_PAGES;

		off = poison_off(i);
		op_begin("poison inject");
		if (inject(fd, (usemem.phys + off) / psz)) {
			if (errno == EHWPOISON)
				count(E_REFUSED);	/* already poisoned */
			else
				unexpected("inject", errno);
		}
		op_end();
		/* read() of a poisoned page: EIO, never data */
		for (j = 0; j < 100; j++) {
			op_begin("pread poisoned page");
			n = pread(h.device, buf, sizeof(buf), region_off(usemem.index) + off);
			op_end();
			if (n < 0 && errno == EIO)
				break;
			usleep(10000);
		}
		if (j == 100) {
			tap(0, "%s: read of poisoned usemem page %#llx fails with EIO (%zd, %s)",
			    self->name, off, n, n < 0 ? strerror(errno) : "data");
			add(&self->unexpected, 1);
		}
		/* a touch: SIGBUS BUS_MCEERR_AR (BUS_ADRERR if memory is off) */
		op_begin("mmap+touch poisoned page");
		m = map_aligned(h.device, usemem.index, off, psz);
		if (m == MAP_FAILED) {
			unexpected("mmap poisoned page", errno);
		} else {
			code = touch(m, 0, 0, &got);
			if (code == BUS_ADRERR)
				count(E_SIGBUS);
			else if (code != BUS_MCEERR_AR)
				unexpected("touch of a poisoned page (si_code)",
					   code ? code : ENOMSG);
			munmap(m, psz);
		}
		op_end();
		usleep(50000 + xorshift(&self->seed) % 100000);
	}
	close(fd);
	return NULL;
}

static void *reopen_worker(void *arg)
{
	__u32 id = 0;
	int fd;

	self = arg;
	self->tid = gettid();
	while (!ld(&stop)) {
		op_begin("second device fd");
		fd = ioctl(h.group, VFIO_GROUP_GET_DEVICE_FD, bdf);
		if (fd < 0 && errno == ENODEV) {
			count(E_REFUSED);	/* an unbind is waiting for us */
		} else if (fd < 0) {
			unexpected("VFIO_GROUP_GET_DEVICE_FD", errno);
		} else {
			if (pread(fd, &id, 4, cfg(0)) != 4)
				unexpected("config read on the second fd", errno);
			else if (id != 0x11111234)
				unexpected("vendor/device id on the second fd", ENODEV);
			close(fd);
		}
		op_end();
		usleep(2000 + xorshift(&self->seed) % 10000);
	}
	return NULL;
}

/* ---- run -------------------------------------------------------------- */

static const struct worker worker_tmpl[] = {
	{ .name = "rw0", .fn = rw_worker, .slot = 0 },
	{ .name = "rw1", .fn = rw_worker, .slot = 1 },
	{ .name = "uffd", .fn = uffd_worker, .slot = 2 },
	{ .name = "self", .fn = self_worker, .slot = 3 },
	{ .name = "mmap", .fn = mmap_worker, .slot = 4 },
	{ .name = "mmap2", .fn = mmap_worker, .slot = 5 },
	{ .name = "toggle", .fn = toggle_worker },
	{ .name = "reset", .fn = reset_worker },
	{ .name = "poison", .fn = poison_worker },
	{ .name = "reopen", .fn = reopen_worker },
	{ .name = "main" },
};

#define NWORKERS (ARRAY_SIZE(worker_tmpl) - 1)

/*
 * The table lives in memory shared with the watchdog process: a thread stuck
 * in the kernel with mmap_lock involved blocks every page fault of its
 * process, so the watchdog cannot be a thread of it.
 */
static struct worker *workers;
#define mainw (workers[NWORKERS])

static int share_workers(void)
{
	workers = mmap(NULL, sizeof(worker_tmpl), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (workers == MAP_FAILED)
		return -1;
	memcpy(workers, worker_tmpl, sizeof(worker_tmpl));
	return 0;
}

static void dump_stack_of(pid_t pid, pid_t tid)
{
	char path[64], line[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", pid, tid);
	f = fopen(path, "r");
	if (!f) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", pid, tid);
		f = fopen(path, "r");
	}
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("#   %s", line);
	if (line[0] && line[strlen(line) - 1] != '\n')
		printf("\n");
	fclose(f);
}

/* Copy what is readable from FD to stdout; 0 at end of file. */
static int relay(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0)
		fwrite(buf, 1, n, stdout);
	fflush(stdout);
	return n > 0 || (n < 0 && errno == EINTR);
}

/*
 * The watchdog process: relays the stress process's output (OUT) and
 * returns its exit status, or 4 when a thread of it spent more than hang_s
 * in one operation. It is then killed; a task stuck in the kernel survives
 * SIGKILL, but it holds only the relay pipe, not our stdout, so whoever reads
 * our output sees it end.
 */
static int watchdog(pid_t child, int out)
{
	struct pollfd pfd = { .fd = out, .events = POLLIN };
	unsigned int i, bad;
	int status, n, open = 1;

	for (;;) {
		long t = now_us();

		if (open && poll(&pfd, 1, 200) > 0)
			open = relay(out);
		else if (!open)
			usleep(200000);
		if (waitpid(child, &status, WNOHANG) == child) {
			while (open)
				open = relay(out);
			close(out);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		bad = 0;
		for (i = 0; i <= NWORKERS; i++) {
			struct worker *w = &workers[i];
			long hb = ld(&w->hb);

			if (hb > 0 && t - hb > hang_s * 1e6) {
				tap(0, "no hang: thread %s stuck in %s for %.0f s",
				    w->name, ld(&w->op), (t - hb) / 1e6);
				dump_stack_of(child, w->tid);
				bad++;
			}
		}
		if (bad) {
			printf("# NVGRACE-METRIC stress hang=1\n");
			fflush(stdout);
			kill(child, SIGKILL);
			close(out);
			for (n = 0; n < 50; n++) {
				if (waitpid(child, &status, WNOHANG) == child)
					return 4;
				usleep(100000);
			}
			diag("the stress process %d survives SIGKILL: stuck in the kernel", child);
			return 4;
		}
	}
}

static int watched(int (*fn)(int, char **), int argc, char **argv)
{
	pid_t child;
	int p[2], n;

	if (share_workers() || pipe(p)) {
		tap(0, "shared memory and a pipe for the watchdog (%s)", strerror(errno));
		return 1;
	}
	fflush(stdout);
	child = fork();
	if (child < 0) {
		tap(0, "fork (%s)", strerror(errno));
		return 1;
	}
	if (!child) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		n = fn(argc, argv);
		fflush(stdout);
		_exit(n);
	}
	close(p[1]);
	return watchdog(child, p[0]);
}

/* Open the device, waiting while it is unbound (up to 120 s). */
static int open_wait(struct vfio_handle *hh, long *waits)
{
	double t0 = now_s();

	while (vfio_open(bdf, hh)) {
		int e = errno;

		vfio_close(hh);
		if (now_s() - t0 > 120) {
			tap(0, "open %s through VFIO within 120 s (%s: %s)", bdf,
			    vfio_open_failed, strerror(e));
			return -1;
		}
		(*waits)++;
		usleep(50000);
		if (self)
			st(&self->hb, now_us());
	}
	return 0;
}

/* Final check: the device works after everything. */
static void final_check(void)
{
	static __u64 wbuf[MAX_IO / 8], rbuf[MAX_IO / 8];
	struct vfio_handle f;
	struct mem *ms[2] = { &usemem, &resmem };
	__u64 *m, got = 0;
	long waits = 0;
	unsigned int i, k;
	int code = 0;

	memset(rbuf, 0, sizeof(rbuf));
	self = &mainw;
	op_begin("final open");
	if (open_wait(&f, &waits)) {
		op_end();
		return;
	}
	op_end();
	h = f;
	if (regs_ready(f.device))
		tap(0, "final: readiness registers written");
	for (k = 0; k < 2; k++) {
		struct mem *mm = ms[k];

		if (!mm->present)
			continue;
		fill(wbuf, sizeof(wbuf), 0xf1a1ULL + k);
		op_begin("final rw");
		tap(pwrite(f.device, wbuf, sizeof(wbuf), region_off(mm->index) + AREA) ==
		    sizeof(wbuf) &&
		    pread(f.device, rbuf, sizeof(rbuf), region_off(mm->index) + AREA) ==
		    sizeof(rbuf) &&
		    !memcmp(wbuf, rbuf, sizeof(rbuf)),
		    "final: region %u write, read back, compare", mm->index);
		op_end();
	}
	op_begin("final mmap");
	m = map_aligned(f.device, usemem.index, AREA, PMD_ALIGN);
	if (m == MAP_FAILED) {
		tap(0, "final: mmap usemem (%s)", strerror(errno));
	} else {
		for (i = 0; i < PMD_ALIGN / 8 && !code; i += psz / 8)
			code = touch(&m[i], 1, 0xabcdULL ^ i, NULL);
		for (i = 0; i < PMD_ALIGN / 8 && !code; i += psz / 8) {
			code = touch(&m[i], 0, 0, &got);
			if (!code && got != (0xabcdULL ^ i))
				code = -2;
		}
		tap(!code, "final: mmap usemem, write and read back 2 MiB (%d)", code);
		munmap(m, PMD_ALIGN);
	}
	op_end();
	vfio_close(&f);
}

static int cmd_run(int argc, char **argv)
{
	double seconds = 60, session = 10, t0, ts, el;
	long min_ops = 3000, total = 0, waits = 0, sessions = 0;
	int no_poison = 0, no_reset = 0, i;
	unsigned int k, c;
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
			min_ops = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--session") && i + 1 < argc) {
			session = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--hang") && i + 1 < argc) {
			hang_s = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--copy-faults")) {
			copy_faults = 1;
		} else if (!strcmp(argv[i], "--no-poison")) {
			no_poison = 1;
		} else if (!strcmp(argv[i], "--no-reset")) {
			no_reset = 1;
		} else {
			fprintf(stderr, "nvgrace-stress: bad option %s\n", argv[i]);
			return 2;
		}
	}
	sigaction(SIGBUS, &sa, NULL);
	/* the device may be unbound right now: wait for its sysfs */
	for (t0 = now_s(); sysfs_mem("usemem", &usemem) || !usemem.present; usleep(50000)) {
		if (now_s() - t0 > 120) {
			tap(0, "usemem in sysfs");
			return 1;
		}
	}
	sysfs_mem("resmem", &resmem);
	if (usemem.length < AREA + 8 * SLICE) {
		tap(0, "usemem of %llu bytes is large enough (%llu)",
		    usemem.length, AREA + 8 * SLICE);
		return 1;
	}
	if (resmem.present && resmem.length < AREA + 8 * SLICE)
		resmem.present = 0;

	for (k = 0; k < NWORKERS; k++) {
		struct worker *w = &workers[k];
		int fd = w->fn == uffd_worker ? uffd_open() : -1;

		w->enabled = 1;
		w->seed = 0x5eed0000ULL + k * 7919 + (__u64)time(NULL);
		if ((w->fn == self_worker || w->fn == uffd_worker) && !copy_faults) {
			w->enabled = 0;
			w->why_off = "needs --copy-faults (the user copy faults inside read/write)";
		} else if (w->fn == uffd_worker && fd < 0) {
			w->enabled = 0;
			w->why_off = "no userfaultfd in this kernel";
		} else if (w->fn == poison_worker && (no_poison || access(inject_path, W_OK))) {
			w->enabled = 0;
			w->why_off = no_poison ? "--no-poison" : "no nvgrace-poison debugfs inject";
		} else if (w->fn == reset_worker && no_reset) {
			w->enabled = 0;
			w->why_off = "--no-reset";
		}
		if (fd >= 0)
			close(fd);
	}
	self = &mainw;
	mainw.tid = gettid();
	t0 = now_s();
	for (;;) {
		op_begin("open (device unbound?)");
		if (open_wait(&h, &waits)) {
			op_end();
			break;
		}
		op_end();
		/* The unbind loop may have caught a reset: make it ready again. */
		regs_ready(h.device);
		sessions++;
		st(&stop, 0);
		for (k = 0; k < NWORKERS; k++) {
			st(&workers[k].ops, 0);
			if (workers[k].enabled)
				pthread_create(&workers[k].thread, NULL, workers[k].fn,
					       &workers[k]);
		}
		ts = now_s();
		while (now_s() - ts < session)
			usleep(100000);
		st(&stop, 1);
		op_begin("join workers");
		for (k = 0; k < NWORKERS; k++)
			if (workers[k].enabled)
				pthread_join(workers[k].thread, NULL);
		op_end();
		op_begin("close device");
		vfio_close(&h);
		op_end();
		total = 0;
		for (k = 0; k < NWORKERS; k++)
			total += ld(&workers[k].total_ops);
		el = now_s() - t0;
		if (el >= seconds && total >= min_ops)
			break;
		if (el > 3 * seconds + 120) {
			tap(0, "%ld operations within %.0f s (only %ld)", min_ops, el, total);
			break;
		}
	}
	el = now_s() - t0;

	printf("# %-7s %9s", "thread", "ops");
	for (c = 0; c < E_NCLASS; c++)
		printf(" %9s", class_name[c]);
	printf(" %10s\n", "unexpected");
	for (k = 0; k < NWORKERS; k++) {
		struct worker *w = &workers[k];

		if (!w->enabled) {
			printf("# %-7s off: %s\n", w->name, w->why_off);
			continue;
		}
		printf("# %-7s %9ld", w->name, ld(&w->total_ops));
		for (c = 0; c < E_NCLASS; c++)
			printf(" %9ld", ld(&w->cls[c]));
		printf(" %10ld\n", ld(&w->unexpected));
	}
	diag("SIGBUS action-optional (injection while mapped): %ld", ld(&sigbus_ao));
	diag("%ld sessions, %ld waits for the device to come back", sessions, waits);
	printf("# NVGRACE-METRIC stress ops=%ld seconds=%.0f sessions=%ld threads=%u",
	       total, el, sessions, (unsigned int)NWORKERS);
	printf(" copy_faults=%d\n", copy_faults);
	fflush(stdout);
	for (k = 0; k < NWORKERS; k++)
		if (workers[k].enabled)
			tap(ld(&workers[k].total_ops) > 0, "%s: did some work (%ld operations)",
			    workers[k].name, ld(&workers[k].total_ops));
	{
		long bad = 0;

		for (k = 0; k < NWORKERS; k++)
			bad += ld(&workers[k].unexpected);
		tap(!bad, "no unexpected errors or data mismatches in %ld operations (%ld)",
		    total, bad);
	}
	tap(total >= min_ops && el >= seconds,
	    "%ld operations in %.0f s (wanted >= %ld in >= %.0f s)",
	    total, el, min_ops, seconds);
	tap(!toggles_left_off, "memory enable restored after every toggle");
	final_check();
	return ld(&failures) ? 1 : 0;
}

/* ---- faults ----------------------------------------------------------- */

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

/* /proc/modules: "name size refs deps state 0xaddr": text start..start+size */
static int module_range(const char *name, unsigned long *lo, unsigned long *hi)
{
	char line[512], n[64];
	unsigned long size, addr;
	FILE *f = fopen("/proc/modules", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu %*s %*s %*s %lx", n, &size, &addr) == 3 &&
		    !strcmp(n, name)) {
			fclose(f);
			*lo = addr;
			*hi = addr + size;
			return addr ? 0 : -1;
		}
	}
	fclose(f);
	return -1;
}

static int set_filters(const char *module)
{
	static const char *const attrs[] = { "failslab", "fail_page_alloc" };
	char path[128], val[32];
	unsigned long lo, hi;
	unsigned int i;

	if (module_range(module, &lo, &hi))
		return -1;
	for (i = 0; i < 2; i++) {
		const char *a = attrs[i];

		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/require-start", a);
		snprintf(val, sizeof(val), "%#lx", lo);
		if (write_str(path, val))
			return -1;
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/require-end", a);
		snprintf(val, sizeof(val), "%#lx", hi);
		if (write_str(path, val))
			return -1;
	}
	return 0;
}

static int setup_faults(void)
{
	static const char *const cmds[][2] = {
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/stacktrace-depth", "32" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/stacktrace-depth", "32" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (write_str(cmds[i][0], cmds[i][1])) {
			diag("%s: %s", cmds[i][0], strerror(errno));
			return -1;
		}
	return 0;
}

static int nth_fd = -1;

static void arm(int n)
{
	char s[16];
	int l = snprintf(s, sizeof(s), "%d", n);

	if (pwrite(nth_fd, s, l, 0) != l) {
		tap(0, "write /proc/thread-self/fail-nth (%s)", strerror(errno));
		exit(1);
	}
}

/* Disarm; 1 if the armed failure was injected (the counter ran out). */
static int disarm(void)
{
	char s[16] = "";
	int left;

	if (pread(nth_fd, s, sizeof(s) - 1, 0) < 0)
		left = -1;
	else
		left = atoi(s);
	arm(0);
	return left == 0;
}

enum fop { F_OPEN, F_INFO, F_MMAP, F_RW, F_RESET, F_HOTRESET, F_INJECT, F_CLOSE, F_NOPS };
static const char *const fop_name[F_NOPS] = {
	"open", "region info", "mmap+touch", "read/write", "FLR", "hot reset",
	"poison inject", "close"
};

/* pread (or pwrite) LEN bytes at the start of M's AREA: 0, or -1 with errno */
static int io(int write, struct mem *m, void *buf, size_t len)
{
	ssize_t n;

	if (write)
		n = pwrite(h.device, buf, len, region_off(m->index) + AREA);
	else
		n = pread(h.device, buf, len, region_off(m->index) + AREA);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		errno = EMSGSIZE;
	return -1;
}

/* One operation under fail-nth=n; returns 1 if a failure was injected. */
static int fault_once(enum fop op, int n, int *err, int inject_fd)
{
	struct vfio_region_info *ri;
	__u64 got, buf[64];
	char s[32];
	int injected, code, ret = 0, l;
	void *m;

	*err = 0;
	/* container, group and (but for "open") the device: no injection */
	if (vfio_open(bdf, &h)) {
		tap(0, "faults: %s #%d: open %s beforehand (%s: %s)", fop_name[op], n,
		    bdf, vfio_open_failed, strerror(errno));
		vfio_close(&h);
		return -1;
	}
	if (op == F_OPEN) {
		close(h.device);
		h.device = -1;
	}
	switch (op) {
	case F_OPEN:
		arm(n);
		h.device = ioctl(h.group, VFIO_GROUP_GET_DEVICE_FD, bdf);
		ret = h.device < 0 ? -1 : 0;
		break;
	case F_INFO:
		ri = calloc(1, 4096);
		ri->argsz = 4096;
		ri->index = usemem.index;
		arm(n);
		ret = ioctl(h.device, VFIO_DEVICE_GET_REGION_INFO, ri);
		if (!ret) {
			ri->index = VFIO_PCI_BAR2_REGION_INDEX;
			ret = ioctl(h.device, VFIO_DEVICE_GET_REGION_INFO, ri);
		}
		free(ri);
		break;
	case F_MMAP:
		arm(n);
		m = map_aligned(h.device, usemem.index, AREA, 2 * PMD_ALIGN);
		if (m == MAP_FAILED) {
			ret = -1;
			break;
		}
		code = touch(m, 0, 0, &got);
		if (!code)
			code = touch((__u64 *)((char *)m + PMD_ALIGN + psz), 1, 1, NULL);
		injected = disarm();
		munmap(m, 2 * PMD_ALIGN);
		vfio_close(&h);
		*err = code;	/* a SIGBUS: a clean error too */
		return injected;
	case F_RW:
		memset(buf, 0, sizeof(buf));
		arm(n);
		ret = io(0, &usemem, buf, sizeof(buf));
		if (!ret)
			ret = io(1, &usemem, buf, sizeof(buf));
		if (!ret && resmem.present)
			ret = io(0, &resmem, buf, sizeof(buf));
		break;
	case F_RESET:
		arm(n);
		ret = ioctl(h.device, VFIO_DEVICE_RESET);
		break;
	case F_HOTRESET:
		arm(n);
		ret = hot_reset();
		break;
	case F_INJECT:
		l = snprintf(s, sizeof(s), "%#llx\n",
			     (usemem.phys + poison_off(n % POISON_PAGES)) / psz);
		arm(n);
		ret = pwrite(inject_fd, s, l, 0) == l ? 0 : -1;
		break;
	case F_CLOSE:
		arm(n);
		ret = close(h.device);
		h.device = -1;
		break;
	default:
		break;
	}
	if (ret)
		*err = errno;
	injected = disarm();
	vfio_close(&h);
	return injected;
}

/* The device still works: open, region info, read, close. Says what failed. */
static int device_works(void)
{
	__u64 buf[8];
	ssize_t n;

	if (vfio_open(bdf, &h)) {
		diag("device check: open: %s: %s", vfio_open_failed, strerror(errno));
		vfio_close(&h);
		return 0;
	}
	if (regs_ready(h.device))
		diag("device check: readiness registers: %s", strerror(errno));
	n = pread(h.device, buf, sizeof(buf), region_off(usemem.index) + AREA);
	if (n != sizeof(buf))
		diag("device check: usemem pread: %zd (%s)", n, n < 0 ? strerror(errno) : "short");
	vfio_close(&h);
	return n == sizeof(buf);
}

static int cmd_faults(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	int max = 300, i, n, err, inj, inject_fd, capped;
	double budget = 120, t0;
	unsigned int op;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--max") && i + 1 < argc) {
			max = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--budget") && i + 1 < argc) {
			budget = atof(argv[++i]);
		} else {
			fprintf(stderr, "nvgrace-stress: bad option %s\n", argv[i]);
			return 2;
		}
	}
	self = &mainw;
	sigaction(SIGBUS, &sa, NULL);
	if (sysfs_mem("usemem", &usemem) || !usemem.present) {
		tap(0, "usemem in sysfs");
		return 1;
	}
	sysfs_mem("resmem", &resmem);
	if (access("/proc/thread-self/fail-nth", W_OK) ||
	    access("/sys/kernel/debug/failslab", F_OK) ||
	    access("/sys/kernel/debug/fail_page_alloc", F_OK)) {
		printf("ok - allocation failure injection # SKIP %s\n",
		       "kernel without FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC debugfs");
		return 0;
	}
	if (setup_faults()) {
		tap(0, "faults: configure failslab and fail_page_alloc");
		return 1;
	}
	inject_fd = open(inject_path, O_WRONLY);
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth_fd < 0) {
		tap(0, "open /proc/thread-self/fail-nth (%s)", strerror(errno));
		return 1;
	}
	for (op = 0; op < F_NOPS; op++) {
		const char *module = op == F_INJECT ? "nvgrace_poison" : "nvgrace_vfio_pci";
		int errs = 0, oks = 0, broken = 0, sites = 0;
		char hist[256] = "";
		int seen[160] = { 0 };

		if (op == F_INJECT && inject_fd < 0) {
			printf("ok - faults: %s # SKIP no nvgrace-poison debugfs inject\n",
			       fop_name[op]);
			continue;
		}
		if (set_filters(module)) {
			tap(0, "faults: %s: stack filter on %s (%s)", fop_name[op], module,
			    strerror(errno));
			continue;
		}
		capped = 0;
		t0 = now_s();
		for (n = 1; n <= max; n++) {
			if (now_s() - t0 > budget) {
				capped = 1;
				break;
			}
			inj = fault_once(op, n, &err, inject_fd);
			if (inj < 0) {
				broken++;
				break;
			}
			if (!inj)
				break;
			sites++;
			if (err) {
				errs++;
				if (err > 0 && err < 160)
					seen[err]++;
			} else {
				oks++;
			}
			if (!device_works()) {
				tap(0, "faults: %s: device works after failing allocation #%d",
				    fop_name[op], n);
				broken++;
				break;
			}
		}
		for (i = 1; i < 160; i++)
			if (seen[i])
				snprintf(hist + strlen(hist), sizeof(hist) - strlen(hist),
					 " %s %d x%d,", op == F_MMAP ? "SIGBUS si_code" : "errno",
					 i, seen[i]);
		if (n > max)
			capped = 1;
		if (capped)
			diag("faults: %s: stopped after %d sites (--max %d, --budget %.0f s)",
			     fop_name[op], sites, max, budget);
		tap(!broken,
		    "faults: %s: %d allocation sites in %s failed one by one%s: %d errors,%s %d recovered; device works after each",
		    fop_name[op], sites, module, capped ? " (capped)" : "", errs, hist, oks);
		/* the records are preallocated: a report allocates nothing */
		if (op == F_INJECT && !broken)
			tap(!sites, "faults: poison inject: the report tried no allocation (%d)",
			    sites);
	}
	printf("# NVGRACE-METRIC stress-faults done\n");
	if (inject_fd >= 0)
		close(inject_fd);
	return ld(&failures) ? 1 : 0;
}

static int cmd_check(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

	(void)argc;
	(void)argv;
	sigaction(SIGBUS, &sa, NULL);
	if (sysfs_mem("usemem", &usemem) || !usemem.present) {
		tap(0, "usemem in sysfs");
		return 1;
	}
	sysfs_mem("resmem", &resmem);
	final_check();
	return ld(&failures) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	psz = sysconf(_SC_PAGESIZE);
	if (argc < 3) {
		fprintf(stderr, "usage: nvgrace-stress run|check|faults BDF [options]\n");
		return 2;
	}
	bdf = argv[2];
	for (i = 3; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--hang"))
			hang_s = atof(argv[i + 1]);
	if (!strcmp(argv[1], "run"))
		return watched(cmd_run, argc - 3, argv + 3);
	if (!strcmp(argv[1], "check"))
		return watched(cmd_check, argc - 3, argv + 3);
	if (!strcmp(argv[1], "faults")) {
		hang_s = 600;	/* one operation, but kmemleak/KASAN kernels are slow */
		return watched(cmd_faults, argc - 3, argv + 3);
	}
	fprintf(stderr, "usage: nvgrace-stress run|check|faults BDF [options]\n");
	return 2;
}
