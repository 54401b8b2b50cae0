#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# usemem mapped through the VFIO cdev (/dev/vfio/devices/vfioN bound to
# iommufd, what QEMU's iommufd backend opens) instead of the group's device
# file: the mapping works, and nvgrace-poison finds it. An injected poison
# signals early-kill mappers at the right address and, with zap=always,
# zaps the page (BUS_MCEERR_AR on the next touch); new mappings and pread
# refuse it. Before v6.10 the driver refused every such mapping with ENODEV
# (a cdev file's f_mapping is not the anonymous inode's, which its poison
# walk needed); a build without the vfio_device_inode probe (the custom
# tier's 6.12tr boot) runs this on the pre-6.10 code. Skips on kernels
# without IOMMUFD or VFIO cdev.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

if [ ! -c /dev/iommu ]; then
	skip "usemem poison through the VFIO cdev" "kernel $(uname -r) has no IOMMUFD"
	exit 0
fi
# shellcheck disable=SC2119
if ! bind_with_props; then
	nok "bind the stand-in with firmware properties"
	exit 1
fi
ok "bind the stand-in with firmware properties"
set -- "/sys/bus/pci/devices/$GPU/vfio-dev/vfio"*
if [ ! -e "$1" ]; then
	skip "usemem poison through the VFIO cdev" "kernel $(uname -r) has no VFIO cdev"
	unbind_all
	exit 0
fi
diag "probes absent: $(modinfo -F nvgrace_probes_absent /nvgrace/modules/nvgrace-vfio-pci.ko 2>/dev/null |
	grep -q vfio_device_inode && echo 'the pre-6.10 list' || echo 'the device inode')"

# usemem: "0xPHYS LENGTH BARSIZE"
# shellcheck disable=SC2046
set -- $(nv_attr usemem)
phys=$1 len=$2
args="--cdev $GPU --off $((4 << 40)) --len $len --phys $phys"

# poison-test's basic and page tests poison pages 2 blocks and more into
# usemem and need 5 blocks (PMD size: 2 MiB with 4K pages, 512 MiB with
# 64K pages).
psz=$(($(sed -n 's/^KernelPageSize: *\([0-9]*\) kB/\1/p' /proc/self/smaps | head -n 1) * 1024))
blk=$((psz * psz / 8))
if [ $((5 * blk)) -gt "$len" ]; then
	skip "usemem poison through the VFIO cdev" \
		"usemem $len bytes, fewer than 5 blocks of $blk"
	unbind_all
	exit 0
fi

P=/sys/module/nvgrace_poison/parameters
echo always >$P/zap
echo 1 >/proc/sys/vm/memory_failure_early_kill
# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --zap 1 --label "cdev zap=always, early kill: " basic
echo 0 >/proc/sys/vm/memory_failure_early_kill
echo auto >$P/zap
expect_eq "the cdev's poison is recorded for the device (nvgrace/poisoned)" \
	"$(nv_attr poisoned)" 1

# The page basic poisoned: 2 blocks + 3 pages into usemem, refused to a
# fresh cdev mapping; cleared, it maps again.
poff=$((2 * blk + 3 * psz))
# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --label "cdev reopened: " page $poff poisoned
echo 0 >"/sys/bus/pci/devices/$GPU/nvgrace/poisoned"
# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --label "cdev cleared: " page $poff clean
echo 0 >"/sys/bus/pci/devices/$GPU/nvgrace/poisoned"
unbind_all
