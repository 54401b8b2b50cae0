# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
# Host-side helpers shared by the boot-tier scripts. Source it (bash).

# shellcheck source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

NG_BOOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ng_qemu_env: load (creating if needed) the QEMU 10 / busybox paths.
ng_qemu_env() {
	local envf=$NVGRACE_CACHE/qemu10/env.sh
	if [ ! -r "$envf" ] || ! compgen -G "$NVGRACE_CACHE/qemu10/.complete-*" >/dev/null; then
		"$NG_BOOT_DIR/qemu-setup.sh" --quiet >/dev/null || die "qemu-setup.sh failed"
	fi
	# shellcheck disable=SC1090
	. "$envf"
}

# ng_image_kernel DIR: the kernel image inside an image directory
# (kernels.sh layout DIR/vmlinuz, a Debian package extraction, or a kernel
# build directory).
ng_image_kernel() {
	local d=$1 f
	for f in "$d/vmlinuz" "$d/Image" "$d/bzImage" "$d"/boot/vmlinuz-* \
		"$d"/lib/modules/*/vmlinuz "$d"/usr/lib/modules/*/vmlinuz \
		"$d/arch/arm64/boot/Image" "$d/arch/x86/boot/bzImage"; do
		[ -f "$f" ] && { printf '%s\n' "$f"; return 0; }
	done
	return 1
}

# ng_image_moddir DIR: the lib/modules/<release> tree of an image directory.
ng_image_moddir() {
	local d=$1 m
	for m in "$d"/lib/modules/* "$d"/usr/lib/modules/* "$d"/_modinst/lib/modules/*; do
		[ -d "$m/kernel" ] && { printf '%s\n' "$m"; return 0; }
	done
	return 1
}

# ng_kbuild_dir IMAGE: the kernel build (O=) directory an image file sits in
# (arch/*/boot/Image -> the dir with include/config/kernel.release), or fail.
ng_kbuild_dir() {
	local d
	d=$(cd "$(dirname "$1")" && pwd)
	while [ "$d" != / ]; do
		[ -f "$d/include/config/kernel.release" ] && { printf '%s\n' "$d"; return 0; }
		d=$(dirname "$d")
	done
	return 1
}

# ng_release_series RELEASE: 6.12.117+deb12-arm64 -> 6.12, 6.1.0-56-amd64 -> 6.1
ng_release_series() {
	local r=$1
	r=${r%%[-+]*}
	printf '%s\n' "$(echo "$r" | cut -d. -f1-2)"
}

# ng_arch_norm ARCH: arm64|aarch64 -> arm64, amd64|x86_64 -> amd64
ng_arch_norm() {
	case $1 in
	arm64 | aarch64) echo arm64 ;;
	amd64 | x86_64 | x86) echo amd64 ;;
	*) die "unknown architecture: $1 (arm64 or amd64)" ;;
	esac
}
