#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# selftest.sh: self-test of the boot tier on one kernel. Boots the guest
# several times with tests/boot/selftest/00-selftest.sh and checks that
#   - a clean run passes, with one SKIP, and the pattern the guest wrote into
#     the ivshmem BAR2 is in the host backing file (--mem-file);
#   - a failing test, a script exiting nonzero, a hanging script (per-script
#     timeout), a kernel WARNING line, a kernel panic and an overall boot
#     timeout are all reported as failures (nonzero exit, "not ok").
#
# Usage: selftest.sh --arch arm64|amd64 (--image DIR | --kernel IMAGE)
#                    [--quick] [other boot.sh options, e.g. --qemu host]
#   --quick   only the clean run
# Stdout: TAP ("ok - selftest ARCH: ..."), then "1..N". Exit 0 if all passed.
set -euo pipefail

# shellcheck source=bootlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bootlib.sh"

quick=0
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	*) args+=("$1") ;;
	esac
	shift
done
boot=$NG_BOOT_DIR/boot.sh
mkdir -p "$NVGRACE_CACHE/tmp"
out=$(mktemp "$NVGRACE_CACHE/tmp/selftest.XXXXXX")
mem=$(mktemp -u "$NVGRACE_CACHE/tmp/selftest-mem.XXXXXX")
trap 'rm -f "$out" "$mem"' EXIT

# shellcheck source=../lib/tap.sh
. "$NVGRACE_TOP/tests/lib/tap.sh"
TAP_PREFIX="selftest: "
res() { # res RC DESC: ok when RC is 0, else not ok with boot.sh's output
	if [ "$1" = 0 ]; then tap_ok "$2"; else
		tap_not_ok "$2"
		sed 's/^/#   /' "$out" | tail -n 60
	fi
}
# run EXPECTED_RC [boot.sh args...]: boot, capture stdout, compare exit status
run() {
	local want=$1 rc=0
	shift
	"$boot" --tests "$NG_BOOT_DIR/selftest" "${args[@]}" "$@" >"$out" 2>&1 || rc=$?
	grep '/init at' "$out" | sed 's/^# [^ ]* kernel .*), //' >&2 || true
	[ "$rc" = "$want" ]
}
has() { grep -q -e "$1" "$out"; }

# 1. clean run + host-side check of what the guest wrote
rm -f "$mem"
if run 0 --mem-file "$mem" --mem-size 2G && has 'BOOT-SUMMARY .* failed=0 skipped=1' &&
	has '^ok - .*: 00-selftest: pattern written to ivshmem BAR2' &&
	has '^ok - .*: kernel log clean'; then r=0; else r=1; fi
res $r "clean run passes with one SKIP"
r=0
"$NG_BOOT_DIR/check-memfile.sh" "$mem" 0 u32:0x4e564752 >/dev/null || r=1
"$NG_BOOT_DIR/check-memfile.sh" "$mem" 0x100000 u32:0x11223344 >/dev/null || r=1
"$NG_BOOT_DIR/check-memfile.sh" "$mem" 0x7ffffffc u32:0xdeadbeef >/dev/null || r=1
"$NG_BOOT_DIR/check-memfile.sh" "$mem" 4 00000000 >/dev/null || r=1
res $r "host backing file holds the pattern the guest wrote into BAR2"

if [ $quick = 0 ]; then
	run 1 --append nvgrace.selftest=fail && has '^not ok - .*: 00-selftest: deliberate failure' &&
		has '^#   | not ok [0-9]* - 00-selftest: deliberate failure' && r=0 || r=1
	res $r "a failing test is reported, with guest log context"
	run 1 --append nvgrace.selftest=exit && has '^not ok - .*: 00-selftest: script 00-selftest.sh exited 3' && r=0 || r=1
	res $r "a script exiting nonzero without 'not ok' is a failure"
	run 1 --append nvgrace.selftest=hang --test-timeout 5 &&
		has '^not ok - .*: 00-selftest: timed out after 5s' && has 'BOOT-SUMMARY .* failed=1 ' && r=0 || r=1
	res $r "a hanging script times out, the run goes on"
	run 1 --append nvgrace.selftest=warn && has '^not ok - .*: kernel log clean' &&
		has 'WARNING: nvgrace selftest fake warning' && r=0 || r=1
	res $r "a WARNING in the kernel log fails 'kernel log clean'"
	run 1 --append nvgrace.selftest=panic && has '^not ok - .*: kernel panic: sysrq triggered crash' && r=0 || r=1
	res $r "a kernel panic is reported"
	run 1 --append nvgrace.selftest=hang --timeout 15 && has '^not ok - .*: boot timed out after 15s' && r=0 || r=1
	res $r "the overall timeout kills QEMU and is reported"
fi
tap_finish
