#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Compare the compat probe results and the features lost of the last matrix
# build of each kernel ($NVGRACE_CACHE/build/<series>-<arch>/.compat/, or
# under $NVGRACE_BUILD_ROOT) with probes-expected; a feature lost must have
# its WARNING line in the matrix log ($NVGRACE_LOGDIR/matrix-*.log).
# One TAP line per kernel; a probe without an expectation line fails too.
# First, without a build: every probe has a consumer, and every file that
# tests HAVE_<NAME> declares the probe ("nvgrace-probes: NAME") and only
# the probes it uses (src/, compat/*.h, tests/modules/).
#
#   check-probes.sh [--series "6.1 7.3"] [--arch "amd64 arm64"]

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"

# the series list is kernels.sh's (NG_SERIES): one place to add a series
# shellcheck source=tests/matrix/kernels.sh
. "$here/kernels.sh"
all_series=$NG_SERIES
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
		tap_not_ok "probe $p has an expectation in tests/matrix/probes-expected"
	fi
done

# Declarations: per consumer file, the probes it declares and the ones it
# uses (HAVE_<NAME> of an existing probe, or a name in a feature's needs).
declared_all=
bad=()
while IFS= read -r f; do
	rel=${f#"$NVGRACE_TOP"/}
	decl=$(sed -n 's@^.*nvgrace-probes:\(.*\)$@\1@p' "$f" | sed 's@\*/@@' | tr ' ' '\n' |
		sed '/^$/d' | sort -u)
	used=$( {
		grep -o '\bHAVE_[A-Z0-9_]*' "$f" | sed 's/^HAVE_//' | tr '[:upper:]' '[:lower:]'
		sed -n 's/^[[:space:]]*\*[[:space:]]*needs[[:space:]]\{1,\}//p' "$f" | sed 's/[|+ ]\{1,\}/\n/g'
	} | sed '/^$/d' | sort -u | while read -r n; do
		[ -f "$NVGRACE_TOP/compat/probes/$n.c" ] && echo "$n"
	done)
	declared_all+=" $decl"
	for n in $used; do
		grep -qx "$n" <<<"$decl" || bad+=("$rel uses HAVE_${n^^} without declaring it (nvgrace-probes: $n)")
	done
	for n in $decl; do
		grep -qx "$n" <<<"$used" || bad+=("$rel declares probe $n but does not use it")
		[ -f "$NVGRACE_TOP/compat/probes/$n.c" ] || bad+=("$rel declares probe $n, which has no compat/probes/$n.c")
	done
done < <(find "$NVGRACE_TOP/src" "$NVGRACE_TOP/compat" "$NVGRACE_TOP/tests/modules" \
	-maxdepth 2 -name '*.[ch]' ! -path '*/compat/probes/*' | sort)
for p in $probes; do
	case " $declared_all " in
	*[[:space:]]"$p"[[:space:]]*) ;;
	*) bad+=("probe $p has no consumer: no file declares it (delete it, or declare it where HAVE_${p^^} is used)") ;;
	esac
done
tap_none "every probe has a consumer that declares it, and every consumer declares what it uses" "${bad[@]}"

for s in $series; do
	for a in $arches; do
		dir=$(find "${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}/$s-$a/.compat" -name nvgrace-config.h \
			-printf '%h\n' 2>/dev/null | head -n1 || true)
		if [ -z "$dir" ]; then
			tap_not_ok "probes $s/$a: no results (was the matrix built?)"
			continue
		fi
		bad=()
		for p in $probes; do
			got=no want=no
			grep -q '^#define' "$dir/$p.h" 2>/dev/null && got=yes
			expected "$p" "$s" "$a" && want=yes
			[ "$got" = "$want" ] || bad+=("$p: got $got, want $want")
		done
		got=$(sed -n 's/^#define NVGRACE_BUILD_FEATURES_LOST "\(.*\)"/\1/p' "$dir/nvgrace-config.h")
		for f in $(awk '$1 ~ /^feature:/ { sub(/^feature:/, "", $1); print $1 }' "$here/probes-expected") $got; do
			case " $got " in *" $f "*) g=yes ;; *) g=no ;; esac
			w=no
			expected "feature:$f" "$s" "$a" && w=yes
			[ "$g" = "$w" ] || bad+=("feature $f lost: got $g, want $w")
		done
		# each feature lost was said loudly in the build log
		log=${NVGRACE_LOGDIR:-$NVGRACE_CACHE/logs}/matrix-$s-$a.log
		for f in $got; do
			[ ! -r "$log" ] || grep -q "WARNING nvgrace-dkms: .*(feature $f," "$log" ||
				bad+=("feature $f lost without a WARNING line in $log")
		done
		tap_none "probes $s/$a match tests/matrix/probes-expected" "${bad[@]}"
	done
done
tap_finish
