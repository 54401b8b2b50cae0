#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# build-guest-bins.sh: build the static guest test programs for one arch.
#
# Usage: build-guest-bins.sh --arch arm64|amd64 [--src DIR]
#   --src DIR   directory of *.c (default tests/guest); each FOO.c becomes one
#               static binary FOO; *.h next to them are usable (-I DIR).
#               A line "// guest-cflags: ..." in a .c adds compiler flags
#               (e.g. -lpthread).
# Stdout: a directory holding exactly the built binaries:
#   $NVGRACE_CACHE/guest-bin/<arch>/set-<hash>/ (empty when there is no .c).
# Each binary is cached by the hash of its source, the headers, flags and
# compiler, under $NVGRACE_CACHE/guest-bin/<arch>/obj/.
set -euo pipefail

# shellcheck source=bootlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bootlib.sh"
# it writes into the shared cache: one at a time (tests/run.sh runs tiers
# side by side)
ng_setup_lock

arch='' src=$NVGRACE_TOP/tests/guest
while [ $# -gt 0 ]; do
	case $1 in
	--arch) arch=$(ng_arch_norm "$2"); shift ;;
	--src) src=$2; shift ;;
	-h | --help) sed -n '/^# SPDX/,/^[^#]/{/^#/p}' "$0" | sed '1d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "build-guest-bins: unknown argument: $1" ;;
	esac
	shift
done
[ -n "$arch" ] || die "build-guest-bins: --arch is required"

if [ "$arch" = arm64 ]; then
	cc=aarch64-linux-gnu-gcc
	ng_need gcc-aarch64-linux-gnu libc6-dev-arm64-cross
else
	cc=gcc
	ng_need gcc libc6-dev
fi
CFLAGS=${NG_GUEST_CFLAGS:-"-O2 -g -Wall -Wextra -static"}
ccver=$($cc --version | head -n1)

base=$NVGRACE_CACHE/guest-bin/$arch
mkdir -p "$base/obj"
hdrsum=$({ cat "$src"/*.h 2>/dev/null || true; } | sha256sum | cut -c1-16)
names=()
objs=()
for c in "$src"/*.c; do
	[ -e "$c" ] || continue
	n=${c##*/}
	n=${n%.c}
	extra=$(sed -n 's|^// *guest-cflags: *||p' "$c" | tr '\n' ' ')
	h=$({
		cat "$c"
		echo "$hdrsum $CFLAGS $extra $ccver"
	} | sha256sum | cut -c1-20)
	o=$base/obj/$n-$h
	if [ ! -x "$o" ]; then
		msg "build-guest-bins: $arch: $n"
		# shellcheck disable=SC2086
		$cc $CFLAGS -I"$src" -o "$o.tmp.$$" "$c" $extra ||
			die "build-guest-bins: $c failed to build for $arch"
		mv "$o.tmp.$$" "$o"
	fi
	names+=("$n")
	objs+=("$o")
done

setid=$(printf '%s\n' "${objs[@]}" | sha256sum | cut -c1-16)
set=$base/set-$setid
if [ ! -d "$set" ]; then
	mkdir -p "$set.tmp.$$"
	for i in "${!objs[@]}"; do
		cp "${objs[$i]}" "$set.tmp.$$/${names[$i]}"
	done
	mv "$set.tmp.$$" "$set"
fi
printf '%s\n' "$set"
