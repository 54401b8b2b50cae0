#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Lock ordering of the emulated regions (issue 14), with time bounds so that
# a regression is a failure, not a hung boot:
# - read()/write() whose user buffer is an unfaulted mapping of the same
#   device, while memory decode toggles: once a deadlock (the copy faulted
#   under memory_lock); every thread must finish and the device still work.
# - The post-reset readiness wait does not hold memory_lock or the mmap lock:
#   munmap and a PCI_COMMAND write go through while an access waits.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

# shellcheck disable=SC2119 # no extra firmware parameters
if ! bind_with_props; then
	nok "bind the stand-in with firmware properties"
	exit 1
fi
ok "bind the stand-in with firmware properties"

fi0=$(nv_attr rw_faultin) bo0=$(nv_attr rw_bounced)
"$NG_BIN/vfio-race" copy "$GPU" 5
if [ $? -eq 3 ]; then
	# Unbinding would wait for the stuck threads forever.
	nok "the device is lost to unkillable threads: not unbinding it"
	exit 1
fi
# The copies' user buffer is an unfaulted mapping of usemem: the direct
# copy stops at it and faults it in without memory_lock (main.c).
fi=$(($(nv_attr rw_faultin) - fi0)) bo=$(($(nv_attr rw_bounced) - bo0))
if [ "$fi" -gt 0 ]; then
	ok "usemem copies into an unfaulted mapping faulted it in unlocked ($fi times, $bo chunks bounced)"
else
	nok "usemem copies into an unfaulted mapping faulted it in unlocked (rw_faultin +$fi, rw_bounced +$bo)"
fi
"$NG_BIN/vfio-race" ready "$GPU" 3000
check "driver still bound after the races" test "$(pci_driver "$GPU")" = "$NG_DRV"
unbind_all
