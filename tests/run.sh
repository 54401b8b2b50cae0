#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The whole test suite ("make check"):
#
#   tests/run.sh [TIER...]      TIER: static tools matrix boot custom install
#                               (default: all)
#
# Each tier prints TAP-style lines ("ok - ...", "not ok - ...",
# "ok - ... # SKIP why"); this script tees them into a log, counts them and
# ends with one line "N passed, N failed, N skipped". The exit status is 0
# only when nothing failed. Tier logs and timings go to $NVGRACE_CACHE/logs
# (or $NVGRACE_LOGDIR).

set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(static tools matrix boot custom install)

logdir=${NVGRACE_LOGDIR:-$NVGRACE_CACHE/logs}
mkdir -p "$logdir"
all=$logdir/check.tap
: >"$all"

run_tier() {
	local tier=$1 start rc
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
	echo "# tier $tier: exit $rc after $(($(date +%s) - start)) s" |
		tee -a "$logdir/times"
}

# The build matrix, the probe results it produced against expectations, and
# the build's early errors on unsupported kernels.
matrix_tier() {
	local rc=0
	tests/kernels/matrix.sh --strict || rc=1
	tests/kernels/check-probes.sh || rc=1
	tests/kernels/check-errors.sh || rc=1
	return "$rc"
}

cd "$NVGRACE_TOP" || exit 1
for tier in "${tiers[@]}"; do
	case $tier in
	static) run_tier static tests/static.sh ;;
	tools) run_tier tools tests/tools/tier.sh ;;
	matrix) run_tier matrix matrix_tier ;;
	boot) run_tier boot tests/boot/tier.sh ;;
	custom) run_tier custom tests/custom/tier.sh ;;
	install) run_tier install tests/tools/install-tier.sh ;;
	*) echo "unknown tier '$tier' (static tools matrix boot custom install)" >&2; exit 2 ;;
	esac
done

passed=$(grep -E '^ok ' "$all" | grep -vc '# SKIP')
skipped=$(grep -cE '^ok .*# SKIP' "$all")
failed=$(grep -c '^not ok' "$all")
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
