#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# boot.sh: boot one kernel under QEMU TCG with the GPU stand-in, run the guest
# tests, report TAP.
#
# Usage: boot.sh --arch arm64|amd64 (--image DIR | --kernel IMAGE) [options]
#   --image DIR        image dir: DIR/vmlinuz + DIR/lib/modules/<release>/
#                      (tests/matrix/kernels.sh image), or a Debian package
#                      extraction (boot/vmlinuz-*, [usr/]lib/modules/*)
#   --kernel IMAGE     a kernel image with no module tree (custom build);
#                      combinable with --image for the module tree. Inside a
#                      kernel build dir (arch/arm64/boot/Image), its
#                      _modinst/ modules or modules.builtin lists are used
#   --name NAME        name in the output (default ARCH/SERIES, e.g. arm64/6.12)
#   --modules DIR      the pack's built *.ko for this kernel (repeatable)
#   --tests DIR        guest test scripts (repeatable; default tests/guest)
#   --bin DIR          static guest programs (repeatable)
#   --kmods "LIST" / --extra-kmods "LIST"   kernel modules (see mkinitramfs.sh)
#   --initrd-append CPIO  a newc archive appended to the initramfs (the
#                      kernel unpacks concatenated archives); for big trees
#                      a kernel without virtio-blk needs (repeatable)
#   --initrd FILE      boot this initramfs as is (e.g. a distribution's, with
#                      a root disk given by --qemu-arg) instead of building
#                      one; --modules, --tests, --bin and --kmods then do not
#                      apply, and the guest itself prints the TAP section
#   --tcg-thread single|multi  TCG threads (default: single on amd64, see
#                      below; QEMU's choice, multi, on arm64)
#   --timeout SEC      overall timeout, QEMU killed after it (default 900)
#   --test-timeout SEC per-script timeout in the guest (default 300)
#   --only PATTERNS    run only scripts matching these comma-separated globs
#   --qemu 10|host     QEMU 10.0 from bookworm-backports (default) or the
#                      host's /usr/bin QEMU (bookworm: 7.2)
#   --mem-file PATH    host file backing the ivshmem BAR2 ("GPU memory"); kept
#                      after the run (created sparse if missing, else used as
#                      is, so the host can pre-fill it); default: a fresh
#                      sparse file in /dev/shm, deleted afterwards
#   --mem-size SIZE    its size (power of two, default 2G)
#   --sibling          give the GPU stand-in a sibling: it becomes function 0
#                      of a multifunction slot and an "edu" device (1234:11e8)
#                      function 1, on the same bus, so one bus reset resets
#                      both (a hot reset through the sibling's VFIO fd). The
#                      GPU's own VFIO_DEVICE_RESET then has no reset method
#                      (a bus reset needs it alone on its bus): only the tests
#                      made for it run well in such a boot
#   --ram SIZE         guest RAM (default 2G);  --smp N (default 2)
#   --log FILE         also copy the serial log there
#   --append ARGS      extra kernel command line
#   --qemu-arg ARG     extra QEMU argument (repeatable)
#   --context N        guest log lines shown per failure (default 40, 0: none)
#   -v, --verbose      stream the serial console to stderr
#
# Stdout: "ok - NAME: SCRIPT: DESC" / "not ok - NAME: ..." per test
# ("# SKIP" directives kept), "# ..." diagnostics (40 lines of guest log
# around each failure), last line "BOOT-SUMMARY NAME passed=N failed=N skipped=N".
# Exit status: 0 if nothing failed (skips allowed), 1 otherwise, 2 on usage
# or setup errors. Full logs stay in $NVGRACE_CACHE/logs/.
# Environment: NG_GUEST_SLOTS=N lets N guests run at once (default 1).
set -euo pipefail

# shellcheck source=bootlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bootlib.sh"

usage() { sed -n '/^# SPDX/,/^[^#]/{/^#/p}' "$0" | sed '1d; s/^# \{0,1\}//'; }

arch='' image='' kernel='' initrd='' tcg_thread='' name='' timeout=900 ttimeout=300 only='' qemu_sel=10
memfile='' memsize=2G sibling=0 ram=2G smp=2 userlog='' append='' verbose=0 ctx=40
slots=${NG_GUEST_SLOTS:-1}
[[ $slots =~ ^[1-9][0-9]*$ ]] || die "boot.sh: NG_GUEST_SLOTS must be a positive number, not '$slots'"
tests=() bins=() mkargs=() qextra=() packdirs=() appends=()
while [ $# -gt 0 ]; do
	case $1 in
	--arch) arch=$(ng_arch_norm "$2"); shift ;;
	--image) image=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--name) name=$2; shift ;;
	--modules) packdirs+=("$2"); shift ;;
	--tests) tests+=("$2"); shift ;;
	--bin) bins+=("$2"); shift ;;
	--initrd-append) appends+=("$2"); shift ;;
	--initrd) initrd=$2; shift ;;
	--tcg-thread) tcg_thread=$2; shift ;;
	--kmods | --extra-kmods) mkargs+=("$1" "$2"); shift ;;
	--timeout) timeout=$2; shift ;;
	--test-timeout) ttimeout=$2; shift ;;
	--only) only=$2; shift ;;
	--qemu) qemu_sel=$2; shift ;;
	--mem-file) memfile=$2; shift ;;
	--mem-size) memsize=$2; shift ;;
	--sibling) sibling=1 ;;
	--ram) ram=$2; shift ;;
	--smp) smp=$2; shift ;;
	--log) userlog=$2; shift ;;
	--append) append=$2; shift ;;
	--qemu-arg) qextra+=("$2"); shift ;;
	--context) ctx=$2; shift ;;
	-v | --verbose) verbose=1 ;;
	-h | --help) usage; exit 0 ;;
	*) msg "boot.sh: unknown argument: $1"; usage >&2; exit 2 ;;
	esac
	shift
done
fail_setup() { msg "boot.sh: $*"; exit 2; }
[ -n "$arch" ] || fail_setup "--arch is required"
[ -n "$image" ] || [ -n "$kernel" ] || fail_setup "--image or --kernel is required"
if [ -z "$kernel" ]; then
	kernel=$(ng_image_kernel "$image") || fail_setup "no kernel image in $image"
fi
[ -f "$kernel" ] || fail_setup "no kernel image $kernel"
rel=''
kbuild=''
if [ -z "$image" ] && kbuild=$(ng_kbuild_dir "$kernel"); then
	mkargs+=(--kbuild "$kbuild")
	rel=$(cat "$kbuild/include/config/kernel.release")
fi
if [ -n "$image" ]; then
	moddir=$(ng_image_moddir "$image") || fail_setup "no lib/modules/<release>/kernel in $image"
	rel=${moddir##*/}
fi
if [ -z "$name" ]; then
	if [ -n "$kbuild" ]; then name=$arch/custom-$rel
	elif [ -n "$rel" ]; then name=$arch/$(ng_release_series "$rel")
	else name=$arch/custom; fi
fi
if [ ${#tests[@]} -eq 0 ] && [ -d "$NVGRACE_TOP/tests/guest" ]; then
	tests=("$NVGRACE_TOP/tests/guest")
fi
[ "$qemu_sel" = 10 ] || [ "$qemu_sel" = host ] || fail_setup "--qemu takes 10 or host"
case $tcg_thread in
'' | single | multi) ;;
*) fail_setup "--tcg-thread takes single or multi" ;;
esac
[ -z "$initrd" ] || [ -f "$initrd" ] || fail_setup "no initramfs $initrd"

ng_qemu_env
if [ "$arch" = arm64 ]; then qbin="qemu-system-aarch64"; else qbin="qemu-system-x86_64"; fi
if [ "$qemu_sel" = 10 ]; then
	if [ "$arch" = arm64 ]; then qemu=$NG_QEMU_AARCH64; else qemu=$NG_QEMU_X86_64; fi
else
	qemu=/usr/bin/$qbin
	if [ ! -x "$qemu" ]; then
		if [ "$arch" = arm64 ]; then ng_need qemu-system-arm; else ng_need qemu-system-x86; fi
	fi
fi
# NG_BOOT_QEMU_WRAP=CMD (tests of this script): run QEMU as "CMD QEMU ARGS..."
wrap=()
[ -z "${NG_BOOT_QEMU_WRAP:-}" ] || wrap=("$NG_BOOT_QEMU_WRAP")
qver=$("$qemu" --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')

# Build (or reuse) the initramfs, unless one was given.
if [ -z "$initrd" ]; then
	mk=(--arch "$arch" "${mkargs[@]}")
	[ -n "$image" ] && mk+=(--image "$image")
	for m in "${packdirs[@]}"; do mk+=(--modules "$m"); done
	for t in "${tests[@]}"; do mk+=(--tests "$t"); done
	for b in "${bins[@]}"; do mk+=(--bin "$b"); done
	initrd=$("$NG_BOOT_DIR/mkinitramfs.sh" "${mk[@]}") || fail_setup "mkinitramfs.sh failed"
fi
for a in "${appends[@]}"; do [ -s "$a" ] || fail_setup "no archive $a to append"; done

# One guest at a time by default: TCG guests fight over the cores. With
# NG_GUEST_SLOTS=N, N guests run at once (make check: a guest mostly keeps
# one core busy), each holding one of the locks boot.lock, boot.lock.1, ...
# All tiers boot their guests through this script alone.
mkdir -p "$NVGRACE_CACHE/run" "$NVGRACE_CACHE/logs" "$NVGRACE_CACHE/tmp"
waited=0
while :; do
	for ((slot = 0; slot < slots; slot++)); do
		lock=$NVGRACE_CACHE/run/boot.lock
		[ "$slot" = 0 ] || lock=$lock.$slot
		exec 9>"$lock"
		flock -n 9 && break 2
		exec 9>&-
	done
	if [ "$slots" = 1 ]; then
		msg "boot.sh: waiting for another guest to finish"
		exec 9>"$NVGRACE_CACHE/run/boot.lock"
		flock 9
		break
	fi
	[ $waited = 1 ] || msg "boot.sh: waiting for one of $slots guest slots"
	waited=1
	sleep 2
done

stamp=$(date +%Y%m%d-%H%M%S)
log=$NVGRACE_CACHE/logs/${name//\//-}-$stamp-$$.log
ln -sfn "${log##*/}" "$NVGRACE_CACHE/logs/${name//\//-}.latest.log"
: >"$log"
qerr=$log.qemu-stderr
# Keep the log directory bounded (newest 300 logs).
find "$NVGRACE_CACHE/logs" -name '*.log' -printf '%T@ %p\n' | sort -rn | tail -n +301 | cut -d' ' -f2- | xargs -r rm -f

tmpinitrd=
if [ ${#appends[@]} -gt 0 ]; then
	tmpinitrd=$NVGRACE_CACHE/tmp/initrd-$$.cpio
	cat "$initrd" "${appends[@]}" >"$tmpinitrd"
	initrd=$tmpinitrd
fi

tmpmem=
if [ -n "$memfile" ]; then
	[ -e "$memfile" ] || truncate -s "$memsize" "$memfile"
	# ivshmem needs the file at least as large as the BAR
	want=$(numfmt --from=iec "$memsize")
	[ "$(stat -c %s "$memfile")" -ge "$want" ] || truncate -s "$memsize" "$memfile"
else
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then d=/dev/shm; else d=$NVGRACE_CACHE/tmp; fi
	memfile=$d/nvgrace-boot-$$.mem
	tmpmem=$memfile
	rm -f "$memfile"
	truncate -s "$memsize" "$memfile"
fi

cmdline="panic=-1 printk.devkmsg=on rdinit=/init nvgrace.timeout=$ttimeout nvgrace.name=$name"
[ -n "$only" ] && cmdline="$cmdline nvgrace.only=$only"
if [ "$arch" = arm64 ]; then
	# pauth-impdef: a cheap pointer-auth algorithm, 3-4x faster TCG boots
	cpu=max,pauth-impdef=on
	# shellcheck disable=SC2054
	qargs=(-M virt,gic-version=3,iommu=smmuv3,virtualization=on -cpu "$cpu")
	[ -z "$tcg_thread" ] || qargs+=(-accel "tcg,thread=$tcg_thread")
	cmdline="console=ttyAMA0 $cmdline"
else
	# One TCG thread for both vCPUs: multi-threaded TCG of QEMU 10.0
	# x86_64 aborts ("iotlb_to_section: Assertion ... failed") or hangs
	# with every thread asleep when one vCPU toggles the ivshmem BAR's
	# memory decode while the other accesses it, as 45-locking does
	# thousands of times (seen in 3 of about 6 such boots under load on
	# 2026-11-27). Round-robin vCPUs still interleave the guest's threads.
	# A guest that does no such thing may ask for multi (install-vm.sh:
	# DKMS builds on two host threads).
	# shellcheck disable=SC2054
	qargs=(-M q35 -accel "tcg,thread=${tcg_thread:-single}" -cpu max -device intel-iommu,intremap=off)
	cmdline="console=ttyS0 intel_iommu=on $cmdline"
fi
[ -n "$append" ] && cmdline="$cmdline $append"
# shellcheck disable=SC2054
gpudev=(-device bochs-display,romfile=,bus=gpurp)
# shellcheck disable=SC2054
[ $sibling = 0 ] || gpudev=(-device bochs-display,romfile=,bus=gpurp,addr=0.0,multifunction=on
	-device edu,bus=gpurp,addr=0.1)
# shellcheck disable=SC2054
qargs+=(-smp "$smp" -m "$ram" -nodefaults -display none -no-reboot
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	-serial "file:$log" -monitor none
	-device pcie-root-port,id=gpurp,chassis=1,slot=1
	"${gpudev[@]}"
	-object "memory-backend-file,id=gpumem,share=on,mem-path=$memfile,size=$memsize"
	-device ivshmem-plain,memdev=gpumem
	"${qextra[@]}")

qpid=
tailpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	[ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
	[ -n "$tmpmem" ] && rm -f "$tmpmem"
	[ -n "$tmpinitrd" ] && rm -f "$tmpinitrd"
	[ -n "${memsnap:-}" ] && rm -f "$memsnap"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A QEMU that aborts on an assertion in its own code says nothing about the
# pack (seen once in many hundreds of boots: TCG's "iotlb_to_section:
# Assertion ... failed" while the guest remapped a BAR under heavy host
# load). The guest is then booted once more, from the same device-memory
# contents, and the output says so; the crashed run's serial log is kept.
memsnap=''
if [ -z "$tmpmem" ] && [ "$(du -k "$memfile" | cut -f1)" -le 262144 ]; then
	memsnap=$memfile.boot-$$
	cp --sparse=always "$memfile" "$memsnap"
fi
attempt=1
while :; do
	# elapsed seconds since QEMU started, with no forks (the guest needs the CPUs)
	t0us=${EPOCHREALTIME/./}
	tick() { el=$(((${EPOCHREALTIME/./} - t0us) / 1000)); el=$((el / 1000)).$(printf %03d $((el % 1000))); }
	"${wrap[@]}" "$qemu" "${qargs[@]}" </dev/null >"$qerr" 2>&1 &
	qpid=$!
	echo "$qpid" >"$log.pid"
	if [ $verbose = 1 ]; then
		tail -n +1 -f "$log" >&2 &
		tailpid=$!
	fi

	# markers LOG: note when each progress marker first shows up
	markers() {
		local m
		m=$(grep -o -E '^(NVGRACE-INIT: started|NVGRACE-TAP-BEGIN|NVGRACE-TAP-END|NVGRACE-DMESG-END)|Kernel panic - not syncing' "$log" | sort -u) || true
		case $m in *NVGRACE-INIT*) t_init=${t_init:-$el} ;; esac
		case $m in *NVGRACE-TAP-BEGIN*) t_tap=${t_tap:-$el} ;; esac
		case $m in *NVGRACE-TAP-END*) t_end=${t_end:-$el} ;; esac
		case $m in *NVGRACE-DMESG-END* | *"Kernel panic"*) end_seen=${end_seen:-${el%.*}} ;; esac
		return 0
	}
	timed_out=0 t_init='' t_tap='' t_end='' end_seen=''
	while kill -0 "$qpid" 2>/dev/null; do
		tick
		markers
		# Finished (or panicked) but QEMU still up: give it a moment, then stop it.
		if [ -n "$end_seen" ] && [ $((${el%.*} - end_seen)) -gt 15 ]; then
			kill "$qpid" 2>/dev/null || true
			break
		fi
		if [ "${el%.*}" -ge "$timeout" ]; then
			timed_out=1
			kill "$qpid" 2>/dev/null || true
			sleep 1
			kill -9 "$qpid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	qrc=0
	wait "$qpid" 2>/dev/null || qrc=$?
	qpid=
	tick
	t_exit=$el
	markers
	[ -n "$tailpid" ] && { kill "$tailpid" 2>/dev/null || true; wait "$tailpid" 2>/dev/null || true; tailpid=; }
	if [ -s "$qerr" ]; then
		{ echo "NVGRACE-QEMU-STDERR-BEGIN"; cat "$qerr"; echo "NVGRACE-QEMU-STDERR-END"; } >>"$log"
	fi
	rm -f "$qerr" "$log.pid"
	if [ "$attempt" = 1 ] && [ "$qrc" = 134 ] &&
		crash=$(grep -m1 -E '^qemu-system-[a-z0-9_]+: .*Assertion .* failed' "$log") &&
		{ [ -n "$tmpmem" ] || [ -n "$memsnap" ]; }; then
		mv "$log" "$log.qemu-crash"
		: >"$log"
		if [ -n "$tmpmem" ]; then
			rm -f "$memfile"
			truncate -s "$memsize" "$memfile"
		else
			cp --sparse=always "$memsnap" "$memfile"
		fi
		echo "# $name: QEMU aborted in its own code (${crash:0:200}); booting again, once (serial log of the crashed run: $log.qemu-crash)"
		attempt=2
		continue
	fi
	break
done
[ -z "$memsnap" ] || rm -f "$memsnap"
[ -n "$userlog" ] && cp "$log" "$userlog"

# ---- parse the serial log ----
tr -d '\r' <"$log" >"$log.clean"
passed=0 failed=0 skipped=0
context() { # context LINE [BEFORE]: $ctx lines of the guest log around LINE
	[ "$ctx" -gt 0 ] || return 0
	local a=$(($1 - ${2:-30} * ctx / 40))
	[ $a -lt 1 ] && a=1
	sed -n "${a},$((a + ctx - 1))p" "$log.clean" | sed 's/^/#   | /'
}
report() { # report ok|not_ok DESC [LINE [BEFORE]]
	local desc=$1
	case $2 in
	*"# "[Ss][Kk][Ii][Pp]* | *"# "[Tt][Oo][Dd][Oo]*) skipped=$((skipped + 1)) ;;
	*) if [ "$desc" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi ;;
	esac
	if [ "$desc" = ok ]; then
		echo "ok - $name: $2"
	else
		echo "not ok - $name: $2"
		case $2 in *"# "[Tt][Oo][Dd][Oo]*) return 0 ;; esac
		[ -n "${3:-}" ] && context "$3" "${4:-30}"
	fi
	return 0
}

plan='' ntests=0
while IFS=$'\t' read -r ln kind rest; do
	case $kind in
	ok) report ok "$rest"; ntests=$((ntests + 1)) ;;
	notok) report not_ok "$rest" "$ln"; ntests=$((ntests + 1)) ;;
	plan) plan=$rest ;;
	esac
done < <(awk '
	/^NVGRACE-TAP-BEGIN/ { on = 1; next }
	/^NVGRACE-TAP-END/ { on = 0 }
	!on { next }
	/^ok [0-9]+ - / { sub(/^ok [0-9]+ - /, ""); print NR "\tok\t" $0; next }
	/^not ok [0-9]+ - / { sub(/^not ok [0-9]+ - /, ""); print NR "\tnotok\t" $0; next }
	/^1\.\.[0-9]+$/ { sub(/^1\.\./, ""); print NR "\tplan\t" $0 }
' "$log.clean")

# Guest writes the host must find in the device-memory file: guest tests
# print "# NVGRACE-HOSTCHECK OFFSET PATTERN" (check-memfile.sh's arguments).
while read -r ln off pat; do
	if "$NG_BOOT_DIR/check-memfile.sh" "$memfile" "$off" "$pat" >/dev/null 2>&1; then
		report ok "host file holds the guest's write at $off ($pat)"
	else
		report not_ok "host file holds the guest's write at $off ($pat)" "$ln"
	fi
done < <(awk '/NVGRACE-HOSTCHECK / { sub(/.*NVGRACE-HOSTCHECK /, ""); print NR " " $0 }' "$log.clean")

panic_ln=$(grep -n -m1 -e 'Kernel panic - not syncing' "$log.clean" | cut -d: -f1 || true)
if [ "$timed_out" = 1 ]; then
	report not_ok "boot timed out after ${timeout}s" "$(wc -l <"$log.clean")"
fi
if [ -n "$panic_ln" ]; then
	report not_ok "kernel panic: $(sed -n "${panic_ln}s/.*Kernel panic - not syncing: *//p" "$log.clean")" "$panic_ln" 15
fi
# Reports of the kernel's checkers while it booted (the guest runner checks
# the log from the first test on; a panic is reported above): lockdep, KASAN,
# KFENCE, UBSAN, object debugging, hung tasks, soft lockups.
if grep -q '^NVGRACE-DMESG-BEGIN' "$log.clean"; then
	boot_bad=$(awk '/^NVGRACE-DMESG-BEGIN/ { on = 1; next }
		/nvgrace-runner: tests begin/ { on = 0 }
		on && /BUG: |UBSAN:|ODEBUG:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|non-static key|blocked for more than|soft lockup/ { print NR }' \
		"$log.clean" | head -n1)
	if [ -n "$boot_bad" ]; then
		report not_ok "no kernel checker report while booting: $(sed -n "${boot_bad}p" "$log.clean" | cut -c1-160)" "$boot_bad" 5
	else
		report ok "no kernel checker report while booting"
	fi
fi
if [ -z "$plan" ]; then
	if [ "$timed_out" = 0 ] && [ -z "$panic_ln" ]; then
		why="guest stopped before the TAP plan (qemu exit $qrc)"
		grep -q '^NVGRACE-INIT: started' "$log.clean" || why="guest never reached /init (qemu exit $qrc)"
		report not_ok "$why" "$(wc -l <"$log.clean")"
	fi
elif [ "$plan" != "$ntests" ]; then
	report not_ok "TAP plan 1..$plan but $ntests test lines"
fi

echo "# $name: kernel $kernel${rel:+ ($rel)}, QEMU $qver, /init at ${t_init:--}s, TAP begin at ${t_tap:--}s, TAP end at ${t_end:--}s, QEMU exit at ${t_exit}s"
echo "# $name: serial log $log"
[ -n "$tmpmem" ] || echo "# $name: device memory file kept: $memfile"
rm -f "$log.clean"
echo "BOOT-SUMMARY $name passed=$passed failed=$failed skipped=$skipped"
[ "$failed" -eq 0 ]
