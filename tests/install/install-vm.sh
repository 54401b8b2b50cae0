#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The real install test (the install tier, tests/install/tier.sh):
# a Debian rootfs made with mmdebstrap (amd64, its own kernel, headers, dkms
# and compiler), booted under QEMU with the GPU stand-in; inside, as PID 1
# (tests/install/install-vm-guest.sh): apt install ./nvgrace-dkms_*.deb
# builds through DKMS, modprobe works, nvgrace-vfio binds the stand-in, the
# VFIO device opens, doctor --json parses (checked here), a second kernel's
# headers trigger an automatic DKMS build, apt purge leaves nothing.
#
#   tests/install/install-vm.sh [--suite bookworm|trixie] [--timeout SEC] [-v]
#
# bookworm: its 6.1 kernel, then 6.12 headers from bookworm-security;
# trixie: the 7.x kernel from trixie-backports, then trixie's 6.12 headers.
#
# The rootfs image is cached in $NVGRACE_CACHE/install-vm/, keyed by the
# suite and this script's package list; runs use -snapshot, so the cached
# image stays clean.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/boot/bootlib.sh
. "$here/../boot/bootlib.sh"
top=$NVGRACE_TOP

suite=bookworm timeout=2400 verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	--suite) suite=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	-v) verbose=1 ;;
	*) die "install-vm.sh: unknown argument $1" ;;
	esac
	shift
done

extra_src=()
case $suite in
bookworm)
	# 6.1; the second kernel: bookworm-security's 6.12 headers (gcc-12 too)
	kpkgs="linux-image-amd64 linux-headers-amd64"
	second="linux-headers-6.12.*+deb12-amd64"
	;;
trixie)
	# 7.x from trixie-backports; the second kernel: trixie's own 6.12
	kpkgs="linux-image-amd64/trixie-backports linux-headers-amd64/trixie-backports"
	second="linux-headers-6.12.*+deb13-amd64"
	extra_src=("deb $NVGRACE_MIRROR trixie-backports main")
	;;
*) die "install-vm.sh: unknown suite $suite (bookworm, trixie)" ;;
esac
compilers=gcc
# openssl: dkms makes its MOK key with it and signs the modules
pkgs="$kpkgs $compilers make dkms kmod dwarves initramfs-tools apt-utils mount openssl"

ng_need mmdebstrap e2fsprogs python3
vm=$NVGRACE_CACHE/install-vm
mkdir -p "$vm"
# bump when the image recipe below changes
rev=4
key=$(printf '%s\n' "$rev" "$suite" "$pkgs" "$second" | sha256sum | cut -c1-12)
img=$vm/$suite-amd64-$key.img

# 1. The rootfs image (cached).
if [ ! -s "$img" ]; then
	msg "install-vm: building the $suite rootfs (mmdebstrap)"
	t0=$(date +%s)
	root=$vm/root-$suite
	rm -rf "$root" "$img.tmp" "$vm/$suite"-amd64-*.img
	# The second kernel and its headers (and what they depend on, but not
	# what is already installed), downloaded for the offline guest.
	cat >"$vm/hook.sh" <<EOF
set -e
mkdir -p "\$1/nvgrace-second"
h=\$(chroot "\$1" apt-cache pkgnames linux-headers-6.12 | grep -x '${second//\*/.*}' | sort -V | tail -n 1)
[ -n "\$h" ]
deps=\$(chroot "\$1" apt-cache depends "\$h" | sed -n 's/^ *Depends: \\(linux-headers-.*-common\\|linux-kbuild-.*\\)\$/\\1/p' | tr '\\n' ' ')
# the kernel itself too: the headers depend on it
k=\$(echo "\$h" | sed 's/^linux-headers-/linux-image-/')
chroot "\$1" sh -c "cd /nvgrace-second && apt-get download \$h \$deps \$k"
EOF
	# shellcheck disable=SC2016 # the hooks' $1 is mmdebstrap's
	# dpkg without fsync (here and in the guest: a throwaway system whose
	# unpacks of a kernel and its headers are I/O under emulation)
	nice -n 10 mmdebstrap --variant=apt --mode=root --arch=amd64 \
		--include="${pkgs// /,}" --dpkgopt=force-unsafe-io \
		--setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" && echo MODULES=most >"$1/etc/initramfs-tools/conf.d/modules"' \
		--customize-hook='echo nvgrace-install >"$1/etc/hostname"' \
		--customize-hook="sh $vm/hook.sh \"\$1\"" \
		--customize-hook='printf "%s\n" "#!/bin/sh" "export PATH=/usr/sbin:/usr/bin:/sbin:/bin" "mount -t devtmpfs devtmpfs /dev" "mkdir -p /payload" "mount -o ro /dev/vdb /payload" "exec /payload/init.sh" >"$1/nvgrace-init" && chmod 755 "$1/nvgrace-init"' \
		"$suite" "$root" \
		"deb $NVGRACE_MIRROR $suite main" \
		"deb $NVGRACE_MIRROR $suite-updates main" \
		"deb $NVGRACE_SECURITY_MIRROR $suite-security main" \
		"${extra_src[@]}" \
		>"$vm/mmdebstrap.log" 2>&1 || {
		tail -n 30 "$vm/mmdebstrap.log" >&2
		die "mmdebstrap failed (log: $vm/mmdebstrap.log)"
	}
	chroot "$root" apt-get clean
	rm -rf "$vm/$suite-second"
	mv "$root/nvgrace-second" "$vm/$suite-second"
	cp "$root"/boot/vmlinuz-* "$vm/$suite-vmlinuz"
	cp "$root"/boot/initrd.img-* "$vm/$suite-initrd"
	mke2fs -q -t ext4 -L root -d "$root" "$img.tmp" 4G >/dev/null || die "mke2fs failed"
	mv "$img.tmp" "$img"
	rm -rf "$root"
	echo "# install-vm $suite: rootfs image built in $(($(date +%s) - t0)) s (cached as ${img##*/})"
fi

# 2. The payload: the package built now, vfio-info, the second headers.
"$top/packaging/build-packages.sh" deb >"$vm/build.log" 2>&1 || {
	cat "$vm/build.log" >&2
	die "package build failed"
}
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
pay=$(mktemp -d "$NVGRACE_CACHE/tmp/install-payload.XXXXXX")
trap 'rm -rf "$pay" "$pay.img"' EXIT
cp "$top/packaging/build/nvgrace-dkms_${ver}_all.deb" "$pay/"
bins=$("$top/tests/boot/build-guest-bins.sh" --arch amd64 2>/dev/null | tail -n 1)
cp "$bins/vfio-info" "$bins/vfio-mem" "$pay/" ||
	die "no vfio-info/vfio-mem guest binaries (tests/boot/build-guest-bins.sh)"
install -m 0755 "$here/install-vm-guest.sh" "$pay/init.sh"
install -m 0644 "$top/tests/lib/tap.sh" "$pay/tap.sh"
mkdir -p "$pay/debs"
cp "$vm/$suite-second"/*.deb "$pay/debs/"
mke2fs -q -t ext2 -d "$pay" "$pay.img" 256M >/dev/null || die "mke2fs (payload) failed"

# 3. Boot it through the boot tier's boot.sh (its QEMU machine and GPU
# stand-in, guest slots, timeout, QEMU-assertion retry and TAP parsing),
# with the rootfs's own kernel and initramfs; the guest prints the TAP
# section. Two vCPUs on two host threads (MTTCG). The guest's writes go to
# a throwaway overlay (snapshot=on): no host flushes (cache=unsafe).
# Speculation mitigations and 5-level paging only slow the emulated CPU.
serial=$pay.log
trap 'rm -rf "$pay" "$pay.img" "$serial"' EXIT
args=(--arch amd64 --name "install-vm/$suite" --kernel "$vm/$suite-vmlinuz"
	--initrd "$vm/$suite-initrd" --tcg-thread multi --ram 3G --mem-size 256M
	--timeout "$timeout" --log "$serial"
	--append "root=/dev/vda rw mitigations=off no5lvl init=/nvgrace-init"
	--qemu-arg -drive --qemu-arg "file=$img,format=raw,if=virtio,snapshot=on,cache=unsafe"
	--qemu-arg -drive --qemu-arg "file=$pay.img,format=raw,if=virtio,readonly=on")
[ $verbose = 0 ] || args+=(-v)
"$NG_BOOT_DIR/boot.sh" "${args[@]}" | sed 's/^BOOT-SUMMARY /# BOOT-SUMMARY /'
rc=$?
json=$(tr -d '\r' <"$serial" 2>/dev/null | sed -n 's/^NVGRACE-DOCTOR-JSON //p')
if printf '%s' "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["checks"]' 2>/dev/null; then
	echo "ok - install-vm/$suite: doctor --json parses"
else
	echo "not ok - install-vm/$suite: doctor --json parses"
	rc=1
fi
exit "$rc"
