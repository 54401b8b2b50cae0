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
#   bench    -                                 tests/bench/tier.sh: the pack
#                                              against mainline's driver in
#                                              the same boot, dkms build
#                                              times, poison latency
#
# make check runs tiers side by side where they do not wait on each other:
# static and tools beside the build matrix, then the boot tier (two kernels
# at a time) beside the demo, with two QEMU guests at once (NG_GUEST_SLOTS,
# default 2 in make check and 1 in make check-full; NG_GUEST_SLOTS=1 runs
# every tier after the other). Side-by-side tiers show their lines when all
# of them are done.
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

# tier_exec TIER CMD...: run one tier into its log files and time it.
tier_exec() {
	local tier=$1 start rc
	shift
	start=$(date +%s)
	"$@" 2>"$logdir/tier-$tier.err" >"$logdir/tier-$tier.tap"
	rc=$?
	echo "$rc $(($(date +%s) - start))" >"$logdir/tier-$tier.rc"
}

# tier_report TIER: what tier_exec left: a failure that no test reported,
# the tier's lines into the whole log, its time.
tier_report() {
	local tier=$1 rc secs
	read -r rc secs <"$logdir/tier-$tier.rc"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$logdir/tier-$tier.tap"; then
		# A tier that failed without reporting a failed test still fails.
		echo "not ok - tier $tier exited $rc" | tee -a "$logdir/tier-$tier.tap"
		tail -n 20 "$logdir/tier-$tier.err" | sed 's/^/# /'
	fi
	cat "$logdir/tier-$tier.tap" >>"$all"
	times+=("$tier ${secs}s")
	echo "# tier $tier: exit $rc after $secs s" | tee -a "$logdir/times"
}

# run_tier TIER CMD...: one tier, its lines shown as they come.
run_tier() {
	local tier=$1 start rc
	shift
	start=$(date +%s)
	echo "# tier $tier: $*"
	"$@" 2>"$logdir/tier-$tier.err" | tee "$logdir/tier-$tier.tap"
	rc=${PIPESTATUS[0]}
	echo "$rc $(($(date +%s) - start))" >"$logdir/tier-$tier.rc"
	tier_report "$tier"
}

# side_by_side "TIER CMD..." ...: tiers at once (make check: the host-only
# tiers beside the build matrix, the boot tier's guests beside the demo's,
# boot.sh giving them $NG_GUEST_SLOTS guest slots). Each tier's lines are
# shown when all are done, one tier after the other.
side_by_side() {
	local spec t pids=() names=()
	for spec in "$@"; do
		read -ra t <<<"$spec"
		names+=("${t[0]}")
		tier_exec "${t[@]}" &
		pids+=($!)
	done
	echo "# tiers ${names[*]} side by side (guest slots: $NG_GUEST_SLOTS)"
	wait "${pids[@]}"
	for t in "${names[@]}"; do
		echo "# tier $t"
		cat "$logdir/tier-$t.tap"
		tier_report "$t"
	done
}

# The build matrix, the probe results it produced against expectations, and
# the build's early errors on unsupported kernels.
matrix_tier() {
	local rc=0
	tests/matrix/matrix.sh --strict || rc=1
	# check-full also boots Debian's 16 KiB-page arm64 flavour: build it
	if [ $lane = full ]; then
		tests/matrix/matrix.sh --series 7.3 --arch arm64-16k --strict || rc=1
	fi
	tests/matrix/check-probes.sh || rc=1
	tests/matrix/check-errors.sh || rc=1
	tests/matrix/check-ccache.sh || rc=1
	return "$rc"
}

cd "$NVGRACE_TOP" || exit 1
echo "# lane: make $( [ $lane = full ] && echo check-full || echo check), tiers: ${tiers[*]}" |
	tee -a "$logdir/times"
t0=$(date +%s)
# make check boots two guests at a time (a TCG guest mostly keeps one core
# busy): the boot tier's kernels two by two, and the demo beside them.
# make check-full keeps one guest at a time unless NG_GUEST_SLOTS says.
if [ $lane = check ]; then
	export NG_GUEST_SLOTS=${NG_GUEST_SLOTS:-2}
else
	export NG_GUEST_SLOTS=${NG_GUEST_SLOTS:-1}
fi
# the guest tests learn the lane from the kernel command line
boot_cmd=(tests/boot/tier.sh --set "$lane" --jobs "$NG_GUEST_SLOTS" --append "nvgrace.lane=$lane")
vmm_cmd=(tests/vmm/tier.sh)
[ $lane = full ] || vmm_cmd+=(--smoke)
# Tiers that run side by side in make check (when both are asked for).
side=''
if [ $lane = check ] && [ "$NG_GUEST_SLOTS" -gt 1 ]; then
	case " ${tiers[*]} " in *" static tools matrix "*) side+=" host" ;; esac
	case " ${tiers[*]} " in *" boot demo "*) side+=" guests" ;; esac
fi
# the demo builds its own copy of the modules the boot tier's arm64 7.3
# guest is loading
demo_side="demo env NVGRACE_BUILD_ROOT=${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}-demo tests/demo/demo.sh"
for tier in "${tiers[@]}"; do
	case $tier in
	static)
		case $side in
		*host*) side_by_side "static tests/static.sh" "tools tests/tools/tier.sh" "matrix matrix_tier" ;;
		*) run_tier static tests/static.sh ;;
		esac
		;;
	tools) [[ $side == *host* ]] || run_tier tools tests/tools/tier.sh ;;
	matrix) [[ $side == *host* ]] || run_tier matrix matrix_tier ;;
	boot)
		case $side in
		*guests*) side_by_side "boot ${boot_cmd[*]}" "$demo_side" ;;
		*) run_tier boot "${boot_cmd[@]}" ;;
		esac
		;;
	demo) [[ $side == *guests* ]] || run_tier demo tests/demo/demo.sh ;;
	vmm) run_tier vmm "${vmm_cmd[@]}" ;;
	custom) run_tier custom tests/custom/tier.sh ;;
	install) run_tier install tests/install/tier.sh ;;
	bench) run_tier bench tests/bench/tier.sh ;;
	esac
done

passed=$(grep -E '^ok ' "$all" | grep -vc '# SKIP')
skipped=$(grep -cE '^ok .*# SKIP' "$all")
failed=$(grep -c '^not ok' "$all")
echo "# tier times: ${times[*]}; total $(($(date +%s) - t0)) s" | tee -a "$logdir/times"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
