// SPDX-License-Identifier: GPL-2.0-only
// guest-cflags: -lpthread
/*
 * vfio-race: lock-ordering regressions of nvgrace-vfio-pci (issue 14),
 * through the VFIO uAPI. Each command prints TAP lines and "# " diagnostics
 * and exits 1 if a check failed, 2 on bad usage.
 *
 *   vfio-race copy BDF SECONDS
 *	read() and write() of usemem (and resmem) whose user buffer is a
 *	fresh, never-touched mapping of the same device's usemem, while a
 *	third thread toggles memory decode in PCI_COMMAND. The copy faults
 *	into the driver's fault handler; when the driver copied user memory
 *	under memory_lock, a toggle queued in between deadlocked all three
 *	threads for good. The threads run in a child for SECONDS; the parent
 *	waits for them as long as operations keep completing: no operation
 *	for 60 s (a deadlock: the kernel's hung-task timeout is 30 s on the
 *	debug kernels), or SECONDS + 600 s in all, and it reports where the
 *	child is stuck and exits 3: the stuck threads hold the device for
 *	good. The device's close after the threads is timed, not judged
 *	(unmapping 2 GiB takes long on a KASAN kernel under TCG).
 *
 *   vfio-race ready BDF DELAY_MS
 *	After a reset the GPU is ready only DELAY_MS later (a child writes the
 *	readiness registers). One thread's first access waits for it: a fault
 *	on the mapping, then a read(). Meanwhile the mmap lock (munmap of part
 *	of that mapping) and memory_lock (a PCI_COMMAND write) must stay
 *	available: the driver must not sleep holding them. The waiting access
 *	then succeeds with the data intact. A SIGUSR1 during the wait does not
 *	fail it; a SIGKILL ends a process waiting in read() at once.
 *
 *   vfio-race resetwin BDF ROUNDS
 *	VFIO_DEVICE_RESET while a thread keeps reading a mapped page: the
 *	mapping must be gone for the whole reset (the access waits for it),
 *	not only zapped before and after it. Resets under 50 ms, or without
 *	an access started during them, prove nothing and do not count; nor
 *	does a first warm-up reset (lockdep's first walk of its lock chains).
 *
 *   vfio-race sibling BDF SIBLING_BDF
 *	VFIO_DEVICE_PCI_HOT_RESET through the fd of SIBLING_BDF, another
 *	function on the GPU's bus bound to vfio-pci, while a thread keeps
 *	reading a mapped page of the GPU's usemem: that reset resets the GPU
 *	too, so it must zap the GPU's mapping (a fault after it), keep
 *	accesses out while it runs, and leave the data in place.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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
#define CHUNK		(64 << 10)

static const char *bdf;
static struct vfio_handle h;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static off_t region_off(unsigned int index)
{
	return (off_t)index << 40;
}

/* The first line of the driver's sysfs nvgrace/NAME in BUF: 0, or -1. */
static int nvgrace_attr(const char *name, char *buf, int size)
{
	char path[256];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvgrace/%s",
		 bdf, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ret = fgets(buf, size, f) ? 0 : -1;
	fclose(f);
	return ret;
}

/* The driver's sysfs nvgrace/NAME as a number (>= 0), or -1. */
static long nvgrace_long(const char *name)
{
	char buf[64], *end;
	long v;

	if (nvgrace_attr(name, buf, sizeof(buf)))
		return -1;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || v < 0)
		return -1;
	return v;
}

/* Length of region NAME (usemem/resmem) from the driver's sysfs, or 0. */
static unsigned long long region_len(const char *name)
{
	unsigned long long phys, length, bar;
	char buf[128];

	if (nvgrace_attr(name, buf, sizeof(buf)) ||
	    sscanf(buf, "%llx %llu %llu", &phys, &length, &bar) != 3)
		return 0;
	return length;
}

static void open_device(void)
{
	if (vfio_open(bdf, &h)) {
		printf("not ok - open %s through VFIO (%s: %s)\n", bdf,
		       vfio_open_failed, strerror(errno));
		exit(1);
	}
}

static off_t cfg_cmd(void)
{
	return region_off(VFIO_PCI_CONFIG_REGION_INDEX) + 0x4;
}

/* ---- copy: user buffer mapped from the same device ------------------- */

static int stop;

static int stopped(void)
{
	return __atomic_load_n(&stop, __ATOMIC_RELAXED);
}

static unsigned long long use_len, res_len;

struct counts {
	unsigned long ok, efault, other, maps;
	int last_errno;
};

static struct counts reads, writes, toggles;

/*
 * What the parent sees of the child, in shared memory: completed
 * operations and the phase, so a slow run is told from a stuck one.
 */
enum { PH_RUN, PH_JOINED, PH_CLOSED };
struct progress {
	unsigned long ops;
	int phase;
	double t_joined, t_closed;
};

static struct progress *prog;

static void progressed(void)
{
	__atomic_fetch_add(&prog->ops, 1, __ATOMIC_RELAXED);
}

static void count(struct counts *c, ssize_t ret, size_t want)
{
	progressed();
	if (ret == (ssize_t)want) {
		c->ok++;
	} else if (ret < 0 && errno == EFAULT) {
		c->efault++;
	} else {
		c->other++;
		c->last_errno = ret < 0 ? errno : 0;
	}
}

/*
 * A fresh shared mapping of CHUNK bytes of usemem at slot I of the first
 * 16 MiB; nothing touched, so any copy into it faults.
 */
static void *fresh_map(unsigned long i)
{
	off_t off = (off_t)((i % 256) * CHUNK);

	return mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, h.device,
		    region_off(4) + off);
}

static void *reader(void *arg)
{
	unsigned long i;

	(void)arg;
	for (i = 0; !stopped(); i++) {
		void *m = fresh_map(i);
		unsigned int index = (res_len && (i & 1)) ? 2 : 4;
		off_t src = (off_t)(16 << 20) + (off_t)((i % 64) * CHUNK);

		if (m == MAP_FAILED) {
			reads.other++;
			reads.last_errno = errno;
			continue;
		}
		reads.maps++;
		count(&reads, pread(h.device, m, CHUNK, region_off(index) + src),
		      CHUNK);
		munmap(m, CHUNK);
	}
	return NULL;
}

static void *writer(void *arg)
{
	unsigned long i;

	(void)arg;
	for (i = 0; !stopped(); i++) {
		void *m = fresh_map(i + 128);
		unsigned int index = (res_len && (i & 1)) ? 2 : 4;
		off_t dst = (off_t)(32 << 20) + (off_t)((i % 64) * CHUNK);

		if (m == MAP_FAILED) {
			writes.other++;
			writes.last_errno = errno;
			continue;
		}
		writes.maps++;
		count(&writes, pwrite(h.device, m, CHUNK, region_off(index) + dst),
		      CHUNK);
		munmap(m, CHUNK);
	}
	return NULL;
}

static void *toggler(void *arg)
{
	__u16 cmd, off;

	(void)arg;
	if (pread(h.device, &cmd, 2, cfg_cmd()) != 2) {
		toggles.other++;
		toggles.last_errno = errno;
		return NULL;
	}
	cmd |= 0x2;
	off = cmd & ~0x2;
	while (!stopped()) {
		count(&toggles, pwrite(h.device, &off, 2, cfg_cmd()), 2);
		count(&toggles, pwrite(h.device, &cmd, 2, cfg_cmd()), 2);
	}
	return NULL;
}

/* The child: three threads for SECONDS, then counts on stdout. */
static int copy_child(unsigned int seconds)
{
	pthread_t t[3];
	int i;

	open_device();
	/*
	 * Opening resets the device, and the first access after a reset
	 * checks the GPU's readiness registers, which cannot be read with
	 * memory decode off: that access fails with EIO (as in mainline).
	 * This test is about locking, not readiness: make that first access
	 * here, with decode on, before the toggler starts.
	 */
	{
		unsigned long long v;

		if (pread(h.device, &v, sizeof(v), region_off(4)) != sizeof(v)) {
			printf("not ok - first read of usemem after open (%s)\n",
			       strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL,
				   i == 0 ? reader : i == 1 ? writer : toggler,
				   NULL))
			return 1;
	sleep(seconds);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	prog->t_joined = now_ms();
	__atomic_store_n(&prog->phase, PH_JOINED, __ATOMIC_RELEASE);
	printf("# reads: %lu whole, %lu EFAULT (decode off), %lu other (errno %d)\n",
	       reads.ok, reads.efault, reads.other, reads.last_errno);
	printf("# writes: %lu whole, %lu EFAULT, %lu other (last errno %d)\n",
	       writes.ok, writes.efault, writes.other, writes.last_errno);
	printf("# toggles: %lu PCI_COMMAND writes, %lu failed\n",
	       toggles.ok, toggles.efault + toggles.other);
	printf("RESULT %lu %lu %lu %lu %lu\n", reads.ok + reads.efault,
	       writes.ok + writes.efault, toggles.ok, reads.other + writes.other,
	       toggles.efault + toggles.other);
	fflush(stdout);
	vfio_close(&h);
	prog->t_closed = now_ms();
	__atomic_store_n(&prog->phase, PH_CLOSED, __ATOMIC_RELEASE);
	return 0;
}

/* Print where each thread of PID sleeps (stuck processes cannot be killed). */
static void show_stuck(pid_t pid)
{
	char path[320], buf[4096];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		FILE *f;
		size_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stack", pid,
			 d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		printf("# thread %s:\n", d->d_name);
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			printf("#   %s\n", l);
	}
	closedir(dir);
}

static int cmd_copy(unsigned int seconds)
{
	const char *what = "read/write into a mapping of the device while memory decode toggles";
	unsigned long r = 0, w = 0, t = 0, bad = 0, tbad = 0;
	int pipefd[2], status = 0, done = 0, phase = PH_RUN, ph, i;
	unsigned long seen = 0, ops;
	double t0, last, now, quiet;
	char line[512];
	FILE *out;
	pid_t pid;

	use_len = region_len("usemem");
	res_len = region_len("resmem");
	if (use_len < (64 << 20)) {
		ok(0, "usemem of at least 64 MiB in sysfs (%llu)", use_len);
		return 1;
	}
	prog = mmap(NULL, sizeof(*prog), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (prog == MAP_FAILED || pipe(pipefd))
		return 1;
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], 1);
		_exit(copy_child(seconds));
	}
	close(pipefd[1]);
	t0 = now_ms();
	last = t0;
	/* No operation for 60 s while running, or a 600 s close: stuck. */
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			done = 1;
			break;
		}
		now = now_ms();
		ops = __atomic_load_n(&prog->ops, __ATOMIC_RELAXED);
		ph = __atomic_load_n(&prog->phase, __ATOMIC_ACQUIRE);
		if (ops != seen || ph != phase) {
			seen = ops;
			phase = ph;
			last = now;
		}
		quiet = phase == PH_RUN ? 60e3 : 600e3;
		if (now - last > quiet || now - t0 > (seconds + 600) * 1e3)
			break;
		usleep(100000);
	}
	if (!done) {
		ok(0, "%s: threads finish (%s after %.0f s, %lu operations, none for %.0f s)",
		   what, phase == PH_RUN ? "stuck" : "device close stuck",
		   (now_ms() - t0) / 1000, seen, (now_ms() - last) / 1000);
		show_stuck(pid);
		kill(pid, SIGKILL);
		for (i = 0; i < 300 && !done; i++) {
			done = waitpid(pid, &status, WNOHANG) == pid;
			usleep(100000);
		}
		ok(done, "the stuck process dies on SIGKILL (within 30 s)");
		return 3;	/* the device is lost: the caller must not unbind */
	}
	now = prog->phase == PH_CLOSED ? prog->t_joined : now_ms();
	ok(WIFEXITED(status) && !WEXITSTATUS(status),
	   "%s: threads finish (%.1f s for %u s of work, %lu operations)", what,
	   (now - t0) / 1000, seconds, prog->ops);
	if (prog->phase == PH_CLOSED)
		printf("# closing the device took %.1f s\n",
		       (prog->t_closed - prog->t_joined) / 1000);
	out = fdopen(pipefd[0], "r");
	while (out && fgets(line, sizeof(line), out)) {
		if (sscanf(line, "RESULT %lu %lu %lu %lu %lu", &r, &w, &t, &bad,
			   &tbad) == 5)
			continue;
		fputs(line, stdout);
	}
	ok(r > 0 && w > 0 && t > 0,
	   "every thread made progress: %lu reads, %lu writes, %lu PCI_COMMAND writes",
	   r, w, t);
	ok(!bad && !tbad,
	   "no access failed other than with EFAULT (%lu rw, %lu toggles)",
	   bad, tbad);

	/* The device still works: a new open reads back what it writes. */
	open_device();
	{
		__u64 v = MAGIC ^ 0x14, back = 0;
		__u16 cmd = 0;

		ok(pread(h.device, &cmd, 2, cfg_cmd()) == 2 && (cmd & 0x2),
		   "memory decode is on after the run (PCI_COMMAND %#x)", cmd);
		ok(pwrite(h.device, &v, 8, region_off(4) + (48 << 20)) == 8 &&
		   pread(h.device, &back, 8, region_off(4) + (48 << 20)) == 8 &&
		   back == v, "device memory reads back a write after the run");
	}
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* ---- ready: no sleeping under memory_lock or the mmap lock ----------- */

static int regs_write(__u32 val)
{
	off_t bar0 = region_off(VFIO_PCI_BAR0_REGION_INDEX);

	return pwrite(h.device, &val, 4, bar0 + C2C_REG) == 4 &&
	       pwrite(h.device, &val, 4, bar0 + HBM_REG) == 4 ? 0 : -1;
}

/* Clear the readiness registers, reset, and make it ready DELAY_MS later. */
static pid_t reset_not_ready(unsigned int delay_ms)
{
	pid_t child;

	if (regs_write(0) || ioctl(h.device, VFIO_DEVICE_RESET))
		return -1;
	child = fork();
	if (child == 0) {
		usleep(delay_ms * 1000);
		_exit(regs_write(0xff) ? 1 : 0);
	}
	return child;
}

static sigjmp_buf fault_jmp;
static int fault_code;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	__atomic_store_n(&fault_code, si->si_code ? si->si_code : -1,
			 __ATOMIC_RELAXED);
	siglongjmp(fault_jmp, 1);
}

static void on_usr1(int sig)
{
	(void)sig;
}

struct waiter {
	__u64 *p;		/* touch this, or */
	off_t off;		/* pread 8 bytes at this device offset */
	__u64 val;
	int code;		/* SIGBUS si_code, or errno of pread */
	double ms;
	int done;
};

static void *touch_thread(void *arg)
{
	struct waiter *w = arg;
	double t0 = now_ms();

	if (sigsetjmp(fault_jmp, 1)) {
		w->code = __atomic_load_n(&fault_code, __ATOMIC_RELAXED);
	} else {
		w->val = __atomic_load_n(w->p, __ATOMIC_RELAXED);
		w->code = 0;
	}
	w->ms = now_ms() - t0;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *pread_thread(void *arg)
{
	struct waiter *w = arg;
	double t0 = now_ms();
	ssize_t n = pread(h.device, &w->val, 8, w->off);

	w->code = n == 8 ? 0 : n < 0 ? errno : -1;
	w->ms = now_ms() - t0;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELAXED);
	return NULL;
}

static double timed_cmd_write(int *res)
{
	__u16 cmd = 0;
	double t0 = now_ms();

	*res = pread(h.device, &cmd, 2, cfg_cmd()) == 2 &&
	       pwrite(h.device, &cmd, 2, cfg_cmd()) == 2;
	return now_ms() - t0;
}

static int wait_child(pid_t child)
{
	int status;

	return child > 0 && waitpid(child, &status, 0) == child &&
	       WIFEXITED(status) && !WEXITSTATUS(status);
}

static int cmd_ready(unsigned int delay_ms)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	struct sigaction su = { .sa_handler = on_usr1 };
	__u64 len = 4ULL << 20, half = len / 2, i, bad;
	double limit = delay_ms / 3.0, t0, ms;
	struct waiter w;
	pthread_t t;
	pid_t child;
	int res;
	char *res_at, *at;
	__u64 *m;

	open_device();
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGUSR1, &su, NULL);
	/* 2 MiB-aligned, so that a half is a whole huge mapping or none. */
	res_at = mmap(NULL, len * 2, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	at = (char *)(((unsigned long)res_at + len - 1) & ~(unsigned long)(len - 1));
	m = mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 h.device, region_off(4));
	if (res_at == MAP_FAILED || m == MAP_FAILED) {
		ok(0, "map 4 MiB of usemem (%s)", strerror(errno));
		return 1;
	}
	for (i = 0; i < len / 8; i += 512)
		__atomic_store_n(&m[i], MAGIC ^ i, __ATOMIC_RELAXED);

	/* 1. A fault waits for readiness. */
	child = reset_not_ready(delay_ms);
	ok(child > 0, "GPU not ready after VFIO_DEVICE_RESET (ready in %u ms)",
	   delay_ms);
	if (child <= 0)
		return 1;
	memset(&w, 0, sizeof(w));
	w.p = &m[0];
	pthread_create(&t, NULL, touch_thread, &w);
	usleep(300000);
	ok(!__atomic_load_n(&w.done, __ATOMIC_RELAXED),
	   "the first access after the reset waits (fault)");
	t0 = now_ms();
	res = !munmap((void *)(m + half / 8), half);
	ms = now_ms() - t0;
	ok(res && ms < limit,
	   "munmap of the other half of the mapping while the fault waits: %.0f ms (bound %.0f ms)",
	   ms, limit);
	ms = timed_cmd_write(&res);
	ok(res && ms < limit,
	   "PCI_COMMAND write (memory_lock) while the fault waits: %.0f ms (bound %.0f ms)",
	   ms, limit);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	ok(wait_child(child), "GPU made ready after %u ms", delay_ms);
	ok(!w.code && w.val == MAGIC,
	   "the waiting fault then maps the page, data intact (si_code %d, %.0f ms)",
	   w.code, w.ms);
	ok(w.ms >= delay_ms * 0.8, "the fault waited for readiness (%.0f ms)",
	   w.ms);

	/* 2. A read() waits for readiness. */
	child = reset_not_ready(delay_ms);
	ok(child > 0, "GPU not ready after a second reset");
	if (child <= 0)
		return 1;
	memset(&w, 0, sizeof(w));
	w.off = region_off(4) + 512 * 8;
	pthread_create(&t, NULL, pread_thread, &w);
	usleep(300000);
	ok(!__atomic_load_n(&w.done, __ATOMIC_RELAXED),
	   "the first read() after the reset waits");
	ms = timed_cmd_write(&res);
	ok(res && ms < limit,
	   "PCI_COMMAND write (memory_lock) while read() waits: %.0f ms (bound %.0f ms)",
	   ms, limit);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	ok(wait_child(child), "GPU made ready after %u ms", delay_ms);
	ok(!w.code && w.val == (MAGIC ^ 512),
	   "the waiting read() then succeeds, data intact (error %d, %.0f ms)",
	   w.code, w.ms);
	ok(w.ms >= delay_ms * 0.8, "read() waited for readiness (%.0f ms)",
	   w.ms);
	for (bad = 0, i = 0; i < half / 8; i += 512)
		bad += __atomic_load_n(&m[i], __ATOMIC_RELAXED) != (MAGIC ^ i);
	ok(!bad, "the mapped half reads back after both resets");

	/* 3. SIGKILL ends a process waiting in read(). */
	child = reset_not_ready(delay_ms * 4);
	if (child > 0) {
		pid_t victim = fork();

		if (victim == 0) {
			__u64 v;

			_exit(pread(h.device, &v, 8, region_off(4)) == 8 ? 0 : 3);
		}
		usleep(300000);
		kill(victim, SIGKILL);
		t0 = now_ms();
		waitpid(victim, &res, 0);
		ms = now_ms() - t0;
		ok(WIFSIGNALED(res) && ms < limit,
		   "SIGKILL ends a read() waiting for readiness: %.0f ms", ms);
		ok(wait_child(child), "GPU made ready again");
	}
	munmap((void *)m, half);
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* ---- resetwin: no access to device memory while it is reset --------- */

struct toucher {
	__u64 *p;
	int phase;		/* 1 while the reset ioctl runs */
	double longest;		/* longest access that ended in phase 1+, ms */
	unsigned long in_reset;	/* accesses that ended in phase 1 or 2 */
	int sigbus;
};

static void *toucher_thread(void *arg)
{
	struct toucher *t = arg;

	if (sigsetjmp(fault_jmp, 1)) {
		t->sigbus = __atomic_load_n(&fault_code, __ATOMIC_RELAXED);
		return NULL;
	}
	while (__atomic_load_n(&t->phase, __ATOMIC_RELAXED) < 2) {
		double t0 = now_ms(), ms;

		__atomic_load_n(t->p, __ATOMIC_RELAXED);
		ms = now_ms() - t0;
		/*
		 * By its end: the access in flight when the reset began (this
		 * vCPU may have been off the host CPU then) counts too.
		 */
		if (__atomic_load_n(&t->phase, __ATOMIC_RELAXED) >= 1) {
			t->in_reset++;
			if (ms > t->longest)
				t->longest = ms;
		}
	}
	return NULL;
}

/* The driver's fault counters (sysfs nvgrace/faults_*), summed; -1 if absent. */
static long faults_now(void)
{
	long pte = nvgrace_long("faults_pte"), pmd = nvgrace_long("faults_pmd"),
	     pud = nvgrace_long("faults_pud");

	return pte < 0 || pmd < 0 || pud < 0 ? -1 : pte + pmd + pud;
}

/*
 * Start a thread touching @m in a loop and let it run 50 ms; then read the
 * fault counters into *@f0 and enter phase 1 (a reset begins). Returns the
 * time phase 1 began, ms.
 */
static double toucher_start(struct toucher *t, pthread_t *th, __u64 *m, long *f0)
{
	memset(t, 0, sizeof(*t));
	t->p = m;
	__atomic_load_n(m, __ATOMIC_RELAXED);	/* mapped */
	pthread_create(th, NULL, toucher_thread, t);
	usleep(50000);
	*f0 = faults_now();
	__atomic_store_n(&t->phase, 1, __ATOMIC_RELAXED);
	return now_ms();
}

/* End phase 1 and the thread; the fault counters after. */
static long toucher_stop(struct toucher *t, pthread_t th)
{
	__atomic_store_n(&t->phase, 2, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	return faults_now();
}

/*
 * A thread keeps reading a mapped page of usemem while VFIO_DEVICE_RESET
 * runs (a secondary bus reset here: 100 ms and more). While the device is
 * reset its memory must not be mapped: the thread's access has to fault
 * and wait for the reset to end, so one access lasts about as long as the
 * reset. A mapping left in place keeps every access instant.
 */
static int cmd_resetwin(unsigned int rounds)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	const char *what = "accesses to a mapping wait while the device is reset";
	unsigned int r, blocked = 0, seen = 0, judged = 0, zapped = 0;
	long f0, f1;
	struct toucher t;
	pthread_t th;
	double t0, d;
	__u64 *m;

	open_device();
	sigaction(SIGBUS, &sa, NULL);
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, h.device,
		 region_off(4));
	if (m == MAP_FAILED) {
		ok(0, "map 1 MiB of usemem (%s)", strerror(errno));
		return 1;
	}
	/*
	 * One reset first, not judged: the first reset after the open runs
	 * lock chains lockdep has not seen yet (and first allocations under
	 * KASAN), CPU work before the zap and after memory_lock is released.
	 * On custom/7.3-debug it made the first reset 62 ms around a 26 ms
	 * wait, failing d / 2 with the mapping gone for the whole window.
	 */
	t0 = now_ms();
	if (ioctl(h.device, VFIO_DEVICE_RESET)) {
		printf("ok - reset window # SKIP VFIO_DEVICE_RESET: %s\n",
		       strerror(errno));
		munmap(m, 1 << 20);
		vfio_close(&h);
		return 0;
	}
	printf("# warm-up reset %.0f ms, not judged\n", now_ms() - t0);
	for (r = 0; r < rounds; r++) {
		t0 = toucher_start(&t, &th, m, &f0);
		if (ioctl(h.device, VFIO_DEVICE_RESET)) {
			toucher_stop(&t, th);
			printf("ok - reset window # SKIP VFIO_DEVICE_RESET: %s\n",
			       strerror(errno));
			return 0;
		}
		d = now_ms() - t0;
		f1 = toucher_stop(&t, th);
		printf("# round %u: reset %.0f ms, %lu accesses, longest %.1f ms",
		       r, d, t.in_reset, t.longest);
		printf(", faults %+ld, SIGBUS %d\n", f1 - f0, t.sigbus);
		if (t.sigbus) {
			ok(0, "access after the reset (SIGBUS si_code %d)", t.sigbus);
			break;
		}
		if (!t.in_reset)
			continue;
		/*
		 * The page was mapped when the reset began and the thread kept
		 * touching it: it faulted again only if the reset zapped it.
		 * A mapping left in place never faults, whatever the timing.
		 */
		judged++;
		zapped += f0 >= 0 && f1 > f0;
		/*
		 * The faulting access waits for memory_lock, which the reset
		 * holds for the whole time the device is reset; the ioctl also
		 * spends CPU time outside that window (more under load and on
		 * debug kernels), so the wait is held to half the reset, at
		 * most 20 ms. Telling a wait from scheduling noise needs a
		 * reset of 50 ms or more.
		 */
		if (d < 50)
			continue;
		seen++;
		blocked += f1 > f0 && t.longest >= (d / 2 < 20 ? d / 2 : 20);
	}
	if (!judged)
		printf("ok - the mapping is zapped by every reset # SKIP %s (%u resets)\n",
		       "no access during any reset", rounds);
	else
		ok(zapped == judged, "the mapping is zapped by every reset (%u of %u resets)",
		   zapped, judged);
	if (!seen)
		printf("ok - %s # SKIP %s (%u resets)\n", what,
		       "no reset of 50 ms or more with an access in it", rounds);
	else
		ok(blocked == seen, "%s (%u of %u resets)", what, blocked,
		   seen);
	munmap(m, 1 << 20);
	vfio_close(&h);
	return failures ? 1 : 0;
}

/* ---- sibling: a hot reset through another device's fd --------------- */

/* The IOMMU group number of PCI device @b, or -1. */
static int group_of(const char *b)
{
	char path[256], link[256];
	ssize_t len;
	char *p;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", b);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return -1;
	link[len] = '\0';
	p = strrchr(link, '/');
	return atoi(p ? p + 1 : link);
}

/* The /proc/self/maps line of the mapping at @p, as a diagnostic. */
static void print_maps_line(const void *p)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strtoul(line, NULL, 16) == (unsigned long)p)
			printf("# maps: %s", line);
	fclose(f);
}

#define SIB_MAP		0x100000UL	/* 1 MiB */
#define SIB_STRIDE	512		/* one u64 written per 4 KiB */
#define SIB_ROUNDS	3

static int cmd_sibling(const char *sib)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	const char *what = "accesses to the GPU's mapping wait while the sibling's hot reset runs";
	unsigned int r, i, dom, bus, dev, fn, blocked = 0, seen = 0, zapped = 0, done = 0;
	unsigned long bad = 0;
	struct vfio_pci_hot_reset_info *info;
	struct vfio_pci_hot_reset *rst;
	int gg, sg, sibgrp = -1, sibfd, found = 0;
	long f0, f1, f2, r0, r1;
	size_t isz, rsz;
	struct toucher t;
	pthread_t th;
	double t0, d;
	__u64 *m, v;

	open_device();
	sigaction(SIGBUS, &sa, NULL);
	gg = group_of(bdf);
	sg = group_of(sib);
	if (sg < 0) {
		ok(0, "IOMMU group of the sibling %s (%s)", sib, strerror(errno));
		return 1;
	}
	if (sg != gg) {
		char path[64];

		snprintf(path, sizeof(path), "/dev/vfio/%d", sg);
		sibgrp = open(path, O_RDWR);
		if (sibgrp < 0 ||
		    ioctl(sibgrp, VFIO_GROUP_SET_CONTAINER, &h.container)) {
			ok(0, "open the sibling's group %d (%s)", sg, strerror(errno));
			return 1;
		}
	}
	sibfd = ioctl(sibgrp >= 0 ? sibgrp : h.group, VFIO_GROUP_GET_DEVICE_FD, sib);
	ok(sibfd >= 0, "open the sibling %s through VFIO (group %d, the GPU's %d)%s%s",
	   sib, sg, gg, sibfd < 0 ? ": " : "", sibfd < 0 ? strerror(errno) : "");
	if (sibfd < 0)
		return 1;

	/* The GPU must be among the devices the sibling's hot reset resets. */
	isz = sizeof(*info) + 16 * sizeof(info->devices[0]);
	info = calloc(1, isz);
	info->argsz = isz;
	if (ioctl(sibfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info)) {
		printf("ok - hot reset through the sibling # SKIP %s: %s\n",
		       "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO", strerror(errno));
		return failures ? 1 : 0;
	}
	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) {
		ok(0, "parse the GPU's address %s", bdf);
		return 1;
	}
	for (i = 0; i < info->count && i < 16; i++) {
		printf("# the sibling's hot reset resets %04x:%02x:%02x.%x (group %u)\n",
		       info->devices[i].segment, info->devices[i].bus,
		       info->devices[i].devfn >> 3, info->devices[i].devfn & 7,
		       info->devices[i].group_id);
		found |= info->devices[i].segment == dom &&
			 info->devices[i].bus == bus &&
			 info->devices[i].devfn == ((dev << 3) | fn);
	}
	ok(found, "the GPU is in the sibling's reset domain (%u devices)", info->count);
	if (!found)
		return 1;

	m = mmap(NULL, SIB_MAP, PROT_READ | PROT_WRITE, MAP_SHARED, h.device,
		 region_off(4));
	if (m == MAP_FAILED) {
		ok(0, "map 1 MiB of usemem (%s)", strerror(errno));
		return 1;
	}
	for (i = 0; i < SIB_MAP / 8; i += SIB_STRIDE)
		m[i] = MAGIC | i;
	print_maps_line(m);

	rsz = sizeof(*rst) + 2 * sizeof(rst->group_fds[0]);
	rst = calloc(1, rsz);
	rst->argsz = rsz;
	rst->group_fds[rst->count++] = h.group;
	if (sibgrp >= 0)
		rst->group_fds[rst->count++] = sibgrp;

	r0 = nvgrace_long("resets");
	for (r = 0; r < SIB_ROUNDS; r++) {
		int ret;

		t0 = toucher_start(&t, &th, m, &f0);
		ret = ioctl(sibfd, VFIO_DEVICE_PCI_HOT_RESET, rst);
		d = now_ms() - t0;
		f1 = toucher_stop(&t, th);
		if (ret) {
			ok(0, "VFIO_DEVICE_PCI_HOT_RESET through the sibling's fd (%s)",
			   strerror(errno));
			break;
		}
		if (t.sigbus) {
			ok(0, "access after the sibling's hot reset (SIGBUS si_code %d)",
			   t.sigbus);
			break;
		}
		/* A page left mapped never faults: touch it once more. */
		v = __atomic_load_n(m, __ATOMIC_RELAXED);
		f2 = faults_now();
		printf("# round %u: hot reset %.0f ms, %lu accesses, longest %.1f ms",
		       r, d, t.in_reset, t.longest);
		printf(", faults %+ld during, %+ld after, value %s\n", f1 - f0,
		       f2 - f1, v == MAGIC ? "kept" : "CHANGED");
		done++;
		zapped += f0 >= 0 && f2 > f0;
		/* As resetwin: a wait is told from noise on resets of 50 ms+. */
		if (d < 50 || !t.in_reset)
			continue;
		seen++;
		blocked += f1 > f0 && t.longest >= (d / 2 < 20 ? d / 2 : 20);
	}
	r1 = nvgrace_long("resets");
	if (done) {
		ok(r0 >= 0 && r1 - r0 == done,
		   "each hot reset through the sibling reset the GPU (resets %+ld in %u)",
		   r1 - r0, done);
		ok(zapped == done,
		   "the GPU's mapping is zapped by every hot reset through the sibling (%u of %u)",
		   zapped, done);
		if (!seen)
			printf("ok - %s # SKIP %s (%u resets)\n", what,
			       "no reset of 50 ms or more with an access in it", done);
		else
			ok(blocked == seen, "%s (%u of %u resets)", what, blocked, seen);
	}
	for (i = 0; i < SIB_MAP / 8; i += SIB_STRIDE)
		bad += m[i] != (MAGIC | i);
	ok(!bad, "usemem keeps its data across the sibling's resets (%lu of %lu pages differ)",
	   bad, SIB_MAP / 8 / SIB_STRIDE);
	munmap(m, SIB_MAP);
	free(rst);
	free(info);
	close(sibfd);
	if (sibgrp >= 0)
		close(sibgrp);
	vfio_close(&h);
	return failures ? 1 : 0;
}

static void bad_usage(void)
{
	fprintf(stderr, "usage: vfio-race copy BDF SECONDS | ready BDF DELAY_MS |\n"
			"                 resetwin BDF ROUNDS | sibling BDF SIBLING_BDF\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc != 4)
		bad_usage();
	bdf = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "copy"))
		return cmd_copy(strtoul(argv[3], NULL, 0));
	if (!strcmp(argv[1], "ready"))
		return cmd_ready(strtoul(argv[3], NULL, 0));
	if (!strcmp(argv[1], "resetwin"))
		return cmd_resetwin(strtoul(argv[3], NULL, 0));
	if (!strcmp(argv[1], "sibling"))
		return cmd_sibling(argv[3]);
	bad_usage();
	return 2;
}
