#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark: L2 first touch of usemem through a real VMM, the pack's driver
# against mainline's nvgrace-gpu-vfio-pci (tests/bench/mainline.sh) in the
# same boot. The real-VMM tier's machinery (tests/vmm/tier.sh boots this
# guest, tests/vmm/guest/l2vm.inc runs QEMU): the same L2 (tests/vmm/l2,
# l2.tests=touch) first-touches 256 MiB, then the next 768 MiB of usemem,
# once with the GPU bound to one driver, once to the other, round after
# round (nvgrace.bench_rounds=N, default 3; the driver that goes first
# alternates). L2 times its stores and reads every page back; each run
# stores its own tag, the host checks the last run's in the backing file.
# Prints "# BENCH-VS drv=ours|mainline round=R what=l2_touch_256m|
# l2_touch_1g ms=T faults=F mib=M" (F: KVM's stage-2 faults on L2's BAR4
# during the run, from the kvm_guest_fault hist trigger) for
# tests/bench/vs-mainline.sh, which prints the ratios.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc
# shellcheck source=tests/vmm/guest/l2vm.inc
. /nvgrace/tests/l2vm.inc

ML=/nvgrace/modules/nvgrace-gpu-vfio-pci.ko
ML_DRV=nvgrace_gpu_vfio_pci
TOUCH=256,768
rounds=$(sed -n 's/.*nvgrace\.bench_rounds=\([0-9]*\).*/\1/p' /proc/cmdline)
rounds=${rounds:-3}

if [ ! -c /dev/kvm ]; then
	skip "L2 first touch against mainline" "no /dev/kvm in $(uname -r) (the guest must boot at EL2)"
	exit 0
fi
if [ ! -e "$ML" ]; then
	nok "mainline's nvgrace-gpu-vfio-pci.ko is in the initramfs"
	exit 1
fi
l2_setup || exit 1

# finish STATUS: leave nothing bound, loaded or mounted
finish() {
	pci_unbind "$GPU"
	pci_clear_override "$GPU"
	rmmod "$ML_DRV" 2>/dev/null
	unbind_all
	l2_cleanup
	exit "$1"
}

# shellcheck disable=SC2119 # no extra firmware parameters
if ! bind_with_props; then
	nok "bind the stand-in to the pack's driver with firmware properties"
	finish 1
fi
read -r USE_PHYS USE_LEN _ <"/sys/bus/pci/devices/$GPU/nvgrace/usemem"
USE_FOFF=$((USE_PHYS - $(pci_bar_start "$MEM" 2)))
if [ "$USE_LEN" -lt $((1 << 30)) ]; then
	nok "usemem holds the 1 GiB L2 touches (it has $((USE_LEN >> 20)) MiB)"
	finish 1
fi
if ! insmod "$ML"; then
	nok "load mainline's nvgrace-gpu-vfio-pci"
	finish 1
fi
# The host backs the stand-in's memory with a sparse file: whoever touches
# a page first pays for the host's allocation. vfio-bench touches all of
# usemem once, unmeasured.
if ! "$NG_BIN/vfio-bench" "$GPU" warmup 0 >/tmp/warmup.out 2>&1; then
	nok "warm-up: vfio-bench touches all of usemem through the pack's driver"
	sed 's/^/# /' /tmp/warmup.out
	finish 1
fi
ok "both drivers loaded, usemem ($((USE_LEN >> 20)) MiB) allocated in the host"

tag=0
# l2_round DRV LABEL ROUND: bind the GPU to DRV, run the L2, report
l2_round() {
	tag=$((tag + 1))
	_r=$2-$3
	pci_unbind "$GPU"
	gpu_ready
	if ! pci_bind_override "$GPU" "$1"; then
		nok "$2 round $3: bind the stand-in to $1"
		return 1
	fi
	s2_start
	run_l2 "$_r" virt,gic-version=3 "l2.tests=touch l2.touch=$TOUCH l2.touchtag=$tag"
	s2_stop "$_r"
	pci_unbind "$GPU"
	l2_ran "$_r" "$2 round $3: L2 runs on the GPU bound to $1" || return 1
	_t1=$(kvf "$_r" touch256.touch.ns)
	_t2=$(kvf "$_r" touch768.touch.ns)
	_bad="$(kvf "$_r" touch256.touch.error)$(kvf "$_r" touch768.touch.error)"
	if [ -z "$_t1" ] || [ -z "$_t2" ] || [ -n "$_bad" ] ||
		[ "$(kvf "$_r" touch256.touch.bad)/$(kvf "$_r" touch768.touch.bad)" != 0/0 ]; then
		nok "$2 round $3: L2 first-touches 1 GiB of usemem and reads every page back"
		diag "touch256: '$_t1' touch768: '$_t2' errors: '$_bad'"
		return 1
	fi
	ok "$2 round $3: L2 first-touches 1 GiB of usemem and reads every page back ($((_t1 / 1000000)) ms for 256 MiB, $(((_t1 + _t2) / 1000000)) ms for 1 GiB; stage-2 faults $s2_256m / $s2_1g)"
	[ "$s2_1g" != - ] || diag "no kvm_guest_fault hist trigger: faults=0 below means not counted"
	awk -v d="$2" -v r="$3" -v a="$_t1" -v b="$_t2" -v f1="${s2_256m#-}" -v f2="${s2_1g#-}" 'BEGIN {
		printf "# BENCH-VS drv=%s round=%d what=l2_touch_256m ms=%.1f faults=%d mib=256\n", d, r, a / 1e6, f1
		printf "# BENCH-VS drv=%s round=%d what=l2_touch_1g ms=%.1f faults=%d mib=1024\n", d, r, (a + b) / 1e6, f2
	}'
	last=$tag
}

pci_unbind "$GPU"
last=0
r=1
while [ "$r" -le "$rounds" ]; do
	if [ $((r % 2)) = 1 ]; then
		l2_round "$NG_DRV" ours "$r"
		l2_round "$ML_DRV" mainline "$r"
	else
		l2_round "$ML_DRV" mainline "$r"
		l2_round "$NG_DRV" ours "$r"
	fi
	r=$((r + 1))
done

# The last run's stores in the host's backing file: first and last page.
if [ "$last" -gt 0 ] && [ "$last" = "$tag" ]; then
	for p in 0 $(((1 << 30) - 4096)); do
		echo "# NVGRACE-HOSTCHECK $(printf '0x%x' $((USE_FOFF + p))) u64:$(printf '0x%x' $((0x4e56000000000000 | last << 32 | p)))"
	done
fi
check "no QEMU left after the L2 runs" sh -c '! pidof qemu-system-aarch64'
pci_clear_override "$GPU"
rmmod "$ML_DRV"
unbind_all
check "both drivers unloaded" test ! -d /sys/module/$ML_DRV -a ! -d /sys/module/$NG_DRV
l2_cleanup
