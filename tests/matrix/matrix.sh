#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the pack against every kernel of the matrix (kernels.sh list).
#
# Usage:
#   matrix.sh [--series "6.1 7.3"] [--arch "amd64 arm64"] [--strict]
#             [--src DIR] [--modules "a.ko b.ko"]
#
#   --series, --arch  restrict the matrix (default: all series, both arches);
#                     --arch arm64-16k: Debian's 16 KiB-page arm64 flavour
#   --strict          also fail an entry when a compiler, sparse or modpost
#                     warning names one of our files (src/, compat/,
#                     tests/modules/ of the build copy)
#   --src DIR         source tree to build (default $NVGRACE_SRC, else the
#                     repository); a git tree contributes its tracked and
#                     untracked non-ignored files, another tree everything
#   --modules LIST    the .ko files that must appear at the top of the build
#                     tree (default "nvgrace-vfio-pci.ko nvgrace-poison.ko")
#
# For each entry: the source is copied to $NVGRACE_CACHE/build/<series>-<arch>/
# (or $NVGRACE_BUILD_ROOT/<series>-<arch>/ when that is set)
# (only Makefile Kbuild dkms.conf src/ compat/ tests/modules/, or the paths in
# $NG_MATRIX_PATHS), built there with
#   make -j2 KDIR=<kdir> W=1 C=2 NVGRACE_TESTS=y [ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-]
# through `kernels.sh run` (host gcc-12 or the gcc-14 chroot), with the
# compat probe results kept in $NVGRACE_CACHE/probe-cache (NVGRACE_PROBE_CACHE,
# see compat/probe.mk: reused only for the same probe source, kernel trees,
# compiler and flags; NVGRACE_PROBE_CACHE= turns it off), logged to
# $NVGRACE_LOGDIR/matrix-<series>-<arch>.log ($NVGRACE_LOGDIR defaults to
# $NVGRACE_CACHE/logs). stdout is TAP (tests/lib/tap.sh): one
# "ok N - build 6.1/amd64 (6.1.0-56-amd64, gcc-12, 3s)" line per entry, then
# a summary table as comments, a "matrix: N passed, N failed" line and the
# plan.
# $NVGRACE_CACHE/results/matrix.tsv gets one line per entry (series, arch,
# release, toolchain, result, seconds, warnings in our files, sparse ran).
# Builds run one after the other. Exit status 1 if any entry failed.

set -euo pipefail
shopt -s inherit_errexit
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$HERE/../lib/common.sh"
# shellcheck source=../lib/tap.sh
. "$HERE/../lib/tap.sh"

KERNELS=$HERE/kernels.sh
NG_MATRIX_PATHS=${NG_MATRIX_PATHS:-"Makefile Kbuild dkms.conf src/ compat/ tests/modules/"}
MODULES="nvgrace-vfio-pci.ko nvgrace-poison.ko"
SRC=${NVGRACE_SRC:-$NVGRACE_TOP}
SERIES='' ARCHES="amd64 arm64" STRICT=0

usage() {
	sed -n '/^# Usage:/,/^# For each/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--series) SERIES=$2; shift 2 ;;
	--arch) ARCHES=$2; shift 2 ;;
	--strict) STRICT=1; shift ;;
	--src) SRC=$2; shift 2 ;;
	--modules) MODULES=$2; shift 2 ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done
SRC=$(cd "$SRC" && pwd) || die "no source tree $SRC"

# copy_source DEST: fresh copy of the buildable part of $SRC in DEST.
copy_source() {
	local dest=$1 f p keep
	rm -rf "$dest"
	mkdir -p "$dest"
	if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$SRC" ls-files -z -co --exclude-standard
	else
		(cd "$SRC" && find . -type f ! -path './.git/*' -printf '%P\0')
	fi | while IFS= read -r -d '' f; do
		keep=0
		for p in $NG_MATRIX_PATHS; do
			case $p in
			*/) [[ $f == "$p"* ]] && keep=1 ;;
			*) [ "$f" = "$p" ] && keep=1 ;;
			esac
		done
		# Tracked files deleted in the work tree are listed too: skip.
		if [ $keep = 0 ] || [ ! -e "$SRC/$f" ]; then continue; fi
		mkdir -p "$dest/$(dirname "$f")"
		cp -a "$SRC/$f" "$dest/$f"
	done
	[ -e "$dest/Makefile" ] || die "$SRC has no Makefile to build"
}

# our_warnings LOG BUILD: print the warning/error lines of LOG that name a
# file of ours: "src/x.c:1:2: warning: ..." (relative, as kbuild prints
# them from 6.13 on), "/abs/build/src/x.c:..." (older kernels), or modpost's
# "WARNING: modpost: ... in src/x.o".
our_warnings() {
	local log=$1 build=$2 dirs='(src|compat|tests/modules)/'
	local esc
	esc=$(printf '%s' "$build" | sed 's/[][\.*^$+?(){}|/]/\\&/g')
	grep -E "(^|[[:space:]\"'(]|${esc}/)${dirs}[^[:space:]:]*" "$log" |
		grep -E '(warning|error|WARNING|ERROR)' || true
}

# Resolve only the selected entries: a run for one kernel fetches the
# headers of that kernel alone.
mapfile -t ALL_SERIES < <("$KERNELS" series)
WANT=()
for s in "${ALL_SERIES[@]}"; do
	if [ -n "$SERIES" ]; then
		case " $SERIES " in *" $s "*) ;; *) continue ;; esac
	fi
	for a in $ARCHES; do WANT+=("$s/$a"); done
done
[ ${#WANT[@]} -gt 0 ] || die "no matrix entry matches --series '$SERIES' --arch '$ARCHES'"
mapfile -t SELECTED < <("$KERNELS" list "${WANT[@]}")
[ ${#SELECTED[@]} -eq ${#WANT[@]} ] || die "kernels.sh list ${WANT[*]} gave ${#SELECTED[@]} entries"

buildroot=${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}
# ccache (NG_CCACHE=0 turns it off): a compile whose inputs are the same as
# in an earlier run is replayed from $NVGRACE_CACHE/ccache, with the
# warnings the compiler printed then, so --strict still sees them. The
# compiler is the one the kernel's Makefile names, through ccache's
# /usr/lib/ccache links (host and chroot each keep their own cache). sparse
# (C=2) still checks every file in every build.
NG_CCACHE_DIR=$NVGRACE_CACHE/ccache
ccache_path=''
# shellcheck disable=SC2016 # expanded by the sh that runs make
[ "${NG_CCACHE:-1}" = 0 ] || ccache_path='[ -d /usr/lib/ccache ] && PATH=/usr/lib/ccache:$PATH; '
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-2G}
export NVGRACE_PROBE_CACHE=${NVGRACE_PROBE_CACHE-$NVGRACE_CACHE/probe-cache}
logdir=${NVGRACE_LOGDIR:-$NVGRACE_CACHE/logs}
mkdir -p "$logdir" "$NVGRACE_CACHE/results" "$buildroot"
TSV=${NG_MATRIX_TSV:-$NVGRACE_CACHE/results/matrix.tsv}
printf 'series\tarch\trelease\ttoolchain\tresult\tseconds\twarnings\tsparse\n' >"$TSV.tmp"
declare -A RESULT
PASSED=0 FAILED=0

for e in "${SELECTED[@]}"; do
	read -r s a rel tc <<<"$e"
	build=$buildroot/$s-$a
	log=$logdir/matrix-$s-$a.log
	result=ok why='' warn=0 sparse=yes
	kdir=$("$KERNELS" headers "$s" "$a") || { kdir=; result=fail why="no headers"; }
	copy_source "$build"
	# NVGRACE_TESTS=y also builds the test-only modules the boot and
	# custom tiers load, so they are held to the same W=1/sparse bar.
	makeargs=(-j2 "KDIR=$kdir" W=1 C=2 NVGRACE_TESTS=y)
	[ "${a%%-*}" = arm64 ] && makeargs+=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	{
		echo "# matrix: $s/$a $rel ($tc) source $SRC"
		echo "# make ${makeargs[*]} (in $build)"
	} >"$log"
	t0=$(date +%s)
	if [ $result = ok ]; then
		msg "matrix: building $s/$a ($rel, $tc)"
		# shellcheck disable=SC2016 # expanded by the inner sh
		if ! (cd "$build" && CCACHE_DIR=$NG_CCACHE_DIR/$tc "$KERNELS" run "$s" "$a" -- \
			sh -c "$ccache_path"'exec make "$@"' make "${makeargs[@]}") >>"$log" 2>&1; then
			result=fail why="make failed"
		fi
	fi
	secs=$(($(date +%s) - t0))
	for m in $MODULES; do
		if [ $result = ok ] && [ ! -e "$build/$m" ]; then
			result=fail why="no $m"
		fi
	done
	warn=$(our_warnings "$log" "$build" | wc -l)
	if [ $result = ok ] && [ $STRICT = 1 ] && [ "$warn" -gt 0 ]; then
		result=fail why="$warn warning(s) in our files"
	fi
	# Kernels from 6.17 on skip sparse with a warning when it cannot parse
	# __typeof_unqual__ (scripts/checker-valid.sh): report it.
	grep -q 'specified, but .* is not available or not up to date' "$log" && sparse=no
	detail="$rel, $tc, ${secs}s"
	[ "$warn" -gt 0 ] && detail+=", $warn warnings"
	[ $sparse = no ] && detail+=", sparse skipped"
	RESULT[$s/$a]=$result
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$a" "$rel" "$tc" "$result" "$secs" "$warn" "$sparse" >>"$TSV.tmp"
	if [ $result = ok ]; then
		PASSED=$((PASSED + 1))
		tap_ok "build $s/$a ($detail)"
	else
		FAILED=$((FAILED + 1))
		tap_not_ok "build $s/$a ($detail): $why"
		echo "# --- last lines of $log"
		tail -n 30 "$log" | sed 's/^/#   /'
		if [ "$warn" -gt 0 ]; then
			echo "# --- warnings in our files"
			our_warnings "$log" "$build" | head -n 30 | sed 's/^/#   /'
		fi
	fi
done
# Keep the rows of entries this run did not build (a run restricted with
# --series/--arch updates only its own rows), in matrix order.
if [ -r "$TSV" ]; then
	awk -F'\t' 'FNR == 1 { next } NR == FNR { seen[$1 FS $2] = 1; print; next }
		!(($1 FS $2) in seen)' "$TSV.tmp" "$TSV" >"$TSV.rows"
	{
		head -n 1 "$TSV.tmp"
		for s in "${ALL_SERIES[@]}"; do
			for a in amd64 arm64 arm64-16k; do
				awk -F'\t' -v s="$s" -v a="$a" '$1 == s && $2 == a' "$TSV.rows"
			done
		done
	} >"$TSV.new"
	mv "$TSV.new" "$TSV.tmp"
	rm -f "$TSV.rows"
fi
mv "$TSV.tmp" "$TSV"

# Summary table: series x arch.
echo "#"
printf '# %-8s' kernel
for a in $ARCHES; do printf ' %-6s' "$a"; done
echo
for e in "${SELECTED[@]}"; do
	read -r s _ _ _ <<<"$e"
	case " ${seen:-} " in *" $s "*) continue ;; esac
	seen="${seen:-} $s"
	printf '# %-8s' "$s"
	for a in $ARCHES; do printf ' %-6s' "${RESULT[$s/$a]:--}"; done
	echo
done
echo "# results: $TSV, logs: $logdir/matrix-*.log"
echo "matrix: $PASSED passed, $FAILED failed"
tap_finish
