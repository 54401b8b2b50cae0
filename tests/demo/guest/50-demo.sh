#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The demo, inside the guest: what an operator does on a Grace host.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

step() { echo "# ==> $*"; }

step "load the pack"
check "modprobe nvgrace-vfio-pci" modprobe nvgrace-vfio-pci
check "modprobe nvgrace-poison" modprobe nvgrace-poison
step "the firmware of a Grace host describes the GPU memory; here a test module plays it"
check "firmware properties on the stand-in GPU $GPU" \
	insmod /nvgrace/modules/nvgrace-test-fwprops.ko
step "the GPU's readiness registers read 0xFF once its memory is trained; here the test sets them"
check "stand-in GPU made ready" gpu_ready
step "bind the GPU with driver_override"
check "bind $GPU to $NG_DRV" pci_bind_override "$GPU" "$NG_DRV"
for f in mem_status mem_phys mem_length; do
	echo "#     $f: $(cat "/sys/bus/pci/devices/$GPU/nvgrace/$f")"
done
step "open it through VFIO, as QEMU would"
if "$NG_BIN/vfio-info" "$GPU" >/tmp/info; then
	ok "VFIO device info"
	sed 's/^/#     /' /tmp/info
else
	nok "VFIO device info"
fi
step "give it back"
check "unbind" pci_unbind "$GPU"
pci_clear_override "$GPU"
check "unload" rmmod nvgrace_vfio_pci nvgrace_test_fwprops nvgrace_poison
