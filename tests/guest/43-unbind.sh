#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Unbind and rmmod while a process holds the device open: rmmod is refused,
# unbind waits for the holder, and everything goes once it lets go.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

# shellcheck disable=SC2119 # no extra firmware parameters
if ! bind_with_props; then
	nok "bind the stand-in with firmware properties"
	exit 1
fi
"$NG_BIN/vfio-mem" hold "$GPU" >/tmp/hold.out 2>&1 &
holder=$!
n=0
while ! grep -q held /tmp/hold.out && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "a process holds the device open" grep -q held /tmp/hold.out

if rmmod nvgrace_vfio_pci 2>/dev/null; then
	nok "rmmod refused while the device is open"
else
	ok "rmmod refused while the device is open"
fi

echo "$GPU" >"/sys/bus/pci/devices/$GPU/driver/unbind" &
unbinder=$!
sleep 1
check "unbind waits while the device is open" kill -0 "$unbinder"
kill "$holder"
wait "$holder" 2>/dev/null
n=0
while kill -0 "$unbinder" 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "unbind completes once the holder exits" sh -c "! kill -0 $unbinder 2>/dev/null"
expect_eq "device unbound" "$(pci_driver "$GPU")" ""
unbind_all
check "modules unloaded" sh -c '! grep -q "^nvgrace_vfio_pci " /proc/modules'
