#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# No access to device memory while the device is reset (issue 14): a thread
# keeps reading a mapped page of usemem during VFIO_DEVICE_RESET; its access
# must wait for the reset to end. Before v6.10 vfio-pci-core cannot zap this
# driver's mappings under its memory_lock, so the driver has to keep faults
# out for the whole reset itself.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

# shellcheck disable=SC2119 # no extra firmware parameters
if ! bind_with_props; then
	nok "bind the stand-in with firmware properties"
	exit 1
fi
ok "bind the stand-in with firmware properties"
"$NG_BIN/vfio-race" resetwin "$GPU" 3
unbind_all
