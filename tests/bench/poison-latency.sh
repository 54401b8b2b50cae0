#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Benchmark of nvgrace-poison: injection -> SIGBUS latency with 1, 100 and
# 10,000 registered ranges, in QEMU guests (TCG: absolute numbers are those
# of an emulated CPU; compare them between kernels and range counts).
#
#   tests/bench/poison-latency.sh [--kernels "arm64/7.3 amd64/6.1"]
#                                 [--samples N] [--tap]
#
# Uses the boot tier (tests/boot/tier.sh) with the guest script in
# tests/bench/guest/ and the pack modules built by the matrix
# ($NVGRACE_CACHE/build/<series>-<arch>, test modules included).
# Prints one Markdown table row per kernel and range count:
#   | kernel | ranges | samples | min us | median us | p90 us | max us |
# --tap (the bench tier of make check-full): the boot tier's TAP lines on
# stdout too, the table as "# " comment lines, and the exit status of the
# boot tier.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"

kernels="arm64/6.1 arm64/6.12 arm64/6.19 arm64/7.3 amd64/6.1 amd64/7.3"
samples=200
tap=0
tierargs=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) kernels=$2; shift ;;
	--samples) samples=$2; shift ;;
	--tap) tap=1 ;;
	--modules-from) tierargs+=(--modules-from "$2"); shift ;;
	-h | --help) sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "poison-latency.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# tests/guest for its lib.inc; only the benchmark script runs.
rc=0
"$here/../boot/tier.sh" --kernels "$kernels" --tests "$here/../guest" \
	--tests "$here/guest" --only '90-poison-latency*' \
	--append "nvgrace.bench_samples=$samples" "${tierargs[@]}" >"$out" || rc=$?
if [ $tap = 1 ]; then cat "$out"; else cat "$out" >&2; fi

{
	echo "| kernel | ranges | samples | min us | median us | p90 us | max us |"
	echo "|---|---|---|---|---|---|---|"
	grep -o '# [a-z0-9]*/[0-9.]*: serial log .*' "$out" | awk '{print $NF}' |
		while read -r log; do
			grep -a '^# BENCH ' "$log" | tr -d '\r' |
				sed -E 's/.*kernel=([^ ]*) ranges=([0-9]*) samples=([0-9]*) min_us=([0-9.]*) median_us=([0-9.]*) p90_us=([0-9.]*) max_us=([0-9.]*).*/| \1 | \2 | \3 | \4 | \5 | \6 | \7 |/'
		done
} | if [ $tap = 1 ]; then sed 's/^/# /'; else cat; fi
[ $tap = 0 ] || exit "$rc"
