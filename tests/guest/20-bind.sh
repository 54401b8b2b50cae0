#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Bind the stand-in GPU through driver_override with firmware properties from
# the test module, open it through the VFIO uAPI, and unbind cleanly.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

check "stand-in GPU made ready" gpu_ready
modprobe nvgrace-vfio-pci
check "firmware properties attached (nvgrace-test-fwprops)" \
	insmod /nvgrace/modules/nvgrace-test-fwprops.ko

# A misspelled override is accepted by sysfs and leaves the device unbound.
pci_bind_override "$GPU" nvgrace-vfio-pci
expect_eq "misspelled driver_override leaves the device unbound" \
	"$(pci_driver "$GPU")" ""
check "bind through driver_override" pci_bind_override "$GPU" "$NG_DRV"

attr=/sys/bus/pci/devices/$GPU/nvgrace
expect_eq "device memory properties read" "$(cat "$attr"/mem_status)" ok
expect_eq "memory base is the stand-in BAR" \
	"$(cat "$attr"/mem_phys)" "$(printf '0x%x' "$(pci_bar_start "$MEM" 2)")"
expect_eq "memory length is the stand-in BAR size" \
	"$(cat "$attr"/mem_length)" "$(pci_bar_len "$MEM" 2)"
# No NVIDIA DVSEC 3 on the stand-in: the Hopper MIG-bug split, 2 GiB ->
# 1 GiB usemem + 1 GiB resmem at the end.
base=$(pci_bar_start "$MEM" 2)
expect_eq "Hopper split mode" "$(cat "$attr"/mode)" split
expect_eq "usemem: start of memory, 1 GiB, BAR 1 GiB" "$(cat "$attr"/usemem)" \
	"$(printf '0x%x' "$base") 1073741824 1073741824"
expect_eq "resmem: the last 1 GiB" "$(cat "$attr"/resmem)" \
	"$(printf '0x%x' $((base + 1073741824))) 1073741824 1073741824"

if "$NG_BIN/vfio-info" "$GPU" >/tmp/info 2>/tmp/info.err; then
	ok "VFIO device opens through the group uAPI"
	expect_eq "VFIO reports a PCI device" "$(grep '^pci=' /tmp/info)" pci=1
	expect_eq "BAR0 region size matches sysfs" \
		"$(grep '^region0_size=' /tmp/info)" \
		"region0_size=$(printf '0x%x' "$(pci_bar_len "$GPU" 0)")"
	expect_eq "region 4 is the emulated usemem BAR" \
		"$(grep '^region4_size=' /tmp/info)" region4_size=0x40000000
	diag "device reset support: $(grep '^reset=' /tmp/info)"
else
	nok "VFIO device opens through the group uAPI"
	sed 's/^/# /' /tmp/info.err
fi

check "unbind" pci_unbind "$GPU"
pci_clear_override "$GPU"
check "rmmod nvgrace-vfio-pci after unbind" rmmod nvgrace_vfio_pci
check "rmmod nvgrace-test-fwprops" rmmod nvgrace_test_fwprops
check "sysfs state gone with the driver" test ! -e "$attr"
