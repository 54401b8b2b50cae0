#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# nvgrace-poison behind the VFIO driver: the stand-in GPU bound with its
# firmware properties, usemem (region 4) mapped through the VFIO uAPI at a
# huge-aligned address. Injection -> SIGBUS AO to early-kill mappers with
# the right address, the page left mapped (zap=auto on a kernel without
# the companion patch 0006) or zapped with AR on a later touch
# (zap=always), AR for a new mapping, EIO from the driver's read(),
# neighbours in the same huge block readable, another page's mapper not
# signalled; futex and VFIO type1 pinning of a poisoned page get EFAULT
# where the driver refuses it (only KVM is told EHWPOISON, patch 0006);
# inject-vs-fault race; the kernel's own memory_failure(); the
# ranges registered at open and released at close, the poison records kept
# across close and reopen until a write of 0 to nvgrace/poisoned or unbind.
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

want_zap=0
[ "$(kvm_expect)" = patched ] && want_zap=1
expect_eq "zap=auto: pages zapped only with patch 0006" "$(cat $P/zap)" $want_zap

pte0=$(nv_attr faults_pte) pmd0=$(nv_attr faults_pmd)
# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --zap $want_zap --label "vfio inject: " basic
diag "driver faults during the test: pte $(($(nv_attr faults_pte) - pte0)) pmd $(($(nv_attr faults_pmd) - pmd0))"
expect_eq "closing the device unregisters its ranges" "$(cat $P/ranges)" 0
# The page basic poisoned: 2 blocks + 3 pages into usemem.
psz=$(($(sed -n 's/^KernelPageSize: *\([0-9]*\) kB/\1/p' /proc/self/smaps | head -n 1) * 1024))
blk=$((psz * psz / 8))
poff=$((2 * blk + 3 * psz))
ppfn=$(printf '%#x' $(((phys + poff) / psz)))
if [ $((4 * blk + blk)) -le "$len" ]; then
	expect_eq "closing keeps the device's poison record (nvgrace/poisoned)" \
		"$(nv_attr poisoned)/$(nv_attr poisoned_list)" "1/$ppfn"
	# shellcheck disable=SC2086
	"$NG_BIN/poison-test" $args --label "vfio reopened: " page $poff poisoned
	# Kernel callers of fixup_user_fault() other than KVM (futex, VFIO
	# type1 pinning) keep EFAULT for a page the driver refuses as
	# poisoned: the companion patch 0006 tells only KVM (EHWPOISON).
	# shellcheck disable=SC2086
	"$NG_BIN/poison-test" $args --zap $want_zap --label "vfio reopened: " fixup $poff
	if [ $want_zap -eq 0 ]; then
		echo always >/sys/module/nvgrace_poison/parameters/zap
		# shellcheck disable=SC2086
		"$NG_BIN/poison-test" $args --zap 1 --label "vfio reopened, zap=always: " fixup $poff
		echo auto >/sys/module/nvgrace_poison/parameters/zap
	fi
	if echo 1 >"/sys/bus/pci/devices/$GPU/nvgrace/poisoned" 2>/dev/null; then
		nok "nvgrace/poisoned refuses a write of 1"
	else
		ok "nvgrace/poisoned refuses a write of 1"
	fi
	check "a write of 0 to nvgrace/poisoned clears the records" \
		sh -c "echo 0 >/sys/bus/pci/devices/$GPU/nvgrace/poisoned"
	expect_eq "no poison records after the clear" "$(nv_attr poisoned)" 0
	# shellcheck disable=SC2086
	"$NG_BIN/poison-test" $args --label "vfio cleared: " page $poff clean
fi

# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --label "vfio race: " race 16
echo 0 >"/sys/bus/pci/devices/$GPU/nvgrace/poisoned"

# Zapping forced and early kill as the system default.
echo always >/sys/module/nvgrace_poison/parameters/zap
echo 1 >/proc/sys/vm/memory_failure_early_kill
# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --zap 1 --label "vfio zap=always, early kill: " basic
echo 0 >/proc/sys/vm/memory_failure_early_kill
echo auto >/sys/module/nvgrace_poison/parameters/zap
echo 0 >"/sys/bus/pci/devices/$GPU/nvgrace/poisoned"

# The test module only provides its memory_failure trigger here.
if insmod /nvgrace/modules/nvgrace-test-poison.ko; then
	# shellcheck disable=SC2086
	"$NG_BIN/poison-test" $args --zap $want_zap --mf $T/memory_failure \
		--label "vfio memory_failure: " native
	rmmod nvgrace_test_poison
	echo 0 >"/sys/bus/pci/devices/$GPU/nvgrace/poisoned"
else
	nok "insmod nvgrace-test-poison for its memory_failure trigger"
fi

# A range whose fault lock is held (a fault waiting for its device) delays
# only its own poison handling: the GPU's open and close (registration) and
# the handling of the GPU's own poison go on meanwhile.
cs() { read -r _u _ </proc/uptime; echo "${_u%.*}${_u#*.}"; }
if insmod /nvgrace/modules/nvgrace-test-poison.ko extra_ranges=1; then
	echo always >/sys/module/nvgrace_poison/parameters/zap
	pshift=0 x=$psz
	while [ $x -gt 1 ]; do x=$((x / 2)) pshift=$((pshift + 1)); done
	xpfn=$(printf '%#x' $((1 << (46 - pshift))))
	# 8 s: the debug kernel (KASAN, lockdep) needs 4 s for the GPU's round.
	check "hold the dummy range's fault lock for 8 s" sh -c "echo 8000 >$T/hold_fault_lock"
	t0=$(cs)
	(echo "$xpfn" >/sys/kernel/debug/nvgrace-poison/inject; cs >inject-x.done) &
	xinj=$!
	sleep 0.3
	t1=$(cs)
	# shellcheck disable=SC2086
	"$NG_BIN/poison-test" $args --label "other range stalled: " page $((3 * psz)) clean
	t2=$(cs)
	diag "GPU open, map, read, close took $(((t2 - t1) * 10)) ms while the other range waits"
	"$NG_BIN/vfio-mem" hold "$GPU" >hold6.out 2>&1 &
	h6=$!
	n=0
	while ! grep -q held hold6.out && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	gpfn=$(printf '%#x' $((phys / psz + 11)))
	t3=$(cs)
	check "inject GPU pfn $gpfn while the other range waits" \
		sh -c "echo $gpfn >/sys/kernel/debug/nvgrace-poison/inject"
	t4=$(cs)
	diag "GPU injection handled in $(((t4 - t3) * 10)) ms"
	kill "$h6" 2>/dev/null
	wait "$h6" 2>/dev/null
	wait "$xinj"
	t5=$(cat inject-x.done 2>/dev/null || echo 0)
	diag "the stalled range's injection returned after $(((t5 - t0) * 10)) ms"
	# With a global lock held by the stalled handling, the GPU's open and
	# its injection would finish only after the stalled injection.
	if [ "$t2" -lt "$t5" ]; then
		ok "the GPU opens and closes before the stalled range's handling ends (no global lock held)"
	else
		nok "the GPU opens and closes before the stalled range's handling ends (no global lock held)"
	fi
	if [ "$t4" -lt "$t5" ]; then
		ok "the GPU's poison is handled before the stalled range's"
	else
		nok "the GPU's poison is handled before the stalled range's"
	fi
	if [ $((t5 - t0)) -ge 700 ]; then
		ok "the stalled range's own injection waited for its fault lock"
	else
		nok "the stalled range's own injection waited for its fault lock"
	fi
	echo auto >/sys/module/nvgrace_poison/parameters/zap
	echo 0 >"/sys/bus/pci/devices/$GPU/nvgrace/poisoned"
	check "rmmod nvgrace-test-poison" rmmod nvgrace_test_poison
else
	nok "insmod nvgrace-test-poison extra_ranges=1"
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
p1=$(printf '%#x' $((phys / psz + 7)))
p2=$(printf '%#x' $((phys / psz + 3)))
check "inject usemem pfn $p1" sh -c "echo $p1 >/sys/kernel/debug/nvgrace-poison/inject"
check "inject usemem pfn $p2" sh -c "echo $p2 >/sys/kernel/debug/nvgrace-poison/inject"
expect_eq "nvgrace/poisoned counts both" "$(nv_attr poisoned)" 2
expect_eq "nvgrace/poisoned_list lists them in order" \
	"$(nv_attr poisoned_list | tr '\n' ' ')" "$p2 $p1 "
kill "$hold" 2>/dev/null
wait "$hold" 2>/dev/null
expect_eq "closing releases every range" "$(cat $P/ranges)" 0
expect_eq "but keeps the device's poisoned pages" "$(nv_attr poisoned)" 2
unbind_all
# Unbind drops them: bound again, the device starts clean.
# shellcheck disable=SC2119
if bind_with_props; then
	expect_eq "after unbind and bind: no poisoned pages" "$(nv_attr poisoned)" 0
	unbind_all
else
	nok "bind the stand-in again"
fi
check "rmmod nvgrace-poison after the driver (nothing holds it)" \
	rmmod nvgrace_poison
