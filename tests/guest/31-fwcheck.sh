#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Firmware windows the driver must refuse (issue 14): an unaligned base, a
# size under a page, a window over System RAM, an emulated BAR larger than a
# VFIO region (1 TiB) and a size whose rounding up to a power of two would
# overflow. Each refusal has its own kernel-log line, and the device still
# binds, as plain vfio-pci.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

check "stand-in GPU made ready" gpu_ready
modprobe nvgrace-vfio-pci
base=$(pci_bar_start "$MEM" 2)
ram=0x$(grep -m1 'System RAM' /proc/iomem | sed 's/^ *//; s/-.*//')
diag "ivshmem BAR2 at $base, first System RAM at $ram"

# refused DESC WANT_STATUS LOG_TEXT FWPROPS_ARGS...
refused() {
	_desc=$1 _want=$2 _log=$3
	shift 3
	_n=$(dmesg | wc -l)
	if ! insmod /nvgrace/modules/nvgrace-test-fwprops.ko "$@"; then
		nok "$_desc: test module takes $*"
		return
	fi
	check "$_desc: device still binds" pci_bind_override "$GPU" "$NG_DRV"
	expect_eq "$_desc: mem_status" "$(nv_attr mem_status)" "invalid $_want"
	expect_eq "$_desc: plain vfio-pci behaviour" "$(nv_attr mode)" vfio-pci
	expect_eq "$_desc: no usemem" "$(nv_attr usemem)" none
	if dmesg | tail -n +$((_n + 1)) | grep -q "$_log"; then
		ok "$_desc: kernel log says '$_log'"
	else
		nok "$_desc: kernel log says '$_log'"
		dmesg | tail -5 | sed 's/^/# /'
	fi
	pci_unbind "$GPU"
	rmmod nvgrace_test_fwprops
}

refused "unaligned base" -14 "is not aligned to the" \
	base="$(printf '0x%x' $((base + 0x800)))" size=0x80000000
refused "size under a page" -34 "is less than a page" \
	base="$base" size=0x800
refused "window over System RAM" -98 "overlaps System RAM" \
	base="$ram" size=0x40000000
refused "BAR beyond a VFIO region (2 TiB)" -7 "larger than a VFIO region" \
	base="$base" size=0x20000000000
refused "size past 2^63 (power-of-two rounding overflows)" -7 \
	"larger than a VFIO region" base="$base" size=0x8000000040000000
refused "Hopper memory too small to split (1.25 GiB)" -34 "cannot be split" \
	base="$base" size=0x50000000

pci_clear_override "$GPU"
check "rmmod nvgrace-vfio-pci" rmmod nvgrace_vfio_pci
