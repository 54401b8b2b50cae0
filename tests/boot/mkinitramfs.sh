#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# mkinitramfs.sh: build the boot-tier initramfs (uncompressed newc cpio).
#
# Usage: mkinitramfs.sh --arch arm64|amd64 [--image DIR] [options]
#   --image DIR      image dir (kernels.sh layout or Debian package extraction)
#                    whose lib/modules/<release> provides kernel modules;
#                    without it (custom kernel, all built in) no kernel modules
#   --kbuild DIR     a kernel build (O=) dir instead of --image (custom
#                    kernels): its _modinst/lib/modules/<rel> tree if
#                    present, else just its modules.builtin lists (so
#                    modprobe of a built-in module succeeds)
#   --kmods "LIST"   kernel modules to include, with their dependencies
#                    (default: $NG_DEFAULT_KMODS below); builtins are skipped
#   --extra-kmods "LIST"  added to the default list
#   --modules DIR    the pack's built *.ko: /lib/modules/<rel>/extra/ and
#                    /nvgrace/modules/ (their kernel dependencies are added;
#                    repeatable, e.g. a second dir with the test-only modules)
#   --tests DIR      guest tests: DIR/* -> /nvgrace/tests/ (repeatable; all
#                    regular files but *.c *.h *.md; only NN-*.sh are run,
#                    the rest are helpers/data, e.g. lib.inc)
#   --bin DIR        static guest programs: DIR/* -> /nvgrace/bin/ (repeatable)
#   --busybox PATH   static busybox for the guest (default from qemu-setup.sh)
#   (always) the pack's tools/* -> /nvgrace/tools/
#
# Stdout: the path of the cpio, $NVGRACE_CACHE/initramfs/<arch>-<hash>.cpio,
# where <hash> covers the whole staged tree (an identical tree is not rebuilt).
set -euo pipefail

# shellcheck source=bootlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bootlib.sh"

# Default kernel modules (dependencies are added: e.g. vfio_virqfd on 6.1).
NG_DEFAULT_KMODS="vfio vfio_iommu_type1 vfio_pci_core vfio_pci irqbypass hwpoison_inject kvm"
NG_DEFAULT_KMODS_arm64="arm_smmu_v3"

arch='' image='' kbuild='' kmods=default busybox='' explicit=0
packdirs=()
tests=() bins=()
while [ $# -gt 0 ]; do
	case $1 in
	--arch) arch=$(ng_arch_norm "$2"); shift ;;
	--image) image=$2; shift ;;
	--kbuild) kbuild=$2; shift ;;
	--kmods) kmods=$2; explicit=1; shift ;;
	--extra-kmods) extra="${extra:-} $2"; explicit=1; shift ;;
	--modules) packdirs+=("$2"); shift ;;
	--tests) tests+=("$2"); shift ;;
	--bin) bins+=("$2"); shift ;;
	--busybox) busybox=$2; shift ;;
	-h | --help) sed -n '/^# SPDX/,/^[^#]/{/^#/p}' "$0" | sed '1d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "mkinitramfs: unknown argument: $1" ;;
	esac
	shift
done
[ -n "$arch" ] || die "mkinitramfs: --arch is required"
if [ "$kmods" = default ]; then
	kmods=$NG_DEFAULT_KMODS
	[ "$arch" = arm64 ] && kmods="$kmods $NG_DEFAULT_KMODS_arm64"
fi
kmods="$kmods ${extra:-}"
if [ -z "$busybox" ]; then
	ng_qemu_env
	if [ "$arch" = arm64 ]; then busybox=$NG_BUSYBOX_ARM64; else busybox=$NG_BUSYBOX_AMD64; fi
fi
[ -x "$busybox" ] || die "mkinitramfs: no busybox at $busybox"

mkdir -p "$NVGRACE_CACHE/tmp" "$NVGRACE_CACHE/initramfs"
stage=$(mktemp -d "$NVGRACE_CACHE/tmp/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,lib/modules} \
	"$stage"/nvgrace/{bin,modules,tests}
install -m 0755 "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 "$NG_BOOT_DIR/initramfs/init" "$stage/init"
install -m 0755 "$NG_BOOT_DIR/initramfs/runner.sh" "$stage/nvgrace/runner.sh"
install -m 0644 "$NG_BOOT_DIR/initramfs/lib.sh" "$stage/nvgrace/lib.sh"
# the TAP library of the host-side tests, which lib.sh builds on
install -m 0644 "$NVGRACE_TOP/tests/lib/tap.sh" "$stage/nvgrace/tap.sh"
echo "$arch" >"$stage/nvgrace/arch"
: >"$stage/etc/fstab"
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"

norm() { printf '%s\n' "${1//-/_}"; }
# decompress SRC DST: copy a module, decompressing .xz/.zst/.gz
decompress() {
	case $1 in
	*.xz) xz -dc "$1" >"$2" ;;
	*.zst) zstd -qdc "$1" >"$2" ;;
	*.gz) gzip -dc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

manifest=$stage/nvgrace/manifest
: >"$manifest"
moddir=
rel=
if [ -n "$image" ]; then
	moddir=$(ng_image_moddir "$image") || die "mkinitramfs: no lib/modules/<release>/kernel under $image"
	rel=${moddir##*/}
elif [ -n "$kbuild" ]; then
	if ! moddir=$(ng_image_moddir "$kbuild"); then
		moddir=''
		rel=$(cat "$kbuild/include/config/kernel.release") || die "mkinitramfs: $kbuild is no kernel build dir"
		mkdir -p "$stage/lib/modules/$rel"
		for f in modules.builtin modules.builtin.modinfo modules.order; do
			[ -e "$kbuild/$f" ] && cp "$kbuild/$f" "$stage/lib/modules/$rel/"
		done
	else
		rel=${moddir##*/}
	fi
fi
if [ -n "$rel" ]; then
	echo "$rel" >"$stage/nvgrace/release"
	echo "release $rel" >>"$manifest"
fi

# Pack modules (and the kernel modules they depend on).
packnames=()
packdeps=()
for packdir in "${packdirs[@]}"; do
	[ -d "$packdir" ] || die "mkinitramfs: --modules $packdir is not a directory"
	for f in "$packdir"/*.ko "$packdir"/*.ko.xz "$packdir"/*.ko.zst; do
		[ -e "$f" ] || continue
		b=${f##*/}
		b=${b%.xz}
		b=${b%.zst}
		decompress "$f" "$stage/nvgrace/modules/$b"
		packnames+=("$(norm "${b%.ko}")")
		vm=$(modinfo -F vermagic "$stage/nvgrace/modules/$b" 2>/dev/null | awk '{print $1}')
		if [ -n "$rel" ] && [ "$vm" != "$rel" ]; then
			msg "mkinitramfs: warning: $b was built for '$vm', the image is $rel"
		fi
		d=$(modinfo -F depends "$stage/nvgrace/modules/$b" 2>/dev/null || true)
		[ -n "$d" ] && IFS=, read -r -a dd <<<"$d" && packdeps+=("${dd[@]}")
		echo "pack $b vermagic=$vm" >>"$manifest"
	done
done
[ ${#packdirs[@]} -eq 0 ] || [ ${#packnames[@]} -gt 0 ] || msg "mkinitramfs: warning: no *.ko in ${packdirs[*]}"

if [ -n "$moddir" ]; then
	declare -A path=() builtin=() seen=()
	# name -> path index and the builtin list, normalized in one awk pass each
	while read -r n f; do
		path[$n]=$f
	done < <(find "$moddir/kernel" "$moddir/updates" "$moddir/extra" -name '*.ko*' 2>/dev/null |
		awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n); print n, $0 }')
	if [ -r "$moddir/modules.builtin" ]; then
		while read -r n; do
			builtin[$n]=1
		done < <(awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko$/, "", n); gsub(/-/, "_", n); print n }' \
			"$moddir/modules.builtin")
	fi
	for p in "${packnames[@]}"; do seen[$p]=1; done
	kdst=$stage/lib/modules/$rel
	mkdir -p "$kdst"
	resolve() {
		local n deps d f rp
		n=$(norm "$1")
		[ -n "$n" ] || return 0
		[ -z "${seen[$n]:-}" ] || return 0
		seen[$n]=1
		f=${path[$n]:-}
		if [ -z "$f" ]; then
			if [ -n "${builtin[$n]:-}" ]; then
				echo "builtin $n" >>"$manifest"
			else
				echo "missing $n" >>"$manifest"
				[ $explicit = 0 ] ||
					msg "mkinitramfs: note: module $n is neither in $rel's tree nor built in"
			fi
			return 0
		fi
		rp=${f#"$moddir"/}
		rp=${rp%.xz}
		rp=${rp%.zst}
		rp=${rp%.gz}
		mkdir -p "$kdst/${rp%/*}"
		decompress "$f" "$kdst/$rp"
		echo "module $n $rp" >>"$manifest"
		deps=$(modinfo -F depends "$kdst/$rp" 2>/dev/null || true)
		for d in ${deps//,/ }; do resolve "$d"; done
		# soft dependencies ("pre: a b post: c"), when they exist
		for d in $(modinfo -F softdep "$kdst/$rp" 2>/dev/null | tr ' ' '\n' | grep -v ':$' || true); do
			[ -n "${path[$(norm "$d")]:-}" ] && resolve "$d"
		done
		return 0
	}
	for m in $kmods "${packdeps[@]}"; do resolve "$m"; done
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -e "$moddir/$f" ] && cp "$moddir/$f" "$kdst/"
	done
	if [ ${#packnames[@]} -gt 0 ]; then
		mkdir -p "$kdst/extra"
		cp "$stage"/nvgrace/modules/*.ko "$kdst/extra/" 2>/dev/null || true
	fi
	depmod -b "$stage" "$rel" || die "mkinitramfs: depmod failed"
elif [ -n "$rel" ]; then
	# built-in lists only (custom kernel): pack modules + depmod
	if [ ${#packnames[@]} -gt 0 ]; then
		mkdir -p "$stage/lib/modules/$rel/extra"
		cp "$stage"/nvgrace/modules/*.ko "$stage/lib/modules/$rel/extra/"
	fi
	depmod -b "$stage" "$rel" || die "mkinitramfs: depmod failed"
fi

for t in "${tests[@]}"; do
	[ -d "$t" ] || die "mkinitramfs: --tests $t is not a directory"
	for f in "$t"/*; do
		[ -f "$f" ] || continue
		case $f in *.c | *.h | *.md | *.o | */Makefile | *~) continue ;; esac
		[ -e "$stage/nvgrace/tests/${f##*/}" ] && msg "mkinitramfs: warning: ${f##*/} given twice, using $f"
		install -m 0755 "$f" "$stage/nvgrace/tests/"
	done
done
for b in "${bins[@]}"; do
	[ -d "$b" ] || die "mkinitramfs: --bin $b is not a directory"
	for f in "$b"/*; do
		[ -f "$f" ] && install -m 0755 "$f" "$stage/nvgrace/bin/"
	done
done

# The pack's operator tools (tools/), for the guest tests that use them.
mkdir -p "$stage/nvgrace/tools"
for f in "$NVGRACE_TOP"/tools/*; do
	[ -f "$f" ] && install -m 0755 "$f" "$stage/nvgrace/tools/"
done

# Content hash of the staged tree: names, types, link targets, contents.
hash=$(cd "$stage" && {
	find . -printf '%y %m %p %l\n' | LC_ALL=C sort
	find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-20)
out=$NVGRACE_CACHE/initramfs/$arch-$hash.cpio
if [ ! -s "$out" ]; then
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp.$$"
	mv "$out.tmp.$$" "$out"
	# keep the cache bounded: drop initramfs files unused for 7 days
	find "$NVGRACE_CACHE/initramfs" -name '*.cpio' -atime +7 -delete 2>/dev/null || true
fi
printf '%s\n' "$out"
