#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A poison report never allocates (issue 15): nvgrace-poison's records are
# preallocated at registration, so an injection while failslab and
# fail_page_alloc fail every allocation of the injecting task (task-filter,
# make-it-fail) and nvgrace-poison's own fault point fails the worker's note
# of the process to signal (fail_victim_alloc) must still be recorded,
# signalled (one BUS_MCEERR_AO to the early-kill mapper, sent in place),
# zapped or left mapped as the zap policy says, refused
# to read(), never dropped, and must not even try to allocate. Once with the
# kernel's zap=auto choice, once with zap=always. Kernels without fault
# injection (the Debian ones) skip it; the debug kernels run it.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

P=/sys/kernel/nvgrace_poison

if [ ! -w /proc/self/make-it-fail ] || [ ! -d /sys/kernel/debug/failslab ] ||
	[ ! -d /sys/kernel/debug/fail_page_alloc ]; then
	skip "poison report with every allocation failing" \
		"no failslab/fail_page_alloc in $(uname -r) (CONFIG_FAULT_INJECTION_DEBUG_FS, FAILSLAB, FAIL_PAGE_ALLOC)"
	exit 0
fi

# shellcheck disable=SC2119
if ! bind_with_props; then
	nok "bind the stand-in with firmware properties"
	exit 1
fi
ok "bind the stand-in with firmware properties"

# usemem: "0xPHYS LENGTH BARSIZE"
# shellcheck disable=SC2046
set -- $(nv_attr usemem)
args="--vfio $GPU --off $((4 << 40)) --len $2 --phys $1"

# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --zap "$(cat $P/zap)" --label "nomem zap=auto: " nomem
echo 0 >"/sys/bus/pci/devices/$GPU/nvgrace/poisoned"

echo always >/sys/module/nvgrace_poison/parameters/zap
# shellcheck disable=SC2086
"$NG_BIN/poison-test" $args --zap 1 --label "nomem zap=always: " nomem
echo auto >/sys/module/nvgrace_poison/parameters/zap
echo 0 >"/sys/bus/pci/devices/$GPU/nvgrace/poisoned"

expect_eq "nothing dropped" "$(cat $P/dropped)" 0
unbind_all
check "rmmod nvgrace-poison" rmmod nvgrace_poison
