#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build mainline's nvgrace-gpu-vfio-pci, for comparison with the pack in
# the same boot: drivers/vfio/pci/nvgrace-gpu/main.c of Debian's
# linux-source-7.3 (the newest mainline driver Debian ships; no Debian
# kernel builds it) as an out-of-tree module against a Debian kernel's
# headers, with that kernel's compiler (tests/matrix/kernels.sh run).
# Nothing of it is copied into the repository: the file is cut out of the
# cached linux-source package at run time.
#
#   tests/bench/mainline.sh SERIES ARCH
#
# Last stdout line: the directory that holds nvgrace-gpu-vfio-pci.ko,
# ${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}-mainline/<SERIES>-<ARCH>
# (so tests/boot/tier.sh --extra-modules-root takes its parent). The module
# keeps mainline's name: its PCI driver is nvgrace_gpu_vfio_pci, the pack's
# nvgrace_vfio_pci, so both load side by side and driver_override picks one.
# Rebuilt only when the source or the kernel changes. The driver is written
# against 7.3's APIs; another SERIES is tried but may not compile (exit 1,
# the compiler's output on stderr).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"

NG_MAINLINE_SOURCE=linux-source-7.3
NG_MAINLINE_FILE=drivers/vfio/pci/nvgrace-gpu/main.c

[ $# = 2 ] || { sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
series=$1 arch=$2
kernels=$here/../matrix/kernels.sh

# mainline_source: print the path of main.c, cut out of linux-source once
# (the tarball is decompressed whole: about half a minute).
mainline_source() {
	local deb ver dir held=${NG_SETUP_LOCKED:-}
	ng_setup_lock
	ng_apt_setup
	deb=$(ng_download "$NG_MAINLINE_SOURCE")
	ver=$(dpkg-deb -f "$deb" Version)
	dir=$NVGRACE_CACHE/mainline-src/$NG_MAINLINE_SOURCE-${ver//[^A-Za-z0-9.+-]/_}
	if [ ! -s "$dir/main.c" ]; then
		msg "mainline.sh: extracting $NG_MAINLINE_FILE from $(basename "$deb")"
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		dpkg-deb --fsys-tarfile "$deb" |
			tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
			tar -xJ -C "$dir.tmp" --strip-components=1 --wildcards "*/$NG_MAINLINE_FILE"
		[ -s "$dir.tmp/$NG_MAINLINE_FILE" ] || die "mainline.sh: no $NG_MAINLINE_FILE in $deb"
		mv "$dir.tmp/$NG_MAINLINE_FILE" "$dir.tmp/main.c"
		echo "$ver" >"$dir.tmp/version"
		rm -rf "$dir.tmp/drivers" "$dir" && mv "$dir.tmp" "$dir"
	fi
	[ -n "$held" ] || ng_setup_unlock
	printf '%s\n' "$dir/main.c"
}

src=$(mainline_source)
release=$("$kernels" release "$series" "$arch")
out=${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}-mainline/$series-$arch
stamp="$(sha256sum "$src" | cut -d' ' -f1) $release $(cat "$(dirname "$src")/version")"
if [ -s "$out/nvgrace-gpu-vfio-pci.ko" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
	printf '%s\n' "$out"
	exit 0
fi
rm -rf "$out" && mkdir -p "$out"
cp "$src" "$out/main.c"
# the module as mainline's drivers/vfio/pci/nvgrace-gpu/Makefile names it
printf '%s\n' 'obj-m := nvgrace-gpu-vfio-pci.o' 'nvgrace-gpu-vfio-pci-y := main.o' >"$out/Kbuild"
log=$out/build.log
t0=$SECONDS
# shellcheck disable=SC2016 # $KDIR is set by kernels.sh run
if ! (cd "$out" && "$kernels" run "$series" "$arch" -- \
	sh -c 'exec make -C "$KDIR" M="$1" modules' sh "$out") >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die "mainline.sh: mainline's driver did not build against $release (log: $log)"
fi
[ -s "$out/nvgrace-gpu-vfio-pci.ko" ] || die "mainline.sh: no nvgrace-gpu-vfio-pci.ko after the build ($log)"
msg "mainline.sh: built mainline's nvgrace-gpu-vfio-pci ($(cat "$(dirname "$src")/version")) for $release in $((SECONDS - t0)) s"
echo "$stamp" >"$out/.stamp"
printf '%s\n' "$out"
