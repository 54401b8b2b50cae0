// SPDX-License-Identifier: GPL-2.0-only
/*
 * poison-test: drive nvgrace-poison from user space against a mapped
 * device-memory range and print TAP ("ok - ", "not ok - ", "# ").
 *
 *   poison-test [options] basic     AO to early-kill mappers only (prctl
 *                                   PR_MCE_KILL early, late, and the
 *                                   vm.memory_failure_early_kill default),
 *                                   AR on touch where the module zaps, the
 *                                   page still mapped where it does not,
 *                                   AR for a new mapping, EIO on pread,
 *                                   neighbours readable, a process mapping
 *                                   another page untouched, bad injections
 *                                   refused
 *   poison-test [options] native    the same through the kernel's own
 *                                   memory_failure() (--mf FILE)
 *   poison-test [options] race N    N injections while two processes keep
 *                                   faulting the same window
 *   poison-test [options] bench N   injection -> SIGBUS latency, N samples
 *   poison-test [options] nomem     an injection while failslab and
 *                                   fail_page_alloc fail every allocation
 *                                   of the injecting task and
 *                                   nvgrace-poison's fail_victim_alloc
 *                                   every note of a process to signal
 *                                   (the worker's): recorded, one AO to
 *                                   it (early kill, it maps the page),
 *                                   zapped or left mapped as --zap says,
 *                                   EIO on pread, nothing dropped, and no
 *                                   allocation tried by the report
 *   poison-test [options] page OFF poisoned|clean
 *                                   a fresh mapping of the page at OFF: a
 *                                   poisoned page gives BUS_MCEERR_AR on
 *                                   touch and EIO on pread, a clean one
 *                                   reads (records kept across close)
 *   poison-test [options] fixup OFF  the poisoned page at OFF reached by
 *                                   kernel callers of fixup_user_fault()
 *                                   other than KVM: a private futex
 *                                   (FUTEX_WAKE_OP) and, with --vfio, VFIO
 *                                   type1 pinning (VFIO_IOMMU_MAP_DMA). Where
 *                                   the fault handler refuses the page to
 *                                   them (--zap 1) they fail with EFAULT,
 *                                   never EHWPOISON: only KVM's caller is
 *                                   told about poison (companion patch
 *                                   0006); elsewhere (--zap 0) they succeed
 *
 * Options:
 *   --dev PATH        device file to map (e.g. /dev/nvgrace-poison-test)
 *   --vfio BDF        or a VFIO device, opened through the group uAPI
 *   --cdev BDF        or a VFIO device, opened through its cdev and iommufd
 *   --off BYTES       file offset of the range
 *   --len BYTES       length of the range
 *   --pfn PFN         PFN of the range's first page
 *   --phys ADDR       or its physical address
 *   --first BYTES     use the range from this offset on (default 0)
 *   --mf FILE         memory_failure trigger (nvgrace-test-poison debugfs)
 *   --label TEXT      prefix for the TAP descriptions
 *   --zap 0|1         whether nvgrace-poison zaps poisoned pages out of
 *                     existing mappings on this kernel (default 1)
 *
 * Exit status: 0 when every check passed, 1 otherwise, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/futex.h>

#include "vfio-open.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define INJECT		"/sys/kernel/debug/nvgrace-poison/inject"
#define POISONED	"/sys/kernel/debug/nvgrace-poison/poisoned"
#define RANGES		"/sys/kernel/debug/nvgrace-poison/ranges"
#define SOURCES		"/sys/kernel/nvgrace_poison/sources"
#define MAGIC		0x504f49534f4e0000ULL	/* "POISON" */

static int failures;
static const char *label = "";
static int fd = -1;
static unsigned long foff, flen, first;
static unsigned long pfn0;
static long ps;
static int pshift;
static unsigned long blk;		/* PMD-sized block */
static const char *mf_file;
static int zap = 1;
static int container = -1;	/* --vfio: the type1 container */

/* The process's memory-failure kill policy (prctl PR_MCE_KILL). */
enum policy { POL_DEFAULT, POL_EARLY, POL_LATE };

static int set_policy(enum policy p)
{
	if (p == POL_DEFAULT)
		return 0;
	return prctl(PR_MCE_KILL, PR_MCE_KILL_SET,
		     p == POL_EARLY ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE, 0, 0);
}

/* vm.memory_failure_early_kill, -1 when unreadable. */
static int sysctl_early_kill(void)
{
	FILE *f = fopen("/proc/sys/vm/memory_failure_early_kill", "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - %s", cond ? "ok" : "not ok", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failures++;
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static unsigned long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Write TEXT to FILE; 0 or the errno. */
static int write_file(const char *file, const char *text)
{
	int f = open(file, O_WRONLY);
	int err = 0;

	if (f < 0)
		return errno;
	if (write(f, text, strlen(text)) < 0)
		err = errno;
	close(f);
	return err;
}

static int inject_via(const char *file, unsigned long pfn)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%lx\n", pfn);
	return write_file(file, buf);
}

/* Does FILE contain a line starting with TEXT? -1 when unreadable. */
static int file_has_line(const char *file, const char *text)
{
	char line[256];
	FILE *f = fopen(file, "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, text, strlen(text)))
			found = 1;
	fclose(f);
	return found;
}

static int count_lines(const char *file)
{
	char line[256];
	FILE *f = fopen(file, "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

/* The last PFN of the highest registered range (debugfs "ranges"). */
static unsigned long last_range_pfn(void)
{
	unsigned long first, last, max = 0;
	char line[256];
	FILE *f = fopen(RANGES, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &first, &last) == 2 && last > max)
			max = last;
	fclose(f);
	return max;
}

/* Is WORD one of the words of the active-sources line? */
static int sources_have(const char *word)
{
	char line[256], *tok, *save;
	FILE *f = fopen(SOURCES, "r");
	int found = 0;

	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f))
		for (tok = strtok_r(line, "\n ", &save); tok;
		     tok = strtok_r(NULL, "\n ", &save))
			found |= !strcmp(tok, word);
	fclose(f);
	return found;
}

/* ---- signals ---- */

struct sigrec {
	int n_ao, n_ar, n_other;
	int ao_code, ao_lsb, ar_code, ar_lsb;
	unsigned long ao_addr, ar_addr;
	unsigned long ao_ns;
};

static struct sigrec rec;
static sigjmp_buf jb;
static int jb_armed;
static int sig_pipe = -1;	/* bench: the handler reports here */

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == BUS_MCEERR_AO) {
		rec.n_ao++;
		rec.ao_code = si->si_code;
		rec.ao_addr = (unsigned long)si->si_addr;
		rec.ao_lsb = si->si_addr_lsb;
		rec.ao_ns = now_ns();
		if (sig_pipe >= 0) {
			unsigned long m[2] = { rec.ao_ns, (unsigned long)si->si_addr };
			ssize_t r = write(sig_pipe, m, sizeof(m));

			(void)r;
		}
		return;
	}
	if (si->si_code == BUS_MCEERR_AR) {
		rec.n_ar++;
		rec.ar_code = si->si_code;
		rec.ar_addr = (unsigned long)si->si_addr;
		rec.ar_lsb = si->si_addr_lsb;
	} else {
		rec.n_other++;
	}
	if (__atomic_load_n(&jb_armed, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&jb_armed, 0, __ATOMIC_SEQ_CST);
		siglongjmp(jb, 1);
	}
	/* A synchronous SIGBUS nobody expected: die with it. */
	signal(SIGBUS, SIG_DFL);
}

static void catch_sigbus(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* Read the u64 at P; 0 and *val, or 1 when it faulted with SIGBUS. */
static int touch(const void *p, unsigned long *val)
{
	if (sigsetjmp(jb, 1))
		return 1;
	__atomic_store_n(&jb_armed, 1, __ATOMIC_SEQ_CST);
	*val = __atomic_load_n((const unsigned long *)p, __ATOMIC_RELAXED);
	__atomic_store_n(&jb_armed, 0, __ATOMIC_SEQ_CST);
	return 0;
}

/* Store to device memory; the compiler must not elide or merge it. */
static void put(void *p, unsigned long v)
{
	__atomic_store_n((unsigned long *)p, v, __ATOMIC_RELAXED);
}

/* ---- the mapping ---- */

/*
 * Map LEN bytes at file offset OFF (relative to the range) at an address
 * aligned to the block size, so huge mappings are possible.
 */
static unsigned char *map_at(unsigned long off, unsigned long len)
{
	unsigned char *res, *va, *want;

	res = mmap(NULL, len + blk, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	want = (unsigned char *)(((unsigned long)res + blk - 1) & ~(unsigned long)(blk - 1));
	va = mmap(want, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		  fd, foff + off);
	if (va == MAP_FAILED) {
		munmap(res, len + blk);
		return NULL;
	}
	if (want > res)
		munmap(res, want - res);
	if (want + len < res + len + blk)
		munmap(want + len, res + len + blk - (want + len));
	return va;
}

static unsigned long pattern(unsigned long off)
{
	return MAGIC ^ off;
}

static unsigned long pfn_of(unsigned long off)
{
	return pfn0 + (off >> pshift);
}

/* ---- basic and native ---- */

struct result {
	struct sigrec s;
	int touched_ar;		/* touching the poisoned page faulted */
	int still_reads;	/* or it read its old pattern (not zapped) */
	int neigh_ok, neigh_n;	/* neighbours readable with their pattern */
};

static int ctl_wait(int rfd)
{
	char c;

	for (;;) {
		ssize_t r = read(rfd, &c, 1);

		if (r == 1)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

/*
 * A mapping child: touch page POFF in the window at VA (so it is mapped),
 * say ready, wait for "go", then report what it received and, if TOUCH,
 * touch the poisoned page again and read the NEIGH neighbours.
 */
static void child_mapper(unsigned char *va, unsigned long poff, int touch_again,
			 const unsigned long *neigh, int nneigh, unsigned long woff,
			 enum policy pol, int ready_w, int go_r, int res_w)
{
	struct result r = { 0 };
	unsigned long v;
	int i;

	catch_sigbus();
	if (set_policy(pol))
		_exit(9);
	if (touch((va + poff), &v))
		_exit(3);
	if (write(ready_w, "r", 1) != 1 || ctl_wait(go_r))
		_exit(4);
	if (touch_again) {
		r.touched_ar = touch((va + poff), &v);
		r.still_reads = !r.touched_ar && v == pattern(woff + poff);
		for (i = 0; i < nneigh; i++) {
			r.neigh_n++;
			if (!touch((va + neigh[i]), &v) &&
			    v == pattern(woff + neigh[i]))
				r.neigh_ok++;
		}
	}
	memcpy(&r.s, &rec, sizeof(r.s));
	if (write(res_w, &r, sizeof(r)) != sizeof(r))
		_exit(5);
	_exit(0);
}

struct kid {
	pid_t pid;
	int ready_r, go_w, res_r;
};

static int spawn(struct kid *k, unsigned char *va, unsigned long poff, int touch_again,
		 const unsigned long *neigh, int nneigh, unsigned long woff,
		 unsigned long other_off, enum policy pol)
{
	int ready[2], go[2], res[2];

	if (pipe(ready) || pipe(go) || pipe(res))
		return -1;
	k->pid = fork();
	if (k->pid < 0)
		return -1;
	if (!k->pid) {
		close(ready[0]);
		close(go[1]);
		close(res[0]);
		if (other_off != ULONG_MAX) {
			/* Map only one other page of the range. */
			unsigned char *o;

			munmap(va, 2 * blk);
			o = map_at(other_off, ps);
			if (!o)
				_exit(6);
			va = o;
			poff = 0;
			touch_again = 0;
		}
		child_mapper(va, poff, touch_again, neigh, nneigh, woff, pol,
			     ready[1], go[0], res[1]);
	}
	close(ready[1]);
	close(go[0]);
	close(res[1]);
	k->ready_r = ready[0];
	k->go_w = go[1];
	k->res_r = res[0];
	return 0;
}

static int collect(struct kid *k, struct result *r)
{
	int st, ok_read;

	if (write(k->go_w, "g", 1) != 1)
		return -1;
	ok_read = read(k->res_r, r, sizeof(*r)) == sizeof(*r);
	waitpid(k->pid, &st, 0);
	close(k->ready_r);
	close(k->go_w);
	close(k->res_r);
	if (!ok_read)
		diag("child %d: no result, status 0x%x", k->pid, st);
	return ok_read ? 0 : -1;
}

static int cmd_basic(int native)
{
	unsigned long woff = first + blk;	/* window: two blocks */
	unsigned long poff = blk + 3 * ps;	/* poisoned page: block 2 of the window */
	unsigned long neigh[] = { poff - ps, poff + ps, blk, 2 * blk - ps, 0 };
	/*
	 * Another page, in the block after the window. Not block-aligned:
	 * with 16 KiB pages (32 MiB blocks) woff + 3 * blk was 128 MiB into
	 * usemem, where 40-regions leaves a pattern the host checks after
	 * the run, and this test's own pattern overwrote it.
	 */
	unsigned long other = woff + 2 * blk + 3 * ps;
	unsigned long pfn = pfn_of(woff + poff);
	struct result ra, rb, rc, rd;
	struct kid a, b, c, d;
	int early = sysctl_early_kill();
	unsigned char *va;
	char exp[64];
	int err, before, has_native, i;
	unsigned long v, t0, t1;
	ssize_t n;

	if (woff + 4 * blk > flen) {
		/* 64K pages: 512 MiB blocks, more than the stand-in has */
		printf("ok - %shuge-block tests # SKIP %lu bytes, fewer than 5 blocks of %lu\n",
		       label, flen, blk);
		return 0;
	}
	va = map_at(woff, 2 * blk);
	ok(!!va, "map two %lu KiB blocks at an aligned address",
	   blk >> 10);
	if (!va)
		return 1;
	for (i = 0; i < (int)ARRAY_SIZE(neigh); i++)
		put(va + neigh[i], pattern(woff + neigh[i]));
	put(va + poff, pattern(woff + poff));
	{
		unsigned char *o = map_at(other, ps);

		if (o) {
			put(o, pattern(other));
			munmap(o, ps);
		}
	}

	has_native = sources_have("native");
	if (native && !mf_file) {
		ok(0, "native: --mf given");
		return 1;
	}
	if (native && sources_have("native-partial")) {
		printf("ok - %snative path # SKIP no memory_failure_event tracepoint\n",
		       label);
		munmap(va, 2 * blk);
		return 0;
	}

	/* A early kill, B late kill, D the system default; C another page. */
	spawn(&a, va, poff, 1, neigh, 5, woff, ULONG_MAX, POL_EARLY);
	spawn(&b, va, poff, 1, NULL, 0, woff, ULONG_MAX, POL_LATE);
	spawn(&d, va, poff, 0, NULL, 0, woff, ULONG_MAX, POL_DEFAULT);
	spawn(&c, va, poff, 0, NULL, 0, woff, other, POL_EARLY);
	/* The injector does not map the page. */
	munmap(va, 2 * blk);
	ok(!ctl_wait(a.ready_r) && !ctl_wait(b.ready_r) &&
	   !ctl_wait(c.ready_r) && !ctl_wait(d.ready_r),
	   "four processes mapped their pages");

	before = count_lines(POISONED);
	t0 = now_ns();
	err = inject_via(native ? mf_file : INJECT, pfn);
	t1 = now_ns();
	if (native && !has_native) {
		ok(err == ENXIO,
		   "memory_failure(pfn %#lx) without the native path fails with ENXIO (got %s)",
		   pfn, strerror(err));
		ok(count_lines(POISONED) == before,
		   "memory_failure without the native path records nothing");
		collect(&a, &ra);
		collect(&b, &rb);
		collect(&c, &rc);
		collect(&d, &rd);
		ok(ra.s.n_ao + ra.s.n_ar + rb.s.n_ao + rc.s.n_ao + rd.s.n_ao == 0,
		   "nobody signalled without the native path");
		return 0;
	}
	ok(!err, "%s pfn %#lx (%.1f us)", native ?
	   "memory_failure(MF_SW_SIMULATED) on" : "inject", pfn,
	   (t1 - t0) / 1000.0);
	if (err)
		diag("write: %s", strerror(err));

	collect(&a, &ra);
	collect(&b, &rb);
	collect(&c, &rc);
	collect(&d, &rd);

	ok(ra.s.n_ao == 1 && ra.s.ao_addr == (unsigned long)va + poff &&
	   ra.s.ao_lsb == pshift,
	   "mapper A (PR_MCE_KILL_EARLY): one SIGBUS BUS_MCEERR_AO at the page (n=%d addr=%#lx want %#lx lsb=%d)",
	   ra.s.n_ao, (unsigned long)ra.s.ao_addr,
	   (unsigned long)(unsigned long)(va + poff), ra.s.ao_lsb);
	ok(rb.s.n_ao == 0,
	   "mapper B (PR_MCE_KILL_LATE): no BUS_MCEERR_AO (n=%d)", rb.s.n_ao);
	if (early < 0)
		ok(0, "vm.memory_failure_early_kill readable");
	else
		ok(rd.s.n_ao == early,
		   "mapper D (no prctl): %s with vm.memory_failure_early_kill=%d (n=%d)",
		   early ? "BUS_MCEERR_AO" : "no BUS_MCEERR_AO", early,
		   rd.s.n_ao);
	if (zap) {
		ok(ra.touched_ar && ra.s.n_ar == 1 &&
		   ra.s.ar_addr == (unsigned long)va + poff &&
		   ra.s.ar_lsb == pshift,
		   "mapper A: the page was zapped, touching it again gives BUS_MCEERR_AR at its address (faulted=%d n=%d addr=%#lx lsb=%d)",
		   ra.touched_ar, ra.s.n_ar, (unsigned long)ra.s.ar_addr,
		   ra.s.ar_lsb);
		ok(rb.touched_ar && rb.s.n_ar == 1 &&
		   rb.s.ar_addr == (unsigned long)va + poff,
		   "mapper B (late kill): BUS_MCEERR_AR when it touches the page (faulted=%d n=%d)",
		   rb.touched_ar, rb.s.n_ar);
	} else {
		ok(!ra.touched_ar && ra.still_reads && !ra.s.n_ar,
		   "mapper A: the page stays mapped (not zapped on this kernel): touching it reads it (faulted=%d n_ar=%d)",
		   ra.touched_ar, ra.s.n_ar);
		ok(!rb.touched_ar && rb.still_reads && !rb.s.n_ar,
		   "mapper B: the page stays mapped for the late-kill process too (faulted=%d n_ar=%d)",
		   rb.touched_ar, rb.s.n_ar);
	}
	ok(ra.neigh_n == 5 && ra.neigh_ok == 5,
	   "mapper A: neighbours (same huge block and the other) read their pattern (%d/%d)",
	   ra.neigh_ok, ra.neigh_n);
	ok(rc.s.n_ao + rc.s.n_ar + rc.s.n_other == 0,
	   "a process mapping another page is not signalled");

	/* A new mapping: a user-mode touch is refused on every kernel. */
	catch_sigbus();
	memset(&rec, 0, sizeof(rec));
	va = map_at(woff, 2 * blk);
	if (!va) {
		ok(0, "map the window again");
	} else {
		int f = touch(va + poff, &v);

		ok(f && rec.n_ar == 1 && rec.ar_addr == (unsigned long)va + poff,
		   "a new mapping of the page: touching it gives BUS_MCEERR_AR (faulted=%d n=%d)",
		   f, rec.n_ar);
		ok(!touch(va + poff + ps, &v) && v == pattern(woff + poff + ps),
		   "a new mapping: the next page reads its pattern");
		munmap(va, 2 * blk);
	}
	signal(SIGBUS, SIG_DFL);

	n = pread(fd, &v, sizeof(v), foff + woff + poff);
	ok(n < 0 && errno == EIO, "pread over the poisoned page fails with EIO (%zd, %s)",
	   n, n < 0 ? strerror(errno) : "no error");
	n = pread(fd, &v, sizeof(v), foff + woff + poff + ps);
	ok(n == sizeof(v) && v == pattern(woff + poff + ps),
	   "pread of the next page reads its pattern");

	snprintf(exp, sizeof(exp), "0x%lx %s", pfn, native ? "native" : "inject");
	ok(file_has_line(POISONED, exp) == 1, "debugfs poisoned lists '%s'", exp);

	if (native)
		return 0;

	err = inject_via(INJECT, pfn);
	ok(err == EHWPOISON, "injecting it again fails with EHWPOISON (%s)",
	   strerror(err));
	before = count_lines(POISONED);
	err = inject_via(INJECT, 1);
	ok(err == ENXIO, "injecting pfn 0x1 (no range) fails with ENXIO (%s)",
	   strerror(err));
	err = inject_via(INJECT, last_range_pfn() + 1);
	ok(err == ENXIO, "injecting the pfn after the last range fails with ENXIO (%s)",
	   strerror(err));
	err = write_file(INJECT, "zap\n");
	ok(err == EINVAL, "injecting 'zap' fails with EINVAL (%s)", strerror(err));
	ok(count_lines(POISONED) == before,
	   "refused injections record nothing (%d poisoned)", before);
	return 0;
}

/* ---- race ---- */

static int cmd_race(int n)
{
	unsigned long woff = first + 5 * blk, wlen = 2 * blk;
	unsigned long npages = wlen / ps, i;
	unsigned long *inj = calloc(n, sizeof(*inj));
	int *stop;
	unsigned char *va;
	pid_t kids[2];
	int k, st, bad = 0, res[2];

	if (!inj)
		return 1;
	if (woff + wlen > flen || n > (int)npages / 4) {
		printf("ok - %srace # SKIP %lu bytes, no room for %d injections (blocks of %lu)\n",
		       label, flen, n, blk);
		free(inj);
		return 0;
	}
	stop = mmap(NULL, ps, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	va = map_at(woff, wlen);
	if (!va || stop == MAP_FAILED) {
		ok(0, "map the window");
		return 1;
	}
	for (i = 0; i < npages; i++)
		put(va + i * ps, pattern(woff + i * ps));
	for (k = 0; k < n; k++)
		inj[k] = (unsigned long)(k * 4 + 1) * (npages / (4 * n)) % npages;
	munmap(va, wlen);
	__atomic_store_n(stop, 0, __ATOMIC_RELAXED);
	if (pipe(res))
		return 1;

	for (k = 0; k < 2; k++) {
		kids[k] = fork();
		if (!kids[k]) {
			unsigned long v, loops = 0;
			int errors = 0, j;

			catch_sigbus();
			while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
				unsigned char *m = map_at(woff, wlen);

				if (!m)
					_exit(7);
				for (i = 0; i < npages &&
				     !__atomic_load_n(stop, __ATOMIC_RELAXED); i++)
					touch((m + i * ps), &v);
				munmap(m, wlen);
				loops++;
			}
			/* Verify: injected pages fault, the others read. */
			va = map_at(woff, wlen);
			for (i = 0; va && i < npages; i++) {
				int poisoned = 0, f;

				for (j = 0; j < n; j++)
					poisoned |= inj[j] == i;
				f = touch((va + i * ps), &v);
				if (poisoned ? !f || rec.ar_addr !=
					       (unsigned long)(va + i * ps) :
					       f || v != pattern(woff + i * ps))
					errors++;
			}
			{
				unsigned long m[2] = { errors, loops };

				if (write(res[1], m, sizeof(m)) != sizeof(m))
					_exit(8);
			}
			_exit(0);
		}
	}
	usleep(20000);
	for (k = 0; k < n; k++) {
		int err = inject_via(INJECT, pfn_of(woff + inj[k] * ps));

		if (err) {
			bad++;
			diag("inject %d: %s", k, strerror(err));
		}
		usleep(1000);
	}
	__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
	ok(!bad, "%d injections into a window two processes keep faulting",
	   n);
	for (k = 0; k < 2; k++) {
		unsigned long m[2] = { 1, 0 };

		if (read(res[0], m, sizeof(m)) != sizeof(m))
			m[0] = 1;
		waitpid(kids[k], &st, 0);
		ok(m[0] == 0 && WIFEXITED(st) && !WEXITSTATUS(st),
		   "faulting process %d: every injected page refused with AR, every other page intact (%lu errors, %lu passes)",
		   k + 1, m[0], m[1]);
	}
	return 0;
}

/* ---- bench ---- */

static int cmp_u64(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static int cmd_bench(int n)
{
	unsigned long woff = first + 8 * blk, wlen = 2 * blk;
	unsigned long npages = wlen / ps;
	unsigned long *lat = calloc(n, sizeof(*lat));
	int sp[2], go[2], k, st, got = 0;
	pid_t kid;

	if (!lat)
		return 1;
	if (woff + wlen > flen || n > (int)npages) {
		printf("ok - %sbench # SKIP %lu bytes, no room for %d samples (blocks of %lu)\n",
		       label, flen, n, blk);
		free(lat);
		return 0;
	}
	if (pipe(sp) || pipe(go))
		return 1;
	kid = fork();
	if (!kid) {
		unsigned char *m = map_at(woff, wlen);
		unsigned long v;
		unsigned long i;

		close(sp[0]);
		sig_pipe = sp[1];
		catch_sigbus();
		/* The AO signal is what is timed: ask for early kill. */
		if (!m || set_policy(POL_EARLY))
			_exit(7);
		for (i = 0; i < npages; i++)
			touch((m + i * ps), &v);
		{
			unsigned long r[2] = { 0, (unsigned long)m };

			if (write(sp[1], r, sizeof(r)) != sizeof(r))
				_exit(8);
		}
		ctl_wait(go[0]);
		_exit(0);
	}
	close(sp[1]);
	{
		unsigned long r[2];

		if (read(sp[0], r, sizeof(r)) != sizeof(r)) {
			ok(0, "bench: mapper ready");
			return 1;
		}
	}
	for (k = 0; k < n; k++) {
		unsigned long t0 = now_ns(), r[2];
		int err = inject_via(INJECT, pfn_of(woff + (unsigned long)k * ps));

		if (err) {
			diag("inject: %s", strerror(err));
			break;
		}
		if (read(sp[0], r, sizeof(r)) != sizeof(r))
			break;
		lat[got++] = r[0] - t0;
	}
	if (write(go[1], "g", 1) != 1)
		diag("go: %s", strerror(errno));
	waitpid(kid, &st, 0);
	ok(got == n, "bench: %d of %d injections signalled", got, n);
	if (!got)
		return 1;
	qsort(lat, got, sizeof(*lat), cmp_u64);
	printf("BENCH samples=%d min_us=%.1f median_us=%.1f p90_us=%.1f max_us=%.1f\n",
	       got, lat[0] / 1000.0, lat[got / 2] / 1000.0,
	       lat[got * 9 / 10] / 1000.0, lat[got - 1] / 1000.0);
	return 0;
}

/* ---- nomem ---- */

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAILPAGE	"/sys/kernel/debug/fail_page_alloc"
/* nvgrace-poison's own fault point: the handler's note of a process to signal */
#define FAILVICT	"/sys/kernel/debug/nvgrace-poison/fail_victim_alloc"

/* One fault-injection attribute: its value for the test, the old one. */
struct fattr {
	const char *dir, *name, *val;
	int optional;		/* only with FAULT_INJECTION_STACKTRACE_FILTER */
	char old[40];
	int saved;
};

#define FA(d, n, v)	{ .dir = (d), .name = (n), .val = (v) }
#define FA_OPT(d, n, v)	{ .dir = (d), .name = (n), .val = (v), .optional = 1 }

static struct fattr fattrs[] = {
	FA(FAILSLAB, "interval", "1"),
	FA(FAILSLAB, "times", "1000000"),
	FA(FAILSLAB, "space", "0"),
	FA(FAILSLAB, "verbose", "0"),
	FA(FAILSLAB, "task-filter", "Y"),
	FA(FAILSLAB, "ignore-gfp-wait", "N"),
	FA(FAILSLAB, "cache-filter", "N"),
	FA_OPT(FAILSLAB, "require-start", "0"),
	FA_OPT(FAILSLAB, "require-end", "0xffffffffffffffff"),
	FA_OPT(FAILSLAB, "reject-start", "0"),
	FA_OPT(FAILSLAB, "reject-end", "0"),
	FA(FAILPAGE, "interval", "1"),
	FA(FAILPAGE, "times", "1000000"),
	FA(FAILPAGE, "space", "0"),
	FA(FAILPAGE, "verbose", "0"),
	FA(FAILPAGE, "task-filter", "Y"),
	FA(FAILPAGE, "ignore-gfp-wait", "N"),
	FA(FAILPAGE, "ignore-gfp-highmem", "N"),
	FA(FAILPAGE, "min-order", "0"),
	FA_OPT(FAILPAGE, "require-start", "0"),
	FA_OPT(FAILPAGE, "require-end", "0xffffffffffffffff"),
	FA_OPT(FAILPAGE, "reject-start", "0"),
	FA_OPT(FAILPAGE, "reject-end", "0"),
	/* every task: the handler runs in its range's worker */
	FA(FAILVICT, "interval", "1"),
	FA(FAILVICT, "times", "1000000"),
	FA(FAILVICT, "space", "0"),
	FA(FAILVICT, "verbose", "1"),
	FA(FAILVICT, "task-filter", "N"),
	FA(FAILVICT, "probability", "100"),
	/* last: until the task filter is on, every task would be hit */
	FA(FAILSLAB, "probability", "100"),
	FA(FAILPAGE, "probability", "100"),
};

static int read_text(const char *file, char *buf, size_t len)
{
	int f = open(file, O_RDONLY);
	ssize_t n;

	if (f < 0)
		return -1;
	n = read(f, buf, len - 1);
	close(f);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * Set the attributes in order (restore 0) or put the old values back in
 * reverse order (restore 1); 0 or an errno.
 */
static int fattrs_apply(int restore)
{
	unsigned int i, n = ARRAY_SIZE(fattrs);
	char path[128];
	int err;

	for (i = 0; i < n; i++) {
		struct fattr *a = &fattrs[restore ? n - 1 - i : i];

		snprintf(path, sizeof(path), "%s/%s", a->dir, a->name);
		if (restore) {
			if (a->saved && write_file(path, a->old))
				diag("restore %s=%s failed", path, a->old);
			continue;
		}
		if (read_text(path, a->old, sizeof(a->old))) {
			if (a->optional && errno == ENOENT)
				continue;
			diag("read %s: %s", path, strerror(errno));
			return errno;
		}
		a->saved = 1;
		err = write_file(path, a->val);
		if (err) {
			diag("write %s=%s: %s", path, a->val, strerror(err));
			return err;
		}
	}
	return 0;
}

/* Failures left to inject (failslab + fail_page_alloc "times"), -1 unreadable. */
static long fail_budget(void)
{
	char a[40], b[40];

	if (read_text(FAILSLAB "/times", a, sizeof(a)) ||
	    read_text(FAILPAGE "/times", b, sizeof(b)))
		return -1;
	return atol(a) + atol(b);
}

/* Failures left to inject at nvgrace-poison's fault point, -1 unreadable. */
static long vict_budget(void)
{
	char a[40];

	if (read_text(FAILVICT "/times", a, sizeof(a)))
		return -1;
	return atol(a);
}

/* The SIGBUS handler's stack while armed: locked in, nothing to fault. */
static char altstack[256 << 10];

/*
 * An injection while failslab and fail_page_alloc fail every allocation of
 * the injecting task (task-filter, make-it-fail): a report must not
 * allocate, so it must be recorded, signalled and zapped (or left mapped)
 * as without the failures, and nothing may be dropped.
 */
static int cmd_nomem(void)
{
	unsigned long woff = first + 8 * blk, poff = 5 * ps, v;
	unsigned long pfn = pfn_of(woff + poff);
	long b0, b1, b2, v1, v2, dropped0 = -1, dropped1 = -1;
	char s[32], exp[64], d[32];
	int inj, mif, ctl, ctl_err, err, n, l, f;
	unsigned char *va;
	ssize_t r;

	if (woff + blk > flen) {
		printf("ok - %sinject without memory # SKIP %lu bytes < 9 blocks of %lu\n",
		       label, flen, blk);
		return 0;
	}
	if (access("/proc/thread-self/make-it-fail", W_OK) ||
	    access(FAILSLAB "/task-filter", W_OK) ||
	    access(FAILPAGE "/task-filter", W_OK)) {
		printf("ok - %sinject without memory # SKIP %s\n", label,
		       "no failslab and fail_page_alloc debugfs in this kernel");
		return 0;
	}
	va = map_at(woff, blk);
	ok(!!va, "map a %lu KiB block", blk >> 10);
	if (!va)
		return 1;
	put(va + poff, pattern(woff + poff));
	put(va + poff + ps, pattern(woff + poff + ps));
	ok(!touch(va + poff, &v) && v == pattern(woff + poff),
	   "the page is mapped and reads its pattern");
	/* This process maps the page and asks for early kill: AO expected. */
	ok(!set_policy(POL_EARLY), "prctl(PR_MCE_KILL, early)");
	{
		stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
		struct sigaction sa = { .sa_sigaction = on_sigbus,
					.sa_flags = SA_SIGINFO | SA_ONSTACK };

		sigemptyset(&sa.sa_mask);
		if (sigaltstack(&ss, NULL) || sigaction(SIGBUS, &sa, NULL))
			diag("sigaltstack: %s", strerror(errno));
	}
	memset(&rec, 0, sizeof(rec));
	if (!read_text("/sys/kernel/nvgrace_poison/dropped", d, sizeof(d)))
		dropped0 = atol(d);

	inj = open(INJECT, O_WRONLY);
	mif = open("/proc/thread-self/make-it-fail", O_WRONLY);
	l = snprintf(s, sizeof(s), "0x%lx\n", pfn);
	if (inj < 0 || mif < 0) {
		ok(0, "open %s and make-it-fail (%s)", INJECT, strerror(errno));
		return 1;
	}
	err = fattrs_apply(0);
	ok(!err, "armed: the flagged task's allocations and the handler's notes fail");
	if (err) {
		fattrs_apply(1);
		return 1;
	}
	/* Nothing of ours may need a new page while armed. */
	if (mlockall(MCL_CURRENT))
		diag("mlockall: %s", strerror(errno));

	/* A control: an open() in the armed task must fail. */
	b0 = fail_budget();
	n = pwrite(mif, "1", 1, 0);
	ctl = open("/dev/null", O_RDONLY);
	ctl_err = errno;
	n += pwrite(mif, "0", 1, 0);
	if (ctl >= 0)
		close(ctl);
	b1 = fail_budget();
	/* The injection, armed. */
	v1 = vict_budget();
	n += pwrite(mif, "1", 1, 0);
	r = pwrite(inj, s, l, 0);
	err = r == l ? 0 : errno;
	n += pwrite(mif, "0", 1, 0);
	b2 = fail_budget();
	v2 = vict_budget();
	munlockall();
	fattrs_apply(1);
	close(mif);

	ok(n == 4, "make-it-fail set and cleared around each step");
	ok(ctl < 0 && ctl_err == ENOMEM && b1 < b0,
	   "armed: open(/dev/null) fails with ENOMEM (%s), %ld allocations failed",
	   ctl < 0 ? strerror(ctl_err) : "it opened", b0 - b1);
	ok(!err, "inject pfn %#lx with every allocation failing: success (%s)",
	   pfn, err ? strerror(err) : "ok");
	ok(b2 == b1 && b1 >= 0,
	   "the report allocated nothing in the injecting task (%ld allocations failed during it)",
	   b1 - b2);
	ok(v1 >= 0 && v1 - v2 == 1,
	   "the handler's note of the one mapping process failed to allocate (fail_victim_alloc: %ld failure(s))",
	   v1 - v2);
	snprintf(exp, sizeof(exp), "0x%lx inject", pfn);
	ok(file_has_line(POISONED, exp) == 1, "the page is recorded: debugfs poisoned lists '%s'",
	   exp);
	ok(rec.n_ao == 1 && rec.ao_addr == (unsigned long)va + poff && rec.ao_lsb == pshift,
	   "the injecting process (early kill, maps the page) got one BUS_MCEERR_AO at the page (n=%d addr=%#lx)",
	   rec.n_ao, rec.ao_addr);
	f = touch(va + poff, &v);
	if (zap)
		ok(f && rec.n_ar == 1 && rec.ar_addr == (unsigned long)va + poff,
		   "zapped: touching the page gives BUS_MCEERR_AR (faulted=%d n=%d)", f, rec.n_ar);
	else
		ok(!f && v == pattern(woff + poff) && !rec.n_ar,
		   "left mapped (zap policy): touching the page reads it (faulted=%d)", f);
	ok(!touch(va + poff + ps, &v) && v == pattern(woff + poff + ps),
	   "the next page reads its pattern");
	munmap(va, blk);
	r = pread(fd, &v, sizeof(v), foff + woff + poff);
	ok(r < 0 && errno == EIO, "pread of the page fails with EIO (%zd, %s)", r,
	   r < 0 ? strerror(errno) : "data");
	if (!read_text("/sys/kernel/nvgrace_poison/dropped", d, sizeof(d)))
		dropped1 = atol(d);
	ok(dropped0 >= 0 && dropped1 == dropped0, "no report dropped (dropped %ld -> %ld)",
	   dropped0, dropped1);
	err = write_file(INJECT, s);
	ok(err == EHWPOISON, "injecting it again: EHWPOISON, the record is there (%s)",
	   strerror(err));
	close(inj);
	signal(SIGBUS, SIG_DFL);
	return 0;
}

/* ---- page ---- */

/*
 * Map the huge-aligned block holding page @off of the range, with SIGBUS
 * caught; NULL (after a failed check) when @off is outside or mmap fails.
 */
static unsigned char *map_page_block(unsigned long off)
{
	unsigned char *va;

	if (off + ps > flen) {
		ok(0, "page offset %#lx inside the range", off);
		return NULL;
	}
	catch_sigbus();
	va = map_at(off & ~(blk - 1), blk);
	if (!va)
		ok(0, "map the block of page %#lx", off);
	return va;
}

static int cmd_page(unsigned long off, int poisoned)
{
	unsigned char *va;
	unsigned long v;
	ssize_t n;
	int f;

	va = map_page_block(off);
	if (!va)
		return 1;
	f = touch(va + (off & (blk - 1)), &v);
	if (poisoned)
		ok(f && rec.n_ar == 1,
		   "page %#lx (pfn %#lx), fresh mapping: touching it gives BUS_MCEERR_AR (faulted=%d n=%d)",
		   off, pfn_of(off), f, rec.n_ar);
	else
		ok(!f && !rec.n_ar,
		   "page %#lx (pfn %#lx), fresh mapping: it reads (faulted=%d)",
		   off, pfn_of(off), f);
	munmap(va, blk);
	n = pread(fd, &v, sizeof(v), foff + off);
	if (poisoned)
		ok(n < 0 && errno == EIO,
		   "page %#lx: pread fails with EIO (%zd, %s)", off, n,
		   n < 0 ? strerror(errno) : "no error");
	else
		ok(n == sizeof(v), "page %#lx: pread reads it (%zd)", off, n);
	return 0;
}

/* ---- fixup ---- */

/*
 * FUTEX_WAKE_OP on a private futex adds 0 to *@uaddr2: the kernel's atomic
 * op faults with page faults disabled, then fault_in_user_writeable() calls
 * fixup_user_fault() and the syscall returns its error.
 */
static long futex_add0(unsigned int *uaddr2)
{
	static unsigned int word1;

	return syscall(SYS_futex, &word1, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG,
		       0, (void *)0, uaddr2,
		       FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0));
}

static int cmd_fixup(unsigned long off)
{
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	unsigned char *va, *page;
	long r;
	int e;

	va = map_page_block(off);
	if (!va)
		return 1;
	page = va + (off & (blk - 1));

	errno = 0;
	r = futex_add0((unsigned int *)page);
	e = errno;
	if (zap)
		ok(r < 0 && e == EFAULT,
		   "page %#lx: futex (fixup_user_fault(), not KVM) fails with EFAULT, not EHWPOISON (%ld, %s)",
		   off, r, r < 0 ? strerror(e) : "no error");
	else
		ok(r >= 0,
		   "page %#lx: futex (fixup_user_fault(), not KVM) is served, the page is left to the hardware (%ld, %s)",
		   off, r, r < 0 ? strerror(e) : "no error");

	if (container >= 0) {
		map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
		map.vaddr = (unsigned long)page;
		map.iova = 1ULL << 32;
		map.size = ps;
		errno = 0;
		r = ioctl(container, VFIO_IOMMU_MAP_DMA, &map);
		e = errno;
		if (zap)
			ok(r < 0 && e == EFAULT,
			   "page %#lx: VFIO type1 pinning (VFIO_IOMMU_MAP_DMA) fails with EFAULT, not EHWPOISON (%ld, %s)",
			   off, r, r < 0 ? strerror(e) : "no error");
		else
			ok(r == 0,
			   "page %#lx: VFIO type1 pinning (VFIO_IOMMU_MAP_DMA) maps it (%ld, %s)",
			   off, r, r < 0 ? strerror(e) : "no error");
		if (r == 0) {
			unmap.iova = map.iova;
			unmap.size = map.size;
			if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
				diag("VFIO_IOMMU_UNMAP_DMA: %s", strerror(errno));
		}
	}
	if (rec.n_ar || rec.n_ao)
		diag("signals during the check: %d AR, %d AO", rec.n_ar, rec.n_ao);
	munmap(va, blk);
	return 0;
}

static void bad_usage(void)
{
	fprintf(stderr, "usage: poison-test (--dev PATH | --vfio BDF | --cdev BDF)\n"
		"         --off BYTES --len BYTES\n"
		"         (--pfn PFN | --phys ADDR) [--first BYTES] [--mf FILE] [--label TEXT]\n"
		"         [--zap 0|1] basic|native|race N|bench N|nomem|page OFF poisoned|clean|fixup OFF\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *bdf = NULL;
	int cdev = 0;
	unsigned long phys = 0;
	struct vfio_handle h;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		if (i + 1 >= argc)
			bad_usage();
		if (!strcmp(argv[i], "--cdev"))
			cdev = 1;
		if (!strcmp(argv[i], "--dev"))
			dev = argv[i + 1];
		else if (!strcmp(argv[i], "--vfio") || !strcmp(argv[i], "--cdev"))
			bdf = argv[i + 1];
		else if (!strcmp(argv[i], "--phys"))
			phys = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--off"))
			foff = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--len"))
			flen = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--pfn"))
			pfn0 = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--first"))
			first = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--mf"))
			mf_file = argv[i + 1];
		else if (!strcmp(argv[i], "--label"))
			label = argv[i + 1];
		else if (!strcmp(argv[i], "--zap"))
			zap = atoi(argv[i + 1]);
		else
			bad_usage();
	}
	if (i >= argc || !dev == !bdf || !flen || !pfn0 == !phys)
		bad_usage();

	ps = sysconf(_SC_PAGESIZE);
	if (phys)
		pfn0 = phys / ps;
	pshift = __builtin_ctzl(ps);
	blk = (unsigned long)ps * (ps / 8);

	if (dev) {
		fd = open(dev, O_RDWR);
		if (fd < 0) {
			ok(0, "open %s: %s", dev, strerror(errno));
			return 1;
		}
	} else {
		if (cdev ? vfio_open_cdev(bdf, &h) : vfio_open(bdf, &h)) {
			ok(0, "open %s through VFIO%s: %s: %s", bdf,
			   cdev ? " (cdev)" : "", vfio_open_failed,
			   strerror(errno));
			return 1;
		}
		fd = h.device;
		container = h.container;
	}

	if (!strcmp(argv[i], "basic"))
		cmd_basic(0);
	else if (!strcmp(argv[i], "native"))
		cmd_basic(1);
	else if (!strcmp(argv[i], "race") && i + 1 < argc)
		cmd_race(atoi(argv[i + 1]));
	else if (!strcmp(argv[i], "bench") && i + 1 < argc)
		cmd_bench(atoi(argv[i + 1]));
	else if (!strcmp(argv[i], "nomem"))
		cmd_nomem();
	else if (!strcmp(argv[i], "page") && i + 2 < argc)
		cmd_page(strtoul(argv[i + 1], NULL, 0),
			 !strcmp(argv[i + 2], "poisoned"));
	else if (!strcmp(argv[i], "fixup") && i + 1 < argc)
		cmd_fixup(strtoul(argv[i + 1], NULL, 0));
	else
		bad_usage();
	if (bdf)
		vfio_close(&h);
	else
		close(fd);
	return failures ? 1 : 0;
}
