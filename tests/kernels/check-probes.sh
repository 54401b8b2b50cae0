#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Compare the compat probe results of the last matrix build of each kernel
# ($NVGRACE_CACHE/build/<series>-<arch>/.compat/, or under $NVGRACE_BUILD_ROOT)
# with probes-expected.
# One TAP line per kernel; a probe without an expectation line fails too.
#
#   check-probes.sh [--series "6.1 7.3"] [--arch "amd64 arm64"]

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"

all_series="6.1 6.12 6.16 6.17 6.18 6.19 7.0 7.1 7.2 7.3"
series=$all_series arches="amd64 arm64"
while [ $# -gt 0 ]; do
	case $1 in
	--series) series=$2; shift ;;
	--arch) arches=$2; shift ;;
	*) die "usage: check-probes.sh [--series LIST] [--arch LIST]" ;;
	esac
	shift
done

# expected PROBE SERIES ARCH: 0 if the probe must fire on SERIES/ARCH
expected() {
	local probe=$1 s=$2 a=$3 line tok idx sidx=-1 i=0 x
	line=$(awk -v p="$probe" '$1 == p { $1 = ""; print; exit }' "$here/probes-expected")
	for x in $all_series; do
		[ "$x" = "$s" ] && sidx=$i
		i=$((i + 1))
	done
	for tok in $line; do
		case $tok in
		amd64:* | arm64:*)
			[ "${tok%%:*}" = "$a" ] || continue
			tok=${tok#*:}
			;;
		esac
		case $tok in
		all) return 0 ;;
		none) ;;
		from:* | until:*)
			idx=-1 i=0
			for x in $all_series; do
				[ "$x" = "${tok#*:}" ] && idx=$i
				i=$((i + 1))
			done
			[ "$idx" -ge 0 ] || die "probes-expected: unknown series in '$tok'"
			case $tok in
			from:*) [ "$sidx" -ge "$idx" ] && return 0 ;;
			until:*) [ "$sidx" -le "$idx" ] && return 0 ;;
			esac
			;;
		*) [ "$tok" = "$s" ] && return 0 ;;
		esac
	done
	return 1
}

probes=$(find "$NVGRACE_TOP/compat/probes" -name '*.c' -printf '%f\n' | sed 's/\.c$//' | sort)
for p in $probes; do
	if ! grep -q "^${p}[[:space:]]" "$here/probes-expected"; then
		echo "not ok - probe $p has an expectation in tests/kernels/probes-expected"
	fi
done

for s in $series; do
	for a in $arches; do
		dir=$(find "${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}/$s-$a/.compat" -name nvgrace-config.h \
			-printf '%h\n' 2>/dev/null | head -n1)
		if [ -z "$dir" ]; then
			echo "not ok - probes $s/$a: no results (was the matrix built?)"
			continue
		fi
		bad=()
		for p in $probes; do
			got=no want=no
			grep -q '^#define' "$dir/$p.h" 2>/dev/null && got=yes
			expected "$p" "$s" "$a" && want=yes
			[ "$got" = "$want" ] || bad+=("$p: got $got, want $want")
		done
		if [ ${#bad[@]} -eq 0 ]; then
			echo "ok - probes $s/$a match tests/kernels/probes-expected"
		else
			echo "not ok - probes $s/$a match tests/kernels/probes-expected"
			printf '# %s\n' "${bad[@]}"
		fi
	done
done
