#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The test suite, in two lanes:
#
#   tests/run.sh [TIER...]          "make check": the README's test command,
#                                   what CI runs (budget: 45 min from an empty
#                                   cache, 15 min warm, on 2 cores)
#   tests/run.sh --full [TIER...]   "make check-full": every tier at full size;
#                                   run it before resolving an issue that
#                                   touches what only this lane covers
#
# Tiers, in order (the default is every tier of the lane):
#
#   tier     make check                        make check-full
#   static   checkpatch, shellcheck            same
#   tools    tool and packaging tests          same
#   matrix   the 20 builds, W=1 + sparse       same, and 7.3 arm64-16k
#   boot     guests on $NG_BOOT_CHECK_KERNELS  every boot kernel (tier.sh)
#                                              and 7.3 arm64-16k
#   demo     tests/demo/demo.sh, as the README runs it; its last step is
#            the real-VMM tier's Debian 7.3 smoke (tests/vmm/tier.sh --smoke)
#   vmm      -                                 QEMU in the guest gives the GPU
#                                              to an L2 VM: every arm64 boot
#                                              kernel, custom kernels, UEFI
#   custom   -                                 custom kernels (tests/custom),
#                                              debug kernels included
#   install  -                                 DKMS/deb install in two VMs
#   bench    -                                 tests/bench/poison-latency.sh
#
# Each tier prints TAP-style lines ("ok - ...", "not ok - ...",
# "ok - ... # SKIP why") and its own time; this script tees them into a
# log, counts them and ends with one line "N passed, N failed, N skipped".
# The exit status is 0 only when nothing failed. Tier logs and timings go to
# $NVGRACE_CACHE/logs (or $NVGRACE_LOGDIR).

set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

lane=check
if [ "${1:-}" = --full ]; then
	lane=full
	shift
fi
CHECK_TIERS="static tools matrix boot demo"
FULL_TIERS="static tools matrix boot demo vmm custom install bench"
tiers=("$@")
if [ ${#tiers[@]} -eq 0 ]; then
	if [ $lane = full ]; then read -ra tiers <<<"$FULL_TIERS"; else read -ra tiers <<<"$CHECK_TIERS"; fi
fi
for tier in "${tiers[@]}"; do
	case " $FULL_TIERS " in
	*" $tier "*) ;;
	*) echo "unknown tier '$tier' ($FULL_TIERS)" >&2; exit 2 ;;
	esac
done

logdir=${NVGRACE_LOGDIR:-$NVGRACE_CACHE/logs}
mkdir -p "$logdir"
all=$logdir/check.tap
: >"$all"
times=()

run_tier() {
	local tier=$1 start rc secs
	shift
	start=$(date +%s)
	echo "# tier $tier: $*"
	"$@" 2>"$logdir/tier-$tier.err" | tee "$logdir/tier-$tier.tap"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$logdir/tier-$tier.tap"; then
		# A tier that failed without reporting a failed test still fails.
		echo "not ok - tier $tier exited $rc" | tee -a "$logdir/tier-$tier.tap"
		tail -n 20 "$logdir/tier-$tier.err" | sed 's/^/# /'
	fi
	cat "$logdir/tier-$tier.tap" >>"$all"
	secs=$(($(date +%s) - start))
	times+=("$tier ${secs}s")
	echo "# tier $tier: exit $rc after $secs s" | tee -a "$logdir/times"
}

# The build matrix, the probe results it produced against expectations, and
# the build's early errors on unsupported kernels.
matrix_tier() {
	local rc=0
	tests/kernels/matrix.sh --strict || rc=1
	# check-full also boots Debian's 16 KiB-page arm64 flavour: build it
	if [ $lane = full ]; then
		tests/kernels/matrix.sh --series 7.3 --arch arm64-16k --strict || rc=1
	fi
	tests/kernels/check-probes.sh || rc=1
	tests/kernels/check-errors.sh || rc=1
	return "$rc"
}

cd "$NVGRACE_TOP" || exit 1
echo "# lane: make $( [ $lane = full ] && echo check-full || echo check), tiers: ${tiers[*]}" |
	tee -a "$logdir/times"
t0=$(date +%s)
for tier in "${tiers[@]}"; do
	case $tier in
	static) run_tier static tests/static.sh ;;
	tools) run_tier tools tests/tools/tier.sh ;;
	matrix) run_tier matrix matrix_tier ;;
	boot)
		if [ $lane = full ]; then
			run_tier boot tests/boot/tier.sh
		else
			run_tier boot tests/boot/tier.sh --set check
		fi
		;;
	demo) run_tier demo tests/demo/demo.sh ;;
	vmm)
		if [ $lane = full ]; then
			run_tier vmm tests/vmm/tier.sh
		else
			run_tier vmm tests/vmm/tier.sh --smoke
		fi
		;;
	custom) run_tier custom tests/custom/tier.sh ;;
	install) run_tier install tests/tools/install-tier.sh ;;
	bench) run_tier bench tests/bench/poison-latency.sh --tap ;;
	esac
done

passed=$(grep -E '^ok ' "$all" | grep -vc '# SKIP')
skipped=$(grep -cE '^ok .*# SKIP' "$all")
failed=$(grep -c '^not ok' "$all")
echo "# tier times: ${times[*]}; total $(($(date +%s) - t0)) s" | tee -a "$logdir/times"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
