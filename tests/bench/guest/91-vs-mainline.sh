#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark: the pack's driver against mainline's nvgrace-gpu-vfio-pci (built
# from Debian's linux-source-7.3 by tests/bench/mainline.sh) in the same
# boot, on the same stand-in GPU and memory: the GPU is bound to one, then
# the other, round after round (nvgrace.bench_rounds=N, default 3; after
# one unmeasured pass), and vfio-bench times first touch and pread/pwrite
# of usemem under each. The
# host (tests/bench/vs-mainline.sh) turns the "# BENCH-VS" lines into
# ratios. Also checks, on the pack's driver, that a 1 GiB-aligned mapping
# takes one PUD fault per GiB where the kernel can map PUDs.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

ML=/nvgrace/modules/nvgrace-gpu-vfio-pci.ko
ML_DRV=nvgrace_gpu_vfio_pci
rounds=$(sed -n 's/.*nvgrace\.bench_rounds=\([0-9]*\).*/\1/p' /proc/cmdline)
rounds=${rounds:-3}

if [ ! -e "$ML" ]; then
	nok "mainline's nvgrace-gpu-vfio-pci.ko is in the initramfs"
	exit 1
fi
# shellcheck disable=SC2119 # no extra firmware parameters
if ! bind_with_props; then
	nok "bind the stand-in to the pack's driver with firmware properties"
	exit 1
fi
ok "bind the stand-in to the pack's driver with firmware properties"
use=$(nv_attr usemem)
orders=$(nv_attr huge_orders)
diag "usemem: $use; the pack's driver maps: $orders"
if insmod "$ML"; then
	ok "load mainline's nvgrace-gpu-vfio-pci"
else
	nok "load mainline's nvgrace-gpu-vfio-pci"
	unbind_all
	exit 1
fi

# bench DRV LABEL ROUND: bind the GPU to DRV and run vfio-bench
bench() {
	if ! pci_bind_override "$GPU" "$1"; then
		nok "$2 round $3: bind the stand-in to $1"
		return 1
	fi
	"$NG_BIN/vfio-bench" "$GPU" "$2" "$3" | tee /tmp/bench.out
}

# ours_round ROUND: the pack's driver, and its PUD faults in round 1
ours_round() {
	pud0=$(nv_attr faults_pud)
	bench "$NG_DRV" ours "$1"
	pud=$(($(nv_attr faults_pud) - pud0))
	[ "$1" = 1 ] || return 0
	# one PUD fault per GiB of each touch made at a 1 GiB-aligned VA
	len=$(echo "$use" | cut -d' ' -f2)
	n1g=$(grep -c 'what=touch.* va_align=1g' /tmp/bench.out)
	want=$((n1g * (len >> 30)))
	case $orders in
	*pud*)
		check "ours: usemem ($((len >> 20)) MiB) first touch at a 1 GiB-aligned VA: one PUD fault per GiB ($pud, want $want)" \
			test "$pud" -eq "$want" -a "$want" -gt 0
		;;
	*)
		skip "ours: one PUD fault per GiB at a 1 GiB-aligned VA" \
			"this kernel maps no PFN with a PUD (huge_orders: $orders; $pud PUD faults)"
		;;
	esac
}

# The host backs the stand-in's memory with a sparse file: whoever touches
# a page first pays for the host's allocation. One unmeasured pass first.
bench "$NG_DRV" warmup 0
# Alternate which driver goes first, so drift in the host's load and state
# does not always favour the same one.
r=1
while [ "$r" -le "$rounds" ]; do
	if [ $((r % 2)) = 1 ]; then
		ours_round "$r"
		bench "$ML_DRV" mainline "$r"
	else
		bench "$ML_DRV" mainline "$r"
		ours_round "$r"
	fi
	r=$((r + 1))
done

pci_unbind "$GPU"
pci_clear_override "$GPU"
rmmod "$ML_DRV"
unbind_all
check "both drivers unloaded" test ! -d /sys/module/$ML_DRV -a ! -d /sys/module/$NG_DRV
