#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# GPU readiness through the driver's real path: the stand-in's BAR0 holds the
# C2C-link and HBM-training registers. Never ready: probe fails with -ETIME
# and nothing leaks. Late ready: probe waits. Reset while mapped: the next
# access waits again. Bad module parameters are refused.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

# Never ready.
gpu_regs 0
modprobe nvgrace-vfio-pci ready_timeout_ms=1500 ready_poll_ms=100
insmod /nvgrace/modules/nvgrace-test-fwprops.ko
t0=$(cut -d' ' -f1 /proc/uptime)
pci_bind_override "$GPU" "$NG_DRV"
t1=$(cut -d' ' -f1 /proc/uptime)
expect_eq "never-ready GPU: probe fails, device unbound" "$(pci_driver "$GPU")" ""
check "probe gave up after the timeout (about 1.5 s)" \
	awk "BEGIN { exit !($t1 - $t0 >= 1.4 && $t1 - $t0 < 10) }"
check "the failure names the cause" sh -c 'dmesg | grep -q "GPU not ready after 1500 ms"'
pci_clear_override "$GPU"
rmmod nvgrace_test_fwprops
check "module unloads after the failed probe" rmmod nvgrace_vfio_pci

# Late ready: the stand-in finishes "HBM training" 1.2 s after the test
# module loads (it writes the registers through its own BAR0 mapping).
modprobe nvgrace-vfio-pci ready_poll_ms=100
ti=$(cut -d' ' -f1 /proc/uptime)
insmod /nvgrace/modules/nvgrace-test-fwprops.ko ready_after_ms=1200
tb=$(cut -d' ' -f1 /proc/uptime)
check "late-ready GPU binds" pci_bind_override "$GPU" "$NG_DRV"
w=$(nv_attr ready_wait_ms)
# The probe starts after the shell's next steps, which on a loaded debug
# kernel take most of the 1.2 s: it must wait for the rest (less a poll
# interval and some slack).
want=$(awk "BEGIN { v = 1200 - ($tb - $ti) * 1000 - 300; print (v > 0 ? int(v) : 0) }")
check "probe waited for readiness (${w} ms, at least ${want})" test "$w" -ge "$want"
check "reset counter starts at 0" test "$(nv_attr resets)" -eq 0

# Reset while mapped: the next access waits for the GPU again.
"$NG_BIN/vfio-mem" reset "$GPU" 1500 >/tmp/reset.out 2>&1
cat /tmp/reset.out
if grep -q '^ok - VFIO_DEVICE_RESET while mapped$' /tmp/reset.out; then
	check "device saw the reset" test "$(nv_attr resets)" -ge 1
	w=$(nv_attr ready_wait_ms)
	check "post-reset readiness wait recorded (${w} ms)" test "$w" -ge 1200
fi
unbind_all

if insmod /nvgrace/modules/nvgrace-test-fwprops.ko ready_after_ms=-7 2>/dev/null; then
	nok "test module refuses ready_after_ms=-7"
	rmmod nvgrace_test_fwprops
else
	ok "test module refuses ready_after_ms=-7"
fi

# Module parameters: bad values are refused with EINVAL, good ones kept.
modprobe nvgrace-vfio-pci
p=/sys/module/nvgrace_vfio_pci/parameters
for bad in 0 abc -5 600001 99999999999; do
	if echo "$bad" >"$p/ready_timeout_ms" 2>/dev/null; then
		nok "ready_timeout_ms=$bad refused"
	else
		ok "ready_timeout_ms=$bad refused"
	fi
done
for bad in 0 1001 x; do
	if echo "$bad" >"$p/ready_poll_ms" 2>/dev/null; then
		nok "ready_poll_ms=$bad refused"
	else
		ok "ready_poll_ms=$bad refused"
	fi
done
expect_eq "ready_timeout_ms unchanged by bad writes" "$(cat "$p/ready_timeout_ms")" 30000
check "ready_timeout_ms=5000 accepted" sh -c "echo 5000 >$p/ready_timeout_ms"
expect_eq "ready_timeout_ms reads back" "$(cat "$p/ready_timeout_ms")" 5000
check "the refusal names the parameter" sh -c 'dmesg | grep -q "ready_poll_ms must be a number of milliseconds from 1 to 1000"'
rmmod nvgrace_vfio_pci
if modprobe nvgrace-vfio-pci ready_timeout_ms=0 2>/dev/null; then
	nok "modprobe with ready_timeout_ms=0 fails"
	rmmod nvgrace_vfio_pci
else
	ok "modprobe with ready_timeout_ms=0 fails"
fi
gpu_ready
