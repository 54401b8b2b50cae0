#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# matrix.sh compiles through ccache. A compile replayed from the cache must
# print the warnings the compiler printed when it ran, or --strict would
# pass a warning it failed the run before. Builds a copy of the pack with
# one W=1 warning for Debian 6.1 amd64 twice; both builds must fail on it,
# the second from the cache. One TAP line per build and one for the hit.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
TAP_PREFIX="ccache: "

if [ "${NG_CCACHE:-1}" = 0 ]; then
	tap_skip "warnings replayed from the cache" "NG_CCACHE=0: matrix.sh does not use ccache"
	tap_finish
	exit 0
fi
work=${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}/ccache-check
src=$work/src
rm -rf "$src" "$work/ccache.log"
mkdir -p "$src"
(cd "$NVGRACE_TOP" && git ls-files -co --exclude-standard -- Makefile Kbuild dkms.conf src compat tests/modules |
	tar -cf - -T -) | tar -xf - -C "$src"
# an unused variable in the first function of one file: a W=1 warning
sed -i '0,/^{$/s//{\n\tint nvgrace_ccache_check;/' "$src/src/vfio/sysfs.c"
grep -q nvgrace_ccache_check "$src/src/vfio/sysfs.c" || {
	tap_not_ok "a warning planted in src/vfio/sysfs.c"
	tap_finish
	exit 1
}

# build N [ENV...]: matrix.sh --strict on the copy; sets out and rc
build() {
	local n=$1
	shift
	rc=0
	out=$(env "$@" NVGRACE_BUILD_ROOT="$work/build" NVGRACE_LOGDIR="$work" \
		NG_MATRIX_TSV="$work/matrix.tsv" \
		"$here/matrix.sh" --src "$src" --series 6.1 --arch amd64 --strict 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -q "warning: unused variable .nvgrace_ccache_check" <<<"$out"; then
		tap_ok "build $n fails --strict on the planted warning"
	else
		tap_not_ok "build $n fails --strict on the planted warning"
		echo "# exit $rc; output:"
		tail -n 15 <<<"$out" | sed 's/^/#   /'
	fi
}
build 1
build 2 CCACHE_LOGFILE="$work/ccache.log"
# the second compile of the file came from the cache
# (ccache's log tags each line with the compiling process' pid)
pid=$(sed -n 's|^\[[^ ]* *\([0-9]*\) *\] Source file: .*/src/vfio/sysfs\.c$|\1|p' \
	"$work/ccache.log" 2>/dev/null | tail -n1)
if [ -n "$pid" ] && grep -E "^\[[^ ]* *$pid *\] Result: " "$work/ccache.log" | grep -qE 'cache_hit'; then
	tap_ok "build 2 took sysfs.c's compile from the cache"
else
	tap_not_ok "build 2 took sysfs.c's compile from the cache"
	grep -iE 'result:' "$work/ccache.log" 2>/dev/null | sort | uniq -c | sed 's/^/#   /'
fi
rm -rf "$src" "$work/build"
tap_finish
