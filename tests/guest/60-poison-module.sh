#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# nvgrace-poison with the test-only mapper nvgrace-test-poison.ko (the
# ivshmem BAR mapped through /dev/nvgrace-poison-test): event sources,
# debugfs injection, SIGBUS AO/AR, EIO, huge-block neighbours, refused
# injections, inject-vs-fault race, the kernel's own memory_failure(), and
# everything released on close and unload.
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
"$NG_BIN/poison-test" $args --label "inject: " basic
diag "faults: pte $(cat $T/faults_pte) pmd $(cat $T/faults_pmd) refused $(cat $T/faults_poisoned)"
expect_eq "closing the device unregisters its range" "$(cat $P/ranges)" 0
expect_eq "and drops its poison records" "$(cat $P/poisoned)" 0

# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --label "race: " race 16

# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --mf $T/memory_failure --label "memory_failure: " native

check "rmmod nvgrace-test-poison" rmmod nvgrace_test_poison
expect_eq "no range left" "$(cat $P/ranges)" 0
check "rmmod nvgrace-poison (nothing holds it)" rmmod nvgrace_poison
check "debugfs directory gone" test ! -e $D
