#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Device memory that is not a power of two: 1.75 GiB splits (Hopper) into
# 512 MiB usemem and 1.25 GiB resmem, whose emulated BAR is 2 GiB; the last
# 0.75 GiB of it is padding that reads 0xFF, drops writes and cannot be
# mapped.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

base=$(pci_bar_start "$MEM" 2)
if ! bind_with_props base="$base" size=0x70000000; then
	nok "bind with 1.75 GiB of device memory"
	exit 1
fi
ok "bind with 1.75 GiB of device memory"
expect_eq "usemem: 512 MiB blocks, BAR 512 MiB" "$(nv_attr usemem)" \
	"$(printf '0x%x' "$base") 536870912 536870912"
expect_eq "resmem: the remaining 1.25 GiB, BAR 2 GiB" "$(nv_attr resmem)" \
	"$(printf '0x%x' $((base + 536870912))) 1342177280 2147483648"
"$NG_BIN/vfio-mem" regions "$GPU"
"$NG_BIN/vfio-mem" barsize "$GPU"
"$NG_BIN/vfio-mem" rw "$GPU"
"$NG_BIN/vfio-mem" mmap "$GPU" 2
unbind_all

# Hopper needs more than 1 GiB (resmem) plus one 512 MiB block: the window
# is refused and the device binds as plain vfio-pci (31-fwcheck.sh).
check "1.25 GiB of Hopper memory: still binds" \
	bind_with_props base="$base" size=0x50000000
expect_eq "1.25 GiB of Hopper memory cannot be split: plain vfio-pci" \
	"$(nv_attr mode)" vfio-pci
unbind_all
check "modules unload" sh -c '! grep -q "^nvgrace_vfio_pci " /proc/modules'
