#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# tier.sh: the real-VMM tier. Boots each arm64 kernel under QEMU TCG (the boot
# tier's boot.sh, at EL2), where Debian's arm64 QEMU (qemu-image.sh, attached
# as a virtio disk) runs with -accel kvm and gives the stand-in GPU, bound to
# nvgrace-vfio-pci, to an L2 guest (Debian arm64 7.3 kernel + a busybox
# initramfs with tests/vmm/l2/) through -device vfio-pci. The L1 side is
# tests/vmm/guest/80-vmm.sh.
#
# Usage: tier.sh [--smoke] [--kernels "LIST"] [--full] [options]
#   --smoke              Debian arm64 7.3 only, one direct-boot L2 run
#   --kernels "LIST"     arm64/SERIES words (Debian kernels) and
#                        custom/KEY words (tests/custom/build-kernel.sh keys:
#                        6.12-4k, 6.12kp-4k = 6.12 with the companion KVM
#                        series, 7.3-4k). Default: $NG_VMM_KERNELS below.
#                        arm64-16k/SERIES (Debian's 16 KiB-page flavour) is
#                        a skip: such an L1 runs no L2 under TCG
#                        deb/DIR: the linux-image package that
#                        packaging/kernel-patches/build-debian-kernel.sh
#                        built in DIR (its --workdir, the kernel tree too)
#   --full / --no-efi    with / without the UEFI + ACPI L2 run (default: with,
#                        except for --smoke)
#   --modules-root DIR   pack modules for Debian kernels in DIR/<series>-arm64/
#                        (default $NVGRACE_BUILD_ROOT, else $NVGRACE_CACHE/build;
#                        built with tests/matrix/matrix.sh when missing)
#   --timeout SEC        per boot (default 900)
#   --only GLOB          guest scripts to run (default 80-vmm*); another
#                        glob runs other scripts on the same L1 and L2
#                        machinery (tests/vmm/guest/l2vm.inc), e.g. the
#                        bench's 92-l2-vs-mainline.sh, and leaves
#                        $NVGRACE_CACHE/results/vmm.tsv alone
#   --tests DIR          more guest scripts (repeatable)
#   --extra-modules DIR  more modules in the initramfs (repeatable; for
#                        arm64/SERIES kernels)
#   --append ARGS        more kernel command line
#   --test-timeout SEC   per guest script (default 840)
#   -v                   stream the guest console
# Stdout: TAP ("ok - vmm/arm64/7.3: 80-vmm: ...", "not ok - ...",
# "ok - ... # SKIP why"), per-kernel BOOT-SUMMARY lines, a "# " table of the
# measured results, last line "VMM-TIER-SUMMARY kernels=K passed=N failed=N
# skipped=N". Results also go to $NVGRACE_CACHE/results/vmm.tsv.
# Exit status 0 only if nothing failed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../boot/bootlib.sh
. "$here/../boot/bootlib.sh"

NG_VMM_KERNELS="arm64/6.1 arm64/6.12 arm64/6.17 arm64/6.19 arm64/7.3 custom/6.12-4k custom/6.12kp-4k custom/7.3-4k"
L2_SERIES=7.3

kernels=$NG_VMM_KERNELS modroot=${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build} efi='' timeout=900
only='80-vmm*' append='' ttimeout=840
verbose=() xtests=() xmods=()
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) kernels=arm64/7.3; efi=${efi:-0} ;;
	--kernels) kernels=$2; shift ;;
	--full) efi=1 ;;
	--no-efi) efi=0 ;;
	--modules-root) modroot=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--only) only=$2; shift ;;
	--tests) xtests+=(--tests "$2"); shift ;;
	--extra-modules) xmods+=(--modules "$2"); shift ;;
	--append) append=" $2"; shift ;;
	--test-timeout) ttimeout=$2; shift ;;
	-v | --verbose) verbose=(-v) ;;
	-h | --help) sed -n '/^# SPDX/,/^[^#]/{/^#/p}' "$0" | sed '1d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "tier.sh: unknown argument: $1" ;;
	esac
	shift
done
efi=${efi:-1}
mode=smoke
[ "$efi" = 1 ] && mode=full
top=$NVGRACE_TOP
kernels_sh=$top/tests/matrix/kernels.sh
start=$SECONDS
tp=0 tf=0 ts=0 nk=0
rows=()

# tap_fail DESC: a failure found here, not by a guest
tap_fail() { echo "not ok - $*"; tf=$((tf + 1)); }

# --- what every kernel shares: QEMU disk, L2 payload, guest programs ---------
ng_qemu_env
if ! qimg=$("$here/qemu-image.sh"); then
	tap_fail "vmm: QEMU disk image (tests/vmm/qemu-image.sh)"
	echo "VMM-TIER-SUMMARY kernels=0 passed=0 failed=$tf skipped=0"
	exit 1
fi

# l2_payload: dir with l2-vmlinuz + l2-initrd.cpio, cached by content
l2_payload() {
	local img kern bins stage hash out
	img=$("$kernels_sh" image "$L2_SERIES" arm64 | tail -n1) || return 1
	kern=$(ng_image_kernel "$img") || return 1
	bins=$("$NG_BOOT_DIR/build-guest-bins.sh" --arch arm64 --src "$here/l2") || return 1
	stage=$(mktemp -d "$NVGRACE_CACHE/tmp/vmm-l2.XXXXXX")
	mkdir -p "$stage/bin"
	install -m 0755 "$NG_BUSYBOX_ARM64" "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	install -m 0755 "$here/l2/init" "$stage/init"
	install -m 0755 "$bins"/* "$stage/bin/"
	hash=$({
		(cd "$stage" && find . -printf '%y %m %p %l\n' | LC_ALL=C sort)
		(cd "$stage" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
		sha256sum "$kern" | cut -d' ' -f1
	} | sha256sum | cut -c1-16)
	out=$NVGRACE_CACHE/vmm/l2-$hash
	if [ ! -e "$out/complete" ]; then
		rm -rf "$out"
		mkdir -p "$out"
		(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out/l2-initrd.cpio"
		cp "$kern" "$out/l2-vmlinuz"
		touch "$out/complete"
		# other payloads go once unused for a day: a tier running at the
		# same time (another worktree) may still use one
		find "$NVGRACE_CACHE/vmm" -maxdepth 1 -name 'l2-*' ! -name "l2-$hash" -mtime +0 -exec rm -rf {} +
	fi
	rm -rf "$stage"
	touch "$out"
	printf '%s\n' "$out"
}
mkdir -p "$NVGRACE_CACHE/tmp" "$NVGRACE_CACHE/results"
if ! l2dir=$(l2_payload); then
	tap_fail "vmm: L2 payload (Debian arm64 $L2_SERIES kernel, busybox initramfs)"
	echo "VMM-TIER-SUMMARY kernels=0 passed=0 failed=$tf skipped=0"
	exit 1
fi
if ! bins=$("$NG_BOOT_DIR/build-guest-bins.sh" --arch arm64 --src "$top/tests/guest"); then
	tap_fail "vmm: static guest programs build"
	echo "VMM-TIER-SUMMARY kernels=0 passed=0 failed=$tf skipped=0"
	exit 1
fi

# kvm_kind SERIES: what KVM does with cacheable PFNMAP on a stock kernel
kvm_kind() {
	if [ "$(printf '%s\n' 6.17 "$1" | sort -V | head -n1)" = 6.17 ]; then echo native; else echo unpatched; fi
}

# pack_and_qemu KDIR BUILD: build the pack (with the test modules) in BUILD
# against an arm64 kernel build tree, and set qcpio to the QEMU archive for
# the initramfs (these kernels have no virtio-blk or ext4 for the disk)
pack_and_qemu() {
	mkdir -p "$2"
	(cd "$top" && git ls-files -co --exclude-standard -- Makefile Kbuild dkms.conf src compat tests/modules |
		tar -cf - -T -) | tar -xf - -C "$2"
	if ! make -C "$2" -j2 KDIR="$1" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		NVGRACE_TESTS=y >"$2.log" 2>&1; then
		tap_fail "$name: pack builds against $1 (log $2.log)"
		return 1
	fi
	if ! qcpio=$("$here/qemu-image.sh" --cpio); then
		tap_fail "$name: QEMU archive (tests/vmm/qemu-image.sh --cpio)"
		return 1
	fi
}

bout=$(mktemp "$NVGRACE_CACHE/tmp/vmm-boot.XXXXXX")
trap 'rm -rf "$bout" "${results:-}" "$NVGRACE_CACHE/tmp/vmm-deb.$$"' EXIT
results=$(mktemp "$NVGRACE_CACHE/results/vmm.tsv.XXXXXX")
for k in $kernels; do
	nk=$((nk + 1))
	t0=$SECONDS
	name=vmm/$k
	args=()
	# shellcheck disable=SC2054 # QEMU's commas
	disk=(--qemu-arg -drive --qemu-arg "file=$qimg,if=none,id=qemudisk,format=raw,readonly=on"
		--qemu-arg -device --qemu-arg virtio-blk-pci,drive=qemudisk)
	case $k in
	arm64-16k/*)
		# In Debian's 16 KiB-page kernel under the outer QEMU's TCG, KVM
		# initialises (VHE, 52-bit IPA) and QEMU starts, but the L2 kernel
		# never prints a line, with or without the GPU: nothing the pack
		# could change. (Measured on 7.3.4 arm64-16k.)
		echo "ok - $name: real VMM # SKIP a 16 KiB-page L1 runs no L2 under TCG: QEMU starts, the L2 kernel never prints, with or without the GPU"
		ts=$((ts + 1))
		rows+=("$k skipped (16 KiB-page L1: no L2 under TCG)")
		continue
		;;
	arm64/*)
		series=${k#arm64/}
		kvm=$(kvm_kind "$series")
		if ! image=$("$kernels_sh" image "$series" arm64 2>/dev/null | tail -n1) || [ -z "$image" ]; then
			tap_fail "$name: kernel image (kernels.sh image $series arm64)"
			continue
		fi
		mdir=$modroot/$series-arm64
		if ! compgen -G "$mdir/*.ko" >/dev/null; then
			NVGRACE_BUILD_ROOT=$modroot "$top/tests/matrix/matrix.sh" --series "$series" --arch arm64 >&2 || true
		fi
		if ! compgen -G "$mdir/nvgrace-test-fwprops.ko" >/dev/null; then
			tap_fail "$name: pack modules built (no nvgrace-test-fwprops.ko in $mdir)"
			continue
		fi
		args=(--image "$image" --modules "$mdir" "${xmods[@]}")
		;;
	custom/*)
		key=${k#custom/}
		ver=${key%-*} psz=${key#*-} kp=''
		kvm=$(kvm_kind "${ver%kp}")
		case $ver in *kp) ver=${ver%kp}; kp=$top/packaging/kernel-patches/$ver; kvm=patched ;; esac
		if ! kdir=$(NVGRACE_KPATCHES=$kp "$top/tests/custom/build-kernel.sh" "$ver" "$psz"); then
			tap_fail "$name: kernel builds (tests/custom/build-kernel.sh $ver $psz)"
			continue
		fi
		build=$modroot/custom-$key
		pack_and_qemu "$kdir" "$build" || continue
		args=(--kernel "$kdir/arch/arm64/boot/Image" --modules "$build" --initrd-append "$qcpio")
		disk=()
		;;
	deb/*)
		# packages from packaging/kernel-patches/build-debian-kernel.sh:
		# boot the linux-image package's kernel; the pack builds against
		# the kernel tree they were built from (what DKMS does on the
		# target with the linux-headers package)
		wd=${k#deb/}
		img=$(find "$wd" -maxdepth 1 -name 'linux-image-*.deb' ! -name '*-dbg_*' 2>/dev/null | sort | tail -n 1)
		tree=$(find "$wd" -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*' 2>/dev/null | sort | tail -n 1)
		if [ -z "$img" ] || [ -z "$tree" ] || [ ! -f "$tree/Module.symvers" ]; then
			tap_fail "$name: a linux-image package and its built tree in $wd (build-debian-kernel.sh --workdir)"
			continue
		fi
		name=$(dpkg-deb -f "$img" Package)
		name=vmm/deb/${name#linux-image-}
		kvm=unpatched
		grep -q KVM_ARM_CACHEABLE_PFNMAP_BACKPORT "$tree/arch/arm64/include/asm/kvm_mmu.h" 2>/dev/null && kvm=patched
		xdir=$NVGRACE_CACHE/tmp/vmm-deb.$$
		rm -rf "$xdir"
		if ! dpkg-deb -x "$img" "$xdir"; then
			tap_fail "$name: unpack $img"
			continue
		fi
		build=$modroot/deb-${name##*/}
		pack_and_qemu "$tree" "$build" || continue
		args=(--image "$xdir" --modules "$build" --initrd-append "$qcpio")
		disk=()
		;;
	*)
		tap_fail "$name: unknown kernel word (arm64/SERIES, custom/KEY or deb/DIR)"
		continue
		;;
	esac
	# again for each kernel (cached, a second): an older tier elsewhere may
	# have removed the payload while the previous kernel ran
	if ! l2dir=$(l2_payload); then
		tap_fail "$name: L2 payload (Debian arm64 $L2_SERIES kernel, busybox initramfs)"
		continue
	fi
	rc=0
	"$NG_BOOT_DIR/boot.sh" --arch arm64 --name "$name" "${args[@]}" \
		--bin "$bins" --tests "$top/tests/guest" --tests "$here/guest" --tests "$l2dir" \
		"${xtests[@]}" --only "$only" --test-timeout "$ttimeout" --timeout "$timeout" \
		--extra-kmods "virtio_pci virtio_blk ext4 crc32c_generic libcrc32c" \
		--append "nvgrace.kvm=$kvm nvgrace.vmm=$mode$append" \
		"${disk[@]}" "${verbose[@]}" >"$bout" || rc=$?
	cat "$bout"
	sum=$(grep '^BOOT-SUMMARY ' "$bout" | tail -n1) || sum=''
	if [[ $sum =~ passed=([0-9]+)\ failed=([0-9]+)\ skipped=([0-9]+) ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			echo "not ok - $name: boot.sh exited $rc"
			f=1
		fi
	else
		echo "not ok - $name: boot.sh exited $rc without a summary"
		p=0 f=1 s=0
	fi
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
	log=$(sed -n "s|^# $name: serial log ||p" "$bout" | head -n1)
	acc='-' tch='-' psn='-'
	if [ -n "$log" ] && [ -r "$log" ]; then
		acc=$(tr -d '\r' <"$log" | sed -n 's/^# VMM-RESULT access kvm=[^ ]* //p' | head -n1)
		tch=$(tr -d '\r' <"$log" | sed -n 's/^# VMM-RESULT touch kvm=[^ ]* //p' | head -n1)
		psn=$(tr -d '\r' <"$log" | sed -n 's/^# VMM-RESULT poison kvm=[^ ]* //p' | head -n1)
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "$kvm" "${acc:--}" "${tch:--}" "${psn:--}" "$f" \
		"$((SECONDS - t0))" >>"$results"
	rows+=("$k kvm=$kvm passed=$p failed=$f skipped=$s $((SECONDS - t0))s")
done
echo "# vmm tier summary:"
for r in "${rows[@]}"; do echo "#   $r"; done
if [ "$only" = '80-vmm*' ]; then
	mv "$results" "$NVGRACE_CACHE/results/vmm.tsv"
	results=
	echo "# measured (kernel, KVM, usemem accesses from L2, first touch and stage-2 faults, poison step, failed, s):"
	sed 's/^/#   /' "$NVGRACE_CACHE/results/vmm.tsv"
fi
echo "# vmm tier: $nk kernels, $tp passed, $tf failed, $ts skipped in $((SECONDS - start))s"
echo "VMM-TIER-SUMMARY kernels=$nk passed=$tp failed=$tf skipped=$ts"
[ "$tf" = 0 ]
