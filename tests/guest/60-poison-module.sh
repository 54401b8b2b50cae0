#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# nvgrace-poison with the test-only mapper nvgrace-test-poison.ko (the
# ivshmem BAR mapped through /dev/nvgrace-poison-test): event sources,
# debugfs injection, SIGBUS AO to early-kill processes only, AR on touch,
# EIO, huge-block neighbours, refused injections, inject-vs-fault race, the
# kernel's own memory_failure(), zap=auto (pages left mapped on kernels
# without the companion patch 0006) and zap=always, max_records enforced
# without refusing the range, and everything released on close and unload.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

P=/sys/kernel/nvgrace_poison
D=/sys/kernel/debug/nvgrace-poison
T=/sys/kernel/debug/nvgrace-poison-test

# A fresh load (earlier tests may have left the modules in).
rmmod nvgrace_vfio_pci 2>/dev/null
rmmod nvgrace_poison 2>/dev/null
n0=$(dmesg | grep -c "nvgrace-poison: event sources: inject")
check "modprobe nvgrace-poison" modprobe nvgrace-poison
expect_eq "one dmesg line names the event sources" \
	"$(dmesg | grep -c "nvgrace-poison: event sources: inject")" $((n0 + 1))
src=$(cat $P/sources)
diag "event sources on $NG_KNAME: $src"
want=inject
if grep -qw register_pfn_address_space /proc/kallsyms; then
	want="inject native"
	# Kernels without tracing lack the memory_failure_event tracepoint.
	grep -qw __tracepoint_memory_failure_event /proc/kallsyms ||
		want="inject native-partial"
elif grep -qw ghes_register_report_chain /proc/kallsyms; then
	want="inject ghes"
fi
expect_eq "sysfs sources match what the kernel offers" "$src" "$want"
expect_eq "debugfs inject is root-only, write-only" \
	"$(stat -c %a $D/inject)" 200
expect_eq "no ranges registered at load" "$(cat $P/ranges)" 0
# zap=auto zaps only where fixup_user_fault() reports poison to KVM: the
# companion series' patch 0006 (custom kernel booted with nvgrace.kvm=patched).
want_zap=0
[ "$(kvm_expect)" = patched ] && want_zap=1
expect_eq "zap=auto: pages zapped only with patch 0006 (sysfs zap)" \
	"$(cat $P/zap)" $want_zap
expect_eq "zap parameter reads auto" \
	"$(cat /sys/module/nvgrace_poison/parameters/zap)" auto
if echo sometimes >/sys/module/nvgrace_poison/parameters/zap 2>/dev/null; then
	nok "zap=sometimes refused"
else
	ok "zap=sometimes refused"
fi
if echo 0x1 >$D/inject 2>/dev/null; then
	nok "injection with no range registered is refused"
else
	ok "injection with no range registered is refused"
fi
check "refusal explained in the kernel log" \
	sh -c 'dmesg | grep -q "pfn 0x1 is in no registered range"'

check "insmod nvgrace-test-poison" \
	insmod /nvgrace/modules/nvgrace-test-poison.ko
base=$(cat $T/base_pfn)
len=$(pci_bar_len "$MEM" 2)
diag "stand-in BAR 2: pfn $(printf %#x "$base"), $len bytes"
args="--dev /dev/nvgrace-poison-test --off 0 --len $len --pfn $base"

# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --zap $want_zap --label "inject: " basic
diag "faults: pte $(cat $T/faults_pte) pmd $(cat $T/faults_pmd) refused $(cat $T/faults_poisoned)"
expect_eq "closing the device unregisters its range" "$(cat $P/ranges)" 0
expect_eq "and drops its poison records" "$(cat $P/poisoned)" 0

# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --label "race: " race 16

# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --zap $want_zap --mf $T/memory_failure --label "memory_failure: " native

# Zapping forced, and early kill as the system default.
echo always >/sys/module/nvgrace_poison/parameters/zap
echo 1 >/proc/sys/vm/memory_failure_early_kill
expect_eq "zap=always: sysfs zap 1" "$(cat $P/zap)" 1
# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --zap 1 --label "zap=always, early kill: " basic
echo 0 >/proc/sys/vm/memory_failure_early_kill
echo auto >/sys/module/nvgrace_poison/parameters/zap

check "rmmod nvgrace-test-poison" rmmod nvgrace_test_poison
expect_eq "no range left" "$(cat $P/ranges)" 0
check "rmmod nvgrace-poison (nothing holds it)" rmmod nvgrace_poison
check "debugfs directory gone" test ! -e $D

# max_records: bad values refused with a message, then the bound itself.
for v in 0 1048577 -1 lots; do
	if modprobe nvgrace-poison max_records=$v 2>/dev/null; then
		nok "max_records=$v refused"
		rmmod nvgrace_poison
	else
		ok "max_records=$v refused"
	fi
	check "max_records=$v: the kernel log says why" \
		sh -c "dmesg | grep -q \"max_records must be a number from 1 to 1048576, not '$v'\""
done
check "modprobe nvgrace-poison max_records=2" modprobe nvgrace-poison max_records=2
expect_eq "max_records=2 in effect" \
	"$(cat /sys/module/nvgrace_poison/parameters/max_records)" 2
check "insmod nvgrace-test-poison" \
	insmod /nvgrace/modules/nvgrace-test-poison.ko
base=$(cat $T/base_pfn)
# Held open (fd 3): the test device's range stays registered.
exec 3</dev/nvgrace-poison-test
expect_eq "an open test device registers its range" "$(cat $P/ranges)" 1
msg="2 poisoned pages recorded (max_records)"
n0=$(dmesg | grep -c "$msg")
for i in 1 2; do
	pfn=$(printf '%#x' $((base + 16 * i)))
	check "inject $pfn (record $i of max_records=2)" \
		sh -c "echo $pfn >$D/inject"
done
for i in 3 4; do
	pfn=$(printf '%#x' $((base + 16 * i)))
	err=$(sh -c "echo $pfn >$D/inject" 2>&1)
	case $err in
	*"No space left"*) ok "inject $pfn past max_records=2 fails with ENOSPC" ;;
	*) nok "inject $pfn past max_records=2 fails with ENOSPC"; diag "got: ${err:-success}" ;;
	esac
done
expect_eq "two pages recorded, no more" "$(cat $P/poisoned)" 2
expect_eq "two reports counted as dropped" "$(cat $P/dropped)" 2
case $(cat $D/ranges) in
*"poisoned=2 dropped=2"*) ok "debugfs ranges: poisoned=2 dropped=2" ;;
*) nok "debugfs ranges: poisoned=2 dropped=2"; diag "$(cat $D/ranges)" ;;
esac
expect_eq "kernel-log lines for the dropped reports" "$(dmesg | grep -c "$msg")" $((n0 + 2))
# Page 100 was never injected: the range is not disabled.
check "past the bound a clean page still reads" \
	dd if=/dev/nvgrace-poison-test of=/dev/null bs=4096 skip=100 count=1
psz=$(($(sed -n 's/^KernelPageSize: *\([0-9]*\) kB/\1/p' /proc/self/smaps | head -n 1) * 1024))
if dd if=/dev/nvgrace-poison-test of=/dev/null bs=$psz skip=16 count=1 2>/dev/null; then
	nok "a recorded page is still refused (read gives EIO)"
else
	ok "a recorded page is still refused (read gives EIO)"
fi
exec 3<&-
expect_eq "closing the test device unregisters the range" "$(cat $P/ranges)" 0
expect_eq "and (test mapper) drops its records" "$(cat $P/poisoned)" 0
check "rmmod nvgrace-test-poison" rmmod nvgrace_test_poison
check "rmmod nvgrace-poison" rmmod nvgrace_poison
