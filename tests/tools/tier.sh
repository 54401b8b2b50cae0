#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The tools tier: host-side tests of the operator tools and the packaging.
# Runs every tests/tools/NN-*.sh, or the named ones; each prints TAP lines.
# The real install test in a VM is the install tier (tests/install).
#
#   tests/tools/tier.sh [SCRIPT...]
#
# Scripts run two at a time (NG_TOOLS_JOBS, default 2): most of them are
# one shell process at a time, and make check runs this tier beside the
# build matrix. Each script's lines are printed together, in script order.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
# the shells the tool must run under, JSON checks, the linter
ng_need dash busybox python3 shellcheck
jobs=${NG_TOOLS_JOBS:-2}
case $jobs in '' | *[!0-9]* | 0) die "NG_TOOLS_JOBS=$jobs: want a number >= 1" ;; esac
scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || scripts=("$here"/[0-9][0-9]-*.sh)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# run I SCRIPT: its lines to $out/I, its exit status to $out/I.rc
run() {
	local rc=0
	"$2" >"$out/$1" 2>&1 || rc=$?
	echo "$rc" >"$out/$1.rc"
}
rc=0 shown=0
# show the finished scripts that are next in order
show() {
	while [ $shown -lt ${#scripts[@]} ] && [ -f "$out/$shown.rc" ]; do
		echo "# tools: ${scripts[$shown]##*/}"
		cat "$out/$shown"
		[ "$(cat "$out/$shown.rc")" = 0 ] || rc=1
		shown=$((shown + 1))
	done
}
for i in "${!scripts[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
		show
	done
	run "$i" "${scripts[$i]}" &
done
wait
show
exit "$rc"
