// SPDX-License-Identifier: GPL-2.0-only
/*
 * l2-mem: runs inside the L2 guest (the VM that QEMU gives the GPU to) and
 * accesses the GPU's BARs through sysfs, the way a guest driver maps them.
 * Output: key=value lines, one per result (the L1 test turns them into TAP).
 *
 *   l2-mem write FILE OFFSET VALUE      store u64 VALUE at OFFSET, read it back:
 *                                       rw=ok|mismatch got=... | rw=sigbus
 *   l2-mem read FILE OFFSET             read=VALUE (u64 at OFFSET) | read=sigbus
 *   l2-mem access FILE OFFSET           aligned/unaligned loads and stores,
 *                                       LDADD, CAS, LDXR/STXR at OFFSET (8-byte
 *                                       aligned, 64 bytes used):
 *                                       access.NAME=ok | sigbus code=N (NAME) |
 *                                       wrong got=... want=...
 *   l2-mem touch FILE OFFSET MIB [TAG]  first touch: one u64 store per 4 KiB
 *                                       page of MIB MiB from OFFSET, timed:
 *                                       touch.mib=N, touch.ns=N; then every
 *                                       page read back (untimed): touch.bad=0,
 *                                       or touch.error=readback mismatch in N
 *                                       pages (touch_value(): TAG, 0-65535,
 *                                       tells one run's stores from another's)
 *   l2-mem poison FILE OFFSET BELL BOFF SEC
 *                                       the poison step: store patterns in the
 *                                       page at OFFSET and the next one, print
 *                                       "L2KV poison.ready=1", wait up to SEC s
 *                                       for the host to store POISON_BELL at
 *                                       BOFF of file BELL (after it poisoned
 *                                       the page), then load the page and its
 *                                       neighbour. Prints its own "L2KV
 *                                       poison.KEY=VALUE" lines (unbuffered,
 *                                       the host waits for the first one):
 *                                       bell=ok|timeout, read=VALUE|sigbus
 *                                       code=N addr=A, neighbour=intact|...
 *
 * FILE is a sysfs resource file (resourceN or resourceN_wc: Normal-NC at
 * stage 1, so stage 2 alone decides whether the access behaves like Normal
 * or Device memory). Exit status 0 when the command ran (the results say
 * what happened), 1 when the file cannot be mapped, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

static sigjmp_buf fault_jmp;
static int fault_code;		/* written by the signal handler */
static void *fault_addr;	/* si_addr of the last SIGBUS */
static __u64 touch_pos;		/* the page being touched, read after a fault */

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	__atomic_store_n(&fault_addr, si->si_addr, __ATOMIC_RELAXED);
	__atomic_store_n(&fault_code, si->si_code, __ATOMIC_RELAXED);
	siglongjmp(fault_jmp, 1);
}

static const char *bus_code(int code)
{
	switch (code) {
	case BUS_ADRALN: return "BUS_ADRALN";
	case BUS_ADRERR: return "BUS_ADRERR";
	case BUS_OBJERR: return "BUS_OBJERR";
	case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
	case BUS_MCEERR_AO: return "BUS_MCEERR_AO";
	case SI_KERNEL: return "SI_KERNEL";
	default: return "other";
	}
}

static void *map_file(const char *path, __u64 off, __u64 len,
		      __u64 *map_off)
{
	long pg = sysconf(_SC_PAGESIZE);
	__u64 start = off & ~(__u64)(pg - 1);
	void *p;
	int fd;

	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		printf("error=open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	p = mmap(NULL, len + (off - start), PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, (off_t)start);
	close(fd);
	if (p == MAP_FAILED) {
		printf("error=mmap %s +0x%llx: %s\n", path,
		       (unsigned long long)start,
		       strerror(errno));
		return NULL;
	}
	*map_off = off - start;
	return p;
}

/* Aligned accesses the compiler must make exactly as written. */
static __u64 rd(const __u8 *p)
{
	return __atomic_load_n((const __u64 *)p, __ATOMIC_RELAXED);
}

static void wr(__u8 *p, __u64 v)
{
	__atomic_store_n((__u64 *)p, v, __ATOMIC_RELAXED);
}

/* ld64/st64 may be unaligned: one LDR/STR each, as the test needs */
#if defined(__aarch64__)
static __u64 ld64(const void *p)
{
	__u64 v;

	asm volatile("ldr %x0, [%x1]" : "=r"(v) : "r"(p) : "memory");
	return v;
}

static void st64(void *p, __u64 v)
{
	asm volatile("str %x0, [%x1]" : : "r"(v), "r"(p) : "memory");
}

static __u64 ldadd64(void *p, __u64 add)
{
	__u64 old;

	asm volatile(".arch_extension lse\n\tldaddal %x1, %x0, [%x2]"
		     : "=&r"(old) : "r"(add), "r"(p) : "memory");
	return old;
}

static __u64 cas64(void *p, __u64 expect, __u64 new)
{
	asm volatile(".arch_extension lse\n\tcasal %x0, %x1, [%x2]"
		     : "+&r"(expect) : "r"(new), "r"(p) : "memory");
	return expect;
}

/* LDXR/STXR increment; returns the old value, ~0 if it never succeeded */
static __u64 excl_inc64(void *p)
{
	__u64 old;
	int i;

	for (i = 0; i < 1000; i++) {
		__u32 fail;

		asm volatile("ldxr %x0, [%x2]\n\t"
			     "add %x0, %x0, #1\n\t"
			     "stxr %w1, %x0, [%x2]"
			     : "=&r"(old), "=&r"(fail) : "r"(p) : "memory");
		if (!fail)
			return old - 1;
	}
	return ~0ULL;
}
#else
static __u64 ld64(const void *p)
{
	__u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void st64(void *p, __u64 v)
{
	memcpy(p, &v, sizeof(v));
}

static __u64 ldadd64(void *p, __u64 add)
{
	return __atomic_fetch_add((__u64 *)p, add, __ATOMIC_SEQ_CST);
}

static __u64 cas64(void *p, __u64 expect, __u64 new)
{
	__atomic_compare_exchange_n((__u64 *)p, &expect, new, 0,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return expect;
}

static __u64 excl_inc64(void *p)
{
	return ldadd64(p, 1);
}
#endif

enum { A_ALOAD, A_ASTORE, A_ULOAD, A_USTORE, A_LDADD, A_CAS, A_EXCL, A_NR };
static const char *const access_name[A_NR] = {
	"aligned_load", "aligned_store", "unaligned_load", "unaligned_store",
	"atomic_ldadd", "atomic_cas", "exclusive_ldxr_stxr",
};

/* What one guarded operation works on (in memory, so a longjmp keeps it). */
struct op {
	__u8 *p;
	__u64 arg, len, want, got;
	int kind;
	int stuck;
};

static int fault(void)
{
	return __atomic_load_n(&fault_code, __ATOMIC_RELAXED);
}

/* guarded(FN, OP): run FN(OP); -1 if it took a SIGBUS (code in fault_code) */
static int guarded(void (*fn)(struct op *), struct op *op)
{
	__atomic_store_n(&fault_code, 0, __ATOMIC_RELAXED);
	if (sigsetjmp(fault_jmp, 1))
		return -1;
	fn(op);
	return 0;
}

static void do_access(struct op *op)
{
	__u8 *slot = op->p;

	op->want = 0x4e56000000000000ULL | ((__u64)op->kind << 32) | 0x1234;
	switch (op->kind) {
	case A_ALOAD:
		wr(slot, op->want);
		op->got = ld64(slot);
		break;
	case A_ASTORE:
		st64(slot, op->want);
		op->got = rd(slot);
		break;
	case A_ULOAD:
		/* an 8-byte load at slot + 1 reads bytes 1..8 */
		wr(slot, op->want);
		wr(slot + 8, 0);
		op->got = ld64(slot + 1);
		op->want >>= 8;
		break;
	case A_USTORE:
		wr(slot, 0);
		wr(slot + 8, 0);
		st64(slot + 1, op->want);
		op->got = (rd(slot) >> 8) |
			  (rd(slot + 8) << 56);
		break;
	case A_LDADD:
		wr(slot, op->want);
		ldadd64(slot, 5);
		op->got = rd(slot);
		op->want += 5;
		break;
	case A_CAS:
		wr(slot, op->want);
		cas64(slot, op->want, op->want ^ 0xff);
		op->got = rd(slot);
		op->want ^= 0xff;
		break;
	case A_EXCL:
		wr(slot, op->want);
		op->stuck = excl_inc64(slot) == ~0ULL;
		op->got = rd(slot);
		op->want += 1;
		break;
	}
}

/* One access at @base (8-byte aligned, 64 bytes usable); prints its result. */
static void one_access(int a, __u8 *base)
{
	struct op op = { .p = base + 8 * a, .kind = a };

	if (guarded(do_access, &op))
		printf("access.%s=sigbus code=%d (%s)\n", access_name[a],
		       fault(), bus_code(fault()));
	else if (op.stuck)
		printf("access.%s=wrong (STXR never succeeded)\n",
		       access_name[a]);
	else if (op.got == op.want)
		printf("access.%s=ok\n", access_name[a]);
	else
		printf("access.%s=wrong got=0x%llx want=0x%llx\n",
		       access_name[a], (unsigned long long)op.got,
		       (unsigned long long)op.want);
}

static void do_write(struct op *op)
{
	st64(op->p, op->arg);
	op->got = ld64(op->p);
}

static void do_read(struct op *op)
{
	op->got = ld64(op->p);
}

/*
 * What the touch stores in the page at file offset POS: "NV", the tag, the
 * offset (below 4 GiB: the usage check keeps it there).
 */
static __u64 touch_value(__u64 tag, __u64 pos)
{
	return 0x4e56000000000000ULL | tag << 32 | pos;
}

static void do_touch(struct op *op)
{
	__u64 i;

	for (i = 0; i < op->len; i += 4096) {
		__atomic_store_n(&touch_pos, i, __ATOMIC_RELAXED);
		st64(op->p + i, touch_value(op->want, op->arg + i));
	}
}

/* every page of the touch read back: op->got = pages without their value */
static void do_touch_check(struct op *op)
{
	__u64 i;

	op->got = 0;
	for (i = 0; i < op->len; i += 4096) {
		__atomic_store_n(&touch_pos, i, __ATOMIC_RELAXED);
		if (ld64(op->p + i) != touch_value(op->want, op->arg + i))
			op->got++;
	}
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int bad_usage(void)
{
	fprintf(stderr,
		"l2-mem write FILE OFFSET VALUE | read FILE OFFSET |\n"
		"       access FILE OFFSET | touch FILE OFFSET MIB [TAG] |\n"
		"       poison FILE OFFSET BELL-FILE BELL-OFFSET SEC\n");
	return 2;
}

#define POISON_BELL 0x4e5642454c4c2121ULL
#define POISON_PAT 0x4e56504f49534f4eULL

/*
 * The poison step: the host (L1) poisons the page at @off of usemem while
 * this VM has it mapped, then rings the bell in resmem. What the load of
 * the page does next is what the test is about.
 */
static int poison_step(const char *file, __u64 off, const char *bell_file,
		       __u64 boff, unsigned int sec)
{
	struct op op = { 0 };
	__u64 *bell;
	__u64 moff, bmoff, t0;
	char *map, *bmap;

	if (off & 4095)
		return bad_usage();
	map = map_file(file, off, 8192, &moff);
	bmap = map_file(bell_file, boff, 8, &bmoff);
	if (!map || !bmap)
		return 1;
	bell = (__u64 *)(bmap + bmoff);
	op.p = (__u8 *)map + moff;
	wr(op.p, POISON_PAT ^ off);
	wr(op.p + 4096, POISON_PAT ^ (off + 4096));
	wr((__u8 *)bell, 0);
	printf("L2KV poison.page=0x%llx\nL2KV poison.ready=1\n",
	       (unsigned long long)off);
	fflush(stdout);
	t0 = now_ns();
	while (rd((__u8 *)bell) != POISON_BELL) {
		if (now_ns() - t0 > sec * 1000000000ULL) {
			printf("L2KV poison.bell=timeout after %u s\n", sec);
			return 0;
		}
		usleep(20000);
	}
	printf("L2KV poison.bell=ok after %llu ms\n",
	       (unsigned long long)((now_ns() - t0) / 1000000));
	fflush(stdout);
	if (guarded(do_read, &op))
		printf("L2KV poison.read=sigbus code=%d (%s) addr=%s\n", fault(),
		       bus_code(fault()),
		       __atomic_load_n(&fault_addr, __ATOMIC_RELAXED) ==
				       (void *)op.p ? "page" : "other");
	else
		printf("L2KV poison.read=%s 0x%llx\n",
		       op.got == (POISON_PAT ^ off) ? "pattern" : "changed",
		       (unsigned long long)op.got);
	op.p += 4096;
	if (guarded(do_read, &op))
		printf("L2KV poison.neighbour=sigbus code=%d\n", fault());
	else if (op.got == (POISON_PAT ^ (off + 4096)))
		printf("L2KV poison.neighbour=intact\n");
	else
		printf("L2KV poison.neighbour=changed 0x%llx\n",
		       (unsigned long long)op.got);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	struct op op = { 0 };
	__u64 off, len, moff, t0, t1;
	char *map;
	int a;

	if (argc < 4)
		return bad_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGBUS, &sa, NULL);
	off = strtoull(argv[3], NULL, 0);

	if (!strcmp(argv[1], "write") && argc == 5) {
		op.arg = strtoull(argv[4], NULL, 0);
		map = map_file(argv[2], off, 8, &moff);
		if (!map)
			return 1;
		op.p = (__u8 *)map + moff;
		if (guarded(do_write, &op))
			printf("rw=sigbus code=%d\n", fault());
		else if (op.got == op.arg)
			printf("rw=ok\n");
		else
			printf("rw=mismatch got=0x%llx\n",
			       (unsigned long long)op.got);
		return 0;
	}
	if (!strcmp(argv[1], "read") && argc == 4) {
		map = map_file(argv[2], off, 8, &moff);
		if (!map)
			return 1;
		op.p = (__u8 *)map + moff;
		if (guarded(do_read, &op))
			printf("read=sigbus code=%d\n", fault());
		else
			printf("read=0x%llx\n", (unsigned long long)op.got);
		return 0;
	}
	if (!strcmp(argv[1], "access") && argc == 4) {
		if (off & 7)
			return bad_usage();
		map = map_file(argv[2], off, 64, &moff);
		if (!map)
			return 1;
		for (a = 0; a < A_NR; a++)
			one_access(a, (__u8 *)map + moff);
		return 0;
	}
	if (!strcmp(argv[1], "touch") && (argc == 5 || argc == 6)) {
		len = strtoull(argv[4], NULL, 0) << 20;
		op.want = argc == 6 ? strtoull(argv[5], NULL, 0) : 0;
		if (!len || (off & 4095) || off + len > 1ULL << 32 ||
		    op.want > 0xffff)
			return bad_usage();
		map = map_file(argv[2], off, len, &moff);
		if (!map)
			return 1;
		op.p = (__u8 *)map + moff;
		op.arg = off;
		op.len = len;
		t0 = now_ns();
		if (guarded(do_touch, &op)) {
			printf("touch.error=sigbus code=%d at +0x%llx\n",
			       fault(), (unsigned long long)touch_pos);
			return 0;
		}
		t1 = now_ns();
		printf("touch.mib=%llu\n", (unsigned long long)(len >> 20));
		printf("touch.ns=%llu\n", (unsigned long long)(t1 - t0));
		if (guarded(do_touch_check, &op))
			printf("touch.error=sigbus code=%d reading back +0x%llx\n",
			       fault(), (unsigned long long)touch_pos);
		else if (op.got)
			printf("touch.error=readback mismatch in %llu pages\n",
			       (unsigned long long)op.got);
		else
			printf("touch.bad=0\n");
		return 0;
	}
	if (!strcmp(argv[1], "poison") && argc == 7)
		return poison_step(argv[2], off, argv[4],
				   strtoull(argv[5], NULL, 0),
				   strtoul(argv[6], NULL, 0));
	return bad_usage();
}
