#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# apply.sh [--check] [--series NAME] TREE
#
# Apply the companion KVM arm64 patch series (stage-2 cacheable PFNMAP) to a
# kernel source tree. The series is picked from the tree's own Makefile
# (VERSION.PATCHLEVEL); the script says which one it picked and applies all
# of its patches or none of them.
#
#   --check        only test that the series applies (patch --dry-run)
#   --series NAME  use series NAME (a directory next to this script) whatever
#                  the tree's version is
#
# Exit status: 0 applied (or would apply with --check), or nothing to do
# because the tree already has the logic (mainline 6.17 and later, or the
# series already applied); 1 the series does not apply or the tree's
# version has no series; 2 usage error.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=${0##*/}

say() { printf '%s: %s\n' "$PROG" "$*"; }
fail() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage() {
	printf 'usage: %s [--check] [--series NAME] TREE\n' "$PROG" >&2
	exit 2
}

check=0 series=
while [ $# -gt 0 ]; do
	case $1 in
	--check) check=1 ;;
	--series) [ $# -ge 2 ] || usage; series=$2; shift ;;
	--series=*) series=${1#*=} ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || usage
tree=$1

if [ ! -f "$tree/Makefile" ] || [ ! -f "$tree/arch/arm64/kvm/mmu.c" ]; then
	fail "$tree is not a Linux source tree with arch/arm64/kvm (no Makefile or arch/arm64/kvm/mmu.c)"
fi

# VERSION, PATCHLEVEL, SUBLEVEL from the top Makefile.
mkvar() { sed -n "s/^$1 *= *\([0-9]*\).*/\1/p" "$tree/Makefile" | head -n1; }
ver=$(mkvar VERSION) plv=$(mkvar PATCHLEVEL) sub=$(mkvar SUBLEVEL)
if [ -z "$ver" ] || [ -z "$plv" ]; then
	fail "cannot read VERSION/PATCHLEVEL from $tree/Makefile"
fi
kv=$ver.$plv${sub:+.$sub}
say "tree $tree is Linux $kv"

# The tree already has the logic: mainline from 6.17, or this series.
if grep -q 'KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED' "$tree/include/uapi/linux/kvm.h" 2>/dev/null &&
	grep -q 'kvm_supports_cacheable_pfnmap' "$tree/arch/arm64/kvm/mmu.c"; then
	say "the tree already maps cacheable PFNMAP as Normal cacheable at stage 2 (native or already patched): nothing to apply"
	exit 0
fi

if [ -z "$series" ]; then
	series=$ver.$plv
	if [ "$ver" -gt 6 ] || { [ "$ver" -eq 6 ] && [ "$plv" -ge 17 ]; }; then
		fail "Linux $kv should have the logic natively (6.17+), but the tree lacks it; not patching"
	fi
fi
sdir=$HERE/$series
if [ ! -f "$sdir/series" ]; then
	avail=$(cd "$HERE" && for d in */series; do printf '%s ' "${d%/series}"; done)
	fail "no patch series for Linux $ver.$plv (series available: $avail)"
fi

patches=()
while read -r p _; do
	case $p in '' | '#'*) continue ;; esac
	[ -f "$sdir/$p" ] || fail "series $series names a missing patch: $p"
	patches+=("$sdir/$p")
done <"$sdir/series"
[ ${#patches[@]} -gt 0 ] || fail "series $series is empty"

say "picked series $series (${#patches[@]} patches) for Linux $kv"

# The series relies on the stable fix that stopped sizing VM_PFNMAP stage-2
# blocks from vm_pgoff (wrong for fault-based VFIO mappings): 6.12.115 and
# 6.1.191. An older tree gets the series' 0000-*.patch first, which is not
# in the series file (that one is for the current Debian trees), if the
# series has one. A series whose kernel never got the fix (6.16) lists its
# 0000 patch in the series file itself.
first=${patches[0]##*/}
if [ "${first#0000-}" = "$first" ] && grep -q 'vm_pgoff' "$tree/arch/arm64/kvm/mmu.c"; then
	pre=$(find "$sdir" -maxdepth 1 -name '0000-*.patch' | sort | head -n1)
	[ -n "$pre" ] ||
		fail "arch/arm64/kvm/mmu.c still sizes VM_PFNMAP block mappings from vm_pgoff and series $series has no patch for that; update the tree to a newer stable release first"
	say "the tree still sizes VM_PFNMAP blocks from vm_pgoff (older than the stable fix): adding $(basename "$pre")"
	patches=("$pre" "${patches[@]}")
fi

# Dry run of the whole series first, on a scratch copy of the files it
# touches, so that a failure leaves the tree untouched.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
files=$(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "${patches[@]}" | sort -u)
for f in $files; do
	[ -f "$tree/$f" ] || fail "the series touches $f, which $tree does not have"
	mkdir -p "$scratch/$(dirname "$f")"
	cp "$tree/$f" "$scratch/$f"
done
for p in "${patches[@]}"; do
	if ! out=$(patch -d "$scratch" -p1 --fuzz=0 --batch --forward --no-backup-if-mismatch -s <"$p" 2>&1); then
		printf '%s\n' "$out" >&2
		fail "$(basename "$p") does not apply to Linux $kv; nothing was changed"
	fi
done

if [ "$check" -eq 1 ]; then
	say "series $series applies cleanly (--check: tree not modified)"
	exit 0
fi

for p in "${patches[@]}"; do
	say "applying $(basename "$p")"
	patch -d "$tree" -p1 --fuzz=0 --batch --forward --no-backup-if-mismatch -s <"$p" ||
		fail "$(basename "$p") failed to apply after a clean dry run; the tree is partly patched"
done
say "applied series $series to $tree"
