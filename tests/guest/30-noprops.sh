#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Without firmware properties the device binds and behaves like vfio-pci;
# bad property values are reported, never fatal.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

check "stand-in GPU made ready" gpu_ready
modprobe nvgrace-vfio-pci
check "bind without properties" pci_bind_override "$GPU" "$NG_DRV"
expect_eq "no properties reported as absent" \
	"$(cat "/sys/bus/pci/devices/$GPU/nvgrace/mem_status")" absent
if "$NG_BIN/vfio-info" "$GPU" >/tmp/info 2>/tmp/info.err; then
	ok "VFIO device opens (plain vfio-pci behaviour)"
	# bochs-display has no BAR4: plain vfio-pci reports it empty
	expect_eq "no emulated usemem region without properties" \
		"$(grep '^region4_size=' /tmp/info)" region4_size=0x0
else
	nok "VFIO device opens (plain vfio-pci behaviour)"
	sed 's/^/# /' /tmp/info.err
fi
expect_eq "mode without properties is plain vfio-pci" \
	"$(cat "/sys/bus/pci/devices/$GPU/nvgrace/mode")" vfio-pci
pci_unbind "$GPU"

# Firmware reports size 0 when the C2C link is down: -ENOMEM, still binds.
insmod /nvgrace/modules/nvgrace-test-fwprops.ko size=0
check "bind with zero memory size" pci_bind_override "$GPU" "$NG_DRV"
expect_eq "zero size reported as -ENOMEM" \
	"$(cat "/sys/bus/pci/devices/$GPU/nvgrace/mem_status")" "invalid -12"
pci_unbind "$GPU"
rmmod nvgrace_test_fwprops

# A window that wraps around the address space: -EOVERFLOW.
insmod /nvgrace/modules/nvgrace-test-fwprops.ko base=0xfffffffffffff000 size=0x2000
check "bind with a wrapping window" pci_bind_override "$GPU" "$NG_DRV"
expect_eq "wrapping window reported as -EOVERFLOW" \
	"$(cat "/sys/bus/pci/devices/$GPU/nvgrace/mem_status")" "invalid -75"
pci_unbind "$GPU"
rmmod nvgrace_test_fwprops

# Bad parameters of the test module itself are refused with -EINVAL.
if insmod /nvgrace/modules/nvgrace-test-fwprops.ko gpu=zz 2>/dev/null; then
	nok "bad gpu= address refused"
	rmmod nvgrace_test_fwprops
else
	ok "bad gpu= address refused"
fi

pci_clear_override "$GPU"
check "rmmod nvgrace-vfio-pci" rmmod nvgrace_vfio_pci
