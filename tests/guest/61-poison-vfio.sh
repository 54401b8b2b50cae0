#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# nvgrace-poison behind the VFIO driver: the stand-in GPU bound with its
# firmware properties, usemem (region 4) mapped through the VFIO uAPI at a
# huge-aligned address. Injection -> SIGBUS AO to both mappers with the
# right address, AR on a later touch, EIO from the driver's read(),
# neighbours in the same huge block readable, another page's mapper not
# signalled; inject-vs-fault race; the kernel's own memory_failure(); the
# ranges registered at open and released at close and unbind.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

P=/sys/kernel/nvgrace_poison
T=/sys/kernel/debug/nvgrace-poison-test

# shellcheck disable=SC2119
if ! bind_with_props; then
	nok "bind the stand-in with firmware properties"
	exit 1
fi
ok "bind the stand-in with firmware properties"

# usemem: "0xPHYS LENGTH BARSIZE"
# shellcheck disable=SC2046
set -- $(nv_attr usemem)
phys=$1 len=$2
diag "usemem at $phys, $len bytes"
expect_eq "no range registered before the device is opened" \
	"$(cat $P/ranges)" 0
args="--vfio $GPU --off $((4 << 40)) --len $len --phys $phys"

pte0=$(nv_attr faults_pte) pmd0=$(nv_attr faults_pmd)
# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --label "vfio inject: " basic
diag "driver faults during the test: pte $(($(nv_attr faults_pte) - pte0)) pmd $(($(nv_attr faults_pmd) - pmd0))"
expect_eq "closing the device unregisters its ranges" "$(cat $P/ranges)" 0
expect_eq "and drops the poison records" "$(cat $P/poisoned)" 0

# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --label "vfio race: " race 16

# The test module only provides its memory_failure trigger here.
if insmod /nvgrace/modules/nvgrace-test-poison.ko; then
	# shellcheck disable=SC2086
	"$NG_BIN/poison-test" $args --mf $T/memory_failure \
		--label "vfio memory_failure: " native
	rmmod nvgrace_test_poison
else
	nok "insmod nvgrace-test-poison for its memory_failure trigger"
fi

# Held open: both ranges (usemem, resmem) registered until it is closed.
"$NG_BIN/vfio-mem" hold "$GPU" >hold.out 2>&1 &
hold=$!
n=0
while ! grep -q held hold.out && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
want=1
[ "$(nv_attr resmem)" != none ] && want=2
expect_eq "an open device registers its memory ranges" "$(cat $P/ranges)" $want
if rmmod nvgrace_poison 2>/dev/null; then
	nok "nvgrace-poison cannot be unloaded under the driver"
else
	ok "nvgrace-poison cannot be unloaded under the driver"
fi
# The device's own record of its poisoned pages (nobody maps them here).
expect_eq "nvgrace/poisoned: none yet" "$(nv_attr poisoned)" 0
expect_eq "nvgrace/poisoned_list: empty" "$(nv_attr poisoned_list)" ""
psz=$(($(sed -n 's/^KernelPageSize: *\([0-9]*\) kB/\1/p' /proc/self/smaps | head -n 1) * 1024))
p1=$(printf '%#x' $((phys / psz + 7)))
p2=$(printf '%#x' $((phys / psz + 3)))
check "inject usemem pfn $p1" sh -c "echo $p1 >/sys/kernel/debug/nvgrace-poison/inject"
check "inject usemem pfn $p2" sh -c "echo $p2 >/sys/kernel/debug/nvgrace-poison/inject"
expect_eq "nvgrace/poisoned counts both" "$(nv_attr poisoned)" 2
expect_eq "nvgrace/poisoned_list lists them in order" \
	"$(nv_attr poisoned_list | tr '\n' ' ')" "$p2 $p1 "
if echo 0 >"/sys/bus/pci/devices/$GPU/nvgrace/poisoned" 2>/dev/null; then
	nok "nvgrace/poisoned refuses a write"
else
	ok "nvgrace/poisoned refuses a write"
fi
kill "$hold" 2>/dev/null
wait "$hold" 2>/dev/null
expect_eq "closing releases every range" "$(cat $P/ranges)" 0
expect_eq "and the device's poisoned pages" "$(nv_attr poisoned)/$(nv_attr poisoned_list)" 0/
unbind_all
check "rmmod nvgrace-poison after the driver (nothing holds it)" \
	rmmod nvgrace_poison
