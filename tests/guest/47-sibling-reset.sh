#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A hot reset through a SIBLING's VFIO fd (another function on the GPU's bus,
# bound to vfio-pci) resets the GPU too, and must zap the GPU's usemem
# mappings as a reset through the GPU's own fd does (issue 14), keep
# accesses out while it runs, and leave the data in place. Before v6.10
# vfio-pci-core zaps only the mappings it made itself, so the driver zaps
# its own from its reset_prepare() handler. Needs a boot whose GPU has a
# sibling function (boot.sh --sibling); skips in the others.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

SIB=$(pci_find 1234 11e8)
if [ -z "$SIB" ] || [ -z "$GPU" ] || [ "${SIB%:*}" != "${GPU%:*}" ]; then
	skip "hot reset through a sibling's fd" "no sibling function on the GPU's bus (boot.sh --sibling)"
	exit 0
fi
modprobe vfio-pci 2>/dev/null
if ! pci_bind_override "$SIB" vfio-pci; then
	nok "bind the sibling $SIB to vfio-pci"
	exit 1
fi
ok "bind the sibling $SIB to vfio-pci"
# shellcheck disable=SC2119 # no extra firmware parameters
if ! bind_with_props; then
	nok "bind the stand-in with firmware properties"
	pci_unbind "$SIB"
	pci_clear_override "$SIB"
	exit 1
fi
ok "bind the stand-in with firmware properties"
diag "mappings: $(modinfo -F nvgrace_probes_absent /nvgrace/modules/nvgrace-vfio-pci.ko 2>/dev/null |
	grep -q vfio_device_inode && echo "the driver's own (before v6.10)" || echo 'the device inode')"
"$NG_BIN/vfio-race" sibling "$GPU" "$SIB"
unbind_all
pci_unbind "$SIB"
pci_clear_override "$SIB"
