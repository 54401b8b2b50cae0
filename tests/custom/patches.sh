#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# patches.sh [SERIES...]
#
# Cheap check that each companion KVM patch series (packaging/kernel-patches/
# <series>) still applies to the Debian linux-source tree it is written for,
# through packaging/kernel-patches/apply.sh, without building anything. Only
# the top Makefile and the files the series touches are extracted from the
# cached linux-source .deb (downloaded into the cache first if missing).
#
#   SERIES  6.1, 6.12 or 6.16 (default: all of TREES below)
#
# For each tree:
#   - apply.sh --check picks the series by itself and says it applies;
#   - apply.sh patches a copy: the backport marker and capability 243 are
#     there afterwards, and a second run finds nothing to apply;
#   - apply.sh --check refuses a copy whose arch/arm64/kvm/mmu.c the series
#     no longer fits (its indentation changed), so a series that stops
#     applying is reported.
#
# Output: TAP (tests/lib/tap.sh: "ok N - kvm-patches 6.16: ...", the plan
# last); exit 0 when nothing failed.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
# ng_k_fetch: by exact version from the apt lists or the archive's pool.
# shellcheck source=tests/matrix/kernels.sh
. "$here/../matrix/kernels.sh"
top=$NVGRACE_TOP
kp=$top/packaging/kernel-patches
apply=$kp/apply.sh

# SERIES PACKAGE VERSION: the Debian trees the series are written for (see
# packaging/kernel-patches/README). 6.12.107 is trixie's linux-source-6.12,
# older than the stage-1 leaf size fix: apply.sh adds 6.12/0000 there.
TREES="
6.1 linux-source-6.1 6.1.192-2
6.12 linux-source-6.12 6.12.117-1~deb12u1
6.12 linux-source-6.12 6.12.107-1
6.16 linux-source-6.16 6.16.12-1~bpo13+1
"

want=("$@")
srcroot=$NVGRACE_CACHE/custom/patch-src
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
TAP_PREFIX="kvm-patches "

# notok DESC [DIAG...]: a failure, with diagnostic lines
notok() {
	tap_not_ok "$1"
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@" | sed 's/^/# /'
}

# The files a series touches (every patch, 0000 included), plus the Makefile.
series_files() {
	{
		echo Makefile
		sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$kp/$1"/0*.patch
	} | sort -u
}

# subtree PKG VERSION FILE...: print a directory holding FILE... of PKG's
# tree, extracting them from the .deb when the cached copy lacks one.
subtree() {
	local pkg=$1 ver=$2 dir deb tmp f have=1
	shift 2
	dir=$srcroot/${pkg}_${ver//[:~]/_}
	for f in "$@"; do
		grep -qxF -- "$f" "$dir/.files" 2>/dev/null || have=0
	done
	if [ "$have" -eq 0 ]; then
		deb=$(ng_cached_deb "$NVGRACE_CACHE/debs" "$pkg" "$ver" all)
		if [ -z "$deb" ]; then
			deb=$(
				ng_apt_setup
				ng_k_fetch "$pkg" all "$ver"
			) || return 1
		fi
		msg "extracting ${#} file(s) of $pkg $ver from $deb"
		tmp=$dir.tmp.$$
		rm -rf "$tmp"
		mkdir -p "$tmp"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" |
			tar -xJ -C "$tmp" "${@/#/$pkg/}" || {
			rm -rf "$tmp"
			msg "$deb: could not extract $* from usr/src/$pkg.tar.xz"
			return 1
		}
		printf '%s\n' "$@" >"$tmp/$pkg/.files"
		rm -rf "$dir"
		mv "$tmp/$pkg" "$dir"
		rmdir "$tmp"
	fi
	printf '%s\n' "$dir"
}

while read -r series pkg ver <&3; do
	[ -n "$series" ] || continue
	if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qxF -- "$series"; then
		continue
	fi
	name="$series: series applies to $pkg $ver"
	if [ ! -f "$kp/$series/series" ]; then
		notok "$name" "no packaging/kernel-patches/$series/series"
		continue
	fi
	mapfile -t files < <(series_files "$series")
	if ! src=$(subtree "$pkg" "$ver" "${files[@]}"); then
		notok "$name" "could not get $pkg $ver (see stderr)"
		continue
	fi

	# 1. apply.sh --check on the pristine files, series picked by version.
	if out=$("$apply" --check "$src" 2>&1) &&
		grep -q "picked series $series " <<<"$out" &&
		grep -q 'applies cleanly' <<<"$out"; then
		tap_ok "$name"
	else
		notok "$name" "$out"
		continue
	fi

	# 2. A real apply on a copy, and the result recognised as patched.
	name="$series: apply.sh patches a copy of $pkg $ver (marker, capability 243, re-run is a no-op)"
	rm -rf "$work/tree"
	cp -r "$src" "$work/tree"
	if out=$("$apply" "$work/tree" 2>&1) &&
		grep -q '^#define KVM_ARM_CACHEABLE_PFNMAP_BACKPORT 1$' \
			"$work/tree/arch/arm64/include/asm/kvm_mmu.h" &&
		grep -q '^#define KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED 243$' \
			"$work/tree/include/uapi/linux/kvm.h" &&
		out=$("$apply" "$work/tree" 2>&1) &&
		grep -q 'nothing to apply' <<<"$out"; then
		tap_ok "$name"
	else
		notok "$name" "$out"
	fi

	# 3. The check fails when the series does not fit the tree.
	name="$series: apply.sh --check refuses $pkg $ver with a reindented mmu.c"
	rm -rf "$work/tree"
	cp -r "$src" "$work/tree"
	sed -i 's/^\t/        /' "$work/tree/arch/arm64/kvm/mmu.c"
	if out=$("$apply" --check "$work/tree" 2>&1); then
		notok "$name" "apply.sh --check accepted it:" "$out"
	elif grep -q 'does not apply' <<<"$out"; then
		tap_ok "$name"
	else
		notok "$name" "apply.sh --check failed for another reason:" "$out"
	fi
done 3<<<"$TREES"

tap_finish
