#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# qemu-image.sh: the disk image that carries the real VMM into the arm64 test
# guest: Debian trixie's arm64 qemu-system-arm, qemu-system-data and
# qemu-efi-aarch64 with their library dependencies, unpacked without running
# anything (mmdebstrap --variant=extract), usrmerge links added, written to an
# ext4 image (mke2fs -d). The guest mounts it read-only and chroots into it.
#
# Usage: qemu-image.sh [--print-key]
# Stdout: the image path, $NVGRACE_CACHE/vmm/qemu-<key>.img, where <key>
# hashes the trixie versions of those packages (a new QEMU in the archive
# makes a new image; older images are removed). Messages go to stderr.
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

PKGS="qemu-system-arm qemu-system-data qemu-efi-aarch64"
SUITE=trixie

print_key=0
case ${1:-} in
--print-key) print_key=1 ;;
'') ;;
-h | --help) sed -n '/^# SPDX/,/^[^#]/{/^#/p}' "$0" | sed '1d; s/^# \{0,1\}//'; exit 0 ;;
*) die "qemu-image.sh: unknown argument: $1" ;;
esac

ng_apt_setup
vers=$(for p in $PKGS; do
	ng_apt_cache madison "$p" 2>/dev/null |
		awk -F' [|] ' -v s=" $SUITE/main " 'index($3, s) { print $1, $2; exit }'
done)
[ "$(printf '%s\n' "$vers" | grep -c .)" = 3 ] ||
	die "qemu-image.sh: $PKGS not all found in $SUITE: $vers"
key=$(printf '%s\nrecipe 2\n' "$vers" | sha256sum | cut -c1-16)
[ $print_key = 1 ] && { printf '%s\n' "$key"; exit 0; }

dir=$NVGRACE_CACHE/vmm
img=$dir/qemu-$key.img
if [ -e "$img.complete" ] && [ -s "$img" ]; then
	printf '%s\n' "$img"
	exit 0
fi
ng_need mmdebstrap e2fsprogs
mkdir -p "$dir"
root=$(mktemp -d "$dir/root.XXXXXX")
trap 'rm -rf "$root" "$img.tmp.$$"' EXIT
msg "qemu-image: unpacking $(printf '%s' "$vers" | tr '\n' ' ')(arm64)"
t0=$SECONDS
mmdebstrap --quiet --mode=root --arch=arm64 --variant=extract \
	--include="${PKGS// /,}" "$SUITE" "$root" \
	"deb $NVGRACE_MIRROR $SUITE main" >&2 ||
	die "qemu-image.sh: mmdebstrap failed"
# usrmerge: the packages ship /usr only; the dynamic loader is /lib/...
for l in bin sbin lib; do
	[ -e "$root/$l" ] || [ -L "$root/$l" ] || ln -s "usr/$l" "$root/$l"
done
mkdir -p "$root"/{dev,proc,sys,tmp,run,l2}
rm -rf "$root"/var/cache/apt "$root"/var/lib/apt/lists "$root"/usr/share/doc \
	"$root"/usr/share/man "$root"/usr/share/locale
[ -x "$root/usr/bin/qemu-system-aarch64" ] ||
	die "qemu-image.sh: no usr/bin/qemu-system-aarch64 in the unpacked tree"
[ -e "$root/usr/share/qemu-efi-aarch64/QEMU_EFI.fd" ] ||
	die "qemu-image.sh: no QEMU_EFI.fd in the unpacked tree"
mib=$(($(du -sm "$root" | cut -f1) * 5 / 4 + 32))
mke2fs -q -t ext4 -L nvgrace-qemu -d "$root" "$img.tmp.$$" "${mib}M" >&2 ||
	die "qemu-image.sh: mke2fs failed"
mv "$img.tmp.$$" "$img"
printf '%s\n' "$vers" >"$img.complete"
# only the newest image is kept
for old in "$dir"/qemu-*.img; do
	[ "$old" = "$img" ] || rm -f "$old" "$old.complete"
done
msg "qemu-image: $img (${mib} MiB) in $((SECONDS - t0))s"
printf '%s\n' "$img"
