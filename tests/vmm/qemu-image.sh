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
# Usage: qemu-image.sh [--cpio | --print-key]
# Stdout: the image path, $NVGRACE_CACHE/vmm/qemu-<key>.img, where <key>
# hashes the trixie versions of those packages (a new QEMU in the archive
# makes a new image; older ones are removed after a day unused). Messages go to stderr.
# --cpio: the same tree as a newc archive under nvgrace/qemu/ instead
# (qemu-<key>.cpio), to append to the initramfs of a kernel with no
# virtio-blk or ext4 (the custom kernels).
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# it writes into the shared cache: one at a time (tests/run.sh runs tiers
# side by side)
ng_setup_lock

PKGS="qemu-system-arm qemu-system-data qemu-efi-aarch64"
SUITE=trixie

print_key=0 want=img
case ${1:-} in
--print-key) print_key=1 ;;
--cpio) want=cpio ;;
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
key=$(printf '%s\nrecipe 4\n' "$vers" | sha256sum | cut -c1-16)
[ $print_key = 1 ] && { printf '%s\n' "$key"; exit 0; }

dir=$NVGRACE_CACHE/vmm
img=$dir/qemu-$key.img
cpio=$dir/qemu-$key.cpio
if [ -e "$img.complete" ] && [ -s "$img" ] && [ -s "$cpio" ]; then
	if [ $want = img ]; then printf '%s\n' "$img"; else printf '%s\n' "$cpio"; fi
	exit 0
fi
ng_need mmdebstrap e2fsprogs
mkdir -p "$dir"
top=$(mktemp -d "$dir/root.XXXXXX")
root=$top/nvgrace/qemu
mkdir -p "$root"
trap 'rm -rf "$top" "$img.tmp.$$" "$cpio.tmp.$$"' EXIT
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
	"$root"/usr/share/man "$root"/usr/share/locale \
	"$root"/usr/share/AAVMF "$root"/usr/bin/qemu-system-arm
# (AAVMF: 64 MiB secure-boot/VARS images we do not use; qemu-system-arm:
# the 32-bit emulator)
[ -x "$root/usr/bin/qemu-system-aarch64" ] ||
	die "qemu-image.sh: no usr/bin/qemu-system-aarch64 in the unpacked tree"
[ -e "$root/usr/share/qemu-efi-aarch64/QEMU_EFI.fd" ] ||
	die "qemu-image.sh: no QEMU_EFI.fd in the unpacked tree"
mib=$(($(du -sm "$root" | cut -f1) * 5 / 4 + 32))
mke2fs -q -t ext4 -L nvgrace-qemu -d "$root" "$img.tmp.$$" "${mib}M" >&2 ||
	die "qemu-image.sh: mke2fs failed"
(cd "$top" && find nvgrace | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$cpio.tmp.$$" ||
	die "qemu-image.sh: cpio failed"
mv "$img.tmp.$$" "$img"
mv "$cpio.tmp.$$" "$cpio"
printf '%s\n' "$vers" >"$img.complete"
# older images go once unused for a day (a running tier may still use one)
find "$dir" -maxdepth 1 \( -name 'qemu-*.img' -o -name 'qemu-*.cpio' \) -mtime +0 \
	! -name "qemu-$key.*" -exec rm -f {} {}.complete \;
msg "qemu-image: $img (${mib} MiB) and $cpio in $((SECONDS - t0))s"
if [ $want = img ]; then printf '%s\n' "$img"; else printf '%s\n' "$cpio"; fi
